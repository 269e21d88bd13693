"""SQL for events: placing flagged items into events, reading them, split and merge.

An item is placed when it is flagged (inside the ingest transaction, so its alert can
know its event) or, for items flagged before events existed or by a rescan, by
`ensure_events` before anything reads events. Placement never moves an item that
is already placed; only a reviewer does (`split`, `merge`), and the item then keeps
the reviewer's name in `placed_by`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence, Sized
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlite_utils import Database

from monitor.clock import iso
from monitor.errors import MonitorError
from monitor.outlook.events import GROUP_DAYS, Event, ItemEvidence, choose_event, evidence_of
from monitor.outlook.levels import source_side
from monitor.store import Store
from monitor.store.columns import Row, integer, optional_integer, optional_text, text
from monitor.store.review import record_day

MEMBERS_COMPARED = 25
_EVIDENCE_SQL = (
    "SELECT i.id, i.feed, i.url, i.title, i.published, i.first_seen, fd.url AS feed_url,"
    " f.signals, f.status, f.flagged FROM items i JOIN flags f ON f.item_id = i.id"
    " LEFT JOIN feeds fd ON fd.name = i.feed"
)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an item went: its event, and whether the event began with it."""

    event_id: int
    first: bool
    reason: str


@dataclass(frozen=True, slots=True)
class EventPlacement:
    """An item of an event (dismissed and unflagged ones too) and how it got there."""

    item_id: int
    day: str  # the day the item counts for (YYYY-MM-DD)
    reason: str  # why it is in this event, in words
    placed_by: str | None  # None: grouped automatically; else the reviewer
    placed_at: str
    feed: str
    title: str
    url: str | None
    flagged: int | None  # 1 while flagged, 0 no longer; None without a flag
    status: str | None

    @classmethod
    def from_row(cls, row: Row) -> EventPlacement:
        """The columns `event_rows` selects."""
        return cls(
            item_id=integer(row, "item_id"),
            day=text(row, "day"),
            reason=text(row, "reason"),
            placed_by=optional_text(row, "placed_by"),
            placed_at=text(row, "placed_at"),
            feed=text(row, "feed"),
            title=text(row, "title"),
            url=optional_text(row, "url"),
            flagged=optional_integer(row, "flagged"),
            status=optional_text(row, "status"),
        )


@dataclass(frozen=True, slots=True)
class EventReview:
    """An event's own row: when it was created, and who last split or merged it."""

    id: int
    created: str
    reviewed_by: str | None
    reviewed_at: str | None

    @classmethod
    def from_row(cls, row: Row) -> EventReview:
        """A row of `events`."""
        return cls(
            id=integer(row, "id"),
            created=text(row, "created"),
            reviewed_by=optional_text(row, "reviewed_by"),
            reviewed_at=optional_text(row, "reviewed_at"),
        )


def _rows(db: Database, sql: str, params: Sequence[object] = ()) -> list[dict[str, object]]:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _evidence(
    row: Mapping[str, object], event_id: int | None = None, why: str = ""
) -> ItemEvidence:
    key = tuple(None if row[k] is None else str(row[k]) for k in _EVIDENCE_KEYS)
    return dataclasses.replace(_graded(key), event_id=event_id, why=why)


_EVIDENCE_KEYS = ("id", "feed", "url", "feed_url", "title", "published", "first_seen", "signals")


@functools.lru_cache(maxsize=8192)
def _graded(key: tuple[str | None, ...]) -> ItemEvidence:
    """An item's evidence, graded once per process for the same stored values (placing
    a wire's five hundred reports of one contact compares each with its neighbours)."""
    item_id, feed, url, feed_url, title, published, first_seen, text = key
    try:
        signals = json.loads(text or "[]")
    except json.JSONDecodeError:
        signals = []
    return evidence_of(
        int(str(item_id)),
        str(feed),
        source_side(str(feed), url, feed_url),
        str(title),
        record_day(published, str(first_seen)),
        signals if isinstance(signals, list) else [],
    )


