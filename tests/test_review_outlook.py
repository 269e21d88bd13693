"""`monitor outlook` over a real database: JSON shape, terminal view, replay, dismissals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from monitor.outlook import compute_outlook
from monitor.store import open_store
from monitor.store.review import load_flag_records
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
    """--json gives as_of, level, score, reasons and contributing items with their reasons."""
    doc = outlook_json(db, "--as-of", "2025-08-10")
    assert isinstance(doc, dict)
    assert {"as_of", "level", "score", "reasons", "items"} <= set(doc)
    assert doc["as_of"] == "2025-08-10" and doc["level"] == "high"
    assert any("corroborated" in r for r in doc["reasons"])
    refusal = [i for i in doc["items"] if i["contribution"] < 0]
    assert refusal[0]["item_id"] == 4 and "refusal" in refusal[0]["reasons"][0]


def test_review_outlook_defaults_to_today_from_clock(db: Path) -> None:
    """Without --as-of the outlook is for the injected current day."""
    assert outlook_json(db)["as_of"] == "2025-08-10"  # type: ignore[index]


def test_review_outlook_window_limits_items(db: Path) -> None:
    """A 9-day window (as_of and the 8 days before) leaves out the July items."""
    doc = outlook_json(db, "--as-of", "2025-08-10", "--window", "9d")
    assert sorted(i["item_id"] for i in doc["items"]) == [4, 5, 6]  # type: ignore[index]


def test_review_outlook_terminal_view(db: Path) -> None:
    """The terminal view shows level, score, reasons, items and a sparkline per day."""
    out = invoke(db, ["outlook", "--as-of", "2025-08-10"]).stdout
    assert out.startswith("Outlook 2025-08-10: HIGH")
    assert "Contributing items:" in out and "#4" in out
    spark = out.split("Daily signal strength since 2025-07-12:\n")[1].splitlines()[0].strip()
    assert len(spark) == 30 and spark[-1] == "·" and "█" in spark


def test_review_outlook_replay_per_day(db: Path) -> None:
    """--from/--to --json gives one outlook per day, equal to computing each day alone."""
    days = outlook_json(db, "--from", "2025-07-18", "--to", "2025-08-10", "--window", "30d")
    assert isinstance(days, list) and len(days) == 24
    with open_store(db) as store:
        records = load_flag_records(store)
    for doc in days:
        alone = compute_outlook(records, date.fromisoformat(doc["as_of"]), 30)
        assert (doc["level"], doc["score"]) == (alone.level, alone.score)
    assert [d["level"] for d in days][:2] == ["quiet", "quiet"]


def test_review_outlook_dismissed_items_leave(db: Path) -> None:
    """Dismissing the refusal raises the score; dismissing the rest lowers it."""
    before = outlook_json(db, "--as-of", "2025-08-10")["score"]  # type: ignore[index]
    invoke(db, ["dismiss", "4"])
    raised = outlook_json(db, "--as-of", "2025-08-10")["score"]  # type: ignore[index]
    invoke(db, ["dismiss", "1", "2", "3", "5", "6"])
    after = outlook_json(db, "--as-of", "2025-08-10")
    assert raised > before
    assert after["score"] == 0 and after["level"] == "quiet"  # type: ignore[index]


@pytest.mark.parametrize("args", [["--from", "2025-08-01"], ["--as-of", "10/08/2025"],
                                  ["--window", "36h"], ["--from", "2025-08-02", "--to",
                                                        "2025-08-01"]])
def test_review_outlook_bad_arguments_are_usage_errors(db: Path, args: list[str]) -> None:
    """Half a range, a bad date, a window that is not whole days, or a reversed range: exit 2."""
    assert invoke(db, ["outlook", *args]).exit_code == 2
