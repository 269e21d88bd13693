"""Every SQL statement of the alert outbox: insert, claim, mark, list, retry, recover.

States: pending -> sending -> sent | pending (retry) | dead; held -> folded (into a
digest row). Functions taking a `Database` run inside the caller's transaction;
functions taking a `Store` open their own short write transaction, so that a row is
committed as `sending` before any network call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from sqlite_utils import Database

from monitor.models import JSONObject
from monitor.store import Store
from monitor.store.columns import Row, integer, optional_integer, optional_text, text
from monitor.store.feeds import FeedState

OutboxState = Literal["pending", "held", "sending", "sent", "dead", "folded"]
STATES: tuple[OutboxState, ...] = ("pending", "held", "sending", "sent", "dead", "folded")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One row of the outbox: an alert or notice for one channel, and its delivery state."""

    id: str
    channel: str
    kind: str
    item_id: int | None
    dedupe_key: str
    payload: JSONObject
    state: OutboxState
    attempts: int
    created: str
    next_attempt: str
    last_attempt: str | None
    sent_at: str | None
    last_error: str | None
    possible_duplicate: bool
    digest_id: str | None

    @classmethod
    def from_row(cls, row: Row) -> OutboxRow:
        """The row as stored (its payload is JSON text)."""
        return cls(
            id=text(row, "id"),
            channel=text(row, "channel"),
            kind=text(row, "kind"),
            item_id=optional_integer(row, "item_id"),
            dedupe_key=text(row, "dedupe_key"),
            payload=decode_payload(row["payload"]),
            state=_state(row),
            attempts=integer(row, "attempts"),
            created=text(row, "created"),
            next_attempt=text(row, "next_attempt"),
            last_attempt=optional_text(row, "last_attempt"),
            sent_at=optional_text(row, "sent_at"),
            last_error=optional_text(row, "last_error"),
            possible_duplicate=bool(row["possible_duplicate"]),
            digest_id=optional_text(row, "digest_id"),
        )


def decode_payload(stored: object) -> JSONObject:
    """A stored payload's JSON text as the object it holds (an empty one when empty)."""
    value = json.loads(str(stored or "{}"))
    if not isinstance(value, dict):
        raise ValueError(f"an outbox payload is a JSON object, not {type(value).__name__}")
    return cast("JSONObject", value)


def _state(row: Row) -> OutboxState:
    # the store's own statements write only the states of OutboxState
    return cast("OutboxState", text(row, "state"))


@dataclass(frozen=True, slots=True)
class OutboxListing:
    """One row as `monitor alerts` lists it: the outbox row and its item's title."""

    row: OutboxRow
    item_title: str | None


def insert(db: Database, row: Mapping[str, object]) -> bool:
    """Insert one row unless (channel, dedupe_key) exists; True when it was inserted."""
    values = {**row, "payload": json.dumps(row["payload"], ensure_ascii=False)}
    cursor = db.execute(
        "INSERT OR IGNORE INTO outbox (id, channel, kind, item_id, dedupe_key, payload, state,"
        " created, next_attempt) VALUES (:id, :channel, :kind, :item_id, :dedupe_key, :payload,"
        " :state, :created, :next_attempt)",
        values,
    )
    return bool(cursor.rowcount == 1)


def exists(db: Database, channel: str, dedupe_key: str) -> bool:
    """A row with this dedupe key exists for the channel."""
    cursor = db.execute(
        "SELECT 1 FROM outbox WHERE channel = ? AND dedupe_key = ?", [channel, dedupe_key]
    )
    return cursor.fetchone() is not None


def count_released_since(db: Database, channel: str, since: str) -> int:
    """Item alerts of `channel` created since `since` that were not held for a digest."""
    cursor = db.execute(
        "SELECT count(*) FROM outbox WHERE channel = ? AND kind = 'item' AND created >= ?"
        " AND state NOT IN ('held', 'folded')",
        [channel, since],
    )
    return int(cursor.fetchone()[0])


