"""Run the daemon as a real subprocess and look at it from outside, as an operator would."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import REPO
from tests.pipeline_env import db_count


class RunningDaemon:
    """`monitor run` as a subprocess, its log collected line by line while it runs."""

    def __init__(self, config: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        env = {**{k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), *extra, "run"],
            cwd=str(REPO),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def logged(self, *words: str) -> list[str]:
        """Log lines holding every one of `words`."""
        return [line for line in list(self.lines) if all(w in line for w in words)]

    def wait_logged(self, *words: str, count: int = 1, timeout: float = 30.0) -> bool:
        return wait_for(lambda: len(self.logged(*words)) >= count, timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> str:
        """Signal the daemon, wait for it to end, and return everything it logged."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        return "".join(self.lines)


def start_daemon(config: Path, *extra: str) -> RunningDaemon:
    """`monitor run` on `config` (global options in `extra`)."""
    return RunningDaemon(config, *extra)


def stop_daemon(daemon: RunningDaemon, sig: int = signal.SIGTERM) -> str:
    return daemon.stop(sig)


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def polls(db: Path, feed: str | None = None) -> int:
    """Successful polls recorded so far (of one feed, or of all)."""
    if feed is None:
        return db_count(db, "SELECT count(*) FROM fetch_log WHERE status = 'ok'")
    return db_count(db, "SELECT count(*) FROM fetch_log WHERE status = 'ok' AND feed = ?", (feed,))


def open_files(pid: int) -> list[str]:
    """What the process's descriptors point at (`/proc/<pid>/fd`), `(deleted)` marks included."""
    found = []
    folder = Path(f"/proc/{pid}/fd")
    for entry in folder.iterdir():
        try:
            found.append(os.readlink(entry))
        except OSError:
            continue
    return found


def inode(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def children(pid: int) -> list[int]:
    """Every live descendant of `pid`."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                found.append(int(kid))
                todo.append(int(kid))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


SIGNAL_TITLES = (
    "Telephone conversation with US President Donald Trump",
    "Russian and US delegations hold talks in Abu Dhabi",
    "Sergei Lavrov and Marco Rubio discuss preparations for a Putin–Trump summit",
)


def rss(base_url: str, items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document of (guid, title, text) items, newest first, published now."""
    published = format_datetime(datetime.now(UTC))
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{base_url}/news/{guid}</link>"
        f"<description>{text}</description><pubDate>{published}</pubDate></item>"
        for guid, title, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>test feed</title><link>{base_url}/</link>{entries}</channel></rss>"
    ).encode()


def signal_feed(base_url: str, prefix: str = "n") -> bytes:
    """A small feed whose items the default rules flag."""
    return rss(
        base_url,
        [(f"{prefix}{n}", title, title + ".") for n, title in enumerate(SIGNAL_TITLES)],
    )
