"""One meaning of a period in every command: the item's own time (published, else first
seen), given as a duration, a date or a time; `report --as-of`; windows in days."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor.store import browse, open_store
from tests.cli_env import CALL_2018, SUMMIT_2018, cli_config, ids, jsonl, monitor, ok_json
from tests.review_fixtures import Row, Sig, realistic_rows

LATE_DATED = Row(
    "Readout dated years ahead",
    "The leaders spoke by telephone.",
    first_seen="2025-08-09T10:00:00Z",
    published="2031-01-01T00:00:00Z",
    signals=[Sig("leader_call", ("spoke by telephone",))],
)


def with_history(folder: Path) -> Path:
    """Items 1-6 polled in July and August 2025, 7 with a feed date after it was first
    seen, 8 and 9 imported today (2025-08-10) with their 2018 publication dates."""
    config = cli_config(folder, [*realistic_rows(), LATE_DATED])
    archive = folder / "archive.jsonl"
    archive.write_text(jsonl([
        {"id": "call", **CALL_2018, "published": "2018-07-10T09:00:00Z"},
        {"id": "summit", **SUMMIT_2018, "published": "2018-07-16"},
    ]))  # fmt: skip
    done = monitor(config, "import", str(archive), "--feed", "archive")
    assert done.returncode == 0, done.stderr
    return config


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_history(tmp_path_factory.mktemp("period"))


def test_cli_period_imported_history_is_dated_by_publication(history: Path) -> None:
    """History imported today is not "the last 7 days" in flagged, export or items, and
    shows under its own dates; a feed date after first sight counts as first sight."""
    assert ids(history, "flagged", "--since", "7d") == [7, 6, 5]
    assert ids(history, "items", "--since", "7d") == [7, 6, 5]
    exported = monitor(history, "export", "--since", "7d", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == [5, 6, 7]
    assert ids(history, "flagged", "--since", "2018-01-01", "--until", "2018-12-31") == [9, 8]
    assert ids(history, "flagged", "--limit", "3") == [7, 6, 5]  # history does not lead
    events = ok_json(
        history, "events", "list", "--since", "2018-07-01", "--until", "2018-07-31", "--json"
    )
    assert sorted(i["id"] for e in events for i in e["items"]) == [8, 9]


def test_cli_period_forms_and_bounds(history: Path) -> None:
    """A date as --until includes that day; a time is an exclusive end; offsets are UTC;
    durations count back from now."""
    flagged = lambda *a: ids(history, "flagged", *a)  # noqa: E731
    assert flagged("--since", "2025-08-05", "--until", "2025-08-05") == [5]
    assert flagged("--since", "2025-08-05", "--until", "2025-08-05T10:00:00Z") == []
    assert flagged("--since", "2025-08-05T10:00:00Z", "--until", "2025-08-06") == [5]
    assert flagged("--since", "2025-08-05T13:00:00+03:00") == [7, 6, 5]
    assert flagged("--until", "20d") == [2, 1, 9, 8]
    assert ids(history, "items", "--since", "2018-07-16", "--until", "2018-07-16") == [9]


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2025-02-30"], "there is no day '2025-02-30'"),
    (["--until", "soon"], "'soon' is neither a duration nor a date"),
    (["--since", "2025-08-06", "--until", "2025-08-05"], "before it starts"),
    (["--since", "2025-08-05T25:00Z"], "is not a time"),
    (["--until", "9999-12-31"], "'9999-12-31' is out of range; use a day from 1000-01-01"),
])  # fmt: skip
def test_cli_period_bad_values_are_usage_errors(
    history: Path, args: list[str], message: str
) -> None:
    """A period that cannot be read, or ends before it starts, is a usage error naming it."""
    for command in (["flagged"], ["items"], ["export"], ["events", "list"]):
        done = monitor(history, *command, *args)
        assert done.returncode == 2, (command, done.stderr)
        assert message in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr


def test_cli_period_report_as_of_a_day(history: Path, tmp_path: Path) -> None:
    """`report --as-of DAY` (or `--until DAY`) reads as it would have at the end of that day;
    --since counts back from it; imported history is reported under its own dates."""
    july, until, old = tmp_path / "july.html", tmp_path / "until.html", tmp_path / "2018.html"
    done = monitor(
        history, "report", "--as-of", "2025-07-31", "--since", "30d", "--html", str(july)
    )
    assert done.returncode == 0, done.stderr
    assert "level high on 2025-07-31" in done.stderr
    page = july.read_text(encoding="utf-8")
    assert page.count("<article") == 3  # items 1-3; 4-7 came later
    assert "2025-07-01 to 2025-07-31" in re.sub(r"<[^>]+>", "", page)
    assert (
        monitor(
            history, "report", "--until", "2025-07-31", "--since", "30d", "--html", str(until)
        ).returncode
        == 0
    )
    assert until.read_text(encoding="utf-8") == page
    done = monitor(
        history, "report", "--since", "2018-07-01", "--as-of", "2018-07-31", "--html", str(old)
    )
    assert done.returncode == 0
    assert old.read_text(encoding="utf-8").count("<article") == 2


def test_cli_period_rescan_takes_the_same_period(tmp_path: Path) -> None:
    """rescan --since/--until select items by their own time, like every listing."""
    config = with_history(tmp_path)
    recent = monitor(config, "rescan", "--since", "7d")
    assert recent.returncode == 0, recent
    assert recent.stdout.startswith("rescanned 3 items"), recent
    old = monitor(config, "rescan", "--since", "2018-01-01", "--until", "2019-01-01")
    assert old.returncode == 0, old
    assert old.stdout.startswith("rescanned 2 items"), old


def test_cli_period_window_in_days(history: Path, tmp_path: Path) -> None:
    """--window takes a bare number of days as its help says, or a duration of whole days."""
    assert ok_json(history, "outlook", "--window", "7", "--json")["window_days"] == 7
    assert ok_json(history, "outlook", "--window", "7d", "--json")["window_days"] == 7
    done = monitor(history, "report", "--window", "14", "--html", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    for bad in ("1.5", "36h", "0", "99999"):
        refused = monitor(history, "outlook", "--window", bad)
        assert refused.returncode == 2, refused.stderr
        assert "number of days" in refused.stderr, refused.stderr


def test_cli_period_filter_uses_the_index(history: Path) -> None:
    """The period filter is spelled as the items_time index, so SQLite searches it."""
    statements: list[str] = []
    with open_store(history.parent / "monitor.db", create=False) as store:
        store.conn.set_trace_callback(statements.append)
        browse.list_items(
            store, feed=None, since="2025-08-03T12:00:00Z", until="2025-08-10T00:00:00Z", limit=10
        )
        store.conn.set_trace_callback(None)
        (query,) = [s for s in statements if s.lstrip().startswith("SELECT")]
        plan = store.query(f"EXPLAIN QUERY PLAN {query}")
    assert any("USING INDEX items_time" in str(row["detail"]) for row in plan), plan
