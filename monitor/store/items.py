"""SQL for items, their revisions and their flags: typed reads for deciding, and writes."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlite_utils import Database

from monitor.models import Match, ParsedItem
from monitor.store import Store
from monitor.store.schema import item_time

ItemChange = Literal["new", "updated", "same"]
T = TypeVar("T")
CHUNK = 250  # keys per IN (...) list: two lists of them stay far below SQLite's 32766 variables


@dataclass(frozen=True, slots=True)
class StoredItem:
    """Where an item went: its row, and whether it was new, edited or already stored."""

    id: int
    change: ItemChange


@dataclass(frozen=True, slots=True)
class StoredText:
    """A stored item's text, as the matcher reads it (for a rescan)."""

    id: int
    key: str
    title: str
    summary: str
    body: str
    lang: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class FlagWrite:
    """An item's latest match, for its flag row: a first row, or the row updated."""

    action: Literal["insert", "update"]
    match: Match
    content_hash: str  # the revision that was matched
    silent: bool  # flagged without alerting (kept from the first row on an update)


def insert_item(db: Database, feed: str, item: ParsedItem, now: str, origin: str) -> int:
    """Store a new item; its row id."""
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
    return int(cursor.lastrowid or 0)


def revise_item(db: Database, item_id: int, item: ParsedItem, now: str) -> None:
    """Keep the stored text of an item as a revision and store the edited one."""
    db.execute(
        "INSERT INTO item_revisions (item_id, title, summary, body, content_hash, replaced_at) "
        "SELECT id, title, summary, body, content_hash, ? FROM items WHERE id = ?",
        [now, item_id],
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


def upsert_item(db: Database, feed: str, item: ParsedItem, now: str, origin: str) -> StoredItem:
    """Insert a new item, or keep the old revision and store the edited one."""
    row = db.execute(
        "SELECT id, content_hash FROM items WHERE feed = ? AND key = ?", [feed, item.key]
    ).fetchone()
    if row is None:
        return StoredItem(insert_item(db, feed, item, now, origin), "new")
    item_id, old_hash = int(row[0]), row[1]
    if old_hash == item.content_hash:
        return StoredItem(item_id, "same")
    revise_item(db, item_id, item, now)
    return StoredItem(item_id, "updated")


def chunks(values: Sequence[T]) -> Iterator[list[T]]:
    """`values` in slices short enough for one IN (...) list each."""
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def stored_hashes(store: Store, feed: str, keys: Sequence[str]) -> dict[str, str]:
    """The content hash stored for each of these keys that the feed already has."""
    found: dict[str, str] = {}
    for chunk in chunks(keys):
        marks = ",".join("?" * len(chunk))
        rows = store.query(
            f"SELECT key, content_hash FROM items WHERE feed = ? AND key IN ({marks})",
            (feed, *chunk),
        )
        found.update({str(r["key"]): str(r["content_hash"]) for r in rows})
    return found


def texts_for_rescan(
    store: Store, since: str | None, until: str | None, after_id: int, limit: int
) -> list[StoredText]:
    """One page of items dated within [since, until), in id order after `after_id`
    (keyset pagination keeps memory flat), by the item's own time (`schema.item_time`)."""
    clauses: list[str] = ["id > ?"]
    values: list[object] = [after_id]
    for bound, op in ((since, ">="), (until, "<")):
        if bound is not None:
            clauses.append(f"{item_time()} {op} ?")
            values.append(bound)
    rows = store.query(
        "SELECT id, key, title, summary, body, lang, content_hash FROM items "
        f"WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*values, limit),
    )
    return [
        StoredText(
            int(str(r["id"])),
            str(r["key"]),
            str(r["title"]),
            str(r["summary"] or ""),
            str(r["body"] or ""),
            str(r["lang"]),
            str(r["content_hash"]),
        )
        for r in rows
    ]


def flag_states(db: Database, item_ids: Sequence[int]) -> dict[int, bool]:
    """Whether each of these items is flagged now, for those that have a flag row."""
    found: dict[int, bool] = {}
    for chunk in chunks(item_ids):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT item_id, flagged FROM flags WHERE item_id IN ({marks})", chunk
        ).fetchall()
        found.update({int(r[0]): bool(r[1]) for r in rows})
    return found


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


def alert_rows(
    db: Database, item_id: int
) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    """The item, its feed and its flag as stored, for an alert's payload."""
    item = one_row(db, "SELECT * FROM items WHERE id = ?", [item_id])
    feed = one_row(db, "SELECT name, url, lang FROM feeds WHERE name = ?", [item.get("feed")])
    flag = one_row(db, "SELECT * FROM flags WHERE item_id = ?", [item_id])
    return item, feed, flag


def signals_json(match: Match) -> str:
    """The stored form of a match's signals (flags.signals)."""
    return json.dumps([s.as_json() for s in match.signals], ensure_ascii=False)


def write_flag(db: Database, item_id: int, flag: FlagWrite, now: str) -> None:
    """Record an item's latest match: its first flag row, or the row brought up to date."""
    match = flag.match
    values = {
        "item_id": item_id,
        "flagged": int(match.flagged),
        "score": match.score,
        "types": " ".join(sorted({s.type for s in match.signals})),
        "signals": signals_json(match),
        "rules_version": match.rules_version,
        "content_hash": flag.content_hash,
        "now": now,
        "silent": int(flag.silent),
    }
    if flag.action == "insert":
        db.execute(
            "INSERT INTO flags (item_id, flagged, score, signal_types, signals, rules_version, "
            "content_hash, matched_at, first_flagged, silent) VALUES (:item_id, :flagged, "
            ":score, :types, :signals, :rules_version, :content_hash, :now, :now, :silent)",
            values,
        )
        return
    db.execute(
        "UPDATE flags SET flagged = :flagged, score = :score, signal_types = :types, "
        "signals = :signals, rules_version = :rules_version, content_hash = :content_hash, "
        "matched_at = :now WHERE item_id = :item_id",
        values,
    )


INDEX_BATCH = 500


def index_pending(store: Store, batch: int = INDEX_BATCH) -> int:
    """Bring the full-text index up to date, `batch` items per transaction; how many."""
    done = 0
    while True:
        with store.write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT item_id FROM fts_pending ORDER BY item_id LIMIT ?", [batch]
                )
            ]
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
