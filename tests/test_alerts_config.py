"""The [alerts] table: validation, defaults, and secrets kept out of every dump."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.config.alerts import parse_alerts
from monitor.errors import DeliveryError, Problems
from tests.alerts_fixtures import alerts_config

FULL = """
[alerts]
min_score = 1.5
backlog_hours = 24
health_failures = 3
health_hours = 12
budget = 10
budget_window = "30m"

[alerts.email]
host = "smtp.example.org"
port = 587
security = "starttls"
username_env = "MONITOR_SMTP_USER"
password_env = "MONITOR_SMTP_PASSWORD"
from = "monitor@example.org"
to = ["analyst@example.org", "desk@example.org"]
min_score = 4
digest = "1d"

[[alerts.webhooks]]
name = "ops"
url = "https://hooks.example.org/monitor?token=SECRET123token"
secret_env = "MONITOR_WEBHOOK_SECRET"
format = "json"
give_up_after = "2d"

[[alerts.webhooks]]
name = "chat"
url_file = "chat-url.txt"
format = "slack"
"""


def _problems(text: str) -> list[str]:
    problems = Problems("m.toml")
    parse_alerts(tomllib.loads(text).get("alerts", {}), problems, Path("/etc/monitor"))
    return [f"{p.key}: {p.what}" for p in problems.items]


def test_config_full_table_parses_with_overrides() -> None:
    """Every documented key is accepted; channel keys override the [alerts] defaults."""
    config = alerts_config(FULL, Path("/etc/monitor"))
    assert config.channels() == ["email", "webhook:ops", "webhook:chat"]
    assert config.email is not None
    assert config.email.policy.min_score == 4
    assert config.email.policy.digest == 86400
    assert config.email.policy.budget == 10
    assert config.email.policy.budget_window == 1800
    ops, chat = config.webhooks
    assert ops.policy.min_score == 1.5
    assert ops.policy.give_up_after == 2 * 86400
    assert chat.format == "slack"
    assert chat.shown_url() == "file:/etc/monitor/chat-url.txt"
    assert (config.health_failures, config.health_hours, config.backlog_hours) == (3, 12, 24)


def test_config_empty_table_has_no_channels() -> None:
    """A missing or empty [alerts] table is valid and has no channels."""
    config = alerts_config("")
    assert config.channels() == []
    assert config.email is None
    assert config.webhooks == ()


def test_config_secrets_never_in_repr_or_redacted_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """repr, str and redacted_dict show where secrets live, never their values or URL tokens."""
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "PW123")
    monkeypatch.setenv("MONITOR_WEBHOOK_SECRET", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
    config = alerts_config(FULL)
    dumped = " ".join([repr(config), str(config), str(config.redacted_dict())])
    assert "SECRET123token" not in dumped
    assert "PW123" not in dumped
    assert "whsec_" not in dumped
    assert "env:MONITOR_SMTP_PASSWORD" in dumped
    assert config.redacted_dict()["webhooks"][0]["url"] == (
        "https://hooks.example.org/monitor?<redacted>"
    )


def test_config_reports_every_problem_with_key_path() -> None:
    """All problems come back at once, each with its key path; nothing raises."""
    found = _problems("""
