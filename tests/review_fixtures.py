"""Build review-test databases by writing rows with the schema's columns.

Rows go through `open_store(...).write()` exactly as the pipeline writes them: an
item, optionally earlier revisions, and a flag whose evidence spans point into
title + "\\n\\n" + body.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
from click.testing import CliRunner, Result

from monitor.errors import MonitorError
from monitor.outlook.levels import OutlookSettings
from monitor.store import Store, open_store

NOW = datetime(2025, 8, 10, 12, 0, tzinfo=UTC)
FEED_URLS = {
    "kremlin-en": "http://en.kremlin.ru/events/president/news/feed",
    "whitehouse": "https://www.whitehouse.gov/feed/",
}


@dataclass
class Sig:
    type: str
    terms: tuple[str, ...]
    weight: float = 1.0
    rule: str = ""


@dataclass
class Row:
    title: str
    body: str
    feed: str = "whitehouse"
    first_seen: str = "2025-08-08T12:00:00Z"
    published: str | None = None
    url: str | None = None
    signals: list[Sig] = field(default_factory=list)
    score: float | None = None
    flagged: bool = True
    status: str = "new"
    revisions: list[tuple[str, str]] = field(default_factory=list)  # (title, body) before
    matched_revision: int | None = None  # index into revisions the flag was computed on


def content_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\x00\x00{body}".encode()).hexdigest()


def evidence(title: str, body: str, sig: Sig) -> dict[str, Any]:
    """The flags.signals entry for `sig`: every case-insensitive occurrence of its terms."""
    document = f"{title}\n\n{body}"
    lower = document.lower()
    spans = []
    for term in sig.terms:
        start = lower.find(term.lower())
        while start >= 0:
            spans.append([start, start + len(term)])
            start = lower.find(term.lower(), start + 1)
    sentences = [_sentence(document, s, e) for s, e in spans[:3]]
    return {
        "type": sig.type,
        "rule": sig.rule or f"{sig.type}.test",
        "weight": sig.weight,
        "terms": list(sig.terms),
        "spans": sorted(spans),
        "sentences": sentences,
    }


def _sentence(document: str, start: int, end: int) -> str:
    """The sentence around a span, as the matcher records it (ends: . ? ! or a line break)."""
    ends = [document.rfind(mark, 0, start) for mark in (". ", "? ", "! ", "\n")]
    first = max(ends) + 1
    stops = [i for i in (document.find(mark, end) for mark in (". ", "? ", "! ", "\n")) if i >= 0]
    return document[first : min(stops) + 1 if stops else len(document)].strip()


def add_item(store: Store, row: Row) -> int:
    """Insert one item (with revisions and flag) in one write transaction; its id."""
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO feeds (name, url) VALUES (?, ?)",
            (row.feed, FEED_URLS.get(row.feed, "")),
        )
        key = row.url or hashlib.sha256(row.title.encode()).hexdigest()
        cursor = db.execute(
            "INSERT INTO items (feed, key, key_kind, url, title, published, first_seen, updated,"
            " summary, body, lang, content_hash, origin) VALUES (?,?,?,?,?,?,?,?,'',?,?,?,?)",
            (
                row.feed,
                key,
                "link" if row.url else "hash",
                row.url,
                row.title,
                row.published,
                row.first_seen,
                row.first_seen,
                row.body,
                "en",
                content_hash(row.title, row.body),
                "poll",
            ),
        )
        item_id = int(cursor.lastrowid or 0)
        for title, body in row.revisions:
            db.execute(
                "INSERT INTO item_revisions (item_id, title, summary, body, content_hash,"
                " replaced_at) VALUES (?, ?, '', ?, ?, ?)",
                (item_id, title, body, content_hash(title, body), row.first_seen),
            )
        if row.signals:
            _add_flag(db, item_id, row)
    return item_id


def _add_flag(db: Any, item_id: int, row: Row) -> None:
    title, body = row.title, row.body
    if row.matched_revision is not None:
        title, body = row.revisions[row.matched_revision]
    signals = [evidence(title, body, s) for s in row.signals]
    score = row.score if row.score is not None else sum(s.weight for s in row.signals)
    db.execute(
        "INSERT INTO flags (item_id, flagged, score, signal_types, signals, rules_version,"
        " content_hash, matched_at, first_flagged, silent, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            item_id,
            int(row.flagged),
            score,
            " ".join(sorted({s.type for s in row.signals})),
            json.dumps(signals),
            "test-1",
            content_hash(title, body),
            row.first_seen,
            row.first_seen,
            0,
            row.status,
        ),
    )


def add_delivery(store: Store, item_id: int, channel: str, state: str, at: str) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO outbox (id, channel, kind, item_id, dedupe_key, payload, state, attempts,"
            " created, next_attempt, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                f"<{channel}-{item_id}@test>",
                channel,
                "item",
                item_id,
                f"item:{item_id}",
                "{}",
                state,
                1,
                at,
                at,
                at if state == "sent" else None,
            ),
        )


def build_db(path: Path, rows: list[Row]) -> list[int]:
    """A fresh database file at `path` holding `rows`; their item ids in order."""
    with open_store(path) as store:
        return [add_item(store, row) for row in rows]


def schema_snapshot(path: Path) -> list[tuple[str, str]]:
    with open_store(path) as store:
        rows = store.query("SELECT name, sql FROM sqlite_master ORDER BY name")
    return [(str(r["name"]), str(r["sql"])) for r in rows]


SUMMIT_BODY = (
    "The President spoke with President Putin of Russia today. The two leaders agreed that "
    "their teams will prepare a summit meeting in Geneva on August 16. Secretary Rubio will "
    "meet Foreign Minister Lavrov in Riyadh next week to settle the agenda."
)


def realistic_rows() -> list[Row]:
    """A month of flags from both sides, one refusal, one edited item, hostile titles."""
    return [
        Row(
            "Readout of the President's Call with President Putin",
            SUMMIT_BODY,
            first_seen="2025-07-20T14:00:00Z",
            url="https://www.whitehouse.gov/briefings/1",
            signals=[
                Sig("leader_call", ("spoke with President Putin",), 1.0),
                Sig("summit_planning", ("summit meeting in Geneva on August 16",), 1.0),
            ],
        ),
        Row(
            "Telephone conversation with US President Donald Trump",
            "Vladimir Putin had a telephone conversation with Donald Trump. Yuri Ushakov "
            "said the presidents agreed to continue contacts.",
            feed="kremlin-en",
            first_seen="2025-07-20T15:00:00Z",
            url="http://en.kremlin.ru/events/president/news/77001",
            signals=[Sig("leader_call", ("telephone conversation with Donald Trump",))],
        ),
        Row(
            "Special Envoy Witkoff arrives in Moscow",
            "Steve Witkoff met Kirill Dmitriev in Moscow to discuss the summit preparations.",
            first_seen="2025-07-28T09:00:00Z",
            url="https://www.state.gov/envoy",
            feed="state-dept",
            signals=[Sig("envoy_visit", ("Witkoff met Kirill Dmitriev in Moscow",))],
        ),
        Row(
            "Meeting in Abu Dhabi <b>postponed</b>",
            "The Russian side said the meeting in Abu Dhabi has been postponed indefinitely.",
            feed="kremlin-en",
            first_seen="2025-08-02T08:00:00Z",
            signals=[Sig("refusal", ("postponed indefinitely",))],
        ),
        Row(
            "Strategic stability consultations in Geneva",
            "Deputy Foreign Minister Ryabkov and the US delegation held strategic stability "
            "consultations in Geneva.",
            first_seen="2025-08-05T10:00:00Z",
            signals=[
                Sig("strategic_stability", ("strategic stability",), 0.8),
                Sig("neutral_venue_meeting", ("consultations in Geneva",), 1.0),
            ],
            revisions=[("Strategic stability talks", "Ryabkov held talks.")],
            status="reviewed",
        ),
        Row(
            "<script>alert(1)</script> Summit date \x1b]0;pwned\x07\x1b[2J set \u202egnp.exe",
            "Both sides confirmed the summit date. javascript:alert(2)",
            first_seen="2025-08-08T11:00:00Z",
            url="javascript:alert(3)",
            signals=[Sig("summit_planning", ("summit date",), 1.0)],
        ),
    ]


class StandInApp:
    """The parts of monitor.app.App the review commands use, over one database file."""

    def __init__(self, path: Path, now: datetime, rules: Any = None) -> None:
        self.path, self._now, self._rules = path, now, rules
        self._store: Store | None = None

    def store(self, *, create: bool = False) -> Store:
        if self._store is None:
            self._store = open_store(self.path, create=create)
        return self._store

    def now(self) -> datetime:
        return self._now

    def config(self) -> Any:
        return SimpleNamespace(alerts=None, outlook=OutlookSettings(), feeds=())

    def rules(self) -> Any:
        if self._rules is None:  # as a rules file that does not load
            raise MonitorError("this test gave no rules")
        return self._rules

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class _Group(click.Group):
    """Turns MonitorError into "error: …" and exit code 1, as the real root group does."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def review_group() -> click.Group:
    from monitor.cli import outlook, review

    group = _Group("monitor")
    for command in (*review.COMMANDS, *outlook.COMMANDS):
        group.add_command(command)
    return group


def invoke(path: Path, args: list[str], now: datetime = NOW, rules: Any = None) -> Result:
    """Run a review command against the database at `path`; stdout is not a TTY."""
    app = StandInApp(path, now, rules)
    try:
        return CliRunner().invoke(review_group(), args, obj=app, catch_exceptions=False)
    finally:
        app.close()
