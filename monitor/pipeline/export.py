"""Flags with their evidence as CSV, JSON or JSON Lines, for spreadsheets and other tools.

JSON keeps Cyrillic readable but writes DEL, C1, line separators and bidi controls as
\\uXXXX, so a document is safe to show in a terminal and decodes to the same values.
CSV has no escapes: a text cell a spreadsheet would run as a formula gets a leading
apostrophe instead.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, Literal

from monitor.store import Store
from monitor.store import review as rq

ExportFormat = Literal["csv", "json", "jsonl"]
EXPORT_FORMATS: Final = ("csv", "json", "jsonl")
CSV_FIELDS = (
    "id", "feed", "url", "title", "published", "first_seen", "lang", "origin", "score",
    "signal_types", "status", "status_at", "status_by", "first_flagged", "rules_version",
    "signals",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# JSON escapes C0 controls itself; these pass through `ensure_ascii=False` raw, and a
# terminal acts on them (C1 CSI/OSC) or reorders the line (bidi controls).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_json(value: object) -> str:
    """Compact JSON with readable Cyrillic but DEL, C1, line separators and bidi as \\uXXXX.

    They only occur inside strings, so the document decodes to the same values.
    """
    text = json.dumps(value, ensure_ascii=False, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def export_flags(store: Store, filters: rq.FlagFilter, fmt: ExportFormat) -> tuple[str, int]:
    """The flags `filters` selects, oldest first, as the text of one file, and their count."""
    rows = rq.export_rows(store, filters)
    return _WRITERS[fmt](rows), len(rows)


def export_json(rows: Sequence[Mapping[str, object]]) -> str:
    """One JSON array, ending in a newline."""
    return safe_json(list(rows)) + "\n"


def export_jsonl(rows: Sequence[Mapping[str, object]]) -> str:
    """One JSON object per line."""
    return "".join(safe_json(r) + "\n" for r in rows)


def export_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """CSV with evidence as a JSON cell; text cells that a spreadsheet would run as a
    formula get a leading apostrophe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _csv_cell(name, row.get(name)) for name in CSV_FIELDS})
    return out.getvalue()


def _csv_cell(name: str, value: object) -> object:
    if name == "signals":
        return safe_json(value)
    if name == "signal_types":
        return " ".join(value) if isinstance(value, list) else value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


_WRITERS: Final[Mapping[str, Callable[[Sequence[Mapping[str, object]]], str]]] = MappingProxyType(
    {"csv": export_csv, "json": export_json, "jsonl": export_jsonl}
)
