"""`python -m monitor` and the `monitor` command.

Parser worker processes import the main module again when they start (they are
spawned), so the command line is imported only when this runs as the command: a
worker needs the parser and the matcher, not the CLI.
"""


def run() -> None:
    """Run the command line."""
    from monitor.cli.main import main

    main()


if __name__ == "__main__":
    run()
