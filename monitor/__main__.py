"""`python -m monitor` and the `monitor` command.

Parser worker processes import the main module again when they start (they are
spawned), so the command line is imported only when this runs as the command: a
worker needs the parser and the matcher, not the CLI.

When a command has finished (its database, client and workers closed, as each
command's context does), the process leaves without the interpreter's teardown,
which only frees memory and takes 0.05-0.1 s: a tenth of a poll round of unchanged
feeds. Output and log handlers are flushed first; if that fails, or under a profiler or
a coverage tracer, the normal exit runs.
"""

from __future__ import annotations

import logging
import os
import sys


def run() -> None:
    """Run the command line, then leave."""
    from monitor.cli.main import main

    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


def leave(code: object) -> None:
    """Exit with `code` as SystemExit would, once output and logs are flushed."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    if sys.gettrace() is not None or sys.getprofile() is not None:
        raise SystemExit(status)  # a profiler or coverage writes its data at the normal exit
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the interpreter report it as usual
        raise SystemExit(status) from None
    os._exit(status)


if __name__ == "__main__":
    run()
