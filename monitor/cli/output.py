"""Shared output helpers for commands: JSON documents and safe terminal lines."""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from monitor.clock import parse_iso
from monitor.errors import MonitorError
from monitor.parse.text import one_line

# JSON escapes C0 controls itself; these pass through `ensure_ascii=False` raw, and a
# terminal acts on them (C1 CSI/OSC) or reorders the line (bidi controls).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_json(value: object) -> str:
    """Compact JSON with readable Cyrillic but DEL, C1, line separators and bidi as \\uXXXX.

    They only occur inside strings, so the document decodes to the same values.
    """
    text = json.dumps(value, ensure_ascii=False, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo_json(value: object) -> None:
    click.echo(safe_json(value))


def cell(value: object, limit: int = 80) -> str:
    """A value as one safe terminal cell: controls stripped, one line, truncated."""
    return one_line("" if value is None else str(value), limit)


def echo_rows(rows: Sequence[Sequence[object]], widths: Sequence[int]) -> None:
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
