"""Build a real configuration and database for pipeline, CLI and daemon tests."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from monitor.app import App
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
