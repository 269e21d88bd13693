"""SQL for feeds, items, revisions, flags and the fetch log."""

from __future__ import annotations

import functools
import hashlib
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
    schedule_reason: str | None = None  # why next_due is when it is


def sync_feeds(db: Database, feeds: Sequence[FeedSpec], now: str) -> list[tuple[str, str]]:
    """Make the feeds table match the configuration; state is kept across restarts.

    A configured feed with a new name but the URL of a feed that left the configuration
    is that feed renamed: its row, items and log move to the new name, so its items are
    neither stored nor alerted again. Feeds no longer configured are marked retired
    (their items stay). Returns the (old, new) names of renamed feeds.
    """
    known = {str(r[0]): str(r[1]) for r in db.execute("SELECT name, url FROM feeds").fetchall()}
    configured = {spec.name for spec in feeds}
    renamed = []
    for spec in feeds:
        if spec.name in known:
            continue
        old = next((n for n, url in known.items() if url == spec.url and n not in configured), None)
        if old is not None:
            _rename_feed(db, old, spec.name)
            renamed.append((old, spec.name))
            known[spec.name] = known.pop(old)
    for spec in feeds:
        db.execute(
            "INSERT INTO feeds (name, url, lang) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET url = excluded.url, lang = excluded.lang, "
            "retired = NULL, "
            "etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END, "
            "last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END",
            [spec.name, spec.url, spec.lang],
        )
    gone = [name for name in known if name not in configured]
    for name in gone:
        db.execute("UPDATE feeds SET retired = ? WHERE name = ? AND retired IS NULL", [now, name])
    return renamed


def ensure_feed(db: Database, name: str) -> None:
    """A feed row for items that come from elsewhere than a configured feed (an import)."""
    db.execute("INSERT OR IGNORE INTO feeds (name, url, lang) VALUES (?, '', 'en')", [name])


def _rename_feed(db: Database, old: str, new: str) -> None:
    db.execute("UPDATE feeds SET name = ? WHERE name = ?", [new, old])
    db.execute("UPDATE items SET feed = ? WHERE feed = ?", [new, old])
    db.execute("UPDATE fetch_log SET feed = ? WHERE feed = ?", [new, old])


def feed_rows(store: Store, names: Sequence[str] | None = None) -> dict[str, dict[str, object]]:
    """Feed rows by name: all of them, or those of `names` (a poll of one feed reads one)."""
    if names is None:
        return {str(r["name"]): r for r in store.query("SELECT * FROM feeds")}
    marks = ", ".join("?" * len(names))
    rows = store.query(f"SELECT * FROM feeds WHERE name IN ({marks})", tuple(names))
    return {str(r["name"]): r for r in rows}


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
        "warning = CASE WHEN ? THEN ? ELSE warning END, "
        "schedule_reason = ? "
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
            outcome.schedule_reason,
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
            "summary, body, lang, content_hash, origin, loose_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                loose_hash(item),
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
        "lang = ?, content_hash = ?, loose_hash = ? WHERE id = ?",
        [
            item.url,
            item.title,
            item.published,
            now,
            item.summary,
            item.body,
            item.lang,
            item.content_hash,
            loose_hash(item),
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


def seen_under_other_key(db: Database, feed: str, item: ParsedItem, now: str, since: str) -> bool:
    """A re-keyed (churning) item: the same content already stored under another key, or
    the same text but for its digits (a timestamp, a counter) stored by an earlier poll
    since `since`. Items of one poll never count against each other."""
    row = db.execute(
        "SELECT 1 FROM items WHERE feed = ? AND key != ? AND (content_hash = ? "
        " OR (loose_hash = ? AND first_seen >= ? AND first_seen < ?)) LIMIT 1",
        [feed, item.key, item.content_hash, loose_hash(item), since, now],
    ).fetchone()
    return row is not None


LOOSE_CHARS = 4096  # of the text: a re-published release is alike from its start
_NOT_LOOSE = b"0123456789 \t\n\r\x0b\x0c"  # ASCII digits and white space, as bytes


def loose_hash(item: ParsedItem) -> str:
    """sha256 of the title and the start of the text, lower-cased, without ASCII digits
    and white space (called twice per stored item, so the last results are kept)."""
    return _loose(item.title, (item.body or item.summary)[:LOOSE_CHARS])


@functools.lru_cache(maxsize=64)
def _loose(title: str, text: str) -> str:
    raw = f"{title}\n{text}".lower().encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw.translate(None, _NOT_LOOSE)).hexdigest()


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


INDEX_BATCH = 500


def index_pending(store: Store, batch: int = INDEX_BATCH) -> int:
    """Bring the full-text index up to date, `batch` items per transaction; how many."""
    done = 0
    while True:
        with store.write() as db:
            ids = [r[0] for r in db.execute(
                "SELECT item_id FROM fts_pending ORDER BY item_id LIMIT ?", [batch]
            )]
            if ids:
                marks = ", ".join("?" * len(ids))
                db.execute(
                    "INSERT INTO items_fts (rowid, title, body) "
                    f"SELECT id, title, body FROM items WHERE id IN ({marks})",
                    ids,
                )
                db.execute(f"DELETE FROM fts_pending WHERE item_id IN ({marks})", ids)
        done += len(ids)
        if len(ids) < batch:
            return done


def index_backlog(store: Store) -> int:
    """Items not yet in the full-text index."""
    rows = store.query("SELECT count(*) AS n FROM fts_pending")
    return int(str(rows[0]["n"]))
