"""The daemon running while people use the CLI: nothing lost, nothing stale, nothing left behind."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import platform
import signal
import time
from pathlib import Path

import pytest

from tests.alerts_fixtures import SECRET
from tests.conftest import fill_disk
from tests.daemon_env import (
    RunningDaemon,
    alive,
    children,
    inode,
    open_files,
    polls,
    rss,
    signal_feed,
    start_daemon,
    wait_for,
)
from tests.delivery_env import WEBHOOK_ENV
from tests.pipeline_env import db_rows, run_cli, write_config
from tests.servers import TestServer, reply
from tests.webhook_receiver import Reply, WebhookReceiver

SYS_TGKILL = 234  # x86-64


def _daemon_config(tmp_path: Path, server: TestServer, interval: str = "30s") -> Path:
    server.route("/feed", reply(signal_feed(server.base_url), etag='"a"'))
    return write_config(tmp_path, [{"name": "k", "url": server.url("/feed"), "interval": interval}])


def test_daemon_cli_read_keeps_the_daemons_wal_on_disk(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A CLI command beside the daemon leaves the daemon's -wal in place: same inode."""
    config = _daemon_config(tmp_path, http_server)
    db = tmp_path / "monitor.db"
    wal = tmp_path / "monitor.db-wal"
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: polls(db) >= 1), "the daemon never polled"
        held_before = inode(wal)
        for args in (("feeds",), ("items", "--limit", "3"), ("flagged",), ("outlook",)):
            result = run_cli("--config", str(config), "-q", *args)
            assert result.returncode == 0, result.stderr
        deleted = [f for f in open_files(daemon.pid) if "monitor.db" in f and "(deleted)" in f]
        assert deleted == []
        assert inode(wal) is not None
        assert inode(wal) == held_before
    finally:
        log = daemon.stop()
    assert daemon.returncode == 0, log


@pytest.mark.slow
def test_daemon_writes_and_cli_reviews_are_seen_by_each_other(
    tmp_path: Path, http_server: TestServer
) -> None:
    """An item the daemon logs as stored is visible to the next CLI command, and an
    `escalate` made meanwhile is still there after the daemon stops."""
    feed = {"body": signal_feed(http_server.base_url, "a")}
    http_server.route("/feed", lambda ex: reply(feed["body"])(ex))
    config = write_config(
        tmp_path, [{"name": "k", "url": http_server.url("/feed"), "interval": "30s"}]
    )
    db = tmp_path / "monitor.db"
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=polled", "new=3"), "the daemon never polled"
        listed = run_cli("--config", str(config), "-q", "flagged", "--json")
        item_id = json.loads(listed.stdout)[0]["id"]
        done = run_cli("--config", str(config), "-q", "escalate", str(item_id))
        assert done.returncode == 0, done.stderr
        feed["body"] = signal_feed(http_server.base_url, "b")
        assert daemon.wait_logged("event=polled", "new=3", count=2, timeout=60)
        seen = run_cli("--config", str(config), "-q", "items", "--json")
        assert len(json.loads(seen.stdout)) == 6
    finally:
        log = daemon.stop(signal.SIGTERM)
    assert daemon.returncode == 0, log
    status = db_rows(db, "SELECT status FROM flags WHERE item_id = ?", (item_id,))
    assert status == [{"status": "escalated"}]


def _feed_server(server: TestServer, path: str, prefix: str) -> str:
    return server.route(path, reply(signal_feed(server.base_url, prefix)))


def _daemon_after_first_poll(tmp_path: Path, http_server: TestServer) -> tuple[Path, RunningDaemon]:
    """A daemon on one local feed `k`, once it has polled it; the caller stops it."""
    config = write_config(tmp_path, [{"name": "k", "url": _feed_server(http_server, "/k", "k")}])
    daemon = start_daemon(config)
    if not daemon.wait_logged("event=polled"):
        pytest.fail(f"the daemon never polled: {daemon.stop()}")
    return config, daemon


def test_daemon_parse_workers_die_with_a_killed_daemon(
    tmp_path: Path, http_server: TestServer
) -> None:
    """`kill -9` of the daemon takes its parse workers with it within seconds."""
    config = write_config(tmp_path, [{"name": "k", "url": _feed_server(http_server, "/f", "a")}])
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=polled"), "the daemon never polled"
        workers = children(daemon.pid)
        assert workers, "the daemon started no parse worker"
    finally:
        daemon.stop(signal.SIGKILL)
    assert wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10), [
        pid for pid in workers if alive(pid)
    ]


