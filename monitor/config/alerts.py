"""The [alerts] table of the configuration, validated into frozen values.

Every problem is added to `problems` with its key path (`alerts.webhooks[0].url`),
what is wrong and how to fix it; nothing here raises. Secrets are never in the file:
only environment variable names (`*_env`) or file paths (`*_file`), resolved at
send time (see `SecretRef`). A missing or empty [alerts] table gives a valid
configuration with no channels.

Settings shared by every channel (`min_score`, `give_up_after`, `timeout`, `digest`,
`budget`, `budget_window`, `notices`, `updates`) may be set in [alerts] as defaults and
overridden in [alerts.email] or one [[alerts.webhooks]] entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from monitor.config.channels import (
    CHANNEL_KEYS,
    ChannelPolicy,
    Reader,
    TomlTable,
    parse_policy,
    redacted_url,
)
from monitor.config.secrets import SecretRef
from monitor.errors import DeliveryError, Problems

SecurityMode = Literal["ssl", "starttls", "none"]  # how the SMTP connection is encrypted
WebhookFormat = Literal["json", "slack"]  # a signed JSON event, or a Slack message

_TOP_KEYS = CHANNEL_KEYS | {
    "backlog_hours",
    "health_failures",
    "health_hours",
    "retry_after_max",
    "email",
    "webhooks",
}
_EMAIL_KEYS = CHANNEL_KEYS | {
    "host",
    "port",
    "security",
    "username",
    "username_env",
    "username_file",
    "username_credential",
    "password_env",
    "password_file",
    "password_credential",
    "from",
    "to",
    "message_id_domain",
}
_WEBHOOK_KEYS = CHANNEL_KEYS | {
    "name",
    "url",
    "url_env",
    "url_file",
    "url_credential",
    "secret_env",
    "secret_file",
    "secret_credential",
    "format",
}
_SECURITY_PORTS: Final[Mapping[SecurityMode, int]] = MappingProxyType(
    {"ssl": 465, "starttls": 587, "none": 25}
)
_SECURITY_MODES: tuple[SecurityMode, ...] = ("ssl", "starttls", "none")
_FORMATS: tuple[WebhookFormat, ...] = ("json", "slack")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_LOOPBACK = re.compile(r"localhost|127(?:\.\d{1,3}){3}|\[::1\]")


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """The validated [alerts.email] table: server, sender, recipients and policy."""

    host: str
    port: int
    security: SecurityMode
    username: str | SecretRef | None
    password: SecretRef | None
    sender: str
    to: tuple[str, ...]
    message_id_domain: str
    policy: ChannelPolicy

    def redacted_dict(self) -> dict[str, object]:
        """The settings for `monitor config check`, secrets shown only as where they live."""
        user = self.username
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "username": user.describe() if isinstance(user, SecretRef) else user,
            "password": self.password.describe() if self.password else None,
            "from": self.sender,
            "to": list(self.to),
            "message_id_domain": self.message_id_domain,
            **self.policy.as_dict(),
        }


@dataclass(frozen=True, slots=True, repr=False)
class WebhookConfig:
    """One validated [[alerts.webhooks]] entry; its repr never shows a secret."""

    name: str
    url: str | SecretRef  # a SecretRef when the URL itself carries a token
    secret: SecretRef | None
    format: WebhookFormat
    policy: ChannelPolicy

    @property
    def channel(self) -> str:
        """The channel name in the outbox: "webhook:<name>"."""
        return f"webhook:{self.name}"

    def resolve_url(self) -> str:
        """The URL to post to, read from its secret when it is one."""
        return self.url.resolve() if isinstance(self.url, SecretRef) else self.url

    def shown_url(self) -> str:
        """The URL for logs and listings: query and credentials replaced by <redacted>."""
        return self.url.describe() if isinstance(self.url, SecretRef) else redacted_url(self.url)

    def __repr__(self) -> str:
        return f"WebhookConfig({self.redacted_dict()!r})"

    def redacted_dict(self) -> dict[str, object]:
        """The settings for `monitor config check`, the URL and secret redacted."""
        return {
            "name": self.name,
            "url": self.shown_url(),
            "format": self.format,
            "secret": self.secret.describe() if self.secret else None,
            **self.policy.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """The validated [alerts] table: shared thresholds and every channel."""

    min_score: float = 0.0
    backlog_hours: float = 48.0
    health_failures: int = 5
    health_hours: float = 24.0
    retry_after_max: float = 3600.0  # cap on a receiver's Retry-After, seconds
    email: EmailConfig | None = None
    webhooks: tuple[WebhookConfig, ...] = ()

    def channels(self) -> list[str]:
        """Channel names: "email" and "webhook:<name>", in configuration order."""
        names = ["email"] if self.email else []
        return names + [hook.channel for hook in self.webhooks]

    def channel(self, name: str) -> EmailConfig | WebhookConfig | None:
        """The configuration of the channel called `name`, or None if there is none."""
        if name == "email":
            return self.email
        return next((h for h in self.webhooks if h.channel == name), None)

    def policy(self, name: str) -> ChannelPolicy | None:
        """The delivery policy of the channel called `name`, or None if there is none."""
        config = self.channel(name)
        return config.policy if config else None

    def missing_secrets(self, name: str) -> list[str]:
        """Why the channel's secrets cannot be read now (unset variable, missing file)."""
        config = self.channel(name)
        if isinstance(config, EmailConfig):
            refs = [config.username, config.password]
        elif isinstance(config, WebhookConfig):
            refs = [config.url, config.secret]
        else:
            refs = []
        problems: list[str] = []
        for ref in refs:
            if isinstance(ref, SecretRef):
                try:
                    ref.resolve()
                except DeliveryError as exc:
                    problems.append(exc.message)
        return problems

    def redacted_dict(self) -> dict[str, object]:
        """Everything for `monitor config check`, secrets shown only as where they live."""
        return {
            "min_score": self.min_score,
            "backlog_hours": self.backlog_hours,
            "health_failures": self.health_failures,
            "health_hours": self.health_hours,
            "retry_after_max": self.retry_after_max,
            "email": self.email.redacted_dict() if self.email else None,
            "webhooks": [hook.redacted_dict() for hook in self.webhooks],
        }


