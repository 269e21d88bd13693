"""The daemon running while people use the CLI: nothing lost, nothing stale, nothing left behind."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.daemon_env import (
    inode,
    open_files,
    polls,
    signal_feed,
    start_daemon,
    wait_for,
)
from tests.pipeline_env import db_rows, run_cli, write_config
from tests.servers import TestServer, reply


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
        assert inode(wal) is not None and inode(wal) == held_before
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