def _signal_thread(pid: int, tid: int, sig: int) -> None:
    """Send `sig` to one thread of another process (tgkill), as the kernel may choose to."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.syscall(SYS_TGKILL, pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), "tgkill failed")


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64", reason="tgkill on x86-64 Linux"
)
def test_daemon_handles_a_signal_delivered_to_another_thread(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A process-directed signal may land on any thread that does not block it; Python
    handles it only when the main thread runs, so SIGHUP and SIGTERM sent to a worker
    thread still reload and stop the daemon within seconds."""
    config = write_config(tmp_path, [{"name": "a", "url": _feed_server(http_server, "/a", "a")}])
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=polled", "feed=a"), "the daemon never polled"
        tasks = sorted(int(t) for t in os.listdir(f"/proc/{daemon.pid}/task"))
        other = next(t for t in tasks if t != daemon.pid)
        _signal_thread(daemon.pid, other, signal.SIGHUP)
        assert daemon.wait_logged("event=reloaded", timeout=10), daemon.stop()
        _signal_thread(daemon.pid, other, signal.SIGTERM)
        daemon.proc.wait(timeout=20)
    finally:
        log = daemon.stop()
    assert daemon.returncode == 0, log


def test_daemon_sighup_reloads_rules_and_feeds_and_keeps_running_on_a_bad_file(
    tmp_path: Path, http_server: TestServer
) -> None:
    """SIGHUP applies a changed threshold and a new feed at once; a broken configuration
    on the next SIGHUP is logged and the running one kept."""
    first = {"name": "a", "url": _feed_server(http_server, "/a", "a")}
    config = write_config(tmp_path, [first], extra="[signals]\nthreshold = 100\n")
    db = tmp_path / "monitor.db"
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=polled", "feed=a"), "the daemon never polled"
        assert db_rows(db, "SELECT count(*) AS n FROM flags WHERE flagged = 1") == [{"n": 0}]
        second = {"name": "b", "url": _feed_server(http_server, "/b", "b")}
        write_config(tmp_path, [first, second])
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_logged("event=reloaded"), daemon.stop()
        assert daemon.wait_logged("event=polled", "feed=b", "flagged=3"), daemon.stop()
        config.write_text(config.read_text() + "\n[fetch2]\n")
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_logged("event=reload_failed", "fetch2"), daemon.stop()
        assert daemon.proc.poll() is None
    finally:
        log = daemon.stop()
    assert daemon.returncode == 0, log
    versions = db_rows(
        db,
        "SELECT DISTINCT rules_version FROM flags f JOIN items i "
        "ON i.id = f.item_id WHERE i.feed = 'b'",
    )
    assert len(versions) == 1
    assert str(versions[0]["rules_version"]).startswith("sha256:")


def test_daemon_start_logs_each_feeds_next_poll_and_why(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A restarted daemon says when it will poll each feed, backoff and errors included."""
    config = write_config(
        tmp_path,
        [
            {"name": "up", "url": _feed_server(http_server, "/up", "u"), "interval": "10m"},
            {"name": "down", "url": "http://127.0.0.1:9/feed", "interval": "10m"},
        ],
    )
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=started")
    finally:
        log = daemon.stop()
    assert daemon.logged("event=next_poll", "feed=up", "reason='interval'"), log
    assert daemon.logged(
        "event=next_poll", "feed=down", "backoff after 1 failure(s); last error: connect"
    ), log


def test_daemon_deleted_database_stops_it_and_nothing_recreates_it(
    tmp_path: Path, http_server: TestServer
) -> None:
    """`rm` of the database under the daemon: it stops writing, says so, exits non-zero."""
    config, daemon = _daemon_after_first_poll(tmp_path, http_server)
    db = tmp_path / "monitor.db"
    try:
        db.unlink()
        daemon.proc.send_signal(signal.SIGHUP)  # the reload writes: the check must catch it
        assert wait_for(lambda: daemon.proc.poll() is not None, timeout=20)
    finally:
        log = daemon.stop()
    assert daemon.returncode == 3, log
    assert "event=database_gone" in log
    assert "was deleted" in log
    assert not db.exists()
    feeds = run_cli("--config", str(config), "feeds")
    assert feeds.returncode == 1
    assert "there is no database" in feeds.stderr
    assert not db.exists()


def test_daemon_database_overwritten_in_place_is_left_as_it_is(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Junk written over the database file: the daemon stops without writing a byte to it."""
    _config, daemon = _daemon_after_first_poll(tmp_path, http_server)
    db = tmp_path / "monitor.db"
    try:
        with db.open("r+b") as handle:  # the test process holds no connection to it
            handle.write(b"junk" * 1024)
        junk = db.read_bytes()
        daemon.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: daemon.proc.poll() is not None, timeout=20)
    finally:
        log = daemon.stop()
    assert daemon.returncode == 3, log
    assert "overwritten in place" in log
    assert db.read_bytes() == junk


