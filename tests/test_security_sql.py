"""SQL and FTS injection through every CLI filter: literal matches only, schema intact.

Items are imported (`monitor import`) with titles that literally contain each payload,
under a normal feed and a feed whose name is itself an injection attempt. Every CLI
filter is then given the payloads as a subprocess would: results must equal what a
literal match gives, nothing may print a traceback, and sqlite_master must not change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.security_env import FLAGGED_BODY, jsonl, monitor, rows, schema_of, security_config

PAYLOADS = [
    '"', "*", "NOT", "NEAR(", "'", "%", "_", "' OR 1=1 --", '"; DROP TABLE items; --',
    "NEAR(alpha beta)", "alpha*", "title:alpha", "^alpha", "AND", "OR", "-alpha", "a%b",
    "a_b", "\\", "'; DELETE FROM flags; --", "1) OR (1=1", "items_fts MATCH 'x'",
]  # fmt: skip
HOSTILE_FEED = "x' OR 1=1 --"


@dataclass
class Db:
    config: Path
    db: Path
    titles: dict[int, str]
    feeds: dict[int, str]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Db:
    """One item per payload under feed `news`, three plain ones under the hostile feed."""
    folder = tmp_path_factory.mktemp("sql")
    config = security_config(folder, [{"name": "news", "url": "http://127.0.0.1:9/feed"}])
    items = [
        {"id": f"urn:sql:{i}", "title": f"Payload {p} zeta", "text": FLAGGED_BODY,
         "published": "2026-11-26T10:00:00Z", "lang": "en"}
        for i, p in enumerate(PAYLOADS)
    ]  # fmt: skip
    plain = [
        {"id": f"urn:plain:{i}", "title": f"Plain item {i}", "text": FLAGGED_BODY,
         "published": "2026-11-26T10:00:00Z", "lang": "en"}
        for i in range(3)
    ]  # fmt: skip
    for feed, batch in (("news", items), (HOSTILE_FEED, plain)):
        source = folder / "items.jsonl"
        source.write_text(jsonl(batch))
        done = monitor(config, "import", "--feed", feed, str(source))
        assert done.returncode == 0, done.stderr
    found = rows(folder / "monitor.db", "SELECT id, title, feed FROM items")
    return Db(
        config, folder / "monitor.db",
        {r["id"]: r["title"] for r in found}, {r["id"]: r["feed"] for r in found},
    )  # fmt: skip


def _ids(db: Db, *args: str) -> set[int]:
    done = monitor(db.config, *args)
    assert done.returncode == 0, (args, done.stderr)
    assert b"Traceback" not in done.stderr
    if args[0] == "export":
        return {int(json.loads(line)["id"]) for line in done.stdout.splitlines() if line.strip()}
    return {int(r["id"]) for r in json.loads(done.stdout)}


def _refused(db: Db, *args: str) -> None:
    """An unknown feed or signal type: exit 1 naming it and the known ones, no listing."""
    done = monitor(db.config, *args)
    assert done.returncode == 1, (args, done.stderr)
    assert done.stdout == b"", (args, done.stderr)
    assert b"Traceback" not in done.stderr
    assert f"{args[-1]}; known: ".encode() in done.stderr, (args, done.stderr)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _phrase_in(chunk: str, text: str) -> bool:
    want, have = _tokens(chunk), _tokens(text)
    return any(have[i : i + len(want)] == want for i in range(len(have)))


def _literal_match(query: str, text: str) -> bool:
    """What a literal search means on a word index: every space-separated part of the
    query, as a phrase of its words; parts without a word (`"`, `--`) constrain nothing."""
    parts = [part for part in query.split() if _tokens(part)]
    return bool(parts) and all(_phrase_in(part, text) for part in parts)


@pytest.mark.slow
def test_security_sql_search_is_literal(imported: Db) -> None:
    """`search Q` finds exactly the items holding Q's words as a phrase; operators are text."""
    before = schema_of(imported.db)
    for payload in PAYLOADS:
        found = _ids(imported, "search", "--json", "--limit", "1000", "--", payload)
        texts = {i: f"{t}\n\n{FLAGGED_BODY}" for i, t in imported.titles.items()}
        expected = {i for i, text in texts.items() if _literal_match(payload, text)}
        assert found == expected, payload
        if _tokens(payload):
            assert any(imported.titles[i].startswith(f"Payload {payload} ") for i in found)
        assert len(found) < len(imported.titles) or not _tokens(payload), payload
    assert schema_of(imported.db) == before


