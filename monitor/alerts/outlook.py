"""Where the outlook meets the alerts: a change of level becomes a notice.

A rise always does. A fall does when a refusal (a cancelled or postponed meeting,
suspended talks) was reported today or yesterday: receivers hear of a cancellation
the day it lowers the level, not of every level that merely decays.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from monitor.alerts.enqueue import enqueue_notice
from monitor.alerts.payload import JSONValue, Payload, build_outlook_payload
from monitor.config.load import Config
from monitor.outlook.levels import LEVELS, Outlook, compute_outlook
from monitor.store import Store
from monitor.store.events import ensure_events, load_events
from monitor.store.review import record_outlook_level

log = logging.getLogger(__name__)


def alert_on_outlook_change(store: Store, config: Config, now: datetime) -> str | None:
    """Compute today's outlook, store its level, and alert when it changed as above.

    Returns the new level when an alert was queued, else None.
    """
    settings = config.outlook
    today = now.date()
    ensure_events(store, now)
    events = load_events(store, today - timedelta(days=settings.window_days), today)
    outlook = compute_outlook(events, today, settings)
    refused = any(
        i.grade.refusal and i.day >= today - timedelta(days=1) for e in events for i in e.items
    )
    with store.write() as db:
        previous = record_outlook_level(db, outlook.level, today, report_drop=refused)
        if previous is None:
            return None
        enqueue_notice(
            db,
            config.alerts,
            kind="outlook",
            dedupe_key=f"{today.isoformat()}:{outlook.level}",
            payload=outlook_payload(outlook, previous),
            now=now,
        )
    log.info(
        "event=outlook_changed previous=%s level=%s score=%.2f",
        previous,
        outlook.level,
        outlook.score,
    )
    return outlook.level


def outlook_payload(outlook: Outlook, previous: str) -> Payload:
    """The notice: the level, since when, the reasons and the events that set it."""
    events: list[JSONValue] = [
        {"id": h.event.id, "level": LEVELS[h.rank], "label": h.event.label,
         "grade": h.event.lead.grade.name, "first_day": h.event.first_day.isoformat(),
         "last_day": h.event.last_day.isoformat(), "sources": list(h.event.sources),
         "items": [i.item_id for i in h.event.items]}
        for h in outlook.events[:10]
    ]  # fmt: skip
    return build_outlook_payload(
        outlook.level,
        previous,
        outlook.reasons,
        since=outlook.since.isoformat() if outlook.since else None,
        events=events,
    )