def _two_webhooks(slow: str, fast: str) -> str:
    hooks = "".join(
        f'[[alerts.webhooks]]\nname = "{name}"\nurl = "{url}"\n'
        f'secret_env = "TEST_WEBHOOK_SECRET"\ntimeout = "{timeout}"\n'
        for name, url, timeout in (("slow", slow, "30s"), ("fast", fast, "5s"))
    )
    return '\n[alerts]\nnotices = false\nupdates = "send"\n' + hooks


@pytest.mark.slow
def test_daemon_slow_channel_does_not_delay_another(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A webhook answering after 25 s holds only its own alerts: the other channel gets a
    later poll's alerts within seconds."""
    with (
        WebhookReceiver(secret=SECRET, default=Reply(delay=25.0)) as slow,
        WebhookReceiver(secret=SECRET) as fast,
    ):
        first = {"name": "a", "url": _feed_server(http_server, "/a", "a")}
        extra = _two_webhooks(slow.url, fast.url)
        config = write_config(tmp_path, [first], extra=extra)
        daemon = RunningDaemon(config, env=WEBHOOK_ENV)
        try:
            assert wait_for(lambda: len(fast.accepted()) == 3), daemon.stop()
            assert wait_for(lambda: len(slow.requests) == 1), daemon.stop()
            second = {"name": "b", "url": _feed_server(http_server, "/b", "b")}
            write_config(tmp_path, [first, second], extra=extra)
            daemon.proc.send_signal(signal.SIGHUP)
            assert daemon.wait_logged("event=polled", "feed=b", "flagged=3"), daemon.stop()
            polled = time.monotonic()
            assert wait_for(lambda: len(fast.accepted()) == 6, timeout=15), daemon.stop()
            assert time.monotonic() - polled < 10
            assert len(slow.requests) == 1  # still stuck on its first alert
        finally:
            daemon.stop(timeout=40)


def test_daemon_full_disk_is_one_clear_line_and_feeds_says_so(
    small_disk: Path, http_server: TestServer
) -> None:
    """While the disk is full: one log line per failed poll (no traceback), and `feeds`
    warns that polls cannot be stored instead of showing every feed ok."""
    first = {"name": "a", "url": _feed_server(http_server, "/a", "a")}
    config = write_config(small_disk, [first])
    daemon = start_daemon(config)
    try:
        assert daemon.wait_logged("event=polled", "feed=a"), "the daemon never polled"
        filler = fill_disk(small_disk, leave=16 * 1024)
        big = [(f"big{n}", f"Statement {n}", "text of a long statement " * 400) for n in range(40)]
        http_server.route("/b", reply(rss(http_server.base_url, big)))
        write_config(small_disk, [first, {"name": "b", "url": http_server.url("/b")}])
        daemon.proc.send_signal(signal.SIGHUP)
        assert daemon.wait_logged("event=storage_failed", "is full"), daemon.stop()
        health = run_cli("--config", str(config), "feeds")
        filler.unlink()
    finally:
        log = daemon.stop()
    assert "Traceback" not in log
    assert "polls cannot be stored" in health.stderr


def test_daemon_backup_while_it_runs_is_a_whole_database(
    tmp_path: Path, http_server: TestServer
) -> None:
    """`monitor backup` beside the running daemon gives an intact copy with every item;
    an existing target is refused, never overwritten."""
    config, daemon = _daemon_after_first_poll(tmp_path, http_server)
    try:
        copy = tmp_path / "copy.db"
        made = run_cli("--config", str(config), "backup", str(copy))
        again = run_cli("--config", str(config), "backup", str(copy))
    finally:
        log = daemon.stop()
    assert daemon.returncode == 0, log
    assert made.returncode == 0, made.stderr
    assert db_rows(copy, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert db_rows(copy, "SELECT count(*) AS n FROM items") == [{"n": 3}]
    assert copy.stat().st_mode & 0o077 == 0
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_daemon_indexes_stored_items_for_search_soon_after_the_poll(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Items the daemon stored are in the search index within seconds, by its own job."""
    config, daemon = _daemon_after_first_poll(tmp_path, http_server)
    db = tmp_path / "monitor.db"
    try:
        assert wait_for(
            lambda: db_rows(db, "SELECT count(*) AS n FROM fts_pending") == [{"n": 0}], timeout=15
        )
        found = run_cli("--config", str(config), "search", "--json", "Abu Dhabi")
    finally:
        daemon.stop()
    assert found.returncode == 0
    assert "search index" not in found.stderr
    assert "Russian and US delegations hold talks in Abu Dhabi" in found.stdout
