"""One delivery attempt against a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

import json
import logging
import time

import pytest

from monitor.alerts.channels import Outcome, deliver, sign, signing_key
from monitor.alerts.payload import build_test_payload, envelope
from monitor.config.alerts import AlertsConfig
from monitor.errors import DeliveryError
from monitor.fetch.client import Fetcher
from monitor.models import FetchSettings
from tests.alerts_fixtures import (
    NOW,
    SECRET,
    SMTP_PASSWORD,
    URL_TOKEN,
    alerts_config,
    email_toml,
    webhook_toml,
)
from tests.servers import RawServer, raw_reset_after_request
from tests.smtp_server import SmtpServer, free_port
from tests.webhook_receiver import Reply, WebhookReceiver

pytestmark = pytest.mark.usefixtures("alert_env")


def _doc(alert_id: str = "a1b2c3") -> dict[str, object]:
    return envelope(build_test_payload("x"), alert_id, 1, False, "2026-11-26T12:00:00Z")


def _send(config: AlertsConfig, channel: str, fetcher: Fetcher, **kw: object) -> Outcome:
    return deliver(config, channel, _doc(), fetcher, NOW, **kw)  # type: ignore[arg-type]


def _two(port: int) -> AlertsConfig:
    return alerts_config(email_toml(port, to='["good@example.test", "bad@example.test"]'))


def test_channels_email_accepted(smtp: SmtpServer, fetcher: Fetcher) -> None:
    """An accepted message is delivered once, with the Message-ID built from the alert id."""
    outcome = _send(alerts_config(email_toml(smtp.port)), "email", fetcher)
    assert outcome.delivered
    assert not outcome.error
    (got,) = smtp.handler.delivered
    assert got.rcpt_tos == ["a@example.test"]
    assert got.message()["Message-ID"] == "<a1b2c3@monitor.local>"


def test_channels_email_451_then_accept(smtp: SmtpServer, fetcher: Fetcher) -> None:
    """A 4xx recipient refusal is retryable and the retry goes to that recipient only."""
    smtp.handler.rcpt_plan["bad@example.test"] = [451]
    config = _two(smtp.port)
    first = _send(config, "email", fetcher)
    assert not first.delivered
    assert not first.permanent
    assert first.remaining == ("bad@example.test",)
    second = _send(config, "email", fetcher, recipients=first.remaining)
    assert second.delivered
    assert [d.rcpt_tos for d in smtp.handler.delivered] == [
        ["good@example.test"],
        ["bad@example.test"],
    ]


def test_channels_email_550_for_one_recipient(smtp: SmtpServer, fetcher: Fetcher) -> None:
    """sendmail's partial refusal is not success for the refused one: it is recorded."""
    smtp.handler.rcpt_plan["bad@example.test"] = [550]
    outcome = _send(_two(smtp.port), "email", fetcher)
    assert outcome.delivered
    assert outcome.remaining == ()
    assert list(outcome.refused) == ["bad@example.test"]
    assert "550" in outcome.refused["bad@example.test"]
    assert "bad@example.test" in outcome.error


def test_channels_email_all_recipients_550_is_permanent(smtp: SmtpServer, fetcher: Fetcher) -> None:
    """Every recipient refused for good: a permanent failure."""
    smtp.handler.rcpt_plan["good@example.test"] = [550]
    smtp.handler.rcpt_plan["bad@example.test"] = [550]
    outcome = _send(_two(smtp.port), "email", fetcher)
    assert not outcome.delivered
    assert outcome.permanent
    assert not smtp.handler.delivered


def test_channels_email_554_on_data_is_permanent(smtp: SmtpServer, fetcher: Fetcher) -> None:
    """DATA refused with 554: permanent; 451 on DATA: retry."""
    smtp.handler.data_plan[:] = [554, 451]
    config = alerts_config(email_toml(smtp.port))
    first = _send(config, "email", fetcher)
    assert not first.delivered
    assert first.permanent
    assert "554" in first.error
    second = _send(config, "email", fetcher)
    assert not second.delivered
    assert not second.permanent
    assert "451" in second.error


