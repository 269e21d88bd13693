"""Store parsed items: new and edited ones are matched, flagged and queued for alerting.

Used by polling and by `monitor import`. Everything for one batch of items happens in
one write transaction: the store's state for the batch is read, the items are matched
(`matching`), what to write is decided purely (`decide`), and the store applies that
intent, so an item is never stored without its flag and its outbox rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.enqueue import enqueue_item_alerts, enqueue_notice
from monitor.alerts.payload import build_churn_payload, build_item_payload
from monitor.clock import iso
from monitor.config.alerts import AlertsConfig
from monitor.models import Match, ParsedItem
from monitor.pipeline.decide import CHURN_LOOSE_WINDOW, Batch, decide
from monitor.pipeline.matching import MatchKey, match_items
from monitor.signals import RuleSet
from monitor.store import Store, Transaction
from monitor.store.events import place_item
from monitor.store.feeds import FetchOutcome
from monitor.store.items import alert_rows
from monitor.store.update import Applied, FeedIntent, ItemWrite, Origin, apply, read_state


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What storing a batch did: items new, edited, flagged, alerts queued, re-keyed."""

    new: int = 0
    updated: int = 0
    flagged: int = 0
    alerted: int = 0
    rekeyed: int = 0
    item_ids: tuple[int, ...] = ()


def ingest_items(
    store: Store,
    rules: RuleSet,
    feed: str,
    items: Sequence[ParsedItem],
    now: datetime,
    *,
    origin: Origin = "poll",
    alert: bool = True,
    alerts: AlertsConfig | None = None,
    first_poll: bool = False,
    outcome: FetchOutcome | None = None,
    matches: Mapping[MatchKey, Match] | None = None,
) -> IngestReport:
    """Store items, match the new and edited ones, and write flags and outbox rows.

    Everything happens in one transaction, so an item is never stored without its
    flag and its outbox rows: a crash before the commit leaves the item "new" for
    the next poll. `matches` holds matches already made (by a parse worker).
    """
    batch = Batch(feed, tuple(items), origin, alert, alerts, first_poll, outcome)
    return ingest_batch(store, rules, batch, now, matches)


def ingest_batch(
    store: Store,
    rules: RuleSet,
    batch: Batch,
    now: datetime,
    done: Mapping[MatchKey, Match] | None = None,
) -> IngestReport:
    """Read, match, decide and apply one batch in one write transaction."""
    queue = OutboxQueue(batch.alerts, now) if batch.alerts is not None else None
    with store.write() as db:
        state = read_state(db, batch.feed, batch.items, iso(now - CHURN_LOOSE_WINDOW))
        matches = match_items(rules, batch.items, state.hashes(), done)
        intent = decide(state, batch, matches, now)
        applied = apply(db, intent, queue)
    return _report(intent, applied)


def _report(intent: FeedIntent, applied: Applied) -> IngestReport:
    new = sum(1 for write in intent.items if write.change == "new")
    return IngestReport(
        new=new,
        updated=len(intent.items) - new,
        flagged=sum(1 for write in intent.items if write.match.flagged),
        alerted=applied.alerted,
        rekeyed=intent.rekeyed,
        item_ids=applied.item_ids,
    )


@dataclass(frozen=True, slots=True)
class OutboxQueue:
    """Queues an intent's alerts in the outbox: a flagged item's, and churn notices."""

    alerts: AlertsConfig
    now: datetime

    def item(self, db: Transaction, item_id: int, write: ItemWrite) -> int:
        """Place a newly flagged item in its event and queue one alert per channel."""
        placement = place_item(db, item_id, self.now) if write.match.flagged else None
        item, feed, flag = alert_rows(db, item_id)
        ids = enqueue_item_alerts(
            db,
            self.alerts,
            item_id=item_id,
            payload=build_item_payload(item, feed, flag, None),
            score=write.match.score,
            content_hash=write.item.content_hash,
            now=self.now,
            event=placement,
        )
        return len(ids)

    def churn(self, db: Transaction, feed: str, count: int) -> None:
        """Tell the operator that a feed re-published known items under new keys."""
        detail = (
            f"feed {feed} re-published {count} known items under new keys; "
            "they were stored without alerts"
        )
        enqueue_notice(
            db,
            self.alerts,
            kind="churn",
            dedupe_key=f"{feed}:{self.now.date().isoformat()}",
            payload=build_churn_payload(feed, detail),
            now=self.now,
        )
