"""The command line: a thin click shell, and the one place where an error becomes an exit code."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from monitor import __version__
from monitor.app import App
from monitor.cli.logsetup import LOG_FORMATS, LogFormat, configure_logging
from monitor.errors import ConfigError, MonitorError
from monitor.fetch.client import quiet_http_loggers

log = logging.getLogger("monitor")


class MonitorGroup(click.Group):
    """Turns monitor errors into `error: …` on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command: a monitor error ends in `error: …` and exit 1, an interrupt in 130."""
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc.message}", err=True)
            ctx.exit(1)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except UnicodeDecodeError as exc:  # a JSON Lines file or stdin in another encoding
            click.echo(
                f"error: the input is not UTF-8 text ({exc.reason}); "
                "save it as UTF-8 and try again",
                err=True,
            )
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="MONITOR_CONFIG",
    metavar="PATH",
    help="Configuration file (default: config/monitor.toml, else the packaged defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Less log output (warnings and errors only).")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="Log lines as text, logfmt or JSON.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the log to this file (reopened when logrotate moves it) instead of stderr.",
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    verbose: int,
    quiet: int,
    log_format: LogFormat,
    log_file: Path | None,
) -> None:
    """Watch official press feeds for signs that a US-Russia summit is being prepared."""
    try:
        configure_logging(verbose, quiet, log_format, log_file)
    except OSError as exc:
        detail = f"cannot write {log_file}: {exc.strerror}"
        raise click.BadParameter(detail, param_hint="--log-file") from None
    quiet_http_loggers()
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from monitor.cli import alerts, core, outlook, review, service, signals

    groups = (core, signals, alerts, review, outlook, service)
    for command in (command for group in groups for command in group.COMMANDS):
        cli.add_command(command)


_register()


def main() -> None:
    """The command line, as `monitor` and `python -m monitor` run it."""
    cli(prog_name="monitor")
