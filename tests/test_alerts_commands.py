"""`monitor alerts` list, test and retry, run through click against a real store and servers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from monitor.alerts.dispatch import dispatch_due
from monitor.cli.alerts import alerts
from monitor.clock import iso
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
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import Reply, WebhookReceiver


@dataclass
class _Config:
    alerts: AlertsConfig


class _App:
    """The parts of monitor.app.App the alerts commands use, over real parts."""

    def __init__(self, config: AlertsConfig, store: Store, fetcher: Fetcher) -> None:
        self._config, self._store, self._fetcher = _Config(config), store, fetcher
        self.clock = NOW

    def config(self) -> _Config:
        return self._config

    def store(self, *, create: bool = True) -> Store:
        return self._store

    def fetcher(self) -> Fetcher:
        return self._fetcher

    def now(self) -> datetime:
        return self.clock


pytestmark = pytest.mark.usefixtures("alert_env")


def _run(app: _App, *args: str) -> Result:
    return CliRunner().invoke(alerts, list(args), obj=app)


def test_commands_list_strips_controls_and_marks_duplicates(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """The list shows each row once, titles without escape sequences, `*` on possible duplicates."""
    config = alerts_config(webhook_toml(receiver.url))
    (row_id,) = queue_item(store, config, title="Evil \x1b]0;pwned\x07title\x1b[2J here")
    outbox.claim_next(store, "webhook:ops", iso(NOW))
    outbox.recover_sending(store, iso(NOW))
    result = _run(_App(config, store, fetcher))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert row_id in result.output
    assert "pending*" in result.output


def test_commands_list_json_and_status_filter(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """--json gives one array; --status filters by state."""
    config = alerts_config(webhook_toml(receiver.url))
    queue_item(store, config)
    queue_item(store, config, title="Second")
    app = _App(config, store, fetcher)
    rows = json.loads(_run(app, "--json").output)
    assert len(rows) == 2
    assert {r["state"] for r in rows} == {"pending"}
    assert set(rows[0]) >= {
        "id",
        "channel",
        "kind",
        "item_title",
        "state",
        "attempts",
        "next_attempt",
        "last_error",
        "possible_duplicate",
    }
    assert "no alerts in state dead" in _run(app, "--status", "dead").output


def test_commands_test_reports_receiver_answer(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """`alerts test` sends at once and prints the receiver's answer; 404 fails with exit 1."""
    app = _App(alerts_config(webhook_toml(receiver.url)), store, fetcher)
    ok = _run(app, "test", "webhook:ops")
    assert ok.exit_code == 0
    assert "webhook:ops: ok (HTTP 204)" in ok.output
    receiver.replies.append(Reply(404, body=b"no such hook"))
    bad = _run(app, "test")
    assert bad.exit_code == 1
    assert "HTTP 404" in bad.output
    assert "no such hook" in bad.output
    assert all(r.verified for r in receiver.requests)
    assert outbox_rows(store) == []


def test_commands_test_email_and_unknown_channel(store: Store, fetcher: Fetcher) -> None:
    """The email test goes through the real server; an unknown channel is a usage error."""
    with SmtpServer() as smtp:
        app = _App(alerts_config(email_toml(smtp.port)), store, fetcher)
        result = _run(app, "test", "email")
        assert result.exit_code == 0
        assert "accepted for 1 of 1" in result.output
        assert len(smtp.handler.delivered) == 1
        assert _run(app, "test", "webhook:nope").exit_code == 2


def test_commands_retry_dead_and_by_id(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """retry --dead and retry ID put rows back to pending now; an unknown id exits 1."""
    config = alerts_config(webhook_toml(receiver.url))
    ids = queue_item(store, config) + queue_item(store, config, title="Two")
    receiver.fail(2, 410)
    dispatch_due(store, config, fetcher, NOW)
    assert {r["state"] for r in outbox_rows(store)} == {"dead"}
    app = _App(config, store, fetcher)
    app.clock = NOW + timedelta(hours=1)
    assert "1 alert(s) queued again" in _run(app, "retry", ids[0]).output
    assert "1 dead alert(s) queued again" in _run(app, "retry", "--dead").output
    rows = outbox_rows(store)
    assert {r["state"] for r in rows} == {"pending"}
    assert {r["next_attempt"] for r in rows} == {iso(app.clock)}
    assert _run(app, "retry", "nope").exit_code == 1
    assert _run(app, "retry").exit_code == 2


def test_commands_output_never_shows_secrets(store: Store, fetcher: Fetcher) -> None:
    """Listing failed rows shows no SMTP password, webhook secret or URL token."""
    with SmtpServer(credentials=("monitor", "wrong")) as smtp:
        extra = 'username_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"'
        url = f"http://127.0.0.1:9/hook?token={URL_TOKEN}"
        config = alerts_config(email_toml(smtp.port, extra=extra) + webhook_toml(url))
        queue_item(store, config)
        app = _App(config, store, fetcher)
        tested = _run(app, "test")
        dispatch_due(store, config, fetcher, NOW)
    listed = _run(app).output + _run(app, "--json").output
    for secret in (SMTP_PASSWORD, URL_TOKEN, SECRET):
        assert secret not in listed
        assert secret not in tested.output
    assert "535" in listed
    assert tested.exit_code == 1
