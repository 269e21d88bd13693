"""Soak: the daemon runs for minutes while people use the CLI, as the monitor is used.

A loopback server serves 30 feeds whose items change on every poll (some flagged); the
daemon polls them at the minimum interval and alerts a signed webhook; meanwhile a
reviewer process after another runs `feeds`, `items`, `flagged`, `search`, `export`,
`show`, `ack`, `escalate`, `dismiss` and `note`. While the daemon runs, each round checks
that the -wal it holds is the one on disk and that every item it logged as stored is
visible to the next command. Then SIGTERM, and again `kill -9` and a restart: every
review status is the last one written, no item is lost or doubled, no alert went out
under two ids, the file is intact, nothing of the monitor is left running, and the
daemon's descriptors, threads and memory did not grow.

MONITOR_SOAK_SECONDS (default 100) sets the first run's length; set it to 1800 locally
for a long run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.alerts_fixtures import SECRET
from tests.daemon_env import SIGNAL_TITLES, RunningDaemon, alive, children, rss, wait_for
from tests.delivery_env import WEBHOOK_ENV, alerts_toml
from tests.pipeline_env import db_rows, run_cli, write_config
from tests.servers import Exchange, TestServer
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow

FEEDS = 30
SOAK_SECONDS = float(os.environ.get("MONITOR_SOAK_SECONDS", "100"))
SECOND_RUN_SECONDS = 40.0
WINDOW = 8  # items one response lists (the newest)
STATUS_OF = {"ack": "reviewed", "dismiss": "dismissed", "escalate": "escalated"}
PROBLEMS = re.compile(r"locked|busy|Traceback", re.IGNORECASE)
DESCRIPTORS_PER_THREAD = 2  # a job thread's database connection: the file and its WAL
STORED = re.compile(r"event=polled feed=\S+ status=ok new=(\d+)")


class ChangingFeeds:
    """Each request to /feed/N adds one item to feed N; every third item is flagged."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.served: Counter[int] = Counter()

    def route(self, n: int) -> str:
        def behaviour(ex: Exchange) -> None:
            with self.lock:
                self.served[n] += 1
                count = self.served[n]
            items = [_item(n, k) for k in range(max(0, count - WINDOW), count)]
            body = rss(self.server.base_url, list(reversed(items)))
            ex.send(200, body, {"Content-Type": "application/rss+xml"})

        return self.server.route(f"/feed/{n}", behaviour)


def _item(feed: int, k: int) -> tuple[str, str, str]:
    guid = f"f{feed}-i{k}"
    if k % 3 == 0:
        title = f"{SIGNAL_TITLES[k % len(SIGNAL_TITLES)]} ({guid})"
    else:
        title = f"Meeting with the governor of region {feed} on roads ({guid})"
    return guid, title, f"{title}. Item {k} of feed {feed}."


