"""SQL for reviewing flags: lists, one item in full, review actions, exports, outlook state.

Every filter is a fixed SQL fragment with `?` parameters; user text never becomes
SQL. LIKE patterns escape `%`, `_` and the escape character itself; sort orders come
from `SORT_ORDERS` only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

from sqlite_utils import Database

from monitor.clock import iso, parse_iso
from monitor.errors import MonitorError
from monitor.outlook.levels import level_rank
from monitor.store import Store
from monitor.store.schema import item_time
from monitor.store.views import (
    Delivery,
    Flag,
    FlaggedItem,
    ItemView,
    ReviewEvent,
    Revision,
)

STATUSES = ("new", "reviewed", "dismissed", "escalated")
ACTION_STATUS: Final[Mapping[str, str | None]] = MappingProxyType(
    {
        "ack": "reviewed",
        "dismiss": "dismissed",
        "escalate": "escalated",
        "note": None,
    }
)
_TIME = item_time("i")
SORT_ORDERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "newest": f"{_TIME} DESC, i.id DESC",
        "oldest": f"{_TIME} ASC, i.id ASC",
        "score": f"f.score DESC, {_TIME} DESC, i.id DESC",
    }
)
OUTLOOK_STATE_KEY = "outlook.level"
_LIKE_ESCAPE = "\\"

_FLAG_COLUMNS = f"""
    i.id, i.feed, i.url, i.title, i.published, i.first_seen, i.lang, i.origin,
    f.score, f.signal_types, f.signals, f.status, f.status_at, f.status_by,
    f.first_flagged, f.matched_at, f.rules_version, f.silent, {_TIME} AS item_time
