"""The daemon's scheduling under faults, as a real subprocess against counting servers.

A1: a feed whose body makes the feed parser raise (a lone surrogate character
reference: feedparser 6.0.14 raises UnicodeEncodeError) gets a classified health row
and a fetch_log row, and is polled again at its next run; the healthy feed beside it
is not disturbed.
A3: SIGSTOP for longer than the 30 s interval (the minimum a config accepts), then
SIGCONT: exactly one catch-up request per feed reaches the server, not zero (APScheduler's
default 1 s misfire grace would drop it) and not several (coalesce).
A4: SIGTERM while one poll waits on a slow server and another on one that hangs:
the daemon exits within its grace period (10 s), the finished poll is stored whole,
the unfinished one left no trace, and a restart stores the rest exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon.scheduler import SHUTDOWN_GRACE_S
from tests.conftest import REPO
from tests.pipeline_env import kremlin_feed_for, run_cli, write_config
from tests.servers import Behaviour, Exchange, TestServer, delayed, hang, reply, sequence

pytestmark = pytest.mark.slow

INTERVAL_S = 30.0  # the smallest interval a configuration accepts
TRIGGER_JITTER_S = 3.0  # the daemon's IntervalTrigger jitter: min(30, interval / 10)
HOSTILE_BODY = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>h</title>'
    b"<item><title>Statement &#xD800; today</title><guid>h-1</guid>"
    b"<description>text</description></item></channel></rss>"
)


class Counter:
    """Request times per path, on the test's monotonic clock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}

    def wrap(self, path: str, behaviour: Behaviour) -> Behaviour:
        def counted(ex: Exchange) -> None:
            with self.lock:
                self.times.setdefault(path, []).append(time.monotonic())
            behaviour(ex)

        return counted

    def count(self, path: str, after: float = 0.0) -> int:
        with self.lock:
            return sum(1 for t in self.times.get(path, []) if t >= after)


def _query(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _logged(db: Path, feed: str) -> list[tuple[object, ...]]:
    try:
        return _query(db, "SELECT status, error_kind, error FROM fetch_log WHERE feed = ?", (feed,))
    except sqlite3.OperationalError:
        return []


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[object]:
    """Start `monitor run` on a config; every daemon still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"daemon-{len(started)}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                cwd=str(REPO),
                env={k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"},
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        started.append(proc)
        return proc, log

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(timeout=10)


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=SHUTDOWN_GRACE_S + 10)
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    return text


def test_faults_scheduler_hostile_feed_and_sigstop_catch_up_once(
    tmp_path: Path, http_server: TestServer, daemon_factory: object
) -> None:
    """A parser-crashing feed is recorded and re-polled; after SIGSTOP each feed is polled once."""
    counter = Counter()
    http_server.route("/ok", counter.wrap("/ok", reply(kremlin_feed_for(http_server.base_url))))
    http_server.route("/bad", counter.wrap("/bad", reply(HOSTILE_BODY)))
    config = write_config(
        tmp_path,
        [
            {"name": "ok", "url": http_server.url("/ok"), "interval": "30s"},
            {"name": "bad", "url": http_server.url("/bad"), "interval": "30s"},
        ],
    )
    db = tmp_path / "monitor.db"
    proc, log = daemon_factory(config)  # type: ignore[operator]
    assert _wait(lambda: _logged(db, "ok") and _logged(db, "bad"), 30), log.read_text()[-3000:]
    first_poll = min(counter.times["/ok"][0], counter.times["/bad"][0])
    assert _logged(db, "bad") == [("error", "parse", "feed parser failed: UnicodeEncodeError")]
    health = _query(
        db,
        "SELECT last_status, last_error_kind, consecutive_failures FROM feeds WHERE name = 'bad'",
    )
    assert health == [("error", "parse", 1)]
    os.kill(proc.pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    before = {path: counter.count(path) for path in ("/ok", "/bad")}
    # Past every feed's next run (interval + trigger jitter), well before the one after.
    time.sleep(max(0.0, first_poll + INTERVAL_S + TRIGGER_JITTER_S + 6 - stopped_at))
    assert {path: counter.count(path) for path in before} == before
    resumed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGCONT)
    time.sleep(max(0.0, first_poll + 2 * INTERVAL_S - 5 - time.monotonic()))
    caught_up = {path: counter.count(path, after=resumed_at) for path in before}
    assert caught_up == {"/ok": 1, "/bad": 1}
    assert [row[0] for row in _logged(db, "bad")] == ["error", "error"]
    assert [row[0] for row in _logged(db, "ok")] == ["ok", "unchanged"]
    assert proc.poll() is None
    text = _stop(proc, log)
    assert "Traceback" not in text, text[-3000:]


def _items(db: Path, feed: str) -> int:
    return int(_query(db, "SELECT count(*) FROM items WHERE feed = ?", (feed,))[0][0])


def test_faults_scheduler_sigterm_mid_poll_exits_within_grace_and_keeps_rows_whole(
    tmp_path: Path, http_server: TestServer, daemon_factory: object
) -> None:
    """SIGTERM mid-poll: exit 0 within the grace period; finished poll whole, unfinished none."""
    body = kremlin_feed_for(http_server.base_url)
    http_server.route("/slow", delayed(4.0, reply(body)))
    http_server.route("/stuck", sequence(hang(60.0), reply(body)))
    config = write_config(
        tmp_path,
        [
            {"name": "slow", "url": http_server.url("/slow"), "interval": "30s"},
            {"name": "stuck", "url": http_server.url("/stuck"), "interval": "30s"},
        ],
        timeout=45,
    )
    db = tmp_path / "monitor.db"
    proc, log = daemon_factory(config)  # type: ignore[operator]
    assert _wait(lambda: http_server.hits("/slow") and http_server.hits("/stuck"), 30)
    proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    proc.wait(timeout=SHUTDOWN_GRACE_S + 10)
    took = time.monotonic() - signalled
    assert took < SHUTDOWN_GRACE_S + 3, took
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _items(db, "slow") == 20
    assert [r[0] for r in _logged(db, "slow")] == ["ok"]
    assert _items(db, "stuck") == 0
    assert _logged(db, "stuck") == []
    again = run_cli("--config", str(config), "-q", "run", "--once")
    assert again.returncode == 0, again.stderr
    assert _items(db, "slow") == 20
    assert _items(db, "stuck") == 20
    keys = _query(db, "SELECT count(*), count(DISTINCT feed || key) FROM items")
    assert keys == [(40, 40)]


def test_faults_scheduler_poll_finishing_during_shutdown_logs_no_traceback(
    tmp_path: Path, http_server: TestServer, daemon_factory: object
) -> None:
    """A poll that ends after SIGTERM is stored and leaves no traceback in the log."""
    http_server.route("/slow", delayed(2.0, reply(kremlin_feed_for(http_server.base_url))))
    config = write_config(tmp_path, [{"name": "slow", "url": http_server.url("/slow")}])
    proc, log = daemon_factory(config)  # type: ignore[operator]
    assert _wait(lambda: http_server.hits("/slow"), 30)
    text = _stop(proc, log)
    assert _items(tmp_path / "monitor.db", "slow") == 20
    assert "Traceback" not in text, text[-2000:]
