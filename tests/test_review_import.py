"""`monitor import` through the real pipeline and rules; replay matches live polling."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.models import ParsedItem
from monitor.outlook.levels import OutlookSettings, replay
from monitor.pipeline.importer import item_from_json
from monitor.store import open_store
from monitor.store.events import ensure_events, load_events
from tests.conftest import REPO, SHARED, needs_shared
from tests.review_fixtures import invoke

ingest = pytest.importorskip("monitor.pipeline.ingest")
RULES_PATH = REPO / "config" / "rules.toml"
IMPORT_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUMMIT_TEXT = (
    "President Biden and President Putin will meet in Geneva, Switzerland, on June 16, 2021. "
    "The leaders will discuss strategic stability and arms control."
)


@pytest.fixture(scope="module")
def rules() -> Any:
    from monitor.signals import load_rules

    return load_rules(RULES_PATH)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_review_import_flags_silently_and_reports_bad_lines(tmp_path: Path, rules: Any) -> None:
    """Good lines are stored and matched under the feed, bad ones named, nothing alerts."""
    source = write_lines(
        tmp_path / "a.jsonl",
        [
            json.dumps(
                {
                    "id": "wh-1",
                    "url": "https://www.whitehouse.gov/1",
                    "title": "Statement by Press Secretary on the Geneva summit",
                    "text": SUMMIT_TEXT,
                    "published": "2021-05-25",
                }
            ),
            "{broken",
            json.dumps(
                {
                    "id": "wh-2",
                    "title": "Remarks on infrastructure",
                    "text": "Roads.",
                    "published": "2021-05-26",
                }
            ),
        ],
    )
    db = tmp_path / "m.db"
    result = invoke(db, ["import", str(source), "--feed", "archive"], IMPORT_NOW, rules)
    assert result.exit_code == 1, result.output  # a rejected line fails the import
    assert "line 2: not JSON" in result.stderr
    assert "imported 2 item(s) into feed archive (new=2" in result.stdout
    assert "rejected 1 line(s)" in result.stdout
    with open_store(db) as store:
        items = store.query("SELECT feed, origin, published FROM items ORDER BY id")
        outbox = store.query("SELECT count(*) AS n FROM outbox")[0]["n"]
    assert items[0] == {"feed": "archive", "origin": "import", "published": "2021-05-25T00:00:00Z"}
    assert outbox == 0
    flagged = json.loads(
        invoke(db, ["flagged", "--json", "--since", "2021-05-25"], IMPORT_NOW).stdout
    )
    assert [f["title"] for f in flagged] == ["Statement by Press Secretary on the Geneva summit"]


def test_review_import_twice_adds_nothing(tmp_path: Path, rules: Any) -> None:
    """Importing the same file again stores no new items (keys are stable)."""
    line = json.dumps({"title": "A", "text": "B", "published": "2021-05-25"})
    source = write_lines(tmp_path / "a.jsonl", [line])
    db = tmp_path / "m.db"
    invoke(db, ["import", str(source)], IMPORT_NOW, rules)
    again = invoke(db, ["import", str(source)], IMPORT_NOW, rules)
    assert "new=0 updated=0" in again.stdout


def devset_period(first: str, last: str, max_chars: int = 30_000) -> list[dict[str, Any]]:
    lines = (SHARED / "devset" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return [r for r in rows if first <= r["published"] <= last and len(r["text"]) <= max_chars]


@needs_shared
def test_review_import_replay_equals_polling(tmp_path: Path, rules: Any) -> None:
    """Outlook levels over imported history equal those from polling the same items live.

    Source: kremlin.ru / en.kremlin.ru (CC BY 4.0) and whitehouse.gov, via ../shared/devset.
    """
    rows = devset_period("2021-12-01", "2022-01-31")
    by_day: dict[str, list[tuple[str, ParsedItem]]] = defaultdict(list)
    for row in rows:
        feed = "kremlin-en" if row["source"] == "kremlin" else "whitehouse"
        by_day[row["published"]].append((feed, item_from_json(row)))
    polled, imported = tmp_path / "polled.db", tmp_path / "imported.db"
    with open_store(polled) as store:
        for day in sorted(by_day):
            now = datetime.fromisoformat(day).replace(hour=18, tzinfo=UTC)
            for feed, item in by_day[day]:
                ingest.ingest_items(store, rules, feed, [item], now, alert=False)
    source = write_lines(tmp_path / "archive.jsonl", [json.dumps(r) for r in rows])
    assert invoke(imported, ["import", str(source)], IMPORT_NOW, rules).exit_code == 0
    series = {}
    for path in (polled, imported):
        with open_store(path) as store:
            ensure_events(store, IMPORT_NOW)
            events = load_events(store)
        series[path] = [
            (d.day, d.level, d.score)
            for d in replay(events, date(2021, 12, 1), date(2022, 1, 31), OutlookSettings())
        ]
    assert series[polled] == series[imported]
    assert {level for _, level, _ in series[polled]} - {"quiet"}, "the period holds signals"
