"""Import batching as a library call: the same totals whatever the batch size."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.pipeline.batch_import import import_items
from monitor.pipeline.importer import item_from_json
from monitor.signals import RuleSet, load_rules
from monitor.store import open_store
from tests.conftest import REPO

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUMMIT_TEXT = (
    "President Biden and President Putin will meet in Geneva, Switzerland, on June 16, 2021. "
    "The leaders will discuss strategic stability and arms control."
)


def _items(count: int) -> list[object]:
    lines = [
        {
            "id": f"wh-{n}",
            "title": f"Remarks {n}",
            "text": "Roads and bridges.",
            "published": "2021-05-26",
        }
        for n in range(count)
    ]
    lines[0] = {
        "id": "wh-0",
        "title": "Statement on the Geneva summit",
        "text": SUMMIT_TEXT,
        "published": "2021-05-25",
    }
    return [item_from_json(json.loads(json.dumps(line))) for line in lines]


def _rules() -> RuleSet:
    return load_rules(REPO / "config" / "rules.toml")


def test_batch_import_totals_do_not_depend_on_the_batch_size(tmp_path: Path) -> None:
    """Five items in batches of two: three batches, five new, the summit item flagged."""
    told: list[int] = []
    with open_store(tmp_path / "m.db") as store:
        totals = import_items(
            store, _rules(), "archive", _items(5), NOW, batch=2, progress=told.append
        )
        stored = store.query("SELECT count(*) AS n FROM items WHERE origin = 'import'")[0]["n"]
        queued = store.query("SELECT count(*) AS n FROM outbox")[0]["n"]
    assert (totals.new, totals.updated, totals.flagged) == (5, 0, 1)
    assert told == [2, 2, 1]
    assert stored == 5
    assert queued == 0  # silent unless asked to alert


def test_batch_import_again_adds_nothing(tmp_path: Path) -> None:
    """The same items imported twice: the second run finds nothing new."""
    rules = _rules()
    with open_store(tmp_path / "m.db") as store:
        import_items(store, rules, "archive", _items(3), NOW)
        again = import_items(store, rules, "archive", _items(3), NOW)
    assert (again.new, again.updated) == (0, 0)