[alerts]
colour = "red"
min_score = "high"
[alerts.email]
host = "smtp example"
security = "tls"
from = "Monitor <m@example.org>"
to = []
password = "hunter2"
[[alerts.webhooks]]
name = "a b"
url = "ftp://x.example/"
format = "teams"
[[alerts.webhooks]]
name = "plain"
url = "http://hooks.example.org/x"
secret_env = "1BAD"
""")
    keys = {line.split(":")[0] for line in found}
    assert {
        "alerts.colour",
        "alerts.min_score",
        "alerts.email.host",
        "alerts.email.security",
        "alerts.email.from",
        "alerts.email.to",
        "alerts.email.password",
        "alerts.webhooks[0].name",
        "alerts.webhooks[0].url",
        "alerts.webhooks[0].format",
        "alerts.webhooks[1].url",
        "alerts.webhooks[1].secret_env",
    } <= keys
    assert not any("hunter2" in line for line in found)


def test_config_json_webhook_requires_a_secret() -> None:
    """A json webhook without secret_env/secret_file is a problem (unsigned alerts)."""
    found = _problems('[[alerts.webhooks]]\nname = "x"\nurl = "https://h.example/x"\n')
    assert any(line.startswith("alerts.webhooks[0].secret_env") for line in found)


def test_config_http_allowed_only_for_loopback() -> None:
    """Plain http is refused except for localhost receivers."""
    ok = '[[alerts.webhooks]]\nname = "x"\nurl = "http://127.0.0.1:8080/x"\nformat = "slack"\n'
    assert _problems(ok) == []
    bad = ok.replace("127.0.0.1:8080", "hooks.example.org")
    assert any("https" in line for line in _problems(bad))


def test_config_bad_durations_and_numbers() -> None:
    """Durations must be positive duration strings; budgets whole numbers."""
    found = _problems('[alerts]\ngive_up_after = "soon"\nbudget = -1\ntimeout = 5\n')
    keys = {line.split(":")[0] for line in found}
    assert keys == {"alerts.give_up_after", "alerts.budget", "alerts.timeout"}


def test_config_digest_off_and_notices_flag() -> None:
    """digest = "off" disables a digest inherited from [alerts]; notices can be turned off."""
    config = alerts_config(
        '[alerts]\ndigest = "1h"\n[[alerts.webhooks]]\nname = "x"\nurl = "https://h.example/x"\n'
        'format = "slack"\ndigest = "off"\nnotices = false\n'
    )
    assert config.webhooks[0].policy.digest is None
    assert config.webhooks[0].policy.notices is False


def test_config_secret_resolved_lazily_from_file(tmp_path: Path) -> None:
    """A *_file secret is read at send time; a missing variable is a retryable error."""
    (tmp_path / "pw").write_text("from-file\n")
    config = alerts_config(
        '[alerts.email]\nhost = "mail.example"\nfrom = "m@example.org"\nto = ["a@example.org"]\n'
        'username = "monitor"\npassword_file = "pw"\n',
        tmp_path,
    )
    assert config.email is not None
    assert config.email.password is not None
    assert config.email.password.resolve() == "from-file"
    missing = alerts_config(
        '[alerts.email]\nhost = "mail.example"\nfrom = "m@example.org"\nto = ["a@example.org"]\n'
        'username = "monitor"\npassword_env = "SURELY_UNSET_VARIABLE_X"\n'
    )
    assert missing.email is not None
    assert missing.email.password is not None
    with pytest.raises(DeliveryError) as caught:
        missing.email.password.resolve()
    assert not caught.value.permanent
    assert "SURELY_UNSET_VARIABLE_X" in caught.value.message


def test_config_secret_from_a_systemd_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A *_credential secret is read from $CREDENTIALS_DIRECTORY/<name> at send time."""
    (tmp_path / "hook-secret").write_text("whsec_" + "A" * 24 + "\n")
    config = alerts_config(
        '[[alerts.webhooks]]\nname = "ops"\nurl = "https://hooks.example.org/m"\n'
        'secret_credential = "hook-secret"\n'
    )
    secret = config.webhooks[0].secret
    assert secret is not None
    assert secret.describe() == "credential:hook-secret"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(DeliveryError, match="CREDENTIALS_DIRECTORY is not set"):
        secret.resolve()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert secret.resolve() == "whsec_" + "A" * 24


def test_config_credential_name_and_one_source_only() -> None:
    """A credential name with a slash, or a secret given two ways, is a problem."""
    problems = Problems("monitor.toml")
    raw = tomllib.loads(
        '[[alerts.webhooks]]\nname = "ops"\nurl = "https://hooks.example.org/m"\n'
        'secret_credential = "../etc/passwd"\n'
        '[[alerts.webhooks]]\nname = "two"\nurl = "https://hooks.example.org/n"\n'
        'secret_env = "X"\nsecret_credential = "y"\n'
    )
    parse_alerts(raw["alerts"], problems, Path("."))
    keys = [p.key for p in problems.items]
    assert "alerts.webhooks[0].secret_credential" in keys
    assert "alerts.webhooks[1].secret_env" in keys


def test_config_refuses_password_over_plain_smtp() -> None:
    """security = "none" with a password is refused unless the server is on loopback."""
    text = (
        '[alerts.email]\nhost = "mail.example"\nsecurity = "none"\nfrom = "m@example.org"\n'
        'to = ["a@example.org"]\nusername = "u"\npassword_env = "P"\n'
    )
    assert any(line.startswith("alerts.email.security") for line in _problems(text))
    assert _problems(text.replace("mail.example", "127.0.0.1")) == []
