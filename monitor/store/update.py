"""A feed's update as values: what the store holds for a batch, the intent, and applying it.

The pipeline reads `ItemsState` inside its write transaction, decides purely what to
write (a `FeedIntent`: the items to insert or revise, their flags, the alerts to queue,
the feed's new state), and hands the intent to `apply` in that same transaction, so
an item is never stored without its flag and its outbox rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlite_utils import Database

from monitor.models import Match, ParsedItem
from monitor.store import Transaction
from monitor.store.feeds import FetchOutcome, ensure_feed, record_outcome
from monitor.store.items import (
    FlagWrite,
    chunks,
    insert_item,
    loose_hash,
    revise_item,
    write_flag,
)

Origin = Literal["poll", "import"]


@dataclass(frozen=True, slots=True)
class KnownItem:
    """An item stored under one of the batch's keys."""

    id: int
    content_hash: str
    first_seen: str
    flagged: bool | None  # its flag row's state; None when it was never flagged


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A stored item of the feed with a batch item's content hash or loose hash."""

    key: str
    content_hash: str
    loose_hash: str | None  # None for items stored before loose hashes were kept
    first_seen: str


@dataclass(frozen=True, slots=True)
class ItemsState:
    """What the store holds that bears on one batch of a feed's items."""

    by_key: Mapping[str, KnownItem]
    lookalikes: tuple[Lookalike, ...] = ()

    def hashes(self) -> dict[str, str]:
        """The stored content hash of each known key."""
        return {key: known.content_hash for key, known in self.by_key.items()}


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One new or edited item to store, with its flag and whether to queue its alerts."""

    item: ParsedItem
    change: Literal["new", "updated"]
    item_id: int | None  # the stored row it revises; None when new in this batch
    match: Match
    flag: FlagWrite | None  # None: never flagged and not flagged now
    alert: bool  # newly flagged, not silent, and alerts are configured


@dataclass(frozen=True, slots=True)
class FeedIntent:
    """Everything one poll, or one import batch, writes for a feed."""

    feed: str
    stamp: str  # now, as stored
    origin: Origin = "poll"
    items: tuple[ItemWrite, ...] = ()
    outcome: FetchOutcome | None = None  # the feed's new state (None for an import)
    rekeyed: int = 0  # new items the feed already held under another key
    churn: int = 0  # re-keyed items to tell the operator about (0: no notice)


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying an intent stored: the row of each item written, the alerts queued."""

    item_ids: tuple[int, ...]
    alerted: int


class AlertQueue(Protocol):
    """Queues the alerts an intent asks for, in its transaction (the alerts stage does)."""

    def item(self, db: Transaction, item_id: int, write: ItemWrite) -> int:
        """Queue a newly flagged item's alerts; how many outbox rows were created."""

    def churn(self, db: Transaction, feed: str, count: int) -> None:
        """Tell the operator that the feed re-published `count` known items under new keys."""


def read_state(
    db: Database, feed: str, items: Sequence[ParsedItem], loose_since: str
) -> ItemsState:
    """The stored items under the batch's keys, and the feed's items that look like them:
    the same content, or the same text but for digits first seen since `loose_since`
    (older ones never count, and a feed of look-alike titles would bring back all)."""
    by_key: dict[str, KnownItem] = {}
    for keys in chunks(sorted({item.key for item in items})):
        marks = ",".join("?" * len(keys))
        rows = db.execute(
            "SELECT i.key, i.id, i.content_hash, i.first_seen, f.flagged FROM items i"
            f" LEFT JOIN flags f ON f.item_id = i.id WHERE i.feed = ? AND i.key IN ({marks})",
            [feed, *keys],
        ).fetchall()
        by_key.update(
            {str(k): KnownItem(int(i), str(h), str(t), _flag(f)) for k, i, h, t, f in rows}
        )
    return ItemsState(by_key, _lookalikes(db, feed, items, loose_since))


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def _lookalikes(
    db: Database, feed: str, items: Sequence[ParsedItem], loose_since: str
) -> tuple[Lookalike, ...]:
    found: dict[str, Lookalike] = {}
    for batch in chunks(items):
        hashes = sorted({item.content_hash for item in batch})
        looses = sorted({loose_hash(item) for item in batch})
        rows = db.execute(
            "SELECT key, content_hash, loose_hash, first_seen FROM items WHERE feed = ? AND"
            f" (content_hash IN ({','.join('?' * len(hashes))})"
            f" OR (loose_hash IN ({','.join('?' * len(looses))}) AND first_seen >= ?))",
            [feed, *hashes, *looses, loose_since],
        ).fetchall()
        found.update(
            {
                str(k): Lookalike(str(k), str(h), None if s is None else str(s), str(t))
                for k, h, s, t in rows
            }
        )
    return tuple(found.values())


def apply(db: Database, intent: FeedIntent, queue: AlertQueue | None = None) -> Applied:
    """Write an intent: items, revisions and flags in order (each item's alerts right after
    its flag), then the feed's new state and any churn notice."""
    if intent.origin == "import":
        ensure_feed(db, intent.feed)
    ids: dict[str, int] = {}
    written: list[int] = []
    alerted = 0
    for write in intent.items:
        item_id = _store_item(db, intent, write, ids)
        written.append(item_id)
        if write.flag is not None:
            write_flag(db, item_id, write.flag, intent.stamp)
        if write.alert and queue is not None:
            alerted += queue.item(db, item_id, write)
    if intent.outcome is not None:
        record_outcome(db, intent.feed, intent.outcome)
    if intent.churn and queue is not None:
        queue.churn(db, intent.feed, intent.churn)
    return Applied(tuple(written), alerted)


def _store_item(db: Database, intent: FeedIntent, write: ItemWrite, ids: dict[str, int]) -> int:
    """Insert or revise one item; an edit of an item new in this batch revises its row."""
    key = write.item.key
    if write.change == "new":
        ids[key] = insert_item(db, intent.feed, write.item, intent.stamp, intent.origin)
        return ids[key]
    item_id = write.item_id if write.item_id is not None else ids[key]
    revise_item(db, item_id, write.item, intent.stamp)
    return item_id


def apply_flags(db: Database, flags: Sequence[tuple[int, FlagWrite]], stamp: str) -> None:
    """Write the flag rows of stored items (a rescan's intent)."""
    for item_id, flag in flags:
        write_flag(db, item_id, flag, stamp)
