"""Outbox rows written in the pipeline's transaction: per channel, once, budgeted, health."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts.enqueue import (
    check_feed_health,
    enqueue_item_alerts,
    enqueue_notice,
    new_alert_id,
)
from monitor.alerts.payload import build_churn_payload
from monitor.clock import iso
from monitor.store import Store, Transaction
from tests.alerts_fixtures import (
    NOW,
    add_flagged_item,
    alerts_config,
    make_store,
    outbox_rows,
    queue_item,
)

TWO_CHANNELS = """
[alerts.email]
host = "mail.example"
from = "m@example.org"
to = ["a@example.org"]
min_score = 4
[[alerts.webhooks]]
name = "ops"
url = "https://hooks.example.org/x"
format = "slack"
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return make_store(tmp_path)


def test_enqueue_one_row_per_channel_meeting_min_score(store: Store) -> None:
    """A score of 3 reaches the webhook (min 0) but not the email channel (min 4)."""
    ids = queue_item(store, alerts_config(TWO_CHANNELS), score=3.0)
    rows = outbox_rows(store)
    assert [r["channel"] for r in rows] == ["webhook:ops"]
    assert [r["id"] for r in rows] == ids
    assert rows[0]["state"] == "pending"
    assert rows[0]["next_attempt"] == iso(NOW)
    assert rows[0]["dedupe_key"] == f"item:{rows[0]['item_id']}"
    ids = queue_item(store, alerts_config(TWO_CHANNELS), score=4.5, title="Second")
    assert len(ids) == 2


def test_enqueue_twice_for_same_item_alerts_once(store: Store) -> None:
    """Enqueueing an item again (e.g. after an edit) creates no second row per channel."""
    config = alerts_config(TWO_CHANNELS)
    item_id, payload = add_flagged_item(store, score=5.0)
    with store.write() as db:
        first = enqueue_item_alerts(
            db, config, item_id=item_id, payload=payload, score=5.0, content_hash="hash-1", now=NOW
        )
        again = enqueue_item_alerts(
            db,
            config,
            item_id=item_id,
            payload=payload,
            score=5.0,
            content_hash="hash-2",
            now=NOW + timedelta(hours=1),
        )
    assert len(first) == 2
    assert again == []
    assert len(outbox_rows(store)) == 2


def test_enqueue_rolls_back_with_the_pipeline_transaction(store: Store) -> None:
    """Rows written inside a transaction that fails are gone with it."""
    item_id, payload = add_flagged_item(store)

    def enqueue_then_crash(db: Transaction) -> None:
        enqueue_item_alerts(
            db,
            alerts_config(TWO_CHANNELS),
            item_id=item_id,
            payload=payload,
            score=5.0,
            content_hash="h",
            now=NOW,
        )
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError), store.write() as db:
        enqueue_then_crash(db)
    assert outbox_rows(store) == []


def test_enqueue_ids_are_unique_url_safe_and_time_sorted() -> None:
    """Outbox ids are URL-safe, unique, and sort by creation time."""
    ids = [new_alert_id(NOW + timedelta(milliseconds=i)) for i in range(200)]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_enqueue_budget_holds_the_excess(store: Store) -> None:
    """Beyond `budget` item alerts in the window, rows are held for a digest, not dropped."""
    config = alerts_config(TWO_CHANNELS.replace('format = "slack"', 'format = "slack"\nbudget = 2'))
    for n in range(5):
        queue_item(store, config, title=f"Item {n}", score=1.0, now=NOW + timedelta(minutes=n))
    states = [r["state"] for r in outbox_rows(store)]
    assert states == ["pending", "pending", "held", "held", "held"]
    queue_item(store, config, title="Next window", score=1.0, now=NOW + timedelta(hours=1))
    assert outbox_rows(store)[-1]["state"] == "pending"


def test_enqueue_digest_channel_holds_every_item(store: Store) -> None:
    """A channel with a digest period holds its item rows."""
    config = alerts_config(
        TWO_CHANNELS.replace('format = "slack"', 'format = "slack"\ndigest = "1d"')
    )
    queue_item(store, config, score=1.0)
    assert [r["state"] for r in outbox_rows(store)] == ["held"]


def test_enqueue_notice_to_channels_taking_notices(store: Store) -> None:
    """Notices ignore scores and go to each channel with notices on, once per dedupe key."""
    config = alerts_config(TWO_CHANNELS + "notices = false\n")
    payload = build_churn_payload("kremlin-en", "all 20 item keys changed")
    with store.write() as db:
        ids = enqueue_notice(
            db, config, kind="churn", dedupe_key="kremlin-en:1", payload=payload, now=NOW
        )
        again = enqueue_notice(
            db, config, kind="churn", dedupe_key="kremlin-en:1", payload=payload, now=NOW
        )
        with pytest.raises(ValueError, match="notice kind must be one of"):
            enqueue_notice(db, config, kind="item", dedupe_key="x", payload={}, now=NOW)
    assert len(ids) == 1
    assert again == []
    assert [r["channel"] for r in outbox_rows(store)] == ["email"]


def _set_feed(store: Store, **values: object) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    with store.write() as db:
        db.execute(f"UPDATE feeds SET {sets} WHERE name = 'kremlin-en'", list(values.values()))


def _health_states(store: Store) -> list[str]:
    import json

    return [
        json.loads(str(r["payload"]))["state"] for r in outbox_rows(store) if r["kind"] == "health"
    ]


def test_enqueue_feed_health_failing_then_recovered_once_each(store: Store) -> None:
    """N consecutive failures give one "failing" notice; recovery gives one "recovered"."""
    config = alerts_config("[alerts]\nhealth_failures = 3\n" + TWO_CHANNELS + "notices = false\n")
    add_flagged_item(store)
    _set_feed(store, consecutive_failures=2, last_success=iso(NOW))
    for minutes in (0, 10):
        with store.write() as db:
            check_feed_health(db, config, NOW + timedelta(minutes=minutes))
    assert _health_states(store) == []
    _set_feed(store, consecutive_failures=3)
    for minutes in (20, 30, 40):
        with store.write() as db:
            check_feed_health(db, config, NOW + timedelta(minutes=minutes))
    assert _health_states(store) == ["failing"]
    _set_feed(store, consecutive_failures=0, last_success=iso(NOW + timedelta(hours=1)))
    for minutes in (70, 80):
        with store.write() as db:
            check_feed_health(db, config, NOW + timedelta(minutes=minutes))
    assert _health_states(store) == ["failing", "recovered"]


def test_enqueue_feed_health_no_success_for_hours(store: Store) -> None:
    """A feed still failing `health_hours` after its last success is reported once."""
    config = alerts_config("[alerts]\nhealth_failures = 100\nhealth_hours = 6\n" + TWO_CHANNELS)
    add_flagged_item(store)
    _set_feed(store, consecutive_failures=1, last_success=iso(NOW))
    with store.write() as db:
        check_feed_health(db, config, NOW + timedelta(hours=5))
    assert _health_states(store) == []
    with store.write() as db:
        check_feed_health(db, config, NOW + timedelta(hours=6))
        check_feed_health(db, config, NOW + timedelta(hours=7))
    assert _health_states(store) == ["failing", "failing"]  # one row per channel, once
    assert len({r["channel"] for r in outbox_rows(store)}) == 2
