"""SQL for feeds, items, revisions, flags and the fetch log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from monitor.models import FeedSpec, Match, ParsedItem, Validators
from monitor.store import Store


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    change: str  # new | updated | same


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What one poll of one feed did, as recorded on the feed row and in the log."""

    status: str  # ok | not_modified | unchanged | error
    started: str
    finished: str
    next_due: str
    http_status: int | None = None
    error_kind: str | None = None
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    warning: str | None = None
    new_items: int = 0
    updated_items: int = 0
    bytes: int | None = None


def sync_feeds(db: Database, feeds: Sequence[FeedSpec]) -> None:
    """Make the feeds table know every configured feed (state is kept across restarts)."""
    for spec in feeds:
        db.execute(
            "INSERT INTO feeds (name, url, lang) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET url = excluded.url, lang = excluded.lang, "
            "etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END, "
            "last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END",
            [spec.name, spec.url, spec.lang],
        )


def feed_rows(store: Store) -> dict[str, dict[str, object]]:
    return {str(r["name"]): r for r in store.query("SELECT * FROM feeds")}


def validators_of(row: dict[str, object] | None) -> Validators:
    if not row:
        return Validators()
    etag, modified = row.get("etag"), row.get("last_modified")
    return Validators(
        etag=str(etag) if etag else None, last_modified=str(modified) if modified else None
    )


def record_outcome(db: Database, feed: str, outcome: FetchOutcome) -> None:
    """Store a poll's result on the feed row and append it to the fetch log."""
    ok = outcome.status != "error"
    db.execute(
        "UPDATE feeds SET last_attempt = ?, next_due = ?, last_status = ?, "
        "last_http_status = ?, "
        "last_success = CASE WHEN ? THEN ? ELSE last_success END, "
        "last_error = CASE WHEN ? THEN NULL ELSE ? END, "
        "last_error_kind = CASE WHEN ? THEN NULL ELSE ? END, "
        "consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END, "
        "polls_ok = polls_ok + ?, "
        "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified), "
        "body_hash = coalesce(?, body_hash), "
        "warning = CASE WHEN ? THEN ? ELSE warning END "
        "WHERE name = ?",
        [
            outcome.finished,
            outcome.next_due,
            outcome.status,
            outcome.http_status,
            ok,
            outcome.finished,
            ok,
            outcome.error,
            ok,
            outcome.error_kind,
            ok,
            int(ok),
            outcome.etag,
            outcome.last_modified,
            outcome.body_hash,
            outcome.status == "ok",
            outcome.warning,
            feed,
        ],
    )
    db.execute(
        "INSERT INTO fetch_log (feed, started, finished, status, http_status, error_kind, "
        "error, new_items, updated_items, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            feed,
            outcome.started,
            outcome.finished,
            outcome.status,
            outcome.http_status,
            outcome.error_kind,
            outcome.error,
            outcome.new_items,
            outcome.updated_items,
            outcome.bytes,
        ],
    )


def upsert_item(db: Database, feed: str, item: ParsedItem, now: str, origin: str) -> StoredItem:
    """Insert a new item, or keep the old revision and store the edited one."""
    row = db.execute(
        "SELECT id, content_hash, title, summary, body FROM items WHERE feed = ? AND key = ?",
        [feed, item.key],
    ).fetchone()
    if row is None:
        cursor = db.execute(
            "INSERT INTO items (feed, key, key_kind, url, title, published, first_seen, updated, "
            "summary, body, lang, content_hash, origin) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                feed,
                item.key,
                item.key_kind,
                item.url,
                item.title,
                item.published,
                now,
                now,
                item.summary,
                item.body,
                item.lang,
                item.content_hash,
                origin,
            ],
        )
        return StoredItem(int(cursor.lastrowid or 0), "new")
    item_id, old_hash, title, summary, body = row
    if old_hash == item.content_hash:
        return StoredItem(int(item_id), "same")
    db.execute(
        "INSERT INTO item_revisions (item_id, title, summary, body, content_hash, replaced_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [item_id, title, summary, body, old_hash, now],
    )
    db.execute(
        "UPDATE items SET url = ?, title = ?, published = ?, updated = ?, summary = ?, body = ?, "
        "lang = ?, content_hash = ? WHERE id = ?",
        [
            item.url,
            item.title,
            item.published,
            now,
            item.summary,
            item.body,
            item.lang,
            item.content_hash,
            item_id,
        ],
    )
    return StoredItem(int(item_id), "updated")


def stored_hashes(store: Store, feed: str, keys: Sequence[str]) -> dict[str, str]:
    """The content hash stored for each of these keys that the feed already has."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = store.query(
            f"SELECT key, content_hash FROM items WHERE feed = ? AND key IN ({marks})",
            (feed, *chunk),
        )
        found.update({str(r["key"]): str(r["content_hash"]) for r in rows})
    return found


def seen_under_other_key(db: Database, feed: str, key: str, content_hash: str) -> bool:
    """Same content already stored under another key: a re-keyed (churning) item."""
    row = db.execute(
        "SELECT 1 FROM items WHERE feed = ? AND content_hash = ? AND key != ? LIMIT 1",
        [feed, content_hash, key],
    ).fetchone()
    return row is not None


def one_row(db: Database, sql: str, params: Sequence[object]) -> dict[str, object]:
    """The first row of a query as a dict ({} when there is none)."""
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else {}


def item_row(db: Database, item_id: int) -> dict[str, object]:
    return one_row(db, "SELECT * FROM items WHERE id = ?", [item_id])


def signals_json(match: Match) -> str:
    return json.dumps([s.as_json() for s in match.signals], ensure_ascii=False)


def save_match(
    db: Database, item_id: int, match: Match, content_hash: str, now: str, *, silent: bool
) -> bool:
    """Record the latest match of an item. Returns True when the item is newly flagged.

    A row is kept for every item that was ever flagged; an item never flagged has none.
    """
    existing = db.execute("SELECT flagged FROM flags WHERE item_id = ?", [item_id]).fetchone()
    if existing is None and not match.flagged:
        return False
    types = " ".join(sorted({s.type for s in match.signals}))
    if existing is None:
        db.execute(
            "INSERT INTO flags (item_id, flagged, score, signal_types, signals, rules_version, "
            "content_hash, matched_at, first_flagged, silent) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                item_id,
                1,
                match.score,
                types,
                signals_json(match),
                match.rules_version,
                content_hash,
                now,
                now,
                int(silent),
            ],
        )
        return True
    db.execute(
        "UPDATE flags SET flagged = ?, score = ?, signal_types = ?, signals = ?, "
        "rules_version = ?, content_hash = ?, matched_at = ? WHERE item_id = ?",
        [
            int(match.flagged),
            match.score,
            types,
            signals_json(match),
            match.rules_version,
            content_hash,
            now,
            item_id,
        ],
    )
    return bool(match.flagged and not existing[0])
