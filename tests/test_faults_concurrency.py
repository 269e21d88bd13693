"""Writers and reviewers on one database at once: no lock error reaches a person, no review lost.

A background thread runs `monitor run --once` back to back against a feed that grows
on every request (new items each poll, some of them flagged), which is how a busy
daemon writes. Meanwhile two reviewer threads run the review, export and browse
commands as separate processes for about 25 s. Each reviewer owns half of the flagged
items, so the status each item must end with is known. Every command's stderr is
checked; every review event issued must be in review_events, and flags.status must
be the status of the last status-changing action on the item.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.pipeline_env import run_cli, write_config
from tests.servers import Exchange, TestServer

pytestmark = pytest.mark.slow

REVIEW_SECONDS = 25.0
NEW_PER_POLL = 6
FLAGGED_PER_POLL = 2
WINDOW = 30  # items a response lists (the newest)
PROBLEMS = re.compile(r"locked|busy|Traceback|error", re.IGNORECASE)
STATUS_OF = {"ack": "reviewed", "dismiss": "dismissed", "escalate": "escalated"}


def growing_feed() -> object:
    """A behaviour: each request adds NEW_PER_POLL items, FLAGGED_PER_POLL of them flagged."""
    lock = threading.Lock()
    state = {"polls": 0}

    def title(n: int) -> str:
        if n % NEW_PER_POLL < FLAGGED_PER_POLL:
            return f"Telephone conversation with President of the United States Donald Trump ({n})"
        return f"Meeting with the Governor of a region, number {n}"

    def behaviour(ex: Exchange) -> None:
        with lock:
            state["polls"] += 1
            last = state["polls"] * NEW_PER_POLL
        items = "".join(
            f"<item><title>{title(n)}</title><guid>item-{n}</guid>"
            f"<description>Statement {n}. The parties discussed the agenda.</description></item>"
            for n in range(max(0, last - WINDOW), last)
        )
        body = f'<rss version="2.0"><channel><title>g</title>{items}</channel></rss>'
        ex.send(200, body.encode(), {"Content-Type": "application/rss+xml"})

    return behaviour


@dataclass
class Log:
    """Every command run, and every review event issued, in order."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: list[tuple[tuple[str, ...], int, str]] = field(default_factory=list)
    events: list[tuple[int, str, str]] = field(default_factory=list)  # item, action, note

    def ran(self, args: tuple[str, ...], result: subprocess.CompletedProcess[str]) -> None:
        with self.lock:
            self.runs.append((args, result.returncode, result.stderr))


def _cli(config: Path, log: Log, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("--config", str(config), *args, timeout=90)
    log.ran(args, result)
    return result


def _writer(config: Path, log: Log, stop: threading.Event) -> None:
    deadline = time.monotonic() + REVIEW_SECONDS + 30
    while not stop.is_set() and time.monotonic() < deadline:
        _cli(config, log, "-q", "run", "--once")


def _owned_flags(config: Path, log: Log, parity: int) -> list[int]:
    result = _cli(config, log, "flagged", "--json", "--limit", "500")
    if result.returncode != 0:
        return []
    return [int(r["id"]) for r in json.loads(result.stdout) if int(r["id"]) % 2 == parity]


def _review_once(
    config: Path, log: Log, rng: random.Random, ids: list[int], parity: int, step: int
) -> None:
    action = rng.choice(["ack", "dismiss", "escalate", "note"])
    if not ids:
        return
    item = rng.choice(ids)
    text = f"reviewer {parity} step {step}"
    if action == "note":
        result = _cli(config, log, "note", str(item), text)
    else:
        result = _cli(config, log, action, str(item), "--note", text)
    if result.returncode == 0:
        with log.lock:
            log.events.append((item, action, text))


def _browse_once(config: Path, log: Log, step: int) -> None:
    commands = [
        ("export", "--format", "jsonl"),
        ("export", "--format", "csv"),
        ("search", "Trump"),
        ("items", "--limit", "40"),
        ("feeds",),
        ("flagged", "--status", "escalated"),
    ]
    _cli(config, log, *commands[step % len(commands)])


def _reviewer(config: Path, log: Log, parity: int, stop: threading.Event) -> None:
    rng = random.Random(parity)
    deadline = time.monotonic() + REVIEW_SECONDS
    step, ids = 0, []
    while time.monotonic() < deadline and not stop.is_set():
        if step % 3 == 0:
            ids = _owned_flags(config, log, parity)
        _review_once(config, log, rng, ids, parity, step)
        if step % 2 == 0:
            _browse_once(config, log, step // 2 + parity)
        step += 1


def _expected_status(events: list[tuple[int, str, str]]) -> dict[int, str]:
    status: dict[int, str] = {}
    for item, action, _ in events:
        if action in STATUS_OF:
            status[item] = STATUS_OF[action]
    return status


def test_faults_concurrency_reviews_while_polling_lose_nothing(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Polls and review/export/search commands at once: no lock error shown, every review kept."""
    http_server.route("/feed", growing_feed())  # type: ignore[arg-type]
    config = write_config(tmp_path, [{"name": "g", "url": http_server.url("/feed")}])
    log = Log()
    first = _cli(config, log, "-q", "run", "--once")
    assert first.returncode == 0, first.stderr
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(config, log, stop))
    reviewers = [threading.Thread(target=_reviewer, args=(config, log, p, stop)) for p in (0, 1)]
    for thread in (writer, *reviewers):
        thread.start()
    for thread in reviewers:
        thread.join(REVIEW_SECONDS + 120)
    stop.set()
    writer.join(120)
    shown = [(args, code, err) for args, code, err in log.runs if code != 0 or PROBLEMS.search(err)]
    assert not shown, shown[:5]
    polls = sum(1 for args, _, _ in log.runs if "--once" in args)
    print(f"commands={len(log.runs)} polls={polls} review events={len(log.events)}")
    assert polls >= 3, (polls, len(log.events))
    assert len(log.events) >= 6, (polls, len(log.events))
    conn = sqlite3.connect(tmp_path / "monitor.db")
    try:
        stored = set(conn.execute("SELECT item_id, action, note FROM review_events").fetchall())
        statuses = dict(conn.execute("SELECT item_id, status FROM flags").fetchall())
    finally:
        conn.close()
    assert set(log.events) <= stored
    assert len(stored) == len(log.events)
    for item, status in _expected_status(log.events).items():
        assert statuses[item] == status, (item, statuses[item], status)
