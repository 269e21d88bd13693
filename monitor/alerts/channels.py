"""One delivery attempt over SMTP or HTTP; its outcome is a value, never an exception.

Outcome rules (documented in the README):
- Email: every recipient accepted -> delivered. A 4xx refusal of some recipients ->
  retry, later attempts go only to those (`remaining`); a 5xx refusal -> that
  recipient is refused for good (`refused`), the others still count; all refused
  for good -> permanent. 4xx replies to MAIL/DATA -> retry, 5xx -> permanent; 535
  (login rejected) -> permanent with a hint. Connection errors and timeouts -> retry
  (a timeout or disconnect during the transaction may mean the mail went out:
  `maybe_delivered`). smtplib debug output is never enabled: it prints the AUTH
  exchange.
- Webhook: 2xx delivered; 410 permanent (endpoint gone); 3xx a failure, never
  followed, retried; 408, 429 and 5xx retried, honouring Retry-After up to a cap;
  other 4xx permanent; timeouts (`maybe_delivered`) and connection errors retried;
  a URL refused by the network policy is permanent.
Error texts never carry a secret: no URL queries, no credentials, no server echo of
the login exchange.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Final, Protocol

from monitor.alerts.payload import Payload, webhook_body
from monitor.alerts.render import email_bytes, render_email, render_slack
from monitor.config.alerts import AlertsConfig, EmailConfig, WebhookConfig
from monitor.config.secrets import SecretRef
from monitor.errors import DeliveryError, FetchError
from monitor.fetch.timing import parse_retry_after
from monitor.parse.text import one_line

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


class WebhookPoster(Protocol):
    """What `monitor.fetch.client.Fetcher` offers for webhooks: POST, no redirects, a deadline."""

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        """POST `body` to `url`; the status, the headers and the body of the answer."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt came to, as the outbox records it."""

    delivered: bool
    permanent: bool = False
    error: str = ""  # for the row and the operator; never a secret
    answer: str = ""  # the receiver's own answer, for `monitor alerts test`
    retry_after: float | None = None  # seconds, already capped
    maybe_delivered: bool = False  # the receiver may have taken it before we lost the answer
    remaining: tuple[str, ...] = ()  # email: recipients still to try
    refused: dict[str, str] = field(default_factory=dict)  # email: refused for good


def deliver(
    alerts: AlertsConfig,
    channel: str,
    document: Payload,
    poster: WebhookPoster,
    now: datetime,
    *,
    recipients: tuple[str, ...] | None = None,
    clock: Callable[[], float] = time.time,
) -> Outcome:
    """One attempt to send `document` (an envelope) through `channel`."""
    config = alerts.channel(channel)
    if config is None:
        return Outcome(False, error=f"channel {channel} is not configured")
    try:
        if isinstance(config, EmailConfig):
            return send_email(config, document, recipients or config.to, now)
        return send_webhook(config, document, poster, alerts.retry_after_max, clock=clock)
    except DeliveryError as exc:
        return Outcome(False, permanent=exc.permanent, error=exc.message)


def send_email(
    cfg: EmailConfig, document: Payload, recipients: tuple[str, ...], now: datetime
) -> Outcome:
    """One SMTP session delivering `document` to `recipients`; refusals per recipient."""
    data = email_bytes(
        render_email(
            document, sender=cfg.sender, to=cfg.to, message_id_domain=cfg.message_id_domain, now=now
        )
    )
    credentials = _credentials(cfg)
    phase = "connect"
    try:
        with _connect(cfg) as smtp:
            if credentials:
                phase = "login"
                smtp.login(*credentials)
            phase = "send"
            refused = smtp.sendmail(cfg.sender, list(recipients), data)
    except smtplib.SMTPException as exc:
        return _smtp_failure(exc, recipients, phase)
    except ssl.SSLCertVerificationError:
        return Outcome(False, permanent=True, error=f"the certificate of {cfg.host} is not trusted")
    except OSError as exc:
        what = "timed out" if isinstance(exc, TimeoutError) else "connection failed"
        error = f"mail server {cfg.host}:{cfg.port}: {what} ({type(exc).__name__})"
        return Outcome(False, error=error, maybe_delivered=phase == "send")
    return _recipient_outcome(recipients, refused, accepted_any=True)


def _credentials(cfg: EmailConfig) -> tuple[str, str] | None:
    if cfg.password is None:
        return None
    user = cfg.username
    name = user.resolve() if isinstance(user, SecretRef) else (user or "")
    return name, cfg.password.resolve()


def _connect(cfg: EmailConfig) -> smtplib.SMTP:
    timeout = cfg.policy.timeout
    if cfg.security == "ssl":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
    try:
        if cfg.security == "starttls":
            smtp.ehlo()
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


