"""Read-only queries behind `feeds`, `items` and `search` (parameters only, never raw text)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from monitor.clock import parse_iso
from monitor.models import FeedSpec, HealthSnapshot
from monitor.store import Store
from monitor.store.schema import item_time


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """The feeds' stored state for `monitor status`, and whether the disk is full."""

    feeds: list[dict[str, object]]  # configured feeds in configuration order, then removed ones
    disk_full: bool


OVERDUE_GRACE_S = 60.0
DISK_FULL_BYTES = 1_000_000  # below this, SQLite cannot grow its WAL for a poll


def feed_health(store: Store, configured: Sequence[FeedSpec], now: datetime) -> FeedHealth:
    """Each configured feed's stored state (or "never"), then feeds no longer configured.

    A feed whose next poll is more than one interval in the past is "overdue": no
    daemon is polling it, or its polls cannot be stored (a full disk, say).
    """
    stored = {
        str(r["name"]): r
        for r in store.query(
            "SELECT f.name, f.url, f.lang, f.last_attempt, f.last_success, f.last_status, "
            "f.last_http_status, f.last_error, f.last_error_kind, f.consecutive_failures, "
            "f.next_due, f.schedule_reason, f.warning, f.retired, "
            "(SELECT count(*) FROM items i WHERE i.feed = f.name) AS items "
            "FROM feeds f ORDER BY f.name"
        )
    }
    listed = [_configured(spec, stored.pop(spec.name, None), now) for spec in configured]
    removed = [{**row, "state": "removed", "removed": True} for row in stored.values()]
    return FeedHealth(listed + removed, _disk_full(store.path))


def _configured(spec: FeedSpec, row: dict[str, object] | None, now: datetime) -> dict[str, object]:
    if row is None:
        return {
            "name": spec.name,
            "url": spec.url,
            "lang": spec.lang,
            "last_status": None,
            "last_success": None,
            "next_due": None,
            "items": 0,
            "last_error": None,
            "state": "never",
            "removed": False,
        }
    state = str(row["last_status"] or "never")
    due = row.get("next_due")
    if due and now - parse_iso(str(due)) > timedelta(seconds=spec.interval + OVERDUE_GRACE_S):
        state = "overdue"
    return {**row, "state": state, "removed": False}


def health_snapshot(store: Store, running_pid: int | None, waited_since: str) -> HealthSnapshot:
    """Feed rows, dead alerts and alerts pending since before `waited_since`, per channel."""
    feeds = {str(r["name"]): r for r in store.query("SELECT * FROM feeds WHERE retired IS NULL")}
    dead = store.query("SELECT channel, count(*) AS n FROM outbox WHERE state = 'dead' GROUP BY 1")
    waiting = store.query(
        "SELECT channel, count(*) AS n FROM outbox WHERE state IN ('pending', 'sending') "
        "AND created < ? GROUP BY 1",
        (waited_since,),
    )
    return HealthSnapshot(
        running_pid=running_pid,
        feeds=feeds,
        dead_alerts={str(r["channel"]): int(str(r["n"])) for r in dead},
        waiting_alerts={str(r["channel"]): int(str(r["n"])) for r in waiting},
        disk_full=_disk_full(store.path),
    )


def _disk_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < DISK_FULL_BYTES
    except OSError:
        return False


_TIME = item_time("i")
_ITEM_COLUMNS = (
    "i.id, i.feed, i.url, i.title, i.published, i.first_seen, i.updated, i.lang, "
    "coalesce(fl.flagged, 0) AS flagged, fl.score AS score, fl.signal_types AS signal_types, "
    f"{_TIME} AS item_time"
)


def _time_clauses(alias: str, since: str | None, until: str | None) -> list[tuple[str, str]]:
    """The fixed SQL for a period on the item's own time, with its ISO bounds."""
    expression = item_time(alias)
    bounds = [(f"{expression} >= ?", since), (f"{expression} < ?", until)]
    return [(clause, value) for clause, value in bounds if value is not None]


def list_items(
    store: Store, *, feed: str | None, since: str | None, limit: int, until: str | None = None
) -> list[dict[str, object]]:
    """Items newest first by their own time, within [since, until) when given."""
    clauses: list[tuple[str, object]] = [("i.feed = ?", feed)] if feed is not None else []
    clauses += _time_clauses("i", since, until)
    where = f"WHERE {' AND '.join(c for c, _ in clauses)}" if clauses else ""
    return store.query(
        f"SELECT {_ITEM_COLUMNS} FROM items i LEFT JOIN flags fl ON fl.item_id = i.id "
        f"{where} ORDER BY {_TIME} DESC, i.id DESC LIMIT ?",
        (*(v for _, v in clauses), limit),
    )


def search_items(store: Store, query: str, limit: int) -> list[dict[str, object]]:
    """Full-text search; the user's text is quoted so it can use no FTS operators."""
    quoted = store.db.quote_fts(query)
    if not quoted.strip('" '):
        return []
    return store.query(
        f"SELECT {_ITEM_COLUMNS}, snippet(items_fts, 1, '[', ']', '…', 12) AS snippet "
        "FROM items_fts JOIN items i ON i.id = items_fts.rowid "
        "LEFT JOIN flags fl ON fl.item_id = i.id "
        "WHERE items_fts MATCH ? ORDER BY rank LIMIT ?",
        (quoted, limit),
    )
