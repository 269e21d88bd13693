"""Store parsed items: new and edited ones are matched, flagged and queued for alerting.

Used by polling and by `monitor import`. Everything for one batch of items happens in
one write transaction, so an item is never stored without its flag and its outbox rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.alerts.enqueue import enqueue_item_alerts, enqueue_notice
from monitor.alerts.payload import build_churn_payload, build_item_payload
from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.models import Match, ParsedItem
from monitor.signals import RuleSet, match_document
from monitor.store import Store, Transaction
from monitor.store import items as q
from monitor.store.events import place_item

CHURN_NOTICE_MIN = 5  # re-keyed items in one poll before the operator is told
CHURN_LOOSE_WINDOW = timedelta(days=7)  # how far back a same-but-for-digits text counts
FUTURE_SLACK = timedelta(days=1)  # a publication date further ahead than this is a lie


@dataclass(frozen=True, slots=True)
class IngestReport:
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
    origin: str = "poll",
    alert: bool = True,
    alerts: AlertsConfig | None = None,
    first_poll: bool = False,
    outcome: q.FetchOutcome | None = None,
    matches: Mapping[tuple[str, str], Match] | None = None,
) -> IngestReport:
    """Store items, match the new and edited ones, and write flags and outbox rows.

    Everything happens in one transaction, so an item is never stored without its
    flag and its outbox rows: a crash before the commit leaves the item "new" for
    the next poll.
    """
    stamp = iso(now)
    cutoff = now - timedelta(hours=alerts.backlog_hours) if alerts and first_poll else None
    counts = {"new": 0, "updated": 0, "flagged": 0, "alerted": 0, "rekeyed": 0}
    ids: list[int] = []
    with store.write() as db:
        if origin == "import":
            q.ensure_feed(db, feed)
        for item in items:
            rekeyed = q.seen_under_other_key(db, feed, item, stamp, iso(now - CHURN_LOOSE_WINDOW))
            stored = q.upsert_item(db, feed, item, stamp, origin)
            if stored.change == "same":
                continue
            counts[stored.change] += 1
            counts["rekeyed"] += int(rekeyed and stored.change == "new")
            ids.append(stored.id)
            silent = not alert or rekeyed or _is_backlog(item, cutoff, now)
            match = (matches or {}).get((item.key, item.content_hash)) or match_document(
                rules, item.title, item.body or item.summary, item.lang
            )
            _match_and_alert(match, db, feed, stored.id, item, stamp, now, silent, alerts, counts)
        if outcome is not None:
            q.record_outcome(
                db,
                feed,
                dataclasses.replace(
                    outcome, new_items=counts["new"], updated_items=counts["updated"]
                ),
            )
        if alerts is not None and counts["rekeyed"] >= CHURN_NOTICE_MIN:
            _churn_notice(db, alerts, feed, counts["rekeyed"], now)
    return IngestReport(
        counts["new"],
        counts["updated"],
        counts["flagged"],
        counts["alerted"],
        counts["rekeyed"],
        tuple(ids),
    )


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


def _match_and_alert(
    match: Match,
    db: Transaction,
    feed: str,
    item_id: int,
    item: ParsedItem,
    stamp: str,
    now: datetime,
    silent: bool,
    alerts: AlertsConfig | None,
    counts: dict[str, int],
) -> None:
    newly = q.save_match(db, item_id, match, item.content_hash, stamp, silent=silent)
    counts["flagged"] += int(match.flagged)
    if not (newly and not silent and alerts is not None):
        return  # placed in its event when events are next read (store.events.ensure_events)
    placement = place_item(db, item_id, now) if match.flagged else None
    flag = q.one_row(db, "SELECT * FROM flags WHERE item_id = ?", [item_id])
    feed_row = q.one_row(db, "SELECT name, url, lang FROM feeds WHERE name = ?", [feed])
    payload = build_item_payload(q.item_row(db, item_id), feed_row, flag, None)
    ids = enqueue_item_alerts(
        db,
        alerts,
        item_id=item_id,
        payload=payload,
        score=match.score,
        content_hash=item.content_hash,
        now=now,
        event=placement,
    )
    counts["alerted"] += len(ids)


def _churn_notice(
    db: Transaction, alerts: AlertsConfig, feed: str, count: int, now: datetime
) -> None:
    detail = (
        f"feed {feed} re-published {count} known items under new keys; "
        "they were stored without alerts"
    )
    enqueue_notice(
        db,
        alerts,
        kind="churn",
        dedupe_key=f"{feed}:{now.date().isoformat()}",
        payload=build_churn_payload(feed, detail),
        now=now,
    )