@dataclass
class Reviews:
    """Every command run and every review write, in order."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: list[tuple[tuple[str, ...], int, str]] = field(default_factory=list)
    last_status: dict[int, str] = field(default_factory=dict)
    writes: int = 0
    stale: list[str] = field(default_factory=list)  # stored items a command did not see
    wal: list[str] = field(default_factory=list)  # -wal files held but not on disk


def _cli(config: Path, reviews: Reviews, *args: str) -> tuple[int, str]:
    result = run_cli("--config", str(config), "-q", *args, timeout=120)
    with reviews.lock:
        reviews.runs.append((args, result.returncode, result.stderr))
    return result.returncode, result.stdout


def _review_round(config: Path, reviews: Reviews, rng: random.Random, step: int) -> None:
    code, out = _cli(config, reviews, "flagged", "--json", "--limit", "1000")
    ids = [int(r["id"]) for r in json.loads(out)] if code == 0 else []
    if ids:
        item = rng.choice(ids)
        action = rng.choice(["ack", "escalate", "dismiss", "note"])
        args = ("note", str(item), f"step {step}") if action == "note" else (action, str(item))
        if _cli(config, reviews, *args)[0] == 0 and action in STATUS_OF:
            with reviews.lock:
                reviews.last_status[item] = STATUS_OF[action]
                reviews.writes += 1
        _cli(config, reviews, "show", str(item))
    browse = [("feeds",), ("search", "governor"), ("export", "--format", "csv"), ("items",)]
    _cli(config, reviews, *browse[step % len(browse)])


def _stored_by_log(daemon: RunningDaemon) -> int:
    return sum(
        int(m.group(1)) for line in daemon.logged("event=polled") if (m := STORED.search(line))
    )


def _check_visibility(config: Path, reviews: Reviews, daemon: RunningDaemon, db: Path) -> None:
    """Items the daemon logged as stored before a command are all visible to it."""
    logged = _stored_by_log(daemon)
    code, out = _cli(config, reviews, "items", "--json", "--limit", "100000")
    if code == 0 and len(json.loads(out)) < logged:
        reviews.stale.append(f"logged {logged} stored, `items` saw {len(json.loads(out))}")
    held = _held_wal(daemon.pid, db)
    if held is not None and held != _inode(Path(f"{db}-wal")):
        reviews.wal.append(f"daemon holds -wal {held}, the folder has {_inode(Path(f'{db}-wal'))}")


def _held_wal(pid: int, db: Path) -> tuple[int, int] | None:
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
            if target.startswith(f"{db}-wal"):
                stat = fd.stat()
                return stat.st_dev, stat.st_ino
        except OSError:
            continue
    return None


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _reviewer(
    config: Path, db: Path, reviews: Reviews, daemon: RunningDaemon, seconds: float
) -> None:
    rng = random.Random(7)
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline and daemon.proc.poll() is None:
        _review_round(config, reviews, rng, step)
        _check_visibility(config, reviews, daemon, db)
        step += 1


@dataclass
class Usage:
    samples: list[tuple[float, int, int, int]] = field(
        default_factory=list
    )  # t, fds, threads, rss kB

    # what the descriptors were at the sample with the most of them (shown on a failure)
    most: tuple[int, list[str]] = (0, [])
    last: list[str] = field(default_factory=list)

    def sample(self, pid: int) -> None:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss_kb = int(fields["VmRSS"].split()[0])
        self.samples.append((time.monotonic(), len(fds), int(fields["Threads"]), rss_kb))
        self.last = sorted(_target(f"/proc/{pid}/fd/{fd}") for fd in fds)
        if len(fds) > self.most[0]:
            self.most = (len(fds), self.last)


def _target(link: str) -> str:
    try:
        return re.sub(r"\[\d+\]", "", os.readlink(link))  # socket:[123] -> socket:
    except OSError:  # closed between listing and reading
        return "(closed)"


def _sampler(daemon: RunningDaemon, usage: Usage, stop: threading.Event) -> None:
    while not stop.wait(2.0):
        usage.sample(daemon.pid)


def _run_with_reviews(
    config: Path, db: Path, reviews: Reviews, seconds: float, usage: Usage | None = None
) -> RunningDaemon:
    daemon = RunningDaemon(config, env=WEBHOOK_ENV)
    assert daemon.wait_logged("event=polled", timeout=60), daemon.stop()
    stop = threading.Event()
    sampler = threading.Thread(target=_sampler, args=(daemon, usage or Usage(), stop), daemon=True)
    sampler.start()
    try:
        _reviewer(config, db, reviews, daemon, seconds)
    finally:
        stop.set()
        sampler.join(5)
    return daemon


def _assert_consistent(db: Path, reviews: Reviews, daemons: list[RunningDaemon]) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    items = db_rows(db, "SELECT count(*) AS n, count(DISTINCT feed || ' ' || key) AS d FROM items")
    assert items[0]["n"] == items[0]["d"], "an item was stored twice"
    assert items[0]["n"] >= sum(_stored_by_log(d) for d in daemons), "an item was lost"
    statuses = {r["item_id"]: r["status"] for r in db_rows(db, "SELECT item_id, status FROM flags")}
    wrong = {
        i: (s, statuses.get(i)) for i, s in reviews.last_status.items() if statuses.get(i) != s
    }
    assert not wrong, f"review statuses lost (expected, found): {wrong}"


def _assert_alerts_once(db: Path, receiver: WebhookReceiver) -> None:
    rows = db_rows(db, "SELECT item_id, count(*) AS n FROM outbox WHERE kind = 'item' GROUP BY 1")
    assert all(r["n"] == 1 for r in rows), "an item was queued twice for one channel"
    ids_per_item: dict[object, set[str]] = {}
    seen: set[str] = set()
    for request in receiver.accepted():
        body = json.loads(request.body)
        if body.get("kind") == "item":
            ids_per_item.setdefault(body["item"]["id"], set()).add(request.id)
        if request.id in seen:
            assert body.get("possible_duplicate"), "a repeated delivery was not marked"
        seen.add(request.id)
    assert all(len(ids) == 1 for ids in ids_per_item.values()), "an item alerted under two ids"


def _assert_no_growth(usage: Usage) -> None:
    """Descriptors, threads and memory at the end are within a margin of the first minute's.
    A job thread the scheduler starts later (more polls overlap on a loaded machine) opens
    its own database connection, two descriptors (the file and its WAL; the shared memory
    is the process's): those come with the threads, held to their own margin."""
    assert len(usage.samples) >= 10, usage.samples
    start = usage.samples[0][0]
    early = [s for s in usage.samples if s[0] - start <= 60]
    late = usage.samples[-5:]
    new_threads = max(0, max(s[2] for s in late) - max(s[2] for s in early))
    assert new_threads <= 4, usage.samples
    fds_allowed = max(s[1] for s in early) + 4 + DESCRIPTORS_PER_THREAD * new_threads
    assert max(s[1] for s in late) <= fds_allowed, (usage.samples, usage.most, usage.last)
    assert max(s[3] for s in late) <= max(s[3] for s in early) + 40_000, usage.samples


def _problems(reviews: Reviews) -> list[str]:
    return [
        f"{a}: exit {c}: {e[-300:]}" for a, c, e in reviews.runs if c != 0 or PROBLEMS.search(e)
    ]


def test_soak_daemon_beside_the_cli_loses_nothing(tmp_path: Path, http_server: TestServer) -> None:
    """Minutes of polling beside a CLI loop, a SIGTERM, a kill -9 and a restart: no write
    lost, no stale read, no alert twice, no process or resource left growing."""
    feeds = ChangingFeeds(http_server)
    with WebhookReceiver(secret=SECRET) as receiver:
        config = write_config(
            tmp_path,
            [{"name": f"feed{n}", "url": feeds.route(n), "interval": "30s"} for n in range(FEEDS)],
            extra=alerts_toml(webhook_url=receiver.url, common="budget = 1000\nnotices = false"),
        )
        db, reviews, usage = tmp_path / "monitor.db", Reviews(), Usage()
        first = _run_with_reviews(config, db, reviews, SOAK_SECONDS, usage)
        log = first.stop(signal.SIGTERM)
        assert first.returncode == 0, log[-3000:]
        _assert_consistent(db, reviews, [first])
        second = _run_with_reviews(config, db, reviews, SECOND_RUN_SECONDS)
        workers = children(second.pid)
        second.stop(signal.SIGKILL)
        assert workers
        assert wait_for(lambda: not any(alive(p) for p in workers), timeout=10)
        _assert_consistent(db, reviews, [first, second])
        third = RunningDaemon(config, env=WEBHOOK_ENV)
        assert third.wait_logged("event=polled", timeout=120), third.stop()[-3000:]
        assert wait_for(
            lambda: not db_rows(db, "SELECT 1 FROM outbox WHERE state IN ('pending', 'sending')"),
            timeout=30,
        )
        log = third.stop(signal.SIGTERM)
        assert third.returncode == 0, log[-3000:]
        _assert_consistent(db, reviews, [first, second, third])
        _assert_alerts_once(db, receiver)
    assert not reviews.stale, reviews.stale[:5]
    assert not reviews.wal, reviews.wal[:5]
    assert not _problems(reviews), _problems(reviews)[:5]
    assert reviews.writes >= 10, "the reviewer made too few writes to prove anything"
    _assert_no_growth(usage)
    print(
        f"soak: {len(reviews.runs)} commands, {reviews.writes} review writes, "
        f"usage samples (t, fds, threads, rss kB) first {usage.samples[0]} last {usage.samples[-1]}"
    )
