"""`monitor service`: what a service manager needs (the systemd unit)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.daemon.service import CONFIG_PATH, unit_file


def default_executable() -> Path:
    """The `monitor` script beside the running interpreter (a venv's bin folder)."""
    return Path(sys.executable).parent / "monitor"


@click.group()
def service() -> None:
    """Run the monitor as a system service."""


@service.command("print-unit")
@click.option(
    "--executable",
    type=click.Path(path_type=Path),
    default=default_executable,
    show_default="the monitor beside this Python",
    help="The monitor executable the unit starts.",
)
@click.option(
    "--config-path",
    default=CONFIG_PATH,
    show_default=True,
    help="The configuration file the unit passes to the monitor.",
)
def print_unit(executable: Path, config_path: str) -> None:
    """Print a systemd unit (Type=notify, watchdog, hardened) for this installation."""
    click.echo(unit_file(executable.absolute(), config_path), nl=False)


COMMANDS: tuple[click.Command, ...] = (service,)
