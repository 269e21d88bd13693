"""Build a real configuration and database for pipeline, CLI and daemon tests."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.app import App
from monitor.pipeline.batch_import import import_items
from monitor.pipeline.importer import item_from_json
from monitor.signals import load_rules
from monitor.store import Store
from tests.conftest import FIXTURES, REPO

KREMLIN_FEED = FIXTURES / "kremlin-en-all-2018-01-07.atom.xml"
ARTICLE_PAGE = FIXTURES / "kremlin-style-article.html"


def kremlin_feed_for(base_url: str) -> bytes:
    """The real Kremlin feed with its links pointing at a local server."""
    return KREMLIN_FEED.read_bytes().replace(b"http://en.kremlin.ru", base_url.encode())


def write_config(
    folder: Path, feeds: list[dict[str, object]], extra: str = "", timeout: float = 5
) -> Path:
    """A config allowing loopback (the tests' servers), with the default rules beside it."""
    shutil.copy(REPO / "config" / "rules.toml", folder / "rules.toml")
    lines = [
        '[storage]\npath = "monitor.db"\n',
        f"[fetch]\ntimeout = {timeout}\nallow_private_networks = true\n",
    ]
    for feed in feeds:
        body = "\n".join(f"{k} = {_toml(v)}" for k, v in feed.items())
        lines.append(f"[[feeds]]\n{body}\n")
    path = folder / "monitor.toml"
    path.write_text("\n".join(lines) + extra)
    path.chmod(0o600)
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def app_for(config: Path) -> App:
    return App(str(config))


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m monitor ARGS` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MONITOR_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(REPO),
        check=False,
    )


def db_rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of a read-only query on a monitor database ([] when it does not exist yet).

    Read-only (`mode=ro`), so a test never creates the file or takes a write lock while
    the monitor under test is running.
    """
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def db_count(db: Path, sql: str, params: tuple[Any, ...] = ()) -> int:
    """The single number a `SELECT count(*) …` query returns (0 without a database)."""
    found = db_rows(db, sql, params)
    return int(next(iter(found[0].values()))) if found else 0


IMPORT_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUMMIT_TEXT = (
    "President Biden and President Putin will meet in Geneva, Switzerland, on June 16, 2021. "
    "The leaders will discuss strategic stability and arms control."
)


def import_summit_and_other(
    store: Store, summit_title: str, other_title: str, other_day: str
) -> None:
    """Import, with the default rules, a summit announcement of 2021-05-25 (flagged, id wh-1)
    and an unrelated item of `other_day` (id wh-2) into feed "archive"."""
    lines = [
        {"id": "wh-1", "title": summit_title, "text": SUMMIT_TEXT, "published": "2021-05-25"},
        {"id": "wh-2", "title": other_title, "text": "Bridges.", "published": other_day},
    ]
    items = [item_from_json(line) for line in lines]
    import_items(store, load_rules(REPO / "config" / "rules.toml"), "archive", items, IMPORT_NOW)