"""


@dataclass(frozen=True, slots=True)
class FlagFilter:
    """What `monitor flagged` and `monitor export` may filter on; all optional.

    `since` and `until` bound the item's own time (`item_time`): [since, until)."""

    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    signal: str | None = None
    feed: str | None = None
    search: str | None = None  # substring of the title, matched literally
    min_score: float | None = None
    limit: int | None = None
    sort: str = "newest"


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (ESCAPE '\\')."""
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _where(filters: FlagFilter) -> tuple[str, list[object]]:
    """Fixed SQL fragments for the filters that are set, and their values as parameters."""
    f = filters
    candidates: list[tuple[str, object]] = [
        (f"{_TIME} >= ?", None if f.since is None else iso(f.since)),
        (f"{_TIME} < ?", None if f.until is None else iso(f.until)),
        ("f.status = ?", f.status),
        (
            "(' ' || f.signal_types || ' ') LIKE ? ESCAPE '\\'",
            None if f.signal is None else f"% {like_escape(f.signal)} %",
        ),
        ("i.feed = ?", f.feed),
        ("i.title LIKE ? ESCAPE '\\'", None if f.search is None else f"%{like_escape(f.search)}%"),
        ("f.score >= ?", f.min_score),
    ]
    chosen = [(clause, value) for clause, value in candidates if value is not None]
    return " AND ".join(["f.flagged = 1", *(c for c, _ in chosen)]), [v for _, v in chosen]


def list_flagged(store: Store, filters: FlagFilter) -> list[FlaggedItem]:
    """Flagged items matching `filters`, with `signals` parsed from JSON."""
    if filters.sort not in SORT_ORDERS:
        raise MonitorError(f"unknown sort order {filters.sort!r}", f"use {', '.join(SORT_ORDERS)}")
    where, params = _where(filters)
    sql = (
        f"SELECT {_FLAG_COLUMNS} FROM flags f JOIN items i ON i.id = f.item_id"
        f" WHERE {where} ORDER BY {SORT_ORDERS[filters.sort]}"
    )
    if filters.limit is not None:
        sql += " LIMIT ?"
        params.append(max(0, filters.limit))
    return [FlaggedItem.from_row(row) for row in store.query(sql, tuple(params))]


def stored_feeds(store: Store) -> set[str]:
    """Every feed name the database knows: polled, imported or no longer configured."""
    rows = store.query("SELECT name FROM feeds UNION SELECT DISTINCT feed FROM items")
    return {str(r["name"]) for r in rows}


def stored_signal_types(store: Store) -> set[str]:
    """Every signal type a stored flag carries."""
    rows = store.query("SELECT DISTINCT signal_types FROM flags")
    return {kind for r in rows for kind in str(r["signal_types"] or "").split()}


def flag_rows(store: Store, item_ids: Sequence[int]) -> list[FlaggedItem]:
    """The rows `list_flagged` gives, for these items, in the order given."""
    rows: dict[object, FlaggedItem] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        for row in store.query(
            f"SELECT {_FLAG_COLUMNS} FROM flags f JOIN items i ON i.id = f.item_id"
            f" WHERE i.id IN ({marks})",
            tuple(chunk),
        ):
            rows[row["id"]] = FlaggedItem.from_row(row)
    return [rows[i] for i in item_ids if i in rows]


def get_item(store: Store, item_id: int) -> ItemView | None:
    """One item with its flag, earlier revisions, review history and alert deliveries."""
    rows = store.query("SELECT * FROM items WHERE id = ?", (item_id,))
    if not rows:
        return None
    flags = store.query("SELECT * FROM flags WHERE item_id = ?", (item_id,))
    revisions = store.query(
        "SELECT id, title, summary, body, content_hash, replaced_at FROM item_revisions"
        " WHERE item_id = ? ORDER BY replaced_at, id",
        (item_id,),
    )
    history = store.query(
        "SELECT action, note, user, at FROM review_events WHERE item_id = ? ORDER BY at, id",
        (item_id,),
    )
    deliveries = store.query(
        "SELECT id, channel, kind, state, attempts, created, sent_at, last_error,"
        " possible_duplicate FROM outbox WHERE item_id = ? ORDER BY created, id",
        (item_id,),
    )
    return ItemView.from_rows(
        rows[0],
        Flag.from_row(flags[0]) if flags else None,
        tuple(Revision.from_row(r) for r in revisions),
        tuple(ReviewEvent.from_row(r) for r in history),
        tuple(Delivery.from_row(r) for r in deliveries),
    )


def record_review(
    store: Store,
    item_ids: Sequence[int],
    action: str,
    *,
    user: str,
    now: datetime,
    note: str | None = None,
) -> int:
    """Record one review action on each item, all or nothing; returns how many."""
    if action not in ACTION_STATUS:
        raise MonitorError(f"unknown review action {action!r}")
    status = ACTION_STATUS[action]
    at = iso(now)
    with store.write() as db:
        missing = [i for i in item_ids if not _has_flag(db, i)]
        if missing:
            ids = ", ".join(str(i) for i in missing)
            raise MonitorError(f"no flagged item with id {ids}", "see `monitor flagged`")
        for item_id in item_ids:
            db.execute(
                "INSERT INTO review_events (item_id, action, note, user, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (item_id, action, note, user, at),
            )
            if status is not None:
                db.execute(
                    "UPDATE flags SET status = ?, status_at = ?, status_by = ? WHERE item_id = ?",
                    (status, at, user, item_id),
                )
    return len(item_ids)


def _has_flag(db: Database, item_id: int) -> bool:
    return db.execute("SELECT 1 FROM flags WHERE item_id = ?", (item_id,)).fetchone() is not None


def export_rows(store: Store, filters: FlagFilter) -> list[dict[str, object]]:
    """Flags with their evidence, oldest first, as plain JSON-ready values."""
    rows = list_flagged(store, dataclasses.replace(filters, sort="oldest"))
    return [
        {
            "id": r.id, "feed": r.feed, "url": r.url, "title": r.title,
            "published": r.published, "first_seen": r.first_seen, "lang": r.lang,
            "origin": r.origin, "score": r.score, "signal_types": list(r.signal_types),
            "status": r.status, "status_at": r.status_at, "status_by": r.status_by,
            "first_flagged": r.first_flagged, "rules_version": r.rules_version,
            "signals": list(r.signals),
        }
        for r in rows
    ]  # fmt: skip


def record_day(published: str | None, first_seen: str) -> date:
    """The day an item counts for: its feed date, unless missing, bad or after first_seen.

    Imported archives are first seen long after publication, so the feed's date is
    what makes a replay match live polling; a feed date later than our own first
    sighting is a lie, and our clock wins.
    """
    seen = parse_iso(first_seen).date()
    if not published:
        return seen
    try:
        day = parse_iso(published).date()
    except ValueError:
        return seen
    return min(day, seen)


def record_outlook_level(
    db: Database, level: str, as_of: date, *, report_drop: bool = False
) -> str | None:
    """Store today's level; return the previous level when this one is higher (or,
    with `report_drop`, lower).

    A missing state row counts as "quiet". An `as_of` older than the stored one (a
    replay of the past) changes nothing. Call inside `Store.write()`.
    """
    row = db.execute("SELECT value FROM state WHERE key = ?", (OUTLOOK_STATE_KEY,)).fetchone()
    previous, previous_day = _parse_level_state(row[0] if row else None)
    if previous_day is not None and as_of < previous_day:
        return None
    db.execute(
        "INSERT INTO state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (OUTLOOK_STATE_KEY, json.dumps({"level": level, "as_of": as_of.isoformat()})),
    )
    if level_rank(level) > level_rank(previous):
        return previous
    return previous if report_drop and level_rank(level) < level_rank(previous) else None


def _parse_level_state(text: str | None) -> tuple[str, date | None]:
    try:
        value = json.loads(text) if text else {}
        return str(value.get("level", "quiet")), date.fromisoformat(str(value["as_of"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "quiet", None
