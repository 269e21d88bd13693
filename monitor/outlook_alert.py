"""Where the outlook meets the alerts: an upward change of level becomes a notice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from monitor.alerts.enqueue import enqueue_notice
from monitor.alerts.payload import build_outlook_payload
from monitor.config import Config
from monitor.outlook import compute_outlook
from monitor.store import Store
from monitor.store.review import load_flag_records, record_outlook_level

log = logging.getLogger(__name__)


def alert_on_outlook_change(store: Store, config: Config, now: datetime) -> str | None:
    """Compute today's outlook, store its level, and alert when it went up.

    Returns the new level when an alert was queued, else None.
    """
    window = config.daemon.outlook_window_days
    today = now.date()
    records = load_flag_records(store, first_day=today - timedelta(days=window - 1), last_day=today)
    outlook = compute_outlook(records, today, window)
    with store.write() as db:
        previous = record_outlook_level(db, outlook.level, today)
        if previous is None:
            return None
        payload = build_outlook_payload(outlook.level, previous, outlook.reasons)
        enqueue_notice(
            db,
            config.alerts,
            kind="outlook",
            dedupe_key=f"{today.isoformat()}:{outlook.level}",
            payload=payload,
            now=now,
        )
    log.info(
        "event=outlook_raised previous=%s level=%s score=%.2f",
        previous,
        outlook.level,
        outlook.score,
    )
    return outlook.level
