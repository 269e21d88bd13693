"""The daemon and `run --once` as real subprocesses against local servers."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pipeline_env import db_count, db_rows, kremlin_feed_for, run_cli, write_config
from tests.servers import TestServer, delayed, reply


def _polled_by(db: Path, folder: Path, pid: int) -> bool:
    """The database has a poll and the daemon `pid` holds the lock (its handlers are set)."""
    return db_count(db, "SELECT count(*) FROM fetch_log") >= 1 and _lock_holder(folder) == pid


def _lock_holder(folder: Path) -> int | None:
    text = (folder / "monitor.db.lock").read_text().strip()
    return int(text) if text else None


def _start_daemon(config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def test_daemon_run_once_prints_a_line_per_feed_and_exits_zero(
    tmp_path: Path, http_server: TestServer
) -> None:
    """`run --once` with one healthy and one failing feed prints both and exits 0."""
    http_server.route("/feed", reply(kremlin_feed_for(http_server.base_url)))
    config = write_config(
        tmp_path,
        [
            {"name": "good", "url": http_server.url("/feed")},
            {"name": "gone", "url": http_server.url("/missing")},
        ],
    )
    result = run_cli("--config", str(config), "-q", "run", "--once")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("good: ok new=20")
    assert lines[1].startswith("gone: error [http_status] 404")


def test_daemon_broken_config_starts_nothing(tmp_path: Path) -> None:
    """A broken configuration exits 1, lists every problem, and creates no database."""
    config = write_config(
        tmp_path,
        [{"name": "x", "url": "ftp://example.org/feed", "interval": "1s"}],
        extra="[fetch2]\n",
    )
    result = run_cli("--config", str(config), "run", "--once")
    assert result.returncode == 1
    for key in ("fetch2", "feeds[0].url", "feeds[0].interval"):
        assert key in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "monitor.db").exists()


def test_daemon_run_once_with_broken_rules_writes_nothing(
    tmp_path: Path, http_server: TestServer
) -> None:
    """`run --once` sends its requests before the rules are checked, but broken rules
    still end it with their error before anything is written: no new database, and an
    existing one left as it was, with an unchanged feed stored the next time."""
    http_server.route("/feed", reply(kremlin_feed_for(http_server.base_url), etag='"v1"'))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    rules = tmp_path / "rules.toml"
    good_rules = rules.read_text()
    rules.write_text(good_rules + "\n[[rules]]\nid = 'broken'\n")
    result = run_cli("--config", str(config), "run", "--once")
    assert result.returncode == 1, result.stdout
    assert "rules.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "monitor.db").exists()

    rules.write_text(good_rules)
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    db = tmp_path / "monitor.db"

    def stored() -> tuple[object, ...]:
        return db_rows(db, "SELECT * FROM feeds"), db_count(db, "SELECT count(*) FROM items")

    before = stored()
    rules.write_text(good_rules + "\n[[rules]]\nid = 'broken'\n")
    result = run_cli("--config", str(config), "run", "--once")
    assert result.returncode == 1
    assert "rules.toml" in result.stderr
    assert stored() == before
    rules.write_text(good_rules)
    again = run_cli("--config", str(config), "-q", "run", "--once")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("k: not_modified") or "new=0" in again.stdout, again.stdout


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="parse workers need 2 cores")
def test_daemon_run_once_starts_workers_only_for_bodies_to_parse(
    tmp_path: Path, http_server: TestServer
) -> None:
    """The first round (a new database) starts the parse workers at once; a round in
    which every feed answers 304 starts none; a changed feed starts them again."""
    body = kremlin_feed_for(http_server.base_url)
    feeds = [{"name": f"k{n}", "url": http_server.url(f"/k{n}")} for n in range(5)]
    for n in range(5):
        http_server.route(f"/k{n}", reply(body, etag='"v1"'))
    config = write_config(tmp_path, feeds)

    def round_() -> tuple[list[str], bool]:
        result = run_cli("--config", str(config), "-vv", "run", "--once")
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines(), "event=parse_workers_start" in result.stderr

    lines, started = round_()
    assert started
    assert len(lines) == 5
    assert all("ok new=20" in line for line in lines), lines
    lines, started = round_()
    assert not started
    assert all("not_modified" in line for line in lines), lines
    http_server.route(
        "/k0", reply(body.replace(b"Christmas greetings", b"Christmas greeting"), etag='"v2"')
    )
    lines, started = round_()
    assert started
    assert not lines[0].startswith("k0: not_modified"), lines


def test_daemon_sigterm_stops_cleanly_and_restart_stores_nothing_twice(
    tmp_path: Path, http_server: TestServer
) -> None:
    """SIGTERM ends the daemon within seconds; a restart adds no duplicate item."""
    http_server.route("/feed", reply(kremlin_feed_for(http_server.base_url), etag='"a"'))
    config = write_config(
        tmp_path, [{"name": "k", "url": http_server.url("/feed"), "interval": "30s"}]
    )
    db = tmp_path / "monitor.db"
    for _ in range(2):
        proc = _start_daemon(config)
        try:
            polled = _wait_for(partial(_polled_by, db, tmp_path, proc.pid))
        finally:
            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            proc.wait(timeout=20)
        errors = proc.stderr.read() if proc.stderr else ""
        assert polled, errors
        assert time.monotonic() - started < 12
        assert proc.returncode == 0, errors
    assert db_count(db, "SELECT count(*) FROM items") == 20


def test_daemon_second_instance_exits_with_clear_message(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Two daemons on one database: the second exits 1 and says another one runs."""
    http_server.route("/feed", reply(kremlin_feed_for(http_server.base_url)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    first = _start_daemon(config)
    try:
        assert _wait_for(
            lambda: (
                (tmp_path / "monitor.db.lock").exists()
                and (tmp_path / "monitor.db.lock").read_text().strip() != ""
            )
        )
        second = run_cli("--config", str(config), "run", timeout=30)
        assert second.returncode == 1
        assert "already running" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)


@pytest.mark.slow
def test_daemon_kill_9_mid_poll_leaves_an_intact_database(
    tmp_path: Path, http_server: TestServer
) -> None:
    """SIGKILL at random points of polling never corrupts the database or duplicates items."""
    body = kremlin_feed_for(http_server.base_url)
    http_server.route("/slow", delayed(0.2, reply(body)))
    http_server.route("/fast", reply(body))
    config = write_config(
        tmp_path,
        [
            {"name": "slow", "url": http_server.url("/slow")},
            {"name": "fast", "url": http_server.url("/fast")},
        ],
    )
    db = tmp_path / "monitor.db"
    rng = random.Random(11)
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-q", "--config", str(config), "run", "--once"],
            cwd=str(REPO),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.2))
        proc.kill()
        proc.wait(timeout=10)
        if db.exists():
            conn = sqlite3.connect(db)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
    final = run_cli("--config", str(config), "-q", "run", "--once")
    assert final.returncode == 0, final.stderr
    assert db_count(db, "SELECT count(*) FROM items") == 40
    assert db_count(db, "SELECT count(*) FROM (SELECT feed, key FROM items GROUP BY 1, 2)") == 40
