"""Fold held item alerts into one digest row per channel when their window ends.

A row is held because its channel has a `digest` period, because the channel was
over its alert budget, or because it reports an event that already alerted on the
channel (an update). Windows are aligned to multiples of the period
since the epoch (a "1d" digest covers one UTC day). When `now` has passed the end
of the window a held row was created in, all such rows of the channel become one
`digest` row (its own id, pending now), and each is marked `folded` with
`digest_id` pointing at it: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from monitor.alerts.enqueue import new_alert_id, window_start
from monitor.alerts.payload import Payload, build_digest_payload, json_object
from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.store import Store, outbox


def _reason(updates_go: str, payloads: Iterable[Payload]) -> str:
    """ "update" when every held row was held as a further report of an alerted event
    (the channel's `updates = "digest"`), else "budget"."""
    flags = [bool(json_object(p.get("event")).get("update_of")) for p in payloads]
    return "update" if updates_go == "digest" and flags and all(flags) else "budget"


def fold_due_digests(store: Store, alerts: AlertsConfig, now: datetime) -> list[str]:
    """Create the digests that are due; their outbox ids."""
    created: list[str] = []
    with store.write() as db:
        for channel in outbox.held_channels(db):
            policy = alerts.policy(channel)
            if policy is None:
                continue  # channel removed from the config: its rows stay held, listed
            period = policy.digest or policy.budget_window
            end = window_start(now, period)
            rows = outbox.held_before(db, channel, iso(end))
            if not rows:
                continue
            digest_id = new_alert_id(now)
            start = window_start(parse_iso(rows[0].created), period)
            reason = (
                "digest"
                if policy.digest
                else _reason(policy.updates, (row.payload for row in rows))
            )
            payload = build_digest_payload(
                [(row.id, row.payload) for row in rows], iso(start), iso(end), reason
            )
            outbox.insert(
                db,
                {
                    "id": digest_id,
                    "channel": channel,
                    "kind": "digest",
                    "item_id": None,
                    "dedupe_key": f"digest:{digest_id}",
                    "payload": payload,
                    "state": "pending",
                    "created": iso(now),
                    "next_attempt": iso(now),
                },
            )
            outbox.fold(db, [row.id for row in rows], digest_id)
            created.append(digest_id)
    return created
