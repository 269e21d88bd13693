"""Outbox rows written inside the pipeline's write transaction.

The caller passes the transaction yielded by `Store.write()`, so the item,
its flag and its alert rows commit together or not at all.

- One row per channel whose `min_score` the score meets, keyed `item:<item_id>` per
  channel and inserted with INSERT OR IGNORE: an item alerts at most once per
  channel. A later edit of an alerted item, however substantive, does not alert
  again (the flag and its evidence are updated and visible in the review CLI); an
  edit that first lifts an item over the threshold alerts then, with the payload
  of that revision.
- Alerts follow events: the payload carries the item's event (`event.id`). When the
  channel already has an alert for another item of the same event (a second report
  of one contact, the same release in another feed), the new row is an update:
  `event.update_of` names the event's first alert, and with the channel's
  `updates = "digest"` (the default) it is held for the channel's next digest instead
  of going out as news of its own; with `updates = "send"` it goes out at once, marked.
- A channel with a digest period holds its item rows (`held`) for the digest; a
  channel over its budget (more than `budget` item alerts in the current aligned
  `budget_window`) holds the excess, which goes out as a digest when the window
  ends. Held rows are folded, never dropped.
- Notices (feed health, outlook, churn) go to every channel with `notices = true`,
  ignoring scores and budgets.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.alerts.payload import Payload, build_health_payload, json_object
from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.store import Transaction, outbox
from monitor.store.events import Placement, event_alert
from monitor.store.feeds import FeedState

NOTICE_KINDS = ("health", "outlook", "churn")


def new_alert_id(now: datetime) -> str:
    """Random, URL-safe, unique; starts with the time in ms so ids sort by creation."""
    millis = int(now.timestamp() * 1000)
    return f"{millis:012x}{secrets.token_hex(10)}"


def window_start(now: datetime, seconds: float) -> datetime:
    """Start of the aligned window (multiples of `seconds` since the epoch) holding `now`."""
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def enqueue_item_alerts(
    db: Transaction,
    alerts: AlertsConfig,
    *,
    item_id: int,
    payload: Payload,
    score: float,
    content_hash: str,
    now: datetime,
    event: Placement | None = None,
) -> list[str]:
    """Queue one alert per eligible channel; the ids of the rows actually created."""
    key = f"item:{item_id}"
    item: Payload = {**json_object(payload.get("item")), "content_hash": content_hash}
    snapshot: Payload = {**payload, "item": item}
    created: list[str] = []
    for channel in alerts.channels():
        policy = alerts.policy(channel)
        if policy is None or score < policy.min_score or outbox.exists(db, channel, key):
            continue
        update_of = event_alert(db, event.event_id, channel, item_id) if event else None
        body: Payload = (
            snapshot
            if event is None
            else {**snapshot, "event": {"id": event.event_id, "update_of": update_of}}
        )
        quiet_update = update_of is not None and policy.updates == "digest"
        held = (
            quiet_update
            or policy.digest is not None
            or _over_budget(db, channel, policy.budget, policy.budget_window, now)
        )
        row_id = _insert(db, channel, "item", key, body, now, item_id=item_id, held=held)
        if row_id:
            created.append(row_id)
    return created


def _over_budget(db: Transaction, channel: str, budget: int, window: float, now: datetime) -> bool:
    if budget <= 0:
        return False
    since = iso(window_start(now, window))
    return outbox.count_released_since(db, channel, since) >= budget


def enqueue_notice(
    db: Transaction,
    alerts: AlertsConfig,
    *,
    kind: str,
    dedupe_key: str,
    payload: Payload,
    now: datetime,
) -> list[str]:
    """Queue an operator notice on every channel that takes notices."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind must be one of {NOTICE_KINDS}, not {kind!r}")
    created: list[str] = []
    for channel in alerts.channels():
        policy = alerts.policy(channel)
        if policy is None or not policy.notices:
            continue
        row_id = _insert(db, channel, kind, f"{kind}:{dedupe_key}", payload, now)
        if row_id:
            created.append(row_id)
    return created


def _insert(
    db: Transaction,
    channel: str,
    kind: str,
    dedupe_key: str,
    payload: Payload,
    now: datetime,
    *,
    item_id: int | None = None,
    held: bool = False,
) -> str | None:
    row_id = new_alert_id(now)
    row = {
        "id": row_id,
        "channel": channel,
        "kind": kind,
        "item_id": item_id,
        "dedupe_key": dedupe_key,
        "payload": payload,
        "state": "held" if held else "pending",
        "created": iso(now),
        "next_attempt": iso(now),
    }
    return row_id if outbox.insert(db, row) else None


def check_feed_health(
    db: Transaction, alerts: AlertsConfig, now: datetime, names: Sequence[str] | None = None
) -> None:
    """One "failing" notice when a feed crosses a threshold, one "recovered" when it is back.

    Failing: `health_failures` consecutive failures, or no success for `health_hours`
    (counted from the last success; a feed that never succeeded counts failures only).
    Recovered: the last poll succeeded and the last success is recent. The feed's
    `health_alerted` remembers which notice was sent last, so each goes out once.
    """
    if not alerts.channels():
        return
    for feed in outbox.feeds_health(db, names):
        failing = _is_failing(feed, alerts, now)
        if failing and not feed.health_alerted:
            _health_notice(db, alerts, feed, "failing", now)
        elif feed.health_alerted and not failing and feed.consecutive_failures == 0:
            _health_notice(db, alerts, feed, "recovered", now)


def _is_failing(feed: FeedState, alerts: AlertsConfig, now: datetime) -> bool:
    failures = feed.consecutive_failures
    if alerts.health_failures > 0 and failures >= alerts.health_failures:
        return True
    last = feed.last_success
    if not last or alerts.health_hours <= 0 or failures == 0:
        return False
    return now - parse_iso(last) >= timedelta(hours=alerts.health_hours)


def _health_notice(
    db: Transaction, alerts: AlertsConfig, feed: FeedState, state: str, now: datetime
) -> None:
    payload = build_health_payload(dataclasses.asdict(feed), state)
    key = f"{feed.name}:{state}:{iso(now)}"
    enqueue_notice(db, alerts, kind="health", dedupe_key=key, payload=payload, now=now)
    outbox.set_health_alerted(db, feed.name, state == "failing")
