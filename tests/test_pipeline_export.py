"""Export as a library call: one text per format, the same flags in each."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.pipeline.batch_import import import_items
from monitor.pipeline.export import CSV_FIELDS, export_flags, safe_json
from monitor.pipeline.importer import item_from_json
from monitor.signals import load_rules
from monitor.store import open_store
from monitor.store.review import FlagFilter
from tests.conftest import REPO

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUMMIT_TEXT = (
    "President Biden and President Putin will meet in Geneva, Switzerland, on June 16, 2021. "
    "The leaders will discuss strategic stability and arms control."
)


def test_export_flags_in_every_format_name_the_same_flag(tmp_path: Path) -> None:
    """CSV, JSON and JSON Lines carry the one flagged item; the count says so."""
    lines = [
        {
            "id": "wh-1",
            "title": "=Statement on the Geneva summit",
            "text": SUMMIT_TEXT,
            "published": "2021-05-25",
        },
        {"id": "wh-2", "title": "Roads", "text": "Bridges.", "published": "2021-05-26"},
    ]
    items = [item_from_json(json.loads(json.dumps(line))) for line in lines]
    with open_store(tmp_path / "m.db") as store:
        import_items(store, load_rules(REPO / "config" / "rules.toml"), "archive", items, NOW)
        texts = {fmt: export_flags(store, FlagFilter(), fmt) for fmt in ("csv", "json", "jsonl")}
    assert {count for _text, count in texts.values()} == {1}
    (row,) = list(csv.DictReader(io.StringIO(texts["csv"][0])))
    assert list(row) == list(CSV_FIELDS)
    assert row["title"] == "'=Statement on the Geneva summit"  # never run as a formula
    (doc,) = json.loads(texts["json"][0])
    assert doc["title"] == "=Statement on the Geneva summit"
    assert [json.loads(line) for line in texts["jsonl"][0].splitlines()] == [doc]


def test_export_safe_json_escapes_bidi_but_keeps_the_value() -> None:
    """A right-to-left override is written as an escape and decodes back to itself."""
    text = safe_json({"title": "a\u202eb Путин"})
    assert "\u202e" not in text
    assert "Путин" in text
    assert json.loads(text) == {"title": "a\u202eb Путин"}
