"""Dispatch from a real SQLite outbox to real local servers, with a fake clock for backoff."""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from monitor.alerts.channels import deliver
from monitor.alerts.dispatch import SCHEDULE, backoff, dispatch_due, recover_sending
from monitor.alerts.payload import envelope
from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.fetch.client import Fetcher
from monitor.store import Store, outbox
from tests.alerts_fixtures import (
    NOW,
    SECRET,
    SMTP_PASSWORD,
    URL_TOKEN,
    alerts_config,
    email_toml,
    outbox_rows,
    queue_item,
    webhook_toml,
)
from tests.smtp_server import SmtpServer, free_port
from tests.webhook_receiver import Reply, WebhookReceiver

pytestmark = pytest.mark.usefixtures("alert_env")


def _dispatch(store: Store, config: AlertsConfig, fetcher: Fetcher, now: datetime):  # type: ignore[no-untyped-def]
    return dispatch_due(store, config, fetcher, now, rng=random.Random(7))


def _row(store: Store, row_id: str) -> dict[str, object]:
    return store.query("SELECT * FROM outbox WHERE id = ?", (row_id,))[0]


def test_dispatch_email_and_webhook_once_each(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """One flagged item gives one email and one signed webhook; a second run sends nothing."""
    with SmtpServer() as smtp:
        config = alerts_config(email_toml(smtp.port) + webhook_toml(receiver.url))
        ids = queue_item(store, config)
        report = _dispatch(store, config, fetcher, NOW)
        again = _dispatch(store, config, fetcher, NOW + timedelta(hours=1))
        assert len(smtp.handler.delivered) == 1
    assert (report.sent, again.sent) == (2, 0)
    (hook,) = receiver.requests
    assert hook.verified
    assert hook.id in ids
    message = smtp.handler.delivered[0].message()
    assert message["Message-ID"].strip("<>").split("@")[0] in ids
    assert {r["state"] for r in outbox_rows(store)} == {"sent"}
    assert all(r["sent_at"] == iso(NOW) and r["attempts"] == 1 for r in outbox_rows(store))


def test_dispatch_fail_twice_then_accept_with_backoff(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """Failures go back to pending with growing delays; the same webhook-id every time."""
    config = alerts_config(webhook_toml(receiver.url))
    (row_id,) = queue_item(store, config)
    receiver.fail(2, 503)
    _dispatch(store, config, fetcher, NOW)
    first_next = parse_iso(str(_row(store, row_id)["next_attempt"]))
    assert 4 <= (first_next - NOW).total_seconds() <= 6
    assert _dispatch(store, config, fetcher, NOW + timedelta(seconds=3)).retried == 0
    _dispatch(store, config, fetcher, first_next)
    second_next = parse_iso(str(_row(store, row_id)["next_attempt"]))
    assert 240 <= (second_next - first_next).total_seconds() <= 360
    report = _dispatch(store, config, fetcher, second_next)
    assert report.sent == 1
    assert [r.id for r in receiver.requests] == [row_id] * 3
    assert all(r.verified for r in receiver.requests)
    assert [json.loads(r.body)["attempt"] for r in receiver.requests] == [1, 2, 3]
    row = _row(store, row_id)
    assert row["state"] == "sent"
    assert row["attempts"] == 3
    assert row["possible_duplicate"] == 0


def test_dispatch_dead_after_horizon(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """A receiver that always fails: the row is dead once the next try would pass the horizon."""
    config = alerts_config(webhook_toml(receiver.url, extra='give_up_after = "1h"'))
    (row_id,) = queue_item(store, config)
    receiver.default = Reply(500)
    now = NOW
    for _ in range(10):
        _dispatch(store, config, fetcher, now)
        row = _row(store, row_id)
        if row["state"] == "dead":
            break
        now = parse_iso(str(row["next_attempt"]))
    assert row["state"] == "dead"
    assert row["attempts"] == 4
    assert "gave up after 4 attempt(s) within 1h" in str(row["last_error"])


def test_dispatch_410_is_dead_at_once(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """410 Gone is permanent: dead after one attempt, with the reason."""
    config = alerts_config(webhook_toml(receiver.url))
    (row_id,) = queue_item(store, config)
    receiver.replies.append(Reply(410))
    assert _dispatch(store, config, fetcher, NOW).dead == 1
    row = _row(store, row_id)
    assert row["state"] == "dead"
    assert "410" in str(row["last_error"])


def test_dispatch_retry_after_delays_the_next_attempt(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """429 with Retry-After: 600 puts the next attempt 600 s out (more than the 5 s step)."""
    config = alerts_config(webhook_toml(receiver.url))
    (row_id,) = queue_item(store, config)
    receiver.replies.append(Reply(429, {"Retry-After": "600"}))
    _dispatch(store, config, fetcher, NOW)
    assert _row(store, row_id)["next_attempt"] == iso(NOW + timedelta(seconds=600))


@pytest.fixture
def silent_smtp() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung mail server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_dispatch_hung_mail_server_does_not_delay_webhook(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver, silent_smtp: int
) -> None:
    """SMTP hangs until its timeout while the webhook is delivered at once (D7)."""
    config = alerts_config(
        email_toml(silent_smtp).replace('"3s"', '"2s"') + webhook_toml(receiver.url)
    )
    queue_item(store, config)
    started = time.monotonic()
    report = _dispatch(store, config, fetcher, NOW)
    elapsed = time.monotonic() - started
    (hook,) = receiver.requests
    assert hook.at - started < 1.0 <= elapsed
    assert report.sent == 1
    assert report.retried == 1
    email_row = next(r for r in outbox_rows(store) if r["channel"] == "email")
    assert email_row["state"] == "pending"
    assert "timed out" in str(email_row["last_error"])


def test_dispatch_mail_down_then_up(store: Store, fetcher: Fetcher) -> None:
    """Mail server down: the row waits; once it is back up, the next due run delivers it."""
    server = SmtpServer()
    config = alerts_config(email_toml(server.port))
    (row_id,) = queue_item(store, config)
    assert _dispatch(store, config, fetcher, NOW).retried == 1
    with server:
        later = parse_iso(str(_row(store, row_id)["next_attempt"]))
        assert _dispatch(store, config, fetcher, later).sent == 1
        assert len(server.handler.delivered) == 1


def test_dispatch_crash_between_accept_and_mark_resends_once(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """A row left `sending` is re-sent exactly once after recovery, same id, marked duplicate."""
    config = alerts_config(webhook_toml(receiver.url))
    (row_id,) = queue_item(store, config)
    claimed = outbox.claim_next(store, "webhook:ops", iso(NOW))
    assert claimed is not None
    assert claimed.id == row_id
    document = envelope(claimed.payload, claimed.id, claimed.attempts, False, claimed.created)
    assert deliver(config, "webhook:ops", document, fetcher, NOW).delivered  # then "killed"
    restart = NOW + timedelta(minutes=1)
    assert recover_sending(store, restart) == 1
    _dispatch(store, config, fetcher, restart)
    _dispatch(store, config, fetcher, restart + timedelta(hours=1))
    assert receiver.count_by_id() == {row_id: 2}
    resent = json.loads(receiver.requests[1].body)
    assert resent["possible_duplicate"] is True
    assert resent["attempt"] == 2
    row = _row(store, row_id)
    assert row["state"] == "sent"
    assert row["possible_duplicate"] == 1


def test_dispatch_recover_sending_leaves_recent_attempts(store: Store) -> None:
    """With stale_after, only attempts started long enough ago are recovered."""
    config = alerts_config(webhook_toml("http://127.0.0.1:9/x"))
    queue_item(store, config)
    outbox.claim_next(store, "webhook:ops", iso(NOW))
    assert recover_sending(store, NOW + timedelta(seconds=30), stale_after=60) == 0
    assert recover_sending(store, NOW + timedelta(seconds=90), stale_after=60) == 1


def test_dispatch_partial_refusal_recorded_and_4xx_retried_per_recipient(
    store: Store, fetcher: Fetcher
) -> None:
    """550 for one recipient is recorded on the row; 451 for another is retried to it alone."""
    with SmtpServer() as smtp:
        to = '["good@example.test", "gone@example.test", "later@example.test"]'
        config = alerts_config(email_toml(smtp.port, to=to))
        (row_id,) = queue_item(store, config)
        smtp.handler.rcpt_plan.update({"gone@example.test": [550], "later@example.test": [451]})
        first = _dispatch(store, config, fetcher, NOW)
        assert first.retried == 1
        assert _row(store, row_id)["state"] == "pending"
        later = parse_iso(str(_row(store, row_id)["next_attempt"]))
        second = _dispatch(store, config, fetcher, later)
        assert second.partial == 1
        assert [d.rcpt_tos for d in smtp.handler.delivered] == [
            ["good@example.test"],
            ["later@example.test"],
        ]
    row = _row(store, row_id)
    assert row["state"] == "sent"
    assert "gone@example.test refused for good (550" in str(row["last_error"])
    ids = {d.message()["Message-ID"] for d in smtp.handler.delivered}
    assert ids == {f"<{row_id}@monitor.local>"}


def test_dispatch_digest_folds_held_rows_when_period_ends(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """With digest = "1h", items become one digest message after the hour; none is dropped."""
    config = alerts_config(webhook_toml(receiver.url, extra='digest = "1h"'))
    start = NOW + timedelta(minutes=10)
    ids = [
        queue_item(store, config, title=f"Item {n}", now=start + timedelta(minutes=n))[0]
        for n in range(3)
    ]
    assert _dispatch(store, config, fetcher, NOW + timedelta(minutes=50)).sent == 0
    report = _dispatch(store, config, fetcher, NOW + timedelta(hours=1, seconds=5))
    assert report.digests == 1
    assert report.sent == 1
    (got,) = receiver.requests
    body = json.loads(got.body)
    assert body["kind"] == "digest"
    assert body["count"] == 3
    assert [entry["alert_id"] for entry in body["items"]] == ids
    folded = [r for r in outbox_rows(store) if r["state"] == "folded"]
    assert len(folded) == 3
    assert {r["digest_id"] for r in folded} == {got.id}


def test_dispatch_budget_excess_goes_out_as_digest(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """budget = 2: two alerts go now, the other three in one digest after the window (D8)."""
    config = alerts_config(webhook_toml(receiver.url, extra="budget = 2"))
    for n in range(5):
        queue_item(store, config, title=f"Item {n}", now=NOW + timedelta(minutes=n))
    assert _dispatch(store, config, fetcher, NOW + timedelta(minutes=5)).sent == 2
    _dispatch(store, config, fetcher, NOW + timedelta(hours=1))
    kinds = [json.loads(r.body)["kind"] for r in receiver.requests]
    assert kinds == ["item", "item", "digest"]
    digest = json.loads(receiver.requests[-1].body)
    assert digest["count"] == 3
    assert digest["reason"] == "budget"


def test_dispatch_secrets_never_in_logs_errors_or_rows(
    store: Store, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    """SMTP password, webhook secret and URL token appear in no log line or stored error."""
    caplog.set_level(logging.DEBUG)
    with SmtpServer(credentials=("monitor", "not-this")) as smtp:
        extra = 'username_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"'
        url = f"http://127.0.0.1:{free_port()}/hook?token={URL_TOKEN}"
        config = alerts_config(email_toml(smtp.port, extra=extra) + webhook_toml(url))
        queue_item(store, config)
        _dispatch(store, config, fetcher, NOW)
    stored = json.dumps(outbox_rows(store))
    for secret in (SMTP_PASSWORD, URL_TOKEN, SECRET, SECRET.removeprefix("whsec_")):
        assert secret not in caplog.text
        assert secret not in stored
    assert "535" in stored
    assert "cannot connect" in stored


def test_dispatch_channel_filter_and_unknown_channel(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """`channels=` limits the run; rows of a channel no longer configured are left alone."""
    config = alerts_config(webhook_toml(receiver.url) + webhook_toml(receiver.url, name="b"))
    queue_item(store, config)
    assert dispatch_due(store, config, fetcher, NOW, channels=["webhook:b"]).sent == 1
    smaller = alerts_config(webhook_toml(receiver.url, name="b"))
    assert dispatch_due(store, smaller, fetcher, NOW).sent == 0
    assert sorted(r["state"] for r in outbox_rows(store)) == ["pending", "sent"]


def test_dispatch_backoff_schedule_with_jitter() -> None:
    """Delays follow the 5 s, 5 min, 30 min, 2 h, ... schedule within +-20 %."""
    rng = random.Random(1)
    for attempt, base in enumerate(SCHEDULE, start=1):
        assert 0.8 * base <= backoff(attempt, rng) <= 1.2 * base
    assert backoff(50, rng) <= 1.2 * SCHEDULE[-1]
