"""Shared setup for the alert tests: a config from TOML, a real store, flagged items."""

from __future__ import annotations

import base64
import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.alerts.enqueue import enqueue_item_alerts
from monitor.alerts.payload import build_item_payload
from monitor.clock import iso
from monitor.config.alerts import AlertsConfig, parse_alerts
from monitor.errors import Problems
from monitor.fetch.client import Fetcher
from monitor.models import FetchSettings
from monitor.store import Store, open_store

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
SMTP_PASSWORD = "PW123-secret-password"
URL_TOKEN = "SECRET123token"
SIGNALS = [
    {
        "type": "summit_planning",
        "rule": "summit-prep-en",
        "weight": 3.0,
        "terms": ["summit", "preparations"],
        "spans": [[0, 6], [20, 32]],
        "sentences": ["Summit preparations were discussed with the US side."],
    }
]


def alerts_config(text: str, base_dir: Path | None = None) -> AlertsConfig:
    """An AlertsConfig from the text of an [alerts] TOML table; fails on any problem."""
    problems = Problems("test.toml")
    table = tomllib.loads(text).get("alerts", {})
    config = parse_alerts(table, problems, base_dir or Path("."))
    assert not problems.items, [str(p) for p in problems.items]
    return config


def email_toml(port: int, *, to: str = '["a@example.test"]', extra: str = "") -> str:
    return (
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "monitor@example.test"\nto = {to}\ntimeout = "3s"\n{extra}\n'
    )


def webhook_toml(url: str, *, name: str = "ops", extra: str = "") -> str:
    return (
        f'[[alerts.webhooks]]\nname = "{name}"\nurl = "{url}"\n'
        f'secret_env = "TEST_WEBHOOK_SECRET"\ntimeout = "2s"\n{extra}\n'
    )


def make_store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "monitor.db")


def loopback_fetcher() -> Fetcher:
    return Fetcher(FetchSettings(allow_private_networks=True, timeout=5.0))


def add_flagged_item(
    store: Store,
    *,
    title: str = "Summit preparations discussed",
    feed: str = "kremlin-en",
    score: float = 3.0,
    url: str | None = "http://en.kremlin.ru/events/president/news/1",
    key: str | None = None,
    now: datetime = NOW,
) -> tuple[int, dict[str, Any]]:
    """A feed, an item and its flag in the store; the item id and its alert payload."""
    stamp = iso(now)
    with store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO feeds (name, url) VALUES (?, ?)",
            [feed, f"http://example.test/{feed}.xml"],
        )
        cursor = db.execute(
            "INSERT INTO items (feed, key, key_kind, url, title, first_seen, updated, lang,"
            " content_hash) VALUES (?, ?, 'guid', ?, ?, ?, ?, 'en', ?)",
            [feed, key or f"{feed}:{title}:{stamp}", url, title, stamp, stamp, "hash-1"],
        )
        item_id = int(cursor.lastrowid or 0)
        db.execute(
            "INSERT INTO flags (item_id, flagged, score, signal_types, signals, rules_version,"
            " content_hash, matched_at, first_flagged) VALUES (?, 1, ?, ?, ?, 'v1', ?, ?, ?)",
            [item_id, score, "summit_planning", json.dumps(SIGNALS), "hash-1", stamp, stamp],
        )
    item = store.query("SELECT * FROM items WHERE id = ?", (item_id,))[0]
    feed_row = store.query("SELECT * FROM feeds WHERE name = ?", (feed,))[0]
    flag = store.query("SELECT * FROM flags WHERE item_id = ?", (item_id,))[0]
    return item_id, build_item_payload(item, feed_row, flag, "elevated")


def queue_item(
    store: Store,
    alerts: AlertsConfig,
    *,
    title: str = "Summit preparations discussed",
    score: float = 3.0,
    now: datetime = NOW,
    url: str | None = "http://en.kremlin.ru/x",
) -> list[str]:
    """Add a flagged item and enqueue its alerts in one transaction; the new outbox ids."""
    item_id, payload = add_flagged_item(store, title=title, score=score, now=now, url=url)
    with store.write() as db:
        return enqueue_item_alerts(
            db,
            alerts,
            item_id=item_id,
            payload=payload,
            score=score,
            content_hash="hash-1",
            now=now,
        )


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM outbox ORDER BY created, id")