def place_item(db: Database, item_id: int, now: datetime) -> Placement | None:
    """Put a flagged item into its event (an existing one, or a new one); inside the
    caller's write transaction. None when the item is not flagged."""
    placed = _rows(db, "SELECT event_id, reason FROM event_items WHERE item_id = ?", [item_id])
    if placed:
        return Placement(integer(placed[0], "event_id"), False, text(placed[0], "reason"))
    rows = _rows(db, f"{_EVIDENCE_SQL} WHERE i.id = ? AND f.flagged = 1", [item_id])
    if not rows:
        return None
    item = _evidence(rows[0])
    chosen = choose_event(item, *_neighbours(db, item.day))
    if chosen is None:
        cursor = db.execute("INSERT INTO events (created) VALUES (?)", [iso(now)])
        event_id, reason, first = int(cursor.lastrowid or 0), "first report", True
    else:
        (event_id, reason), first = chosen, False
    db.execute(
        "INSERT INTO event_items (item_id, event_id, day, reason, placed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [item_id, event_id, item.day.isoformat(), reason, iso(now)],
    )
    return Placement(event_id, first, reason)


def _neighbours(
    db: Database, day: date
) -> tuple[dict[int, list[ItemEvidence]], dict[int, tuple[date, date]]]:
    """Events with flagged items within GROUP_DAYS of `day`: of each, the MEMBERS_COMPARED
    items nearest in time (reports of one contact are alike), and each event's span."""
    lo = (day - timedelta(days=GROUP_DAYS)).isoformat()
    hi = (day + timedelta(days=GROUP_DAYS)).isoformat()
    near = _rows(
        db,
        "SELECT item_id, event_id FROM (SELECT e.item_id, e.event_id, row_number() OVER ("
        " PARTITION BY e.event_id ORDER BY abs(julianday(e.day) - julianday(?)), e.item_id DESC"
        ") AS rank FROM event_items e JOIN flags f ON f.item_id = e.item_id"
        " WHERE e.day BETWEEN ? AND ? AND f.flagged = 1 AND f.status != 'dismissed')"
        " WHERE rank <= ?",
        [day.isoformat(), lo, hi, MEMBERS_COMPARED],
    )
    chosen = {integer(r, "item_id"): integer(r, "event_id") for r in near}
    event_ids = sorted(set(chosen.values()))
    spans = {
        integer(r, "event_id"): (date.fromisoformat(text(r, "first")), _last(r))
        for r in _rows(
            db,
            "SELECT event_id, min(day) AS first, max(day) AS last FROM"
            f" event_items WHERE event_id IN ({_marks(event_ids)}) GROUP BY event_id",
            event_ids,
        )
    }
    events: dict[int, list[ItemEvidence]] = defaultdict(list)
    for row in _rows(db, f"{_EVIDENCE_SQL} WHERE i.id IN ({_marks(chosen)})", list(chosen)):
        events[chosen[integer(row, "id")]].append(_evidence(row))
    return events, spans


def _last(row: Row) -> date:
    return date.fromisoformat(text(row, "last"))


def _marks(values: Sized) -> str:
    return ",".join("?" * len(values)) or "NULL"


def ensure_events(store: Store, now: datetime) -> int:
    """Place every flagged item that has no event yet, oldest first; how many."""
    pending = store.query(
        f"{_EVIDENCE_SQL} LEFT JOIN event_items e ON e.item_id = i.id"
        " WHERE f.flagged = 1 AND e.item_id IS NULL"
    )
    if not pending:
        return 0
    order = sorted(pending, key=lambda r: (_day_of(r), int(str(r["id"]))))
    with store.write() as db:
        for row in order:
            place_item(db, int(str(row["id"])), now)
    return len(order)


def load_events(
    store: Store,
    first_day: date | None = None,
    last_day: date | None = None,
    event_ids: Sequence[int] | None = None,
) -> list[Event]:
    """Events with their flagged, not dismissed items counted between the two days."""
    clauses = ["f.flagged = 1", "f.status != 'dismissed'"]
    params: list[object] = []
    if event_ids is not None:
        clauses.append(f"e.event_id IN ({','.join('?' * len(event_ids)) or 'NULL'})")
        params.extend(event_ids)
    if first_day is not None:
        clauses.append("e.day >= ?")
        params.append(first_day.isoformat())
    if last_day is not None:
        clauses.append("e.day <= ?")
        params.append(last_day.isoformat())
    rows = store.query(
        f"{_EVIDENCE_SQL.replace('SELECT ', 'SELECT e.event_id, e.reason, ', 1)}"
        f" JOIN event_items e ON e.item_id = i.id WHERE {' AND '.join(clauses)}"
        " ORDER BY e.event_id, e.day, i.id",
        tuple(params),
    )
    grouped: dict[int, list[ItemEvidence]] = defaultdict(list)
    for row in rows:
        event_id = int(str(row["event_id"]))
        grouped[event_id].append(_evidence(row, event_id, str(row["reason"])))
    return [Event(event_id, tuple(items)) for event_id, items in grouped.items()]


