"""Delivery under faults, end to end: the CLI and the daemon as subprocesses, real receivers.

aiosmtpd counts mail by Message-ID; the webhook receiver verifies every Standard
Webhooks signature and counts by `webhook-id`. The feeds are local RSS documents
whose entries are invented (see tests/delivery_env.py).

S8 (retention) is not covered: the monitor never prunes items (no retention setting,
no delete path), so there is nothing that could resurrect an alert.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.alerts_fixtures import SECRET
from tests.delivery_env import (
    Entry,
    SwappableFeed,
    alerts_toml,
    flagged_entry,
    integrity,
    message_ids,
    plain_entry,
    query,
    run_monitor,
    start_monitor,
)
from tests.pipeline_env import write_config
from tests.servers import RawServer, TestServer, raw_hang
from tests.smtp_server import ScriptedHandler, SmtpServer
from tests.webhook_receiver import Received, Reply, WebhookReceiver

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
NOW_ISO = "2026-11-26T12:00:00Z"
QUIET = "notices = false"  # no outlook notice beside the item alert: exact counts
# The test feeds' flagged items all report one call: send each (marked as an update of
# the event) instead of holding it for a digest, so that every row's delivery is tested.
SEND_UPDATES = 'updates = "send"'


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as receiver:
        yield receiver


def _feed_config(tmp_path: Path, server: TestServer, feed: SwappableFeed, alerts: str) -> Path:
    url = server.route("/feed", feed)
    return write_config(tmp_path, [{"name": "press", "url": url, "interval": "30s"}], alerts)


def _outbox(db: Path) -> list[dict[str, object]]:
    return query(db, "SELECT * FROM outbox ORDER BY created, id")


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_delivery_run_once_sends_one_email_and_one_signed_webhook_then_nothing(
    tmp_path: Path, http_server: TestServer, smtp: SmtpServer, webhook: WebhookReceiver
) -> None:
    """`run --once` with one signal: one email and one signed webhook; a second run: none."""
    feed = SwappableFeed()
    feed.set([flagged_entry("a", NOW - timedelta(hours=1)), plain_entry("b", NOW)])
    alerts = alerts_toml(smtp_port=smtp.port, webhook_url=webhook.url, common=QUIET)
    config = _feed_config(tmp_path, http_server, feed, alerts)
    for _ in range(2):
        result = run_monitor(config, "run", "--once", now=NOW_ISO)
        assert result.returncode == 0, result.stderr
    assert feed.hits == 2
    assert len(smtp.handler.delivered) == 1
    message = smtp.handler.delivered[0].message()
    assert "Telephone conversation" in str(message["Subject"])
    assert len(webhook.requests) == 1
    assert webhook.requests[0].verified
    body = json.loads(webhook.requests[0].body)
    assert body["id"] == webhook.requests[0].id
    assert message["Message-ID"] == f"<{_email_id(tmp_path)}@monitor.test>"
    assert body["kind"] == "item"
    assert body["possible_duplicate"] is False
    assert {r["state"] for r in _outbox(tmp_path / "monitor.db")} == {"sent"}


def _email_id(tmp_path: Path) -> str:
    rows = query(tmp_path / "monitor.db", "SELECT id FROM outbox WHERE channel = 'email'")
    return str(rows[0]["id"])


def _freeze(pid: int) -> None:
    """SIGSTOP `pid` and wait until the kernel reports it stopped (state T), so no reply
    written after this returns can be read by it before it dies."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("T", "t"):
            return
        time.sleep(0.005)


class _KillingReceiver(WebhookReceiver):
    """Freezes the sender (SIGSTOP) before answering 2xx and kills it (SIGKILL) after.

    The sender cannot run between our 2xx and its death, so the row it claimed is
    still `sending`: the exact window D3 is about, hit every time.
    """

    pid: int | None = None

    def _answer(self, received: Received) -> Reply:
        reply = super()._answer(received)
        if self.pid is not None and received.verified and 200 <= reply.status < 300:
            _freeze(self.pid)
        return reply


