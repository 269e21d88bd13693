"""The command line: a thin click shell, and the one place where an error becomes an exit code."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import click

from monitor import __version__
from monitor.app import App
from monitor.errors import ConfigError, MonitorError
from monitor.fetch import quiet_http_loggers

log = logging.getLogger("monitor")


class MonitorGroup(click.Group):
    """Turns monitor errors into `error: …` on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc.message}", err=True)
            ctx.exit(1)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def configure_logging(verbose: int, quiet: int) -> None:
    level = logging.INFO - 10 * verbose + 10 * quiet
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s", "%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.DEBUG, min(logging.CRITICAL, level)))
    quiet_http_loggers()
    for noisy in ("apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


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
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, quiet: int) -> None:
    """Watch official press feeds for signs that a US-Russia summit is being prepared."""
    configure_logging(verbose, quiet)
    app = App(config_path)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from monitor.commands import alerts, core, outlook, review, signals

    for command in (*core.COMMANDS, *signals.COMMANDS, *alerts.COMMANDS, *review.COMMANDS,
                    *outlook.COMMANDS):
        cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="monitor")