def item_days(store: Store) -> list[date]:
    """The day every stored item counts for, flagged or not (how much the data covers)."""
    return [_day_of(r) for r in store.query("SELECT published, first_seen FROM items")]


def _day_of(row: Mapping[str, object]) -> date:
    published = row["published"]
    return record_day(None if published is None else str(published), str(row["first_seen"]))


def event_rows(store: Store, event_id: int) -> list[EventPlacement]:
    """Every item of an event (dismissed and unflagged ones too) with how it got there."""
    rows = store.query(
        "SELECT e.item_id, e.day, e.reason, e.placed_by, e.placed_at, i.feed, i.title, i.url,"
        " f.flagged, f.status FROM event_items e JOIN items i ON i.id = e.item_id"
        " LEFT JOIN flags f ON f.item_id = e.item_id WHERE e.event_id = ?"
        " ORDER BY e.day, e.item_id",
        (event_id,),
    )
    return [EventPlacement.from_row(row) for row in rows]


def event_info(store: Store, event_id: int) -> EventReview | None:
    """The event's row; None when there is no such event."""
    rows = store.query("SELECT * FROM events WHERE id = ?", (event_id,))
    return EventReview.from_row(rows[0]) if rows else None


def split(store: Store, event_id: int, item_ids: Sequence[int], user: str, now: datetime) -> int:
    """Move `item_ids` out of `event_id` into a new event; the new event's id."""
    with store.write() as db:
        members = {
            integer(r, "item_id")
            for r in _rows(db, "SELECT item_id FROM event_items WHERE event_id = ?", [event_id])
        }
        if not members:
            raise MonitorError(f"no event with id {event_id}", "see `monitor events list`")
        strangers = sorted(set(item_ids) - members)
        if strangers:
            raise MonitorError(
                f"item(s) {', '.join(map(str, strangers))} are not in event {event_id}",
                f"see `monitor events show {event_id}`",
            )
        if members <= set(item_ids):
            raise MonitorError(
                "a split must leave at least one item in the event",
                "name only the items to move out",
            )
        cursor = db.execute(
            "INSERT INTO events (created, reviewed_by, reviewed_at) VALUES (?, ?, ?)",
            [iso(now), user, iso(now)],
        )
        new_id = int(cursor.lastrowid or 0)
        _move(db, item_ids, new_id, f"split from event {event_id} by {user}", user, now)
        _reviewed(db, event_id, user, now)
    return new_id


def merge(store: Store, event_ids: Sequence[int], user: str, now: datetime) -> int:
    """Move every item of the other events into the first one; its id."""
    target = event_ids[0]
    others = [e for e in dict.fromkeys(event_ids[1:]) if e != target]
    with store.write() as db:
        missing = [
            e
            for e in [target, *others]
            if not _rows(db, "SELECT 1 FROM event_items WHERE event_id = ? LIMIT 1", [e])
        ]
        if missing:
            raise MonitorError(
                f"no event with id {', '.join(map(str, missing))}", "see `monitor events list`"
            )
        for other in others:
            moved = [
                integer(r, "item_id")
                for r in _rows(db, "SELECT item_id FROM event_items WHERE event_id = ?", [other])
            ]
            _move(db, moved, target, f"merged from event {other} by {user}", user, now)
        _reviewed(db, target, user, now)
    return target


def _move(
    db: Database, item_ids: Sequence[int], event_id: int, reason: str, user: str, now: datetime
) -> None:
    for item_id in item_ids:
        db.execute(
            "UPDATE event_items SET event_id = ?, reason = ?, placed_by = ?, placed_at = ?"
            " WHERE item_id = ?",
            [event_id, reason, user, iso(now), item_id],
        )


def _reviewed(db: Database, event_id: int, user: str, now: datetime) -> None:
    db.execute(
        "UPDATE events SET reviewed_by = ?, reviewed_at = ? WHERE id = ?",
        [user, iso(now), event_id],
    )


def event_alert(db: Database, event_id: int, channel: str, item_id: int) -> str | None:
    """The id of the first item alert queued on `channel` for another item of the event."""
    rows = _rows(
        db,
        "SELECT o.id FROM outbox o JOIN event_items e ON e.item_id = o.item_id"
        " WHERE e.event_id = ? AND o.channel = ? AND o.kind = 'item' AND o.item_id != ?"
        " ORDER BY o.created, o.id LIMIT 1",
        [event_id, channel, item_id],
    )
    return str(rows[0]["id"]) if rows else None