@pytest.mark.slow
def test_security_sql_feed_filters_are_literal(imported: Db) -> None:
    """`items/flagged/export --feed X` match the feed name exactly, quotes and all; a name
    that is no feed is refused."""
    before = schema_of(imported.db)
    hostile = {i for i, f in imported.feeds.items() if f == HOSTILE_FEED}
    assert len(hostile) == 3
    for args in (["items", "--json", "--limit", "1000"], ["flagged", "--json", "--limit", "1000"],
                 ["export", "--format", "jsonl"]):  # fmt: skip
        assert _ids(imported, *args, "--feed", HOSTILE_FEED) == hostile
        for payload in ("' OR 1=1 --", "news' --", "%", "_", "news%", "' OR '1'='1"):
            _refused(imported, *args, "--feed", payload)
    assert schema_of(imported.db) == before


@pytest.mark.slow
def test_security_sql_flagged_search_and_signal_are_literal(imported: Db) -> None:
    """`flagged --search` is a literal substring (% and _ too); `--signal` an exact type
    (anything else is refused)."""
    before = schema_of(imported.db)
    for payload in ("%", "_", "'", '"', "' OR 1=1 --", "a%b", "a_b", "\\", "*"):
        found = _ids(imported, "flagged", "--json", "--limit", "1000", "--search", payload)
        expected = {i for i, t in imported.titles.items() if payload.lower() in t.lower()}
        assert found == expected, payload
    for payload in ("' OR 1=1 --", "%", "leader_call' OR '1'='1", "_"):
        _refused(imported, "flagged", "--json", "--limit", "1000", "--signal", payload)
    assert schema_of(imported.db) == before


@pytest.mark.parametrize(
    "args",
    [
        ["flagged", "--status", "new' OR 1=1 --"],
        ["flagged", "--since", "1d' OR 1=1 --"],
        ["flagged", "--min-score", "0 OR 1=1"],
        ["flagged", "--min-score", "'; DROP TABLE items; --"],
        ["export", "--status", "'; DROP TABLE items; --"],
        ["export", "--since", "'; DROP TABLE items; --"],
        ["items", "--since", "7d'; DROP TABLE items; --"],
        ["show", "1 OR 1=1"],
        ["show", "'; DROP TABLE items; --"],
        ["show", "1.5"],
        ["show", "0x1"],
    ],
)
def test_security_sql_bad_values_are_usage_errors(imported: Db, args: list[str]) -> None:
    """Malformed filter values are refused as usage errors (exit 2), never reach SQL."""
    before = schema_of(imported.db)
    done = monitor(imported.config, *args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert b"Traceback" not in done.stderr
    assert done.stdout == b""
    assert schema_of(imported.db) == before


def test_security_sql_valid_filters_still_work(imported: Db) -> None:
    """Control: the same options with ordinary values return rows."""
    everything = set(imported.titles)
    assert _ids(imported, "flagged", "--json", "--limit", "1000", "--status", "new") == everything
    assert _ids(imported, "flagged", "--json", "--limit", "1000", "--min-score", "1") == everything
    assert _ids(imported, "export", "--format", "jsonl", "--since", "30d") == everything
    assert _ids(imported, "flagged", "--json", "--limit", "1000", "--signal", "leader_call") == (
        everything
    )
    shown = monitor(imported.config, "show", "--json", str(min(everything)))
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["id"] == min(everything)
