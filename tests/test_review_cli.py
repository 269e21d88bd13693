"""Review commands against a real SQLite file: listing, showing, review actions, safety."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.store import open_store
from tests.conftest import REPO
from tests.review_fixtures import (
    NOW,
    Row,
    Sig,
    add_delivery,
    build_db,
    invoke,
    realistic_rows,
    schema_snapshot,
)

HOSTILE = ("\x1b", "\x07", "\u202e", "\x9b")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    build_db(path, realistic_rows())
    return path


def flagged_json(db: Path, *args: str) -> list[dict[str, object]]:
    result = invoke(db, ["flagged", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_review_flagged_newest_first_with_json_fields(db: Path) -> None:
    """flagged --json lists every flagged item newest first with the documented fields."""
    rows = flagged_json(db)
    assert [r["id"] for r in rows] == [6, 5, 4, 3, 2, 1]
    assert {
        "id",
        "feed",
        "url",
        "title",
        "published",
        "first_seen",
        "score",
        "signals",
        "status",
    } <= set(rows[0])
    assert rows[1]["status"] == "reviewed"
    assert rows[-1]["signals"][0]["type"] == "leader_call"  # type: ignore[index]


def test_review_flagged_filters(db: Path) -> None:
    """--since, --status, --signal, --feed, --min-score, --search and --limit each narrow."""
    ids = lambda *a: [r["id"] for r in flagged_json(db, *a)]  # noqa: E731
    assert ids("--since", "9d") == [6, 5, 4]
    assert ids("--status", "reviewed") == [5]
    assert ids("--signal", "leader_call") == [2, 1]
    prefix = invoke(db, ["flagged", "--signal", "leader"])  # a whole type, not a prefix
    assert prefix.exit_code == 1
    assert "no signal type leader; known:" in prefix.stderr
    assert ids("--feed", "kremlin-en") == [4, 2]
    assert ids("--min-score", "1.5") == [5, 1]
    assert ids("--search", "envoy") == [3]
    assert ids("--limit", "2") == [6, 5]
    assert ids("--sort", "score", "--limit", "2") == [1, 5]


def test_review_flagged_plain_lines(db: Path) -> None:
    """The terminal listing has a header, then one line per item with id, feed, score, types
    and title."""
    result = invoke(db, ["flagged"])
    lines = result.stdout.splitlines()
    assert len(lines) == 7
    assert lines[0].split() == ["ID", "TIME", "FEED", "SCORE", "SIGNALS", "STATUS", "TITLE"]
    assert lines[-1].split()[0] == "1"
    assert "leader_call,summit_planning" in lines[-1]
    assert "Readout of the President" in lines[-1]


@pytest.mark.parametrize(
    "payload", ["' OR 1=1 --", '"; DROP TABLE items; --', "%", "_", "\\", "NOT", '"', "*"]
)
@pytest.mark.parametrize("option", ["--signal", "--feed", "--search"])
def test_review_flagged_injection_is_literal(db: Path, option: str, payload: str) -> None:
    """SQL and LIKE metacharacters in a filter match literally and leave the schema intact:
    no title holds them, and no feed or signal type is named so."""
    before = schema_snapshot(db)
    if option == "--search":
        assert flagged_json(db, option, payload) == []
    else:
        result = invoke(db, ["flagged", option, payload])
        assert result.exit_code == 1
        assert f" {payload}; known: " in result.stderr
    assert schema_snapshot(db) == before
    assert len(flagged_json(db)) == 6


def test_review_flagged_like_wildcards_match_literally(tmp_path: Path) -> None:
    """A title holding % and _ is found by searching for exactly those characters."""
    path = tmp_path / "m.db"
    build_db(
        path,
        [
            Row("100% sure_thing", "x", signals=[Sig("leader_call", ("x",))]),
            Row("100 percent sure thing", "x", signals=[Sig("leader_call", ("x",))]),
        ],
    )
    assert [r["id"] for r in flagged_json(path, "--search", "100%")] == [1]
    assert [r["id"] for r in flagged_json(path, "--search", "e_t")] == [1]


def test_review_flagged_injection_in_number_options_is_refused(db: Path) -> None:
    """Non-numeric --min-score and --limit are usage errors, never SQL."""
    assert invoke(db, ["flagged", "--min-score", "1 OR 1=1"]).exit_code == 2
    assert invoke(db, ["flagged", "--limit", "1; DROP TABLE items"]).exit_code == 2
    assert invoke(db, ["flagged", "--since", "7d; DROP"]).exit_code == 2


def test_review_hostile_titles_never_reach_output(db: Path) -> None:
    """Escape sequences and bidi overrides in feed text are stripped from every command."""
    outputs = [
        invoke(db, ["flagged"]).stdout,
        invoke(db, ["show", "6"]).stdout,
        invoke(db, ["show", "6", "--color"]).stdout.replace("\x1b[", "CSI"),
        invoke(db, ["events", "show", "5"]).stdout,
    ]
    for out in [*outputs, invoke(db, ["outlook", "--as-of", "2025-08-10"]).stdout]:
        for char in HOSTILE:
            assert char not in out, (char, out)
    assert all("Summit date" in out for out in outputs)


def test_review_show_highlights_plain_when_piped(db: Path) -> None:
    """show prints the matched text without escape codes when stdout is not a terminal."""
    result = invoke(db, ["show", "1"])
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert (
        "agreed that their teams will prepare a summit meeting in Geneva on August 16"
        in result.stdout
    )
    assert "Evidence:" in result.stdout
    assert "summit_planning" in result.stdout


def test_review_show_evidence_first_and_spans_marked_in_plain_text(db: Path) -> None:
    """Piped, show prints the evidence before the body and marks each span [[like this]]."""
    out = invoke(db, ["show", "1"]).stdout
    assert out.index("Evidence:") < out.index("The President [[spoke with President Putin]]")
    assert "prepare a [[summit meeting in Geneva on August 16]]" in out


def test_review_show_colour_marks_each_span(db: Path) -> None:
    """With --color every matched span is wrapped in an ANSI highlight."""
    out = invoke(db, ["show", "1", "--color"]).stdout
    assert out.count("\x1b[0m") == 2
    assert "spoke with President Putin\x1b[0m" in out
    assert "summit meeting in Geneva on August 16\x1b[0m" in out


def test_review_show_uses_matched_revision(tmp_path: Path) -> None:
    """When the flag was computed on an earlier revision, its spans highlight that text."""
    path = tmp_path / "m.db"
    row = Row(
        "Talks held",
        "Ryabkov met the delegation in Geneva.",
        revisions=[("Talks planned", "Ryabkov will meet the US delegation in Geneva.")],
        matched_revision=0,
        signals=[Sig("neutral_venue_meeting", ("US delegation",))],
    )
    build_db(path, [row])
    out = invoke(path, ["show", "1", "--color"]).stdout
    assert "matched revision replaced" in out
    assert "US delegation\x1b[0m" in out
    assert "Earlier revisions (1):" in out


def test_review_show_deliveries_and_missing_item(db: Path) -> None:
    """show lists the item's outbox deliveries; an unknown id is an error."""
    with open_store(db) as store:
        add_delivery(store, 1, "email", "sent", "2025-07-20T14:01:00Z")
        add_delivery(store, 1, "webhook:ops", "dead", "2025-07-20T14:01:00Z")
    out = invoke(db, ["show", "1"]).stdout
    assert "email  item  sent" in out
    assert "webhook:ops  item  dead" in out
    missing = invoke(db, ["show", "999"])
    assert missing.exit_code == 1
    assert "no item with id 999" in missing.stderr