def _smtp_failure(exc: smtplib.SMTPException, recipients: tuple[str, ...], phase: str) -> Outcome:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Outcome(
            False,
            permanent=True,
            error=(
                f"mail server rejected the login ({exc.smtp_code}): check the user name and "
                "password named by alerts.email.username_env/password_env"
            ),
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipient_outcome(recipients, exc.recipients, accepted_any=False)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Outcome(
            False,
            permanent=True,
            error=f"mail server does not support what alerts.email asks: {exc}",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"mail server answered {exc.smtp_code} {_reply(exc.smtp_error)}"
        return Outcome(False, permanent=exc.smtp_code >= 500, error=text)
    detail = one_line(str(exc), 120) or type(exc).__name__
    return Outcome(False, error=f"mail server: {detail}", maybe_delivered=phase == "send")


def _recipient_outcome(
    recipients: tuple[str, ...], refused: dict[str, tuple[int, bytes]], *, accepted_any: bool
) -> Outcome:
    later = tuple(r for r, (code, _) in refused.items() if 400 <= code < 500)
    lost = {r: f"{code} {_reply(text)}" for r, (code, text) in refused.items() if r not in later}
    accepted = [r for r in recipients if r not in refused]
    answer = f"accepted for {len(accepted)} of {len(recipients)} recipient(s)"
    if not refused:
        return Outcome(True, answer=answer)
    parts = [f"{r} refused for now ({refused[r][0]})" for r in later]
    parts += [f"{r} refused for good ({reply})" for r, reply in lost.items()]
    error = "; ".join(parts)
    if later:
        return Outcome(False, error=error, answer=answer, remaining=later, refused=lost)
    delivered = accepted_any and bool(accepted)
    return Outcome(delivered, permanent=not delivered, error=error, answer=answer, refused=lost)


def _reply(text: bytes | str) -> str:
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return one_line(raw, 200)


def send_webhook(
    hook: WebhookConfig,
    document: Payload,
    poster: WebhookPoster,
    retry_after_max: float,
    *,
    clock: Callable[[], float] = time.time,
) -> Outcome:
    """One signed POST of `document` to the webhook, judged by the receiver's status."""
    url = hook.resolve_url()
    if hook.format == "slack":
        body = json.dumps(render_slack(document), ensure_ascii=False).encode("utf-8")
    else:
        body = webhook_body(document)
    headers = signed_headers(hook, str(document["id"]), int(clock()), body)
    try:
        status, answer_headers, answer = poster.post(url, body, headers, hook.policy.timeout)
    except FetchError as exc:
        return _transport_failure(hook, exc)
    lowered = {k.lower(): v for k, v in answer_headers.items()}
    retry_after = parse_retry_after(lowered.get("retry-after"), clock(), retry_after_max)
    return _status_outcome(
        hook, status, retry_after, one_line(answer.decode("utf-8", "replace"), 200)
    )


def signed_headers(
    hook: WebhookConfig, alert_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Standard Webhooks headers; the signature only when the hook has a secret."""
    headers = {
        "content-type": "application/json",
        "webhook-id": alert_id,
        "webhook-timestamp": str(timestamp),
    }
    if hook.secret is not None:
        key = signing_key(hook.secret.resolve(), hook.secret.key)
        headers["webhook-signature"] = sign(key, alert_id, timestamp, body)
    return headers


def signing_key(secret: str, key_name: str) -> bytes:
    """The HMAC key: base64 after an optional `whsec_` prefix, as Standard Webhooks says."""
    text = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise DeliveryError(f"{key_name}: the secret is not base64 (whsec_... form)") from None
    if len(key) < 16:
        raise DeliveryError(f"{key_name}: the secret is shorter than 16 bytes")
    return key


def sign(key: bytes, alert_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature (`v1,` + base64 HMAC-SHA256 of id.timestamp.body)."""
    signed = f"{alert_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


_TRANSPORT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "timeout": "no complete answer within the deadline",
        "dns": "cannot resolve the host",
        "connect": "cannot connect",
        "tls": "TLS failure",
        "protocol": "broken HTTP exchange",
        "blocked": "refused by the network policy (not a public address, or not http(s))",
    }
)


def _transport_failure(hook: WebhookConfig, exc: FetchError) -> Outcome:
    kind = str(exc.kind)
    what = _TRANSPORT.get(kind, kind)
    error = f"webhook {hook.name} ({hook.shown_url()}): {what}"
    return Outcome(
        False,
        permanent=kind == "blocked",
        error=error,
        maybe_delivered=kind in ("timeout", "protocol"),
    )


def _status_outcome(
    hook: WebhookConfig, status: int, retry_after: float | None, answer: str
) -> Outcome:
    said = f"HTTP {status}" + (f": {answer}" if answer else "")
    if 200 <= status < 300:
        return Outcome(True, answer=said)
    where = f"webhook {hook.name} answered HTTP {status}"
    if status == 410:
        return Outcome(
            False,
            permanent=True,
            answer=said,
            error=f"{where} (gone): remove or update the webhook",
        )
    if 300 <= status < 400:
        return Outcome(
            False,
            answer=said,
            retry_after=retry_after,
            error=f"{where} (redirect, not followed): update the webhook url",
        )
    if status in (408, 429) or status >= 500:
        return Outcome(False, answer=said, retry_after=retry_after, error=where)
    return Outcome(False, permanent=400 <= status < 500, answer=said, error=where)