def test_delivery_kill_after_webhook_accepted_resends_once_with_same_id(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Killed after the receiver's 2xx: one re-send after restart, same id, possible duplicate."""
    now = datetime.now(UTC).replace(microsecond=0)
    feed = SwappableFeed()
    feed.set([flagged_entry("d3", now - timedelta(minutes=5))])
    receiver = _KillingReceiver(secret=SECRET)
    receiver.start()
    alerts = alerts_toml(webhook_url=receiver.url, common=QUIET)
    config = _feed_config(tmp_path, http_server, feed, alerts)
    daemon = start_monitor(config, "run")
    receiver.pid = daemon.pid
    try:

        def kill(_received: Received) -> None:
            receiver.pid = None
            daemon.kill()

        receiver.on_accept = kill
        daemon.wait(timeout=30)
        assert daemon.returncode == -signal.SIGKILL
        db = tmp_path / "monitor.db"
        assert integrity(db) == "ok"
        assert [r["state"] for r in _outbox(db)] == ["sending"]
        result = run_monitor(config, "run", "--once")
        assert result.returncode == 0, result.stderr
        again = run_monitor(config, "run", "--once")
        assert again.returncode == 0, again.stderr
    finally:
        _reap(daemon)
        receiver.stop()
    first, second = receiver.requests
    assert receiver.count_by_id() == Counter({first.id: 2})
    assert second.verified
    resent = json.loads(second.body)
    assert resent["possible_duplicate"] is True
    assert resent["attempt"] == 2
    assert json.loads(first.body)["possible_duplicate"] is False
    listed = json.loads(run_monitor(config, "alerts", "--json").stdout)
    assert [(r["id"], r["state"], r["possible_duplicate"]) for r in listed] == [
        (first.id, "sent", True)
    ]


@dataclass
class _KillingMailHandler(ScriptedHandler):
    """Freezes the sender before answering 250 to DATA, kills it a moment after."""

    pid: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        pid, self.pid = self.pid, None
        if pid is not None:
            _freeze(pid)
            asyncio.get_running_loop().call_later(0.3, os.kill, pid, signal.SIGKILL)
        return await super().handle_DATA(server, session, envelope)


def test_delivery_kill_after_mail_accepted_resends_once_with_same_message_id(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Killed after the mail server's 250: one re-send, same Message-ID, marked duplicate."""
    feed = SwappableFeed()
    feed.set([flagged_entry("mail", NOW - timedelta(minutes=5))])
    server = SmtpServer()
    handler = server.handler = _KillingMailHandler()
    with server:
        config = _feed_config(
            tmp_path, http_server, feed, alerts_toml(smtp_port=server.port, common=QUIET)
        )
        first = start_monitor(config, "run", "--once", now=NOW_ISO)
        handler.pid = first.pid
        try:
            first.wait(timeout=30)
        finally:
            _reap(first)
        assert first.returncode == -signal.SIGKILL
        assert [r["state"] for r in _outbox(tmp_path / "monitor.db")] == ["sending"]
        for _ in range(2):
            assert run_monitor(config, "run", "--once", now=NOW_ISO).returncode == 0
    original, resent = (d.message() for d in handler.delivered)
    assert original["Message-ID"] == resent["Message-ID"]
    assert (original["X-Monitor-Attempt"], resent["X-Monitor-Attempt"]) == ("1", "2")
    assert "possible duplicate" in str(resent["Subject"])
    assert "possible duplicate" not in str(original["Subject"])
    listed = json.loads(run_monitor(config, "alerts", "--json").stdout)
    assert [(r["state"], r["possible_duplicate"]) for r in listed] == [("sent", True)]


def test_delivery_mail_server_hanging_does_not_delay_the_webhook(
    tmp_path: Path, http_server: TestServer, raw_server_factory: object, webhook: WebhookReceiver
) -> None:
    """Daemon with a mail server that accepts and never answers: the webhook goes out at once."""
    smtp: RawServer = raw_server_factory(raw_hang)  # type: ignore[operator]
    now = datetime.now(UTC).replace(microsecond=0)
    feed = SwappableFeed()
    feed.set([flagged_entry("d7", now - timedelta(minutes=5))])
    alerts = alerts_toml(smtp_port=smtp.port, webhook_url=webhook.url, common=QUIET)
    # The email channel's timeout: a webhook queued behind the hung mail server would wait
    # all of it. The bound below leaves a loaded machine room to start the daemon.
    alerts = alerts.replace('timeout = "3s"', 'timeout = "60s"', 1)
    config = _feed_config(tmp_path, http_server, feed, alerts)
    started = time.monotonic()
    daemon = start_monitor(config, "run")
    try:
        assert _wait(lambda: webhook.requests, 40), "webhook never arrived"
        arrived_after = webhook.requests[0].at - started
        db = tmp_path / "monitor.db"
        assert _wait(lambda: _states(db).get("webhook:ops") == "sent", 5)
        assert _states(db).get("email") == "sending"
        # the email is marked sending before its connection is made
        assert _wait(lambda: smtp.accepted >= 1, 10), "the mail server never saw a connection"
    finally:
        daemon.kill()
        daemon.wait(timeout=10)
    assert arrived_after < 40, f"webhook waited {arrived_after:.1f} s behind a hung mail server"
    assert webhook.requests[0].verified


def test_delivery_sigterm_during_a_slow_webhook_send_finishes_it_once(
    tmp_path: Path, http_server: TestServer
) -> None:
    """SIGTERM while a webhook answer is pending: exit 0 within the grace, row sent, sent once."""
    now = datetime.now(UTC).replace(microsecond=0)
    feed = SwappableFeed()
    feed.set([flagged_entry("a4", now - timedelta(minutes=5))])
    with WebhookReceiver(secret=SECRET, default=Reply(status=204, delay=2.0)) as receiver:
        alerts = alerts_toml(webhook_url=receiver.url, common=QUIET)
        config = _feed_config(tmp_path, http_server, feed, alerts)
        daemon = start_monitor(config, "run")
        try:
            assert _wait(lambda: receiver.requests, 20), "webhook never arrived"
        finally:
            daemon.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            daemon.wait(timeout=30)
        took = time.monotonic() - stopping
        assert daemon.returncode == 0
        assert took < 12, f"shutdown took {took:.1f} s"
        assert _states(tmp_path / "monitor.db") == {"webhook:ops": "sent"}
        assert run_monitor(config, "run", "--once").returncode == 0
        assert len(receiver.requests) == 1


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Never leave a child behind, even when an assertion failed first."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def _states(db: Path) -> dict[str, str]:
    return {str(r["channel"]): str(r["state"]) for r in query(db, "SELECT * FROM outbox")}


STORM_ALERTS = f'notices = false\nbudget = 20\nbudget_window = "1h"\n{SEND_UPDATES}'


def _received_kinds(receiver: WebhookReceiver) -> Counter[str]:
    return Counter(json.loads(r.body)["kind"] for r in receiver.requests)


@pytest.mark.slow
def test_delivery_storm_of_500_flagged_items_is_budgeted_into_one_digest(
    tmp_path: Path, http_server: TestServer, smtp: SmtpServer, webhook: WebhookReceiver
) -> None:
    """500 new flagged items: `budget` alerts, the rest in one digest per channel; none lost."""
    feed = SwappableFeed()
    feed.set([plain_entry("calm", NOW)])
    alerts = alerts_toml(smtp_port=smtp.port, webhook_url=webhook.url, common=STORM_ALERTS)
    config = _feed_config(tmp_path, http_server, feed, alerts)
    assert run_monitor(config, "run", "--once", now=NOW_ISO).returncode == 0
    storm = [flagged_entry(f"s{n}", NOW) for n in range(500)]
    feed.set(storm)
    for moment in ("2026-11-26T12:01:00Z", "2026-11-26T13:00:30Z"):
        result = run_monitor(config, "run", "--once", now=moment, timeout=120)
        assert result.returncode == 0, result.stderr
    db = tmp_path / "monitor.db"
    for channel in ("email", "webhook:ops"):
        rows = query(db, "SELECT * FROM outbox WHERE channel = ?", (channel,))
        states = Counter((r["kind"], r["state"]) for r in rows)
        assert states == {("item", "sent"): 20, ("item", "folded"): 480, ("digest", "sent"): 1}
        digest_id = next(r["id"] for r in rows if r["kind"] == "digest")
        assert {r["digest_id"] for r in rows if r["state"] == "folded"} == {digest_id}
        assert len({r["item_id"] for r in rows if r["kind"] == "item"}) == 500
    assert webhook.count_by_id().most_common(1)[0][1] == 1
    assert _received_kinds(webhook) == {"item": 20, "digest": 1}
    digest = next(json.loads(r.body) for r in webhook.requests if b'"digest"' in r.body[:60])
    assert digest["count"] == 480
    assert digest["reason"] == "budget"
    folded = query(db, "SELECT id FROM outbox WHERE channel = 'webhook:ops' AND state = 'folded'")
    assert {i["alert_id"] for i in digest["items"]} == {r["id"] for r in folded}
    ids = message_ids(smtp.handler.delivered)
    assert len(ids) == 21 == len(set(ids))


def test_delivery_feed_rekeying_every_poll_does_not_realert(
    tmp_path: Path, http_server: TestServer, webhook: WebhookReceiver
) -> None:
    """Same items under new guids on every poll: alerts once, then one churn notice only."""

    def entries(round_: int) -> list[Entry]:
        return [flagged_entry(f"c{n}", NOW, guid=f"urn:r{round_}:{n}") for n in range(10)]

    feed = SwappableFeed()
    alerts = alerts_toml(webhook_url=webhook.url, common=SEND_UPDATES)
    config = _feed_config(tmp_path, http_server, feed, alerts)
    for round_, moment in enumerate(("12:00:00", "12:05:00", "12:10:00")):
        feed.set(entries(round_))
        result = run_monitor(config, "run", "--once", now=f"2026-11-26T{moment}Z")
        assert result.returncode == 0, result.stderr
    db = tmp_path / "monitor.db"
    assert query(db, "SELECT count(*) AS n FROM items")[0]["n"] == 30
    kinds = Counter(r["kind"] for r in query(db, "SELECT kind FROM outbox"))
    assert kinds["item"] == 10
    assert kinds["churn"] == 1
    received = _received_kinds(webhook)
    assert received["item"] == 10
    assert received["churn"] == 1
    assert webhook.count_by_id().most_common(1)[0][1] == 1


def test_delivery_rekeyed_items_with_a_fresh_timestamp_do_not_realert(
    tmp_path: Path, http_server: TestServer, webhook: WebhookReceiver
) -> None:
    """New guids every poll *and* a new timestamp in each text: alerted once, then silent."""

    def entries(round_: int, moment: str) -> list[Entry]:
        return [
            Entry(e.guid, e.title, f"{e.body} Updated at {moment}.", e.published)
            for e in (flagged_entry(f"c{n}", NOW, guid=f"urn:r{round_}:{n}") for n in range(8))
        ]

    feed = SwappableFeed()
    config = _feed_config(tmp_path, http_server, feed, alerts_toml(webhook_url=webhook.url))
    for round_, moment in enumerate(("12:00:00", "12:05:00", "12:10:00")):
        feed.set(entries(round_, moment))
        result = run_monitor(config, "run", "--once", now=f"2026-11-26T{moment}Z")
        assert result.returncode == 0, result.stderr
    db = tmp_path / "monitor.db"
    assert query(db, "SELECT count(*) AS n FROM items")[0]["n"] == 24
    kinds = Counter(r["kind"] for r in query(db, "SELECT kind FROM outbox"))
    assert kinds["item"] == 8
    assert kinds["churn"] == 1


def test_delivery_first_poll_item_dated_in_the_future_stays_silent(
    tmp_path: Path, http_server: TestServer, webhook: WebhookReceiver
) -> None:
    """On a feed's first poll, an item dated in 2100 is backlog (silent), not news."""
    feed = SwappableFeed()
    feed.set([flagged_entry("future", datetime(2100, 1, 1, tzinfo=UTC)), flagged_entry("now", NOW)])
    config = _feed_config(
        tmp_path, http_server, feed, alerts_toml(webhook_url=webhook.url, common=QUIET)
    )
    result = run_monitor(config, "run", "--once", now=NOW_ISO)
    assert result.returncode == 0, result.stderr
    alerted = query(
        tmp_path / "monitor.db",
        "SELECT i.title FROM outbox o JOIN items i ON i.id = o.item_id WHERE o.kind = 'item'",
    )
    assert [r["title"] for r in alerted] == [flagged_entry("now", NOW).title]