def claim_next(store: Store, channel: str, now: str) -> OutboxRow | None:
    """Mark the most overdue pending row of `channel` as sending, committed, and return it."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, last_attempt = :now"
            " WHERE id = (SELECT id FROM outbox WHERE channel = :channel AND state = 'pending'"
            " AND next_attempt <= :now ORDER BY next_attempt, created, id LIMIT 1)"
            " RETURNING *",
            {"channel": channel, "now": now},
        )
        names = [d[0] for d in cursor.description or ()]
        found = cursor.fetchone()
        return OutboxRow.from_row(dict(zip(names, found, strict=True))) if found else None


def mark_sent(store: Store, row_id: str, now: str, note: str | None = None) -> None:
    """Sent; `note` keeps a partial failure (recipients refused for good) visible."""
    with store.write() as db:
        db.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, last_error = ? WHERE id = ?",
            [now, note, row_id],
        )


def mark_retry(
    store: Store,
    row_id: str,
    next_attempt: str,
    error: str,
    payload: JSONObject | None = None,
    *,
    possible_duplicate: bool = False,
) -> None:
    """Back to pending at `next_attempt`; `possible_duplicate` sticks once set."""
    _mark(store, row_id, "pending", error, next_attempt, payload, possible_duplicate)


def mark_dead(store: Store, row_id: str, error: str, payload: JSONObject | None = None) -> None:
    """Give up on a row: it stays, dead, with its last error, until retried by hand."""
    _mark(store, row_id, "dead", error, None, payload, False)


def _mark(
    store: Store,
    row_id: str,
    state: str,
    error: str,
    next_attempt: str | None,
    payload: JSONObject | None,
    possible_duplicate: bool,
) -> None:
    sets = ["state = :state", "last_error = :error"]
    if next_attempt is not None:
        sets.append("next_attempt = :next")
    if payload is not None:
        sets.append("payload = :payload")
    if possible_duplicate:
        sets.append("possible_duplicate = 1")
    values = {
        "state": state,
        "error": error,
        "next": next_attempt,
        "id": row_id,
        "payload": json.dumps(payload, ensure_ascii=False) if payload is not None else None,
    }
    with store.write() as db:
        db.execute(f"UPDATE outbox SET {', '.join(sets)} WHERE id = :id", values)


def recover_sending(store: Store, now: str, started_before: str | None = None) -> int:
    """Rows left `sending` (by a crash) back to pending now, flagged as possible duplicates."""
    cutoff = started_before or now
    with store.write() as db:
        cursor = db.execute(
            "UPDATE outbox SET state = 'pending', possible_duplicate = 1, next_attempt = ?"
            " WHERE state = 'sending' AND (last_attempt IS NULL OR last_attempt <= ?)",
            [now, cutoff],
        )
        return int(cursor.rowcount)


def retry_ids(store: Store, ids: Sequence[str], now: str) -> list[str]:
    """Put the named rows (pending, dead, or sent) back to pending now; the ids found."""
    found: list[str] = []
    with store.write() as db:
        for row_id in ids:
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt = ? WHERE id = ?"
                " AND state IN ('pending', 'dead', 'sent')",
                [now, row_id],
            )
            if cursor.rowcount:
                found.append(row_id)
    return found


def retry_dead(store: Store, now: str) -> int:
    """Make every dead row pending again, due `now`; how many."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE outbox SET state = 'pending', next_attempt = ? WHERE state = 'dead'", [now]
        )
        return int(cursor.rowcount)


def list_rows(store: Store, state: str | None = None, limit: int = 200) -> list[OutboxListing]:
    """Rows for `monitor alerts`, newest first, with the item's title when there is one."""
    where = "WHERE o.state = ?" if state else ""
    params: list[object] = [state] if state else []
    rows = store.query(
        "SELECT o.*, i.title AS item_title"
        f" FROM outbox o LEFT JOIN items i ON i.id = o.item_id {where}"
        " ORDER BY o.created DESC, o.id LIMIT ?",
        (*params, limit),
    )
    return [
        OutboxListing(OutboxRow.from_row(row), optional_text(row, "item_title")) for row in rows
    ]


def held_before(db: Database, channel: str, before: str) -> list[OutboxRow]:
    """Held rows of `channel` created before `before`, oldest first."""
    cursor = db.execute(
        "SELECT * FROM outbox WHERE channel = ? AND state = 'held' AND created < ?"
        " ORDER BY created, id",
        [channel, before],
    )
    names = [d[0] for d in cursor.description or ()]
    return [OutboxRow.from_row(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]


def held_channels(db: Database) -> list[str]:
    """The channels that hold rows for a digest."""
    cursor = db.execute("SELECT DISTINCT channel FROM outbox WHERE state = 'held'")
    return [str(r[0]) for r in cursor.fetchall()]


def fold(db: Database, ids: Sequence[str], digest_id: str) -> None:
    """Mark held rows as folded into the digest `digest_id`."""
    for row_id in ids:
        db.execute(
            "UPDATE outbox SET state = 'folded', digest_id = ? WHERE id = ? AND state = 'held'",
            [digest_id, row_id],
        )


def feeds_health(db: Database, names: Sequence[str] | None = None) -> list[FeedState]:
    """Health fields of the configured feeds (or of `names` only)."""
    only = f" AND name IN ({', '.join('?' * len(names))})" if names is not None else ""
    cursor = db.execute(
        "SELECT name, url, last_success, last_attempt, last_error, last_error_kind,"
        " consecutive_failures, polls_ok, health_alerted FROM feeds WHERE retired IS NULL"
        f"{only} ORDER BY name",
        list(names or ()),
    )
    columns = [d[0] for d in cursor.description or ()]
    return [FeedState.from_row(dict(zip(columns, r, strict=True))) for r in cursor.fetchall()]


def set_health_alerted(db: Database, feed: str, alerted: bool) -> None:
    """Remember which health notice (failing or recovered) the feed was sent last."""
    db.execute("UPDATE feeds SET health_alerted = ? WHERE name = ?", [int(alerted), feed])