def parse_alerts(table: object, problems: Problems, base_dir: Path) -> AlertsConfig:
    """Validate the [alerts] table; every problem goes to `problems`, never raised."""
    read = Reader(problems, base_dir)
    if not isinstance(table, dict):
        problems.add("alerts", "must be a table", "write it as [alerts]")
        return AlertsConfig()
    read.unknown(table, _TOP_KEYS, "alerts.")
    defaults = parse_policy(table, ChannelPolicy(), "alerts.", read)
    d = AlertsConfig()
    return AlertsConfig(
        min_score=defaults.min_score,
        backlog_hours=read.number(table, "backlog_hours", d.backlog_hours, "alerts.", low=0),
        health_failures=int(read.integer(table, "health_failures", d.health_failures, "alerts.")),
        health_hours=read.number(table, "health_hours", d.health_hours, "alerts.", low=0),
        retry_after_max=read.duration(table, "retry_after_max", "1h", "alerts."),
        email=_email(table.get("email"), defaults, read),
        webhooks=_webhooks(table.get("webhooks"), defaults, read),
    )


def _email(raw: object, defaults: ChannelPolicy, read: Reader) -> EmailConfig | None:
    if raw is None:
        return None
    p = "alerts.email."
    if not isinstance(raw, dict):
        read.problems.add("alerts.email", "must be a table", "write it as [alerts.email]")
        return None
    read.unknown(raw, _EMAIL_KEYS, p, env_hint="password_env")
    security = read.choice(raw, "security", _SECURITY_MODES, "starttls", p)
    host = read.string(raw, "host", "", p)
    if not _HOST.fullmatch(host):
        read.problems.add(
            f"{p}host", f"must be a host name, not {host!r}", 'set host = "smtp.example.org"'
        )
    sender = _address(read.string(raw, "from", "", p), f"{p}from", read)
    password = read.secret(raw, "password", p)
    if password and security == "none" and not _LOOPBACK.fullmatch(host):
        read.problems.add(
            f"{p}security",
            "a password would travel unencrypted",
            'set security = "starttls" or "ssl"',
        )
    return EmailConfig(
        host=host,
        port=int(read.integer(raw, "port", _SECURITY_PORTS[security], p, low=1, high=65535)),
        security=security,
        username=_username(raw, read),
        password=password,
        sender=sender,
        to=_recipients(raw.get("to"), read),
        message_id_domain=_domain(read.string(raw, "message_id_domain", "monitor.local", p), read),
        policy=parse_policy(raw, defaults, p, read),
    )