def test_review_actions_update_status_and_history(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ack, dismiss, escalate and note record user, time and note; statuses follow."""
    monkeypatch.setenv("USER", "alice")
    assert invoke(db, ["ack", "1", "2"]).stdout.strip() == "acknowledged 2 item(s)"
    assert invoke(db, ["dismiss", "3", "--note", "third-country talks"]).exit_code == 0
    assert invoke(db, ["escalate", "6", "--note", "check"]).exit_code == 0
    assert invoke(db, ["note", "1", "called desk"]).exit_code == 0
    statuses = {r["id"]: r["status"] for r in flagged_json(db)}
    assert statuses == {
        1: "reviewed",
        2: "reviewed",
        3: "dismissed",
        4: "new",
        5: "reviewed",
        6: "escalated",
    }
    item = json.loads(invoke(db, ["show", "1", "--json"]).stdout)
    assert [(h["action"], h["note"], h["user"], h["at"]) for h in item["history"]] == [
        ("ack", None, "alice", "2025-08-10T12:00:00Z"),
        ("note", "called desk", "alice", "2025-08-10T12:00:00Z"),
    ]
    assert item["flag"]["status_by"] == "alice"
    assert "dismiss   by alice  third-country talks" in invoke(db, ["show", "3"]).stdout


def test_review_action_on_unknown_id_changes_nothing(db: Path) -> None:
    """A batch with one unknown id fails as a whole: no event, no status change."""
    result = invoke(db, ["ack", "1", "999"])
    assert result.exit_code == 1
    assert "999" in result.stderr
    with open_store(db) as store:
        assert store.query("SELECT count(*) AS n FROM review_events")[0]["n"] == 0
        assert store.query("SELECT status FROM flags WHERE item_id = 1")[0]["status"] == "new"


def test_review_note_text_is_stored_verbatim_but_shown_clean(db: Path) -> None:
    """A note with escape codes is kept as typed and printed without them."""
    invoke(db, ["note", "2", "see \x1b[31mred\x1b[0m ' OR 1=1 --"])
    out = invoke(db, ["show", "2"]).stdout
    assert "see red ' OR 1=1 --" in out
    assert "\x1b" not in out
    assert NOW.year == 2025


SHOW_ON_TTY = """
import sys
from pathlib import Path
from tests.review_fixtures import NOW, StandInApp, review_group
app = StandInApp(Path(sys.argv[1]), NOW)
review_group().main(["show", "1"], obj=app, standalone_mode=False)
app.close()
"""


def test_review_show_colours_on_a_real_terminal(db: Path) -> None:
    """Without --color, show highlights in colour when stdout is a terminal (a pty)."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SHOW_ON_TTY, str(db)],
            cwd=REPO,
            stdout=secondary,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
        os.close(secondary)
        out = _read_all(primary)
    finally:
        os.close(primary)
    assert proc.returncode == 0, proc.stderr
    assert "spoke with President Putin\x1b[0m" in out


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the pty's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")
