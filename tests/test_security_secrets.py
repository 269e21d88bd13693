"""Secrets never leak: not in logs, output, stored errors, config dumps or alert bodies.

A full run with an SMTP password, a webhook signing secret and a token in a webhook
URL (one receiver accepting, one failing; then the SMTP login failing), with debug
logging, then every command that shows configuration, alerts or errors. Everything
each process printed, every text column of every table, and every message the local
SMTP server and webhook receivers got is searched for the three secrets.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.security_env import (
    FLAGGED_BODY,
    FLAGGED_TITLE,
    dump_text,
    jsonl,
    monitor,
    rss,
    security_config,
)
from tests.servers import TestServer, reply
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import Reply, WebhookReceiver

PASSWORD = "PW-SECRET-123"
TOKEN = "TOKEN-SECRET-456"
SIGNING_KEY = b"SIGNING-KEY-789-secret-bytes!!"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(SIGNING_KEY).decode()
SECRETS = [PASSWORD, TOKEN, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_")]


def _alerts(smtp: SmtpServer, good: WebhookReceiver, bad: WebhookReceiver) -> str:
    return f"""
[alerts]
backlog_hours = 48
updates = "send"  # each import is another report of one call: send it, not a digest

[alerts.email]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
username = "monitor"
password_env = "MONITOR_SMTP_PASSWORD"
from = "monitor@example.test"
to = ["analyst@example.test"]
timeout = "3s"

[[alerts.webhooks]]
name = "good"
url = "{good.url}?token={TOKEN}&x=1"
secret_env = "MONITOR_WEBHOOK_SECRET"
timeout = "3s"

[[alerts.webhooks]]
name = "bad"
url_env = "MONITOR_BAD_HOOK_URL"
secret_env = "MONITOR_WEBHOOK_SECRET"
format = "slack"
timeout = "3s"
"""


def _import(folder: Path, config: Path, env: dict[str, str], tag: str) -> bytes:
    item = {
        "id": f"urn:secret:{tag}",
        "title": f"{FLAGGED_TITLE} {tag}",
        "text": f"{FLAGGED_BODY} {tag}",
        "published": "2026-11-26T11:30:00Z",
        "lang": "en",
    }
    source = folder / f"{tag}.jsonl"
    source.write_text(jsonl([item]))
    done = monitor(config, "-v", "import", "--alert", "--feed", "news", str(source), env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@contextmanager
def _server() -> Iterator[TestServer]:
    server = TestServer()
    try:
        yield server
    finally:
        server.close()


def _outputs(done: subprocess.CompletedProcess[bytes]) -> bytes:
    return done.stdout + done.stderr


def test_security_secrets_never_leak(tmp_path: Path) -> None:
    """No secret in any log line, output, stored text, config dump or received alert."""
    with (
        SmtpServer(credentials=("monitor", PASSWORD)) as smtp,
        WebhookReceiver(secret=WEBHOOK_SECRET) as good,
        WebhookReceiver(default=Reply(status=500, body=b"receiver broke")) as bad,
        _server() as server,
    ):
        env = {
            "MONITOR_SMTP_PASSWORD": PASSWORD,
            "MONITOR_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "MONITOR_BAD_HOOK_URL": f"{bad.url}?token={TOKEN}",
        }
        feeds = [{"name": "news", "url": "http://127.0.0.1:9/feed"},
                 {"name": "wire", "url": server.route("/feed", reply(rss([])))}]  # fmt: skip
        config = security_config(tmp_path, feeds, _alerts(smtp, good, bad), allow_private=True)
        seen = [_import(tmp_path, config, env, "first")]
        runs = [monitor(config, "run", "--once", env=env, verbose=True)]
        smtp.credentials = ("monitor", "another-password")  # the next login fails (535)
        seen.append(_import(tmp_path, config, env, "second"))
        runs.append(monitor(config, "run", "--once", env=env, verbose=True))
        for args in (["config", "check"], ["config", "check", "--json"], ["alerts"],
                     ["alerts", "--json"], ["alerts", "test"], ["feeds"], ["feeds", "--json"],
                     ["flagged"], ["export", "--format", "json"]):  # fmt: skip
            runs.append(monitor(config, "-vv", *args, env=env))
        seen.extend(_outputs(done) for done in runs)
        received = [d.data for d in smtp.handler.delivered]
        received += [json.dumps(r.headers).encode() + r.body for r in good.requests + bad.requests]
    _assert_setup_worked(tmp_path, smtp, good, bad, runs)
    stored = dump_text(tmp_path / "monitor.db").encode()
    for secret in SECRETS:
        for index, output in enumerate(seen):
            assert secret.encode() not in output, (secret, index, output[-2000:])
        assert secret.encode() not in stored, secret
        for body in received:
            assert secret.encode() not in body, secret


def _assert_setup_worked(
    folder: Path,
    smtp: SmtpServer,
    good: WebhookReceiver,
    bad: WebhookReceiver,
    runs: list[subprocess.CompletedProcess[bytes]],
) -> None:
    """The run really used the secrets: a login, a verified signature, recorded errors."""
    assert (b"monitor", PASSWORD.encode()) in smtp.handler.logins
    assert smtp.handler.delivered
    assert good.accepted()
    assert bad.requests
    assert any(b"level=DEBUG" in done.stderr for done in runs)
    stored = dump_text(folder / "monitor.db")
    assert "535" in stored or "login" in stored.lower() or "credential" in stored.lower()
    assert "HTTP 500" in stored


def test_security_secrets_loose_config_warned(tmp_path: Path) -> None:
    """A group/world-readable config naming secret files gets a warning from check and run."""
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    extra = (
        '\n[alerts]\n[alerts.email]\nhost = "127.0.0.1"\nport = 9\nsecurity = "none"\n'
        'username = "monitor"\npassword_file = "smtp-password"\n'
        'from = "monitor@example.test"\nto = ["analyst@example.test"]\n'
    )
    config = security_config(tmp_path, [{"name": "news", "url": "http://127.0.0.1:9/f"}], extra)
    quiet = monitor(config, "config", "check")
    assert quiet.returncode == 0
    assert b"warning" not in quiet.stderr
    config.chmod(0o644)
    for args in (["config", "check"], ["config", "check", "--json"], ["run", "--once"]):
        done = monitor(config, *args)
        assert done.returncode == 0, done.stderr
        assert b"readable by other users" in done.stderr, args
        assert b"chmod 600" in done.stderr, args
        assert PASSWORD.encode() not in done.stdout + done.stderr


def test_security_secrets_loose_secret_file_warned(tmp_path: Path) -> None:
    """A readable secret file itself is warned about, by path, never by content."""
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD)
    secret.chmod(0o644)
    extra = (
        '\n[alerts]\n[alerts.email]\nhost = "127.0.0.1"\nport = 9\nsecurity = "none"\n'
        'username = "monitor"\npassword_file = "smtp-password"\n'
        'from = "monitor@example.test"\nto = ["analyst@example.test"]\n'
    )
    config = security_config(tmp_path, [{"name": "news", "url": "http://127.0.0.1:9/f"}], extra)
    done = monitor(config, "config", "check")
    assert done.returncode == 0
    assert f"secret file {secret} is readable".encode() in done.stderr
    assert PASSWORD.encode() not in done.stdout + done.stderr
