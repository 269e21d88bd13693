"""Review SQL: outlook input, outlook level state, review writes while another process writes."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.errors import MonitorError
from monitor.store import events as eq
from monitor.store import open_store
from monitor.store import review as rq
from tests.conftest import REPO
from tests.review_fixtures import Row, Sig, build_db, realistic_rows

WRITER = """
import sys, time
from pathlib import Path
from monitor.store import open_store
from tests.review_fixtures import Row, Sig, add_item
deadline = time.monotonic() + float(sys.argv[2])
with open_store(Path(sys.argv[1])) as store:
    n = 0
    while time.monotonic() < deadline:
        add_item(store, Row(f"daemon item {n}", "body", first_seen="2025-08-09T00:00:00Z",
                            signals=[Sig("leader_call", ("body",))]))
        n += 1
print(n)
"""


def test_review_store_events_carry_sides_days_and_skip_dismissals(tmp_path: Path) -> None:
    """Outlook input: the side from feed or url, the feed's date, no dismissed flags."""
    path = tmp_path / "m.db"
    rows = realistic_rows()
    rows[0].published = "2025-07-19T22:00:00Z"
    rows[1].published = "2030-01-01T00:00:00Z"  # a feed date in the future: our clock wins
    rows[2].status = "dismissed"
    build_db(path, rows)
    with open_store(path) as store:
        eq.ensure_events(store, datetime(2025, 8, 10, tzinfo=UTC))
        items = {i.item_id: i for e in eq.load_events(store) for i in e.items}
        assert set(items) == {1, 2, 4, 5, 6}
        assert [items[i].side for i in (1, 2, 4)] == ["us", "ru", "ru"]
        assert items[1].day == date(2025, 7, 19)
        assert items[2].day == date(2025, 7, 20)
        assert items[5].types == ("neutral_venue_meeting", "strategic_stability")
        window = eq.load_events(store, date(2025, 8, 1), date(2025, 8, 5))
        assert sorted(i.item_id for e in window for i in e.items) == [4, 5]


def test_review_store_outlook_level_upward_change_only(tmp_path: Path) -> None:
    """record_outlook_level returns the previous level only when the new one is higher."""
    with open_store(tmp_path / "m.db") as store:

        def record(level: str, day: int) -> str | None:
            with store.write() as db:
                return rq.record_outlook_level(db, level, date(2025, 8, day))

        assert record("quiet", 1) is None
        assert record("watch", 2) == "quiet"
        assert record("watch", 3) is None
        assert record("high", 3) == "watch"
        assert record("elevated", 4) is None
        assert record("high", 2) is None  # a replay of an older day changes nothing
        assert record("high", 5) == "elevated"


def test_review_store_first_level_counts_from_quiet(tmp_path: Path) -> None:
    """With no stored level, anything above quiet is an upward change."""
    with open_store(tmp_path / "m.db") as store, store.write() as db:
        assert rq.record_outlook_level(db, "elevated", date(2025, 8, 1)) == "quiet"


def test_review_store_unknown_sort_refused(tmp_path: Path) -> None:
    """A sort key outside the fixed list is an error, never SQL."""
    build_db(tmp_path / "m.db", realistic_rows())
    with open_store(tmp_path / "m.db") as store, pytest.raises(MonitorError):
        rq.list_flagged(store, rq.FlagFilter(sort="id; DROP TABLE items"))


def test_review_store_like_escape() -> None:
    """LIKE metacharacters and the escape character are escaped."""
    assert rq.like_escape("100%_a\\b") == "100\\%\\_a\\\\b"


@pytest.mark.timeout(60)
def test_review_store_actions_while_daemon_writes(tmp_path: Path) -> None:
    """Review actions succeed, complete and in order while another process keeps writing."""
    path = tmp_path / "m.db"
    build_db(
        path, [Row(f"item {n}", "body", signals=[Sig("leader_call", ("body",))]) for n in range(5)]
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "3"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    actions = ["ack", "note", "escalate", "dismiss"]
    done = 0
    try:
        with open_store(path) as store:
            time.sleep(0.3)
            start = time.monotonic()
            # At least 2 s beside the writer and at least 11 rounds: the writer may win the
            # lock many times in a row on a loaded machine, which only slows the rounds.
            while (time.monotonic() - start < 2.0 or done <= 10) and time.monotonic() - start < 40:
                rq.record_review(
                    store,
                    [1, 2, 3, 4, 5],
                    actions[done % 4],
                    user="bob",
                    now=datetime(2025, 8, 10, tzinfo=UTC),
                    note=str(done),
                )
                done += 1
    finally:
        out, _ = writer.communicate(timeout=30)
    assert writer.returncode == 0
    assert int(out) > 10
    with open_store(path) as store:
        events = store.query("SELECT item_id, action, note FROM review_events ORDER BY id")
        status = store.query("SELECT DISTINCT status FROM flags WHERE item_id <= 5")
    assert len(events) == done * 5
    assert done > 10
    assert [e["note"] for e in events[::5]] == [str(n) for n in range(done)]
    expected = {"ack": "reviewed", "escalate": "escalated", "dismiss": "dismissed"}
    last_status_action = [a for a in actions[: (done - 1) % 4 + 1] if a != "note"][-1]
    assert status == [{"status": expected[last_status_action]}]
