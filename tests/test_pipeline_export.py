"""Export as a library call: one text per format, the same flags in each."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from monitor.pipeline.export import CSV_FIELDS, export_flags, safe_json
from monitor.store import open_store
from monitor.store.review import FlagFilter
from tests.pipeline_env import import_summit_and_other


def test_export_flags_in_every_format_name_the_same_flag(tmp_path: Path) -> None:
    """CSV, JSON and JSON Lines carry the one flagged item; the count says so."""
    with open_store(tmp_path / "m.db") as store:
        import_summit_and_other(store, "=Statement on the Geneva summit", "Roads", "2021-05-26")
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
