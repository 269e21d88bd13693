"""Support for the security tests: configs, a hostile feed, subprocess runs, DB dumps.

PYTEST_DONT_REWRITE: helpers only, no assertions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.pipeline_env import db_rows as rows
from tests.pipeline_env import write_config

NOW = "2026-11-26T12:00:00Z"
PUBLISHED = "Thu, 26 Nov 2026 11:00:00 +0000"


def security_config(
    folder: Path,
    feeds: list[dict[str, object]],
    extra: str = "",
    *,
    allow_private: bool = False,
    timeout: float = 3,
) -> Path:
    """A config like `write_config`, with private networks refused unless asked."""
    path = write_config(folder, feeds, extra, timeout=timeout)
    if not allow_private:
        text = path.read_text().replace(
            "allow_private_networks = true", "allow_private_networks = false"
        )
        path.write_text(text)
    return path


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    title: str
    body: str
    link: str | None = None


def rss(entries: Sequence[FeedEntry], title: str = "Hostile press feed") -> bytes:
    """An RSS 2.0 document; every text is XML-escaped, so the payloads arrive verbatim."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>",
        "<description>test</description>",
    ]
    for entry in entries:
        link = f"<link>{escape(entry.link)}</link>" if entry.link is not None else ""
        parts.append(
            f'<item><guid isPermaLink="false">{escape(entry.guid)}</guid>'
            f"<title>{escape(entry.title)}</title>{link}"
            f"<pubDate>{PUBLISHED}</pubDate>"
            f"<description>{escape(entry.body)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def monitor(
    config: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    verbose: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """`python -m monitor --config X ARGS` with a fixed clock; stdout/stderr as bytes."""
    full_env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    full_env.update({"MONITOR_NOW": NOW, **(env or {})})
    flags = ["-vv"] if verbose else []
    return subprocess.run(
        [sys.executable, "-m", "monitor", *flags, "--config", str(config), *args],
        cwd=str(REPO),
        env=full_env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def schema_of(db: Path) -> list[tuple[str, str, str]]:
    """Every object in sqlite_master (type, name, sql), for before/after comparisons."""
    found = rows(db, "SELECT type, name, coalesce(sql, '') AS sql FROM sqlite_master")
    return sorted((r["type"], r["name"], r["sql"]) for r in found)


def dump_text(db: Path) -> str:
    """Every text value of every table (the FTS shadow tables included), as one string."""
    tables = [r["name"] for r in rows(db, "SELECT name FROM sqlite_master WHERE type='table'")]
    values: list[str] = []
    for table in tables:
        for row in rows(db, f'SELECT * FROM "{table}"'):  # names from sqlite_master
            values.extend(_texts(row.values()))
    return "\n".join(values)


def _texts(values: Any) -> list[str]:
    out = []
    for value in values:
        if isinstance(value, bytes):
            out.append(value.decode("utf-8", "replace"))
        elif isinstance(value, str):
            out.append(value)
    return out


def jsonl(items: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


FLAGGED_TITLE = "Telephone conversation with President of the United States"
FLAGGED_BODY = (
    "Vladimir Putin had a telephone conversation with President of the United States "
    "Donald Trump. The presidents agreed to continue contacts."
)


def monitor_tty(config: Path, *args: str, timeout: float = 60) -> bytes:
    """Run the CLI with its stdout on a pseudo-terminal (what a person sees); its output."""
    import pty
    import select
    import time

    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=str(REPO), env={**full_env, "MONITOR_NOW": NOW},
        stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                block = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not block:
                break
            chunks.append(block)
    finally:
        os.close(master)
        process.wait(timeout=10)
    return b"".join(chunks)
