"""Typed reads of one stored row's columns, for the store's views.

SQLite hands back `int`, `float`, `str`, `bytes` or `None` per column; these read a
column as the type its schema gives it, so views built from rows are typed values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

Row = Mapping[str, object]


def text(row: Row, key: str) -> str:
    """A NOT NULL text column."""
    return str(row[key])


def optional_text(row: Row, key: str) -> str | None:
    """A text column that may be NULL."""
    value = row[key]
    return None if value is None else str(value)


def integer(row: Row, key: str) -> int:
    """A NOT NULL integer column."""
    value = row[key]
    return value if isinstance(value, int) else int(str(value))


def optional_integer(row: Row, key: str) -> int | None:
    """An integer column that may be NULL."""
    return None if row[key] is None else integer(row, key)


def real(row: Row, key: str) -> float:
    """A NOT NULL real column."""
    value = row[key]
    return value if isinstance(value, float) else float(str(value))


def json_list(value: object) -> tuple[object, ...]:
    """A JSON array stored as text, as a tuple; empty when missing or not an array."""
    try:
        decoded = json.loads(str(value)) if value else []
    except json.JSONDecodeError:
        return ()
    return tuple(decoded) if isinstance(decoded, list) else ()
