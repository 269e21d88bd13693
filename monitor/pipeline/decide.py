"""What to write for a batch of one feed's items: pure decisions over values.

`decide` takes what the store holds (`ItemsState`, read in the write transaction), the
batch with the poll's outcome, the items' matches and the clock, and returns the
`FeedIntent` that `store.update.apply` writes: which items are new or edited, their
flags, which of them alert, and whether the operator hears of re-keyed items. It
reads nothing and writes nothing, so each rule below can be read in one place:

- an item is new when its key is not stored, edited when its content hash changed;
- an item is re-keyed (churn) when the feed already holds its content under another
  key, or its text but for digits from an earlier poll within CHURN_LOOSE_WINDOW;
  re-keyed items are stored silently, and CHURN_NOTICE_MIN of them in one poll make
  a notice;
- on a feed's first poll, items older than the backlog window (or undated, or dated
  in the future) are flagged silently;
- an item alerts when it is newly flagged, not silent, and alerts are configured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.models import Match, ParsedItem
from monitor.store.feeds import FetchOutcome
from monitor.store.items import FlagWrite, loose_hash
from monitor.store.update import FeedIntent, ItemsState, ItemWrite, Lookalike, Origin

CHURN_NOTICE_MIN = 5  # re-keyed items in one poll before the operator is told
CHURN_LOOSE_WINDOW = timedelta(days=7)  # how far back a same-but-for-digits text counts
FUTURE_SLACK = timedelta(days=1)  # a publication date further ahead than this is a lie


@dataclass(frozen=True, slots=True)
class Batch:
    """Items of one feed to store, and how: from a poll or an import, alerting or not."""

    feed: str
    items: tuple[ParsedItem, ...]
    origin: Origin = "poll"
    alert: bool = True  # False: flag silently (an import without --alert)
    alerts: AlertsConfig | None = None  # None: no alert is queued at all
    first_poll: bool = False
    outcome: FetchOutcome | None = None  # the poll's outcome, to be recorded with the items


def decide(
    state: ItemsState, batch: Batch, matches: Sequence[Match | None], now: datetime
) -> FeedIntent:
    """The intent for a batch: items in order, each decided against the store as the
    earlier items of the batch leave it."""
    seen = _Seen.of(state, iso(now), iso(now - CHURN_LOOSE_WINDOW))
    cutoff = _backlog_cutoff(batch, now)
    writes: list[ItemWrite] = []
    rekeyed = 0
    for item, match in zip(batch.items, matches, strict=True):
        churned = seen.under_other_key(item)
        write = seen.write(item, match, alerting=batch.alerts is not None)
        if write is None:
            continue
        rekeyed += churned and write.change == "new"
        if churned or not batch.alert or _is_backlog(item, cutoff, now):
            write = _silenced(write)
        writes.append(write)
    return FeedIntent(
        batch.feed,
        iso(now),
        batch.origin,
        tuple(writes),
        _counted(batch.outcome, writes),
        rekeyed,
        rekeyed if batch.alerts is not None and rekeyed >= CHURN_NOTICE_MIN else 0,
    )


def flag_write(
    flagged: bool | None, match: Match, content_hash: str, *, silent: bool
) -> FlagWrite | None:
    """What becomes of an item's flag row after a match: a first row when it is flagged
    for the first time, the row brought up to date when it has one, else nothing
    (an item never flagged has no row)."""
    if flagged is None:
        return FlagWrite("insert", match, content_hash, silent) if match.flagged else None
    return FlagWrite("update", match, content_hash, silent)


def newly_flagged(flagged: bool | None, match: Match) -> bool:
    """Flagged now, and not flagged before (or never matched above the threshold)."""
    return match.flagged and not flagged


def _silenced(write: ItemWrite) -> ItemWrite:
    flag = write.flag and dataclasses.replace(write.flag, silent=True)
    return dataclasses.replace(write, flag=flag, alert=False)


def _counted(outcome: FetchOutcome | None, writes: Sequence[ItemWrite]) -> FetchOutcome | None:
    if outcome is None:
        return None
    new = sum(1 for w in writes if w.change == "new")
    return dataclasses.replace(outcome, new_items=new, updated_items=len(writes) - new)


def _backlog_cutoff(batch: Batch, now: datetime) -> datetime | None:
    if batch.alerts is None or not batch.first_poll:
        return None
    return now - timedelta(hours=batch.alerts.backlog_hours)


def _is_backlog(item: ParsedItem, cutoff: datetime | None, now: datetime) -> bool:
    """On a feed's first poll: older than the cutoff, or undated, or dated in the future
    (a date the feed cannot mean is no evidence that the item is new)."""
    if cutoff is None:
        return False
    if not item.published:
        return True
    try:
        published = parse_iso(item.published)
    except ValueError:
        return True
    return published < cutoff or published > now + FUTURE_SLACK


@dataclass(slots=True)
class _Known:
    item_id: int | None  # None: new earlier in this batch
    content_hash: str
    flagged: bool | None
    first_seen: str


@dataclass(slots=True)
class _Seen:
    """The feed's items as the store holds them after the batch's earlier items."""

    stamp: str
    since: str  # the loose window's start
    by_key: dict[str, _Known]
    lookalikes: dict[str, Lookalike]
    by_hash: dict[str, set[str]]  # keys of the lookalikes by content hash
    by_loose: dict[str, set[str]]  # and by loose hash

    @classmethod
    def of(cls, state: ItemsState, stamp: str, since: str) -> _Seen:
        """The store's state at the start of the batch."""
        known = {
            k: _Known(v.id, v.content_hash, v.flagged, v.first_seen)
            for k, v in state.by_key.items()
        }
        seen = cls(stamp, since, known, {}, {}, {})
        for alike in state.lookalikes:
            seen._index(alike)
        return seen

    def under_other_key(self, item: ParsedItem) -> bool:
        """The same content under another key, or the same text but for its digits stored
        by an earlier poll within the window (items of one poll never count)."""
        if any(key != item.key for key in self.by_hash.get(item.content_hash, ())):
            return True
        return any(
            key != item.key and self.since <= self.lookalikes[key].first_seen < self.stamp
            for key in self.by_loose.get(loose_hash(item), ())
        )

    def write(self, item: ParsedItem, match: Match | None, *, alerting: bool) -> ItemWrite | None:
        """The write for a new or edited item (None when it is stored as it is)."""
        known = self.by_key.get(item.key)
        if known is not None and known.content_hash == item.content_hash:
            return None
        if match is None:
            raise ValueError(f"item {item.key[:80]!r} is new or edited but was not matched")
        flagged = known.flagged if known else None
        write = ItemWrite(
            item,
            "updated" if known else "new",
            known.item_id if known else None,
            match,
            flag_write(flagged, match, item.content_hash, silent=False),
            alerting and newly_flagged(flagged, match),
        )
        first_seen = known.first_seen if known else self.stamp
        self._remember(item, write, first_seen)
        return write

    def _remember(self, item: ParsedItem, write: ItemWrite, first_seen: str) -> None:
        flagged = write.match.flagged if write.flag is not None else None
        self.by_key[item.key] = _Known(write.item_id, item.content_hash, flagged, first_seen)
        self._index(Lookalike(item.key, item.content_hash, loose_hash(item), first_seen))

    def _index(self, alike: Lookalike) -> None:
        """Hold `alike` as the stored state of its key, replacing what the key held."""
        old = self.lookalikes.get(alike.key)
        if old is not None:
            self.by_hash[old.content_hash].discard(old.key)
            if old.loose_hash is not None:
                self.by_loose[old.loose_hash].discard(old.key)
        self.lookalikes[alike.key] = alike
        self.by_hash.setdefault(alike.content_hash, set()).add(alike.key)
        if alike.loose_hash is not None:
            self.by_loose.setdefault(alike.loose_hash, set()).add(alike.key)
