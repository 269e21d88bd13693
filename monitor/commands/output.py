"""Shared output helpers for commands: JSON documents and safe terminal lines."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import click

from monitor.clock import iso
from monitor.polltiming import parse_duration
from monitor.textclean import one_line

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


def since_option(value: str | None, now: datetime) -> str | None:
    """`--since 7d` as an ISO time, with a clear usage error for a bad duration."""
    if value is None:
        return None
    try:
        return iso(now - timedelta(seconds=parse_duration(value)))
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (use e.g. 7d, 12h, 30m)", param_hint="--since") from exc
