"""`monitor outlook` over a real database: JSON shape, terminal view, replay, dismissals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.outlook.levels import OutlookSettings, compute_outlook
from monitor.store import open_store
from monitor.store.events import ensure_events, load_events
from tests.review_fixtures import build_db, invoke, realistic_rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    build_db(path, realistic_rows())
    return path


def outlook_json(db: Path, *args: str) -> object:
    result = invoke(db, ["outlook", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_review_outlook_json_shape(db: Path) -> None:
    """--json gives the level, since when, reasons naming the events, and those events."""
    doc = outlook_json(db, "--as-of", "2025-08-10")
    assert isinstance(doc, dict)
    assert {"as_of", "level", "score", "since", "reasons", "events", "daily"} <= set(doc)
    assert (doc["as_of"], doc["level"], doc["since"]) == ("2025-08-10", "high", "2025-07-20")
    assert doc["reasons"][0].startswith("high since 2025-07-20: leaders' meeting announced")
    top = doc["events"][0]
    assert top["level"] == "high"
    assert top["sources"] == ["kremlin-en", "whitehouse"]
    assert sorted(i["id"] for i in top["items"]) == [1, 2]
    assert top["set_by"] == 1
    assert top["holds_until"] == "2025-08-16"


def test_review_outlook_defaults_to_today_from_clock(db: Path) -> None:
    """Without --as-of the outlook is for the injected current day."""
    assert outlook_json(db)["as_of"] == "2025-08-10"  # type: ignore[index]


def test_review_outlook_window_limits_events(db: Path) -> None:
    """A 9-day window (as_of and the 8 days before) leaves out the July events."""
    doc = outlook_json(db, "--as-of", "2025-08-10", "--window", "9d")
    assert doc["level"] == "watch"  # type: ignore[index]
    held = sorted(i["id"] for e in doc["events"] for i in e["items"])  # type: ignore[index]
    assert held == [5, 6]


def test_review_outlook_terminal_view(db: Path) -> None:
    """The terminal view shows level and since, reasons, events and a level strip per day."""
    out = invoke(db, ["outlook", "--as-of", "2025-08-10"]).stdout
    assert out.startswith("Outlook 2025-08-10: HIGH since 2025-07-20")
    assert "Events holding a level:" in out
    assert "#1 placed: evidence" in out
    strip = out.split("E elevated, H high):\n")[1].splitlines()[0].strip()
    assert len(strip) == 60
    assert strip.endswith("H" * 22)


def test_review_outlook_replay_per_day(db: Path) -> None:
    """--from/--to --json gives one outlook per day, equal to computing each day alone."""
    days = outlook_json(db, "--from", "2025-07-18", "--to", "2025-08-20")
    assert isinstance(days, list)
    assert len(days) == 34
    with open_store(db) as store:
        events = load_events(store)
    for doc in days:
        alone = compute_outlook(events, date.fromisoformat(doc["as_of"]), OutlookSettings())
        assert (doc["level"], doc["score"]) == (alone.level, alone.score)
    levels = [d["level"] for d in days]
    assert levels[:2] == ["quiet", "quiet"]
    assert levels[2] == "high"
    assert levels[-1] == "elevated"  # the meeting day (16 Aug) passed: one level lower


def test_review_outlook_dismissed_items_leave(db: Path) -> None:
    """Dismissing the item that placed the meeting lowers the level; dismissing all, quiet."""
    invoke(db, ["dismiss", "1"])
    assert outlook_json(db, "--as-of", "2025-08-10")["level"] == "watch"  # type: ignore[index]
    invoke(db, ["dismiss", "2", "3", "4", "5", "6"])
    after = outlook_json(db, "--as-of", "2025-08-10")
    assert after["level"] == "quiet"
    assert after["events"] == []


def test_review_outlook_places_items_flagged_before_events_existed(db: Path) -> None:
    """Flags written without events (an older database, a rescan) are placed on first read."""
    with open_store(db) as store:
        assert store.query("SELECT count(*) AS n FROM event_items")[0]["n"] == 0
        placed = ensure_events(store, datetime(2025, 8, 10, tzinfo=UTC))
        assert placed == 6
        assert ensure_events(store, datetime(2025, 8, 10, tzinfo=UTC)) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2025-08-01"],
        ["--as-of", "10/08/2025"],
        ["--window", "36h"],
        ["--from", "2025-08-02", "--to", "2025-08-01"],
    ],
)
def test_review_outlook_bad_arguments_are_usage_errors(db: Path, args: list[str]) -> None:
    """Half a range, a bad date, a window that is not whole days, or a reversed range: exit 2."""
    assert invoke(db, ["outlook", *args]).exit_code == 2