def test_channels_email_auth_rejected_is_permanent_without_secret(
    fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected login (535) is permanent, says what to check, and never shows the password."""
    caplog.set_level(logging.DEBUG)
    with SmtpServer(credentials=("monitor", "other-password")) as server:
        extra = 'username_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"'
        outcome = _send(alerts_config(email_toml(server.port, extra=extra)), "email", fetcher)
        assert server.handler.logins  # the password really went to the server
    assert not outcome.delivered
    assert outcome.permanent
    assert "535" in outcome.error
    assert "password" in outcome.error
    assert SMTP_PASSWORD not in outcome.error
    assert SMTP_PASSWORD not in caplog.text


def test_channels_email_auth_accepted(fetcher: Fetcher) -> None:
    """With the right credentials the message goes through an authenticated session."""
    with SmtpServer(credentials=("monitor", SMTP_PASSWORD)) as server:
        extra = 'username_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"'
        outcome = _send(alerts_config(email_toml(server.port, extra=extra)), "email", fetcher)
        assert outcome.delivered
        assert len(server.handler.delivered) == 1


def test_channels_email_server_down_is_retryable(fetcher: Fetcher) -> None:
    """No server listening: a retryable failure that cannot have been delivered."""
    outcome = _send(alerts_config(email_toml(free_port())), "email", fetcher)
    assert not outcome.delivered
    assert not outcome.permanent
    assert not outcome.maybe_delivered
    assert "connection failed" in outcome.error


def test_channels_webhook_signed_and_accepted(receiver: WebhookReceiver, fetcher: Fetcher) -> None:
    """A 2xx answer is success; the receiver verified the Standard Webhooks signature."""
    outcome = _send(alerts_config(webhook_toml(receiver.url)), "webhook:ops", fetcher)
    assert outcome.delivered
    assert outcome.answer == "HTTP 204"
    (got,) = receiver.requests
    assert got.verified
    assert got.id == "a1b2c3"
    assert json.loads(got.body)["id"] == "a1b2c3"


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        (Reply(410), True),
        (Reply(404), True),
        (Reply(400), True),
        (Reply(302, {"location": "http://127.0.0.1:9/"}), False),
        (Reply(500), False),
        (Reply(503), False),
        (Reply(408), False),
    ],
)
def test_channels_webhook_status_classes(
    receiver: WebhookReceiver, fetcher: Fetcher, reply: Reply, permanent: bool
) -> None:
    """410 and other 4xx are permanent; 3xx (never followed), 408 and 5xx are retried."""
    receiver.replies.append(reply)
    outcome = _send(alerts_config(webhook_toml(receiver.url)), "webhook:ops", fetcher)
    assert not outcome.delivered
    assert outcome.permanent is permanent
    assert f"HTTP {reply.status}" in outcome.error
    assert len(receiver.requests) == 1  # a redirect is not followed


def test_channels_webhook_retry_after_is_capped(
    receiver: WebhookReceiver, fetcher: Fetcher
) -> None:
    """429 with Retry-After is retried after that delay, capped by retry_after_max."""
    config = alerts_config('[alerts]\nretry_after_max = "10m"\n' + webhook_toml(receiver.url))
    receiver.replies += [Reply(429, {"Retry-After": "120"}), Reply(429, {"Retry-After": "99999"})]
    first = _send(config, "webhook:ops", fetcher)
    second = _send(config, "webhook:ops", fetcher)
    assert (first.retry_after, second.retry_after) == (120.0, 600.0)
    assert not first.permanent
    assert not second.permanent


def test_channels_webhook_hang_past_deadline(receiver: WebhookReceiver, fetcher: Fetcher) -> None:
    """A receiver that answers after the deadline: retryable, and maybe delivered."""
    receiver.replies.append(Reply(200, delay=2.0))
    config = alerts_config(webhook_toml(receiver.url, extra="").replace('"2s"', '"1s"'))
    started = time.monotonic()
    outcome = _send(config, "webhook:ops", fetcher)
    assert time.monotonic() - started < 1.8
    assert not outcome.delivered
    assert not outcome.permanent
    assert outcome.maybe_delivered


def test_channels_webhook_reset_after_the_request_is_maybe_delivered(fetcher: Fetcher) -> None:
    """A connection reset once the receiver read the whole request: retried, marked as
    possibly delivered, and not reported as "cannot connect"."""
    received: list[bytes] = []
    server = RawServer(raw_reset_after_request(received))
    try:
        outcome = _send(alerts_config(webhook_toml(server.url("/hook"))), "webhook:ops", fetcher)
    finally:
        server.close()
    assert received
    assert json.loads(received[0])["id"] == "a1b2c3"
    assert not outcome.delivered
    assert not outcome.permanent
    assert outcome.maybe_delivered
    assert "cannot connect" not in outcome.error


def test_channels_webhook_policy_blocks_private_address(receiver: WebhookReceiver) -> None:
    """The fetch network policy applies: a loopback URL is refused for good by default."""
    with Fetcher(FetchSettings()) as strict:
        outcome = _send(alerts_config(webhook_toml(receiver.url)), "webhook:ops", strict)
    assert outcome.permanent
    assert "network policy" in outcome.error
    assert not receiver.requests


def test_channels_webhook_url_token_never_in_errors(
    fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    """A token in the webhook URL's query stays out of errors and logs."""
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}/hook?token={URL_TOKEN}"
    outcome = _send(alerts_config(webhook_toml(url)), "webhook:ops", fetcher)
    assert not outcome.delivered
    assert "cannot connect" in outcome.error
    assert URL_TOKEN not in outcome.error
    assert URL_TOKEN not in caplog.text


def test_channels_slack_format_body(fetcher: Fetcher) -> None:
    """format = "slack" posts {"text": ...}, still with webhook-id headers."""
    with WebhookReceiver(None) as plain:
        toml = f'[[alerts.webhooks]]\nname = "chat"\nurl = "{plain.url}"\nformat = "slack"\n'
        outcome = _send(alerts_config(toml), "webhook:chat", fetcher)
    assert outcome.delivered
    (got,) = plain.requests
    assert set(json.loads(got.body)) == {"text"}
    assert got.id == "a1b2c3"
    assert "webhook-signature" not in got.headers


def test_channels_signature_matches_reference_library() -> None:
    """Our v1 signature equals what the standardwebhooks library computes."""
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    body = b'{"x":"\xc3\xa9"}'
    ours = sign(signing_key(SECRET, "k"), "msg_1", 1_700_000_000, body)
    theirs = Webhook(SECRET).sign(
        "msg_1", datetime.fromtimestamp(1_700_000_000, UTC), body.decode()
    )
    assert ours == theirs


def test_channels_bad_secret_is_reported_not_leaked(
    receiver: WebhookReceiver, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret that is not base64 fails the attempt (retryable) without echoing it."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "whsec_not*base64!")
    outcome = _send(alerts_config(webhook_toml(receiver.url)), "webhook:ops", fetcher)
    assert not outcome.delivered
    assert not outcome.permanent
    assert "not base64" in outcome.error
    assert "not*base64" not in outcome.error
    with pytest.raises(DeliveryError):
        signing_key("dG9vc2hvcnQ=", "k")  # 8 bytes: too short to sign with