def _username(raw: TomlTable, read: Reader) -> str | SecretRef | None:
    p = "alerts.email."
    ref = read.secret(raw, "username", p)
    plain = read.string(raw, "username", "", p)
    if ref and plain:
        read.problems.add(f"{p}username", "set both as text and via _env/_file", "keep one of them")
    has_password = any(raw.get(f"password_{how}") for how in ("env", "file", "credential"))
    if has_password and not (ref or plain):
        read.problems.add(
            f"{p}password_env",
            "a password needs a username",
            'set username_env = "MONITOR_SMTP_USER" (or username)',
        )
    return ref or plain or None


def _recipients(raw: object, read: Reader) -> tuple[str, ...]:
    key = "alerts.email.to"
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        read.problems.add(
            key, "must be a non-empty list of addresses", 'set to = ["analyst@example.org"]'
        )
        return ()
    addresses = [
        _address(v if isinstance(v, str) else repr(v), f"{key}[{i}]", read)
        for i, v in enumerate(raw)
    ]
    return tuple(dict.fromkeys(a for a in addresses if a))


def _address(value: str, key: str, read: Reader) -> str:
    if not _ADDRESS.fullmatch(value):
        read.problems.add(
            key,
            f"must be a plain address like name@example.org, not {value!r}",
            "write only the address, without a display name",
        )
        return ""
    return value


def _domain(value: str, read: Reader) -> str:
    if not _HOST.fullmatch(value) or value.startswith("["):
        read.problems.add(
            "alerts.email.message_id_domain",
            f"must be a host name, not {value!r}",
            'set message_id_domain = "monitor.example.org"',
        )
        return "monitor.local"
    return value


def _webhooks(raw: object, defaults: ChannelPolicy, read: Reader) -> tuple[WebhookConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        read.problems.add(
            "alerts.webhooks", "must be an array of tables", "write each as [[alerts.webhooks]]"
        )
        return ()
    hooks = [_webhook(entry, i, defaults, read) for i, entry in enumerate(raw)]
    seen: set[str] = set()
    for i, hook in enumerate(hooks):
        if hook and hook.name in seen:
            read.problems.add(
                f"alerts.webhooks[{i}].name",
                f"duplicate name {hook.name!r}",
                "give every webhook its own name",
            )
        if hook:
            seen.add(hook.name)
    return tuple(h for h in hooks if h)


def _webhook(
    raw: object, index: int, defaults: ChannelPolicy, read: Reader
) -> WebhookConfig | None:
    p = f"alerts.webhooks[{index}]."
    if not isinstance(raw, dict):
        read.problems.add(p[:-1], "must be a table", "write it as [[alerts.webhooks]]")
        return None
    read.unknown(raw, _WEBHOOK_KEYS, p, env_hint="secret_env")
    name = read.string(raw, "name", "", p)
    if not _NAME.fullmatch(name):
        read.problems.add(
            f"{p}name",
            f"must be 1-40 letters, digits, '.', '_' or '-', not {name!r}",
            'set name = "ops"',
        )
    fmt = read.choice(raw, "format", _FORMATS, "json", p)
    secret = read.secret(raw, "secret", p)
    if fmt == "json" and secret is None:
        read.problems.add(
            f"{p}secret_env",
            "a json webhook must be signed",
            'set secret_env = "MONITOR_WEBHOOK_SECRET" (a whsec_... secret)',
        )
    return WebhookConfig(
        name=name,
        url=_url(raw, p, read),
        secret=secret,
        format=fmt,
        policy=parse_policy(raw, defaults, p, read),
    )


def _url(raw: TomlTable, p: str, read: Reader) -> str | SecretRef:
    ref = read.secret(raw, "url", p)
    plain = read.string(raw, "url", "", p)
    if ref and plain:
        read.problems.add(
            f"{p}url", "set both as text and via url_env/url_file", "keep one of them"
        )
    if ref:
        return ref
    match = re.fullmatch(r"(https?)://([^/?#@\s]+?)(?::\d+)?(?:[/?#]\S*)?", plain)
    if not match:
        read.problems.add(
            f"{p}url",
            f"must be an http(s) URL, not {redacted_url(plain)!r}",
            'set url = "https://hooks.example.org/monitor"',
        )
    elif match.group(1) == "http" and not _LOOPBACK.fullmatch(match.group(2)):
        read.problems.add(
            f"{p}url",
            "must use https (plain http only for localhost)",
            "use the receiver's https:// URL",
        )
    return plain
