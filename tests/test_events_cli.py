"""`monitor events`: list, show, split and merge over a real database, reviewer recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.store import open_store
from tests.review_fixtures import Row, Sig, add_item, build_db, invoke, realistic_rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    build_db(path, realistic_rows())
    return path


def events(db: Path) -> list[dict[str, object]]:
    result = invoke(db, ["events", "list", "--since", "60d", "--json"])
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def test_events_cli_list_groups_the_two_readouts_of_one_call(db: Path) -> None:
    """The Kremlin and White House readouts of one call are one event, newest events first."""
    found = events(db)
    assert [e["id"] for e in found] == [5, 4, 3, 2, 1]
    call = found[-1]
    assert call["sources"] == ["kremlin-en", "whitehouse"]
    assert call["grade"] == "placed"
    assert [i["why_grouped"] for i in call["items"]] == [  # type: ignore[union-attr]
        "first report",
        "with #1: call, 0 day(s) apart; same leaders",
    ]


def test_events_cli_show_explains_grouping_and_grade(db: Path) -> None:
    """show prints each item with why it was grouped and how it was graded."""
    out = invoke(db, ["events", "show", "1"]).stdout
    assert out.startswith("Event #1: leaders' meeting announced or agreed (geneva, 2025-08-16)")
    assert "grouped: with #1: call, 0 day(s) apart; same leaders" in out
    assert 'graded:  placed: evidence "The two leaders agreed' in out


def test_events_cli_split_and_merge_are_recorded(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reviewer splits an item out and merges it back; both moves name the reviewer."""
    monkeypatch.setenv("USER", "dana")
    events(db)  # places the items
    split = invoke(db, ["events", "split", "1", "2"])
    assert split.exit_code == 0
    assert "into new event 6" in split.stdout
    shown = json.loads(invoke(db, ["events", "show", "6", "--json"]).stdout)
    assert [i["id"] for i in shown["items"]] == [2]
    assert shown["placement"][0]["placed_by"] == "dana"
    assert shown["review"]["reviewed_by"] == "dana"
    merged = invoke(db, ["events", "merge", "1", "6"])
    assert merged.exit_code == 0, merged.output
    assert sorted(i["id"] for i in events(db)[-1]["items"]) == [1, 2]  # type: ignore[union-attr]
    with open_store(db) as store:
        row = store.query("SELECT reason, placed_by FROM event_items WHERE item_id = 2")[0]
    assert row == {"reason": "merged from event 6 by dana", "placed_by": "dana"}


def test_events_cli_new_items_never_move_reviewed_ones(db: Path) -> None:
    """A new report of a split event joins an event, but the reviewer's split stays."""
    events(db)
    invoke(db, ["events", "split", "1", "2"])
    with open_store(db) as store:
        new_id = add_item(
            store,
            Row(
                "Readout: the President spoke with President Putin again",
                "A short readout.",
                first_seen="2025-07-21T09:00:00Z",
                signals=[Sig("leader_call", ("spoke with President Putin",))],
            ),
        )
    found = {e["id"]: [i["id"] for i in e["items"]] for e in events(db)}  # type: ignore[union-attr]
    assert found[6] == [2] or found[6] == [2, new_id]
    assert new_id in found[1] + found[6]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", "show", "99"], "error: no event with id 99"),
        (["events", "split", "1", "5"], "error: item(s) 5 are not in event 1"),
        (["events", "split", "2", "3"], "error: a split must leave at least one item"),
        (["events", "merge", "1", "99"], "error: no event with id 99"),
    ],
)
def test_events_cli_bad_ids_are_clear_errors(db: Path, args: list[str], message: str) -> None:
    """Unknown events or items, and a split that would empty an event: error, nothing changed."""
    events(db)
    result = invoke(db, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(message), result.output
    assert len(events(db)) == 5


def test_events_cli_merge_needs_two_events(db: Path) -> None:
    """Merging one event with itself is a usage error."""
    assert invoke(db, ["events", "merge", "1", "1"]).exit_code == 2
