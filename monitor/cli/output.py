"""Shared output helpers for commands: JSON documents and safe terminal lines."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from monitor.clock import parse_iso
from monitor.errors import MonitorError
from monitor.parse.text import one_line
from monitor.pipeline.export import safe_json


def echo_json(value: object) -> None:
    """Print `value` as one line of JSON that is safe in a terminal."""
    click.echo(safe_json(value))


def cell(value: object, limit: int = 80) -> str:
    """A value as one safe terminal cell: controls stripped, one line, truncated."""
    return one_line("" if value is None else str(value), limit)


def echo_rows(rows: Sequence[Sequence[object]], widths: Sequence[int]) -> None:
    """Print rows as aligned columns of safe cells (the last column is not padded)."""
    for row in rows:
        parts = [
            cell(v, w).ljust(w) if i < len(widths) - 1 else cell(v, w)
            for i, (v, w) in enumerate(zip(row, widths, strict=False))
        ]
        click.echo("  ".join(parts).rstrip())


def when(value: object) -> str:
    """A stored ISO UTC time as a table cell, minutes and zone: "2025-08-08 11:00Z"."""
    if not value:
        return "-"
    try:
        return parse_iso(str(value)).strftime("%Y-%m-%d %H:%MZ")
    except ValueError:
        return cell(value, 25)


def colour_wanted(flag: bool | None) -> bool:
    """--color/--no-color when given; else colour only on a terminal and only when NO_COLOR
    is unset or empty (https://no-color.org)."""
    if flag is not None:
        return flag
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def write_file(path: str | Path, text: str) -> None:
    """Write a file the user named; what goes wrong becomes `error: …` with the fix."""
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise MonitorError(
            f"cannot write {cell(target, 300)}: {exc.strerror or exc}", _write_fix(exc, target)
        ) from None


def _write_fix(exc: OSError, target: Path) -> str:
    folder = cell(target.parent, 300)
    fixes = {
        errno.ENOENT: f"the folder {folder} does not exist: create it or choose another",
        errno.ENOTDIR: f"{folder} is not a folder: choose a path inside a folder",
        errno.EISDIR: "that is a folder: give a file name inside it",
        errno.EACCES: f"you may not write in {folder}: choose a folder you can write to",
        errno.EPERM: f"you may not write in {folder}: choose a folder you can write to",
        errno.EROFS: f"{folder} is on a read-only file system: choose another folder",
        errno.ENOSPC: "the disk is full: free some space or choose another disk",
    }
    return fixes.get(exc.errno or 0, "check the path and try again")
