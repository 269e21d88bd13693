"""Support for the delivery fault tests: feeds we can change, alert config, outbox reads.

The feed texts are invented for these tests (no third-party text). A flagged title
is "Telephone conversation with President of the United States" plus a tag, which
the default rules score as a leaders' call; a plain title is a regional meeting.

PYTEST_DONT_REWRITE: helpers only, no assertions.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from tests.alerts_fixtures import SECRET
from tests.conftest import REPO
from tests.pipeline_env import db_rows as query  # noqa: F401 - re-exported for the tests
from tests.servers import Exchange

WEBHOOK_ENV = {"TEST_WEBHOOK_SECRET": SECRET}


@dataclass(frozen=True)
class Entry:
    guid: str
    title: str
    body: str
    published: datetime


def flagged_entry(tag: str, published: datetime, guid: str | None = None) -> Entry:
    """An item the default rules flag (a US-Russia leaders' call), unique by `tag`."""
    title = f"Telephone conversation with President of the United States ({tag})"
    body = (
        "Vladimir Putin had a telephone conversation with President of the United States "
        f"Donald Trump. Reference {tag}."
    )
    return Entry(guid or f"urn:test:{tag}", title, body, published)


def plain_entry(tag: str, published: datetime, guid: str | None = None) -> Entry:
    """An item the default rules do not flag."""
    body = f"The President met the governor to discuss the regional economy. Reference {tag}."
    return Entry(guid or f"urn:test:{tag}", f"Meeting with a regional governor ({tag})", body,
                 published)  # fmt: skip


def rss(entries: list[Entry], title: str = "Test press feed") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>",
        "<description>test</description>",
    ]
    for entry in entries:
        parts.append(
            f'<item><guid isPermaLink="false">{escape(entry.guid)}</guid>'
            f"<title>{escape(entry.title)}</title>"
            f"<link>http://127.0.0.1/news/{escape(entry.guid.rsplit(':', 1)[-1])}</link>"
            f"<pubDate>{format_datetime(entry.published)}</pubDate>"
            f"<description>{escape(entry.body)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


@dataclass
class SwappableFeed:
    """An HTTP behaviour serving whatever body was set last; counts the requests."""

    body: bytes = b""
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, entries: list[Entry]) -> None:
        with self._lock:
            self.body = rss(entries)

    def __call__(self, ex: Exchange) -> None:
        with self._lock:
            self.hits += 1
            body = self.body
        ex.send(200, body, {"Content-Type": "application/rss+xml; charset=utf-8"})


def alerts_toml(
    *, smtp_port: int | None = None, webhook_url: str | None = None, common: str = ""
) -> str:
    """An [alerts] table for loopback receivers (email without TLS, signed JSON webhook)."""
    text = f"\n[alerts]\nbacklog_hours = 48\n{common}\n"
    if smtp_port is not None:
        text += (
            f'[alerts.email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            'from = "monitor@example.test"\nto = ["analyst@example.test"]\ntimeout = "3s"\n'
            'message_id_domain = "monitor.test"\n'
        )
    if webhook_url is not None:
        text += (
            f'[[alerts.webhooks]]\nname = "ops"\nurl = "{webhook_url}"\n'
            'secret_env = "TEST_WEBHOOK_SECRET"\ntimeout = "3s"\n'
        )
    return text


def monitor_env(now: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MONITOR_CONFIG", "MONITOR_NOW")}
    env.update(WEBHOOK_ENV)
    if now:
        env["MONITOR_NOW"] = now
    return env


def start_monitor(config: Path, *args: str, now: str | None = None) -> subprocess.Popen[bytes]:
    """`python -m monitor --config X ARGS` as a child process (output discarded)."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "-q", "--config", str(config), *args],
        cwd=str(REPO),
        env=monitor_env(now),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_monitor(
    config: Path, *args: str, now: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "-q", "--config", str(config), *args],
        cwd=str(REPO),
        env=monitor_env(now),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def message_ids(delivered: list[Any]) -> list[str]:
    """The Message-ID of every message an `SmtpServer` accepted, in order."""
    return [str(d.message()["Message-ID"]) for d in delivered]
