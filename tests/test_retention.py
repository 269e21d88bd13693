"""Retention: old fetch log, revisions and delivered alerts go; items only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.daemon.scheduler import Daemon
from tests.daemon_env import rss
from tests.delivery_env import alerts_toml, run_monitor
from tests.pipeline_env import app_for, db_count, db_rows, write_config
from tests.servers import TestServer, reply
from tests.webhook_receiver import WebhookReceiver

JANUARY = "2026-01-10T12:00:00Z"
DECEMBER = "2026-12-01T12:00:00Z"


def _old_database(tmp_path: Path, server: TestServer, hook: WebhookReceiver, extra: str) -> Path:
    """Two polls in January (one edit, so one revision), a flagged and a plain item."""
    feeds = iter(
        [
            [
                ("a", "Telephone conversation with US President Donald Trump", "text"),
                ("b", "Meeting with the governor of a region", "roads"),
            ],
            [
                ("a", "Telephone conversation with US President Donald Trump", "edited text"),
                ("b", "Meeting with the governor of a region", "roads"),
            ],
        ]
    )
    body = {"now": rss(server.base_url, next(feeds))}
    server.route("/f", lambda ex: reply(body["now"])(ex))
    config = write_config(
        tmp_path,
        [{"name": "k", "url": server.url("/f")}],
        extra=alerts_toml(webhook_url=hook.url) + extra,
    )
    assert run_monitor(config, "run", "--once", now=JANUARY).returncode == 0
    body["now"] = rss(server.base_url, next(feeds))
    assert run_monitor(config, "run", "--once", now="2026-01-10T12:10:00Z").returncode == 0
    return config


def test_retention_dry_run_counts_and_prune_deletes(
    tmp_path: Path, http_server: TestServer, receiver: WebhookReceiver
) -> None:
    """Defaults: the fetch log (30d) and sent alerts (90d) go, items and the revision stay."""
    config = _old_database(tmp_path, http_server, receiver, "")
    db = tmp_path / "monitor.db"
    assert db_count(db, "SELECT count(*) FROM fetch_log") == 2
    assert db_count(db, "SELECT count(*) FROM outbox WHERE state = 'sent'") >= 1
    dry = run_monitor(config, "prune", "--dry-run", now=DECEMBER)
    assert dry.returncode == 0, dry.stderr
    assert "fetch log: would delete 2" in dry.stdout
    assert "unflagged items: would delete 0 (kept for ever)" in dry.stdout
    assert db_count(db, "SELECT count(*) FROM fetch_log") == 2
    done = run_monitor(config, "prune", now=DECEMBER)
    assert done.returncode == 0, done.stderr
    assert db_count(db, "SELECT count(*) FROM fetch_log") == 0
    assert db_count(db, "SELECT count(*) FROM outbox WHERE state = 'sent'") == 0
    assert db_count(db, "SELECT count(*) FROM item_revisions") == 1
    assert db_count(db, "SELECT count(*) FROM items") == 2


def test_retention_unflagged_items_go_only_when_asked_and_flagged_ones_stay(
    tmp_path: Path,
    http_server: TestServer,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The daemon's prune with keep_unflagged_items = "90d": the old plain item goes, the
    flagged (and alerted) one stays; keep_revisions = "off" keeps the revision."""
    extra = (
        '\n[storage]\npath = "monitor.db"\nkeep_unflagged_items = "90d"\nkeep_revisions = "off"\n'
    )
    config = _old_database(tmp_path, http_server, receiver, "")
    config.write_text(config.read_text().replace('[storage]\npath = "monitor.db"\n', "") + extra)
    db = tmp_path / "monitor.db"
    monkeypatch.setenv("MONITOR_NOW", DECEMBER)
    app = app_for(config)
    try:
        daemon = Daemon(app)
        daemon.prune()
        daemon.close()
    finally:
        app.close()
    kept = db_rows(db, "SELECT title FROM items")
    assert kept == [{"title": "Telephone conversation with US President Donald Trump"}]
    assert db_count(db, "SELECT count(*) FROM item_revisions") == 1


def test_retention_items_younger_than_30_days_are_refused(tmp_path: Path) -> None:
    """keep_unflagged_items below 30d is a configuration error naming the key."""
    config = write_config(tmp_path, [])
    config.write_text(
        config.read_text().replace(
            '[storage]\npath = "monitor.db"\n',
            '[storage]\npath = "monitor.db"\nkeep_unflagged_items = "7d"\n',
        )
    )
    result = run_monitor(config, "config", "check")
    assert result.returncode == 1
    assert "storage.keep_unflagged_items" in result.stderr
    assert "30d" in result.stderr
