"""Crash loop: SIGKILL `run --once` at random points, restart, and check nothing is lost or
silently doubled.

Three local feeds grow between runs (flagged and plain items); the mail server and
the webhook receiver count what they get by Message-ID and `webhook-id`. Each run is
killed after a random delay drawn around the measured length of a clean run, so the
kills land in start-up, fetch, match+store and dispatch; every fifth start is the
daemon (`run`) instead of `run --once`. The seed is printed (set
CRASH_SEED to replay a run).
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.alerts_fixtures import SECRET
from tests.delivery_env import (
    Entry,
    alerts_toml,
    flagged_entry,
    integrity,
    plain_entry,
    query,
    rss,
    run_monitor,
    start_monitor,
)
from tests.pipeline_env import write_config
from tests.servers import Behaviour, Exchange, TestServer
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import Reply, WebhookReceiver

KILLS = 55  # the loop stops here, or at the end of its time budget
MIN_KILLS = 20  # fewer than this within the budget: the machine, or the monitor, is stuck
FEEDS = ("alpha", "beta", "gamma")
CHANNELS = ("email", "webhook:ops")
LOOP_BUDGET_S = 170.0


@dataclass
class GrowingFeeds:
    """Feeds that only grow; records every (feed, guid) it has ever served."""

    rng: random.Random
    entries: dict[str, list[Entry]] = field(default_factory=lambda: {f: [] for f in FEEDS})
    served: set[tuple[str, str]] = field(default_factory=set)
    counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def grow(self) -> None:
        """Add 0-3 items (about half flagged) to each feed."""
        now = datetime.now(UTC).replace(microsecond=0)
        with self._lock:
            for name in FEEDS:
                for _ in range(self.rng.randint(0, 3)):
                    self.counter += 1
                    tag = f"{name}-{self.counter}"
                    make = flagged_entry if self.rng.random() < 0.5 else plain_entry
                    self.entries[name].append(make(tag, now))

    def behaviour(self, name: str) -> Behaviour:
        def serve(ex: Exchange) -> None:
            time.sleep(self.rng.uniform(0.0, 0.15))  # widens the fetch phase
            with self._lock:
                entries = list(self.entries[name])
                self.served.update((name, e.guid) for e in entries)
            body = rss(entries)
            ex.send(200, body, {"Content-Type": "application/rss+xml; charset=utf-8"})

        return serve


@dataclass(frozen=True)
class RunTiming:
    total: float  # start to exit
    tail: float  # first feed request to exit: fetch, match, store, dispatch


def _clean_run(config: Path, server: TestServer) -> RunTiming:
    requests_before = len(server.requests)
    started = time.monotonic()
    proc = start_monitor(config, "run", "--once")
    _wait_for_fetch(proc, server, requests_before)
    fetching = time.monotonic()
    _, errors = proc.communicate(timeout=120)
    assert proc.returncode == 0, errors.decode(errors="replace")
    ended = time.monotonic()
    return RunTiming(ended - started, ended - fetching)


def _wait_for_fetch(proc: subprocess.Popen[bytes], server: TestServer, before: int) -> None:
    deadline = time.monotonic() + 20
    while len(server.requests) == before and proc.poll() is None:
        assert time.monotonic() < deadline, "the monitor never fetched"
        time.sleep(0.005)


def _phase(db: Path, before: dict[str, int], requests_before: int, requests_now: int) -> str:
    """Where the kill landed, judged from what changed."""
    after = _counts(db)
    if after["sending"]:
        return "dispatch"
    if after["sent"] > before["sent"]:
        return "dispatch"
    if after["items"] > before["items"]:
        return "after-store"
    if requests_now > requests_before:
        return "fetch/store"
    return "start-up"


def _counts(db: Path) -> dict[str, int]:
    if not db.exists():
        return {"items": 0, "sent": 0, "sending": 0}
    return {
        "items": query(db, "SELECT count(*) AS n FROM items")[0]["n"],
        "sent": query(db, "SELECT count(*) AS n FROM outbox WHERE state = 'sent'")[0]["n"],
        "sending": query(db, "SELECT count(*) AS n FROM outbox WHERE state = 'sending'")[0]["n"],
    }


# The flagged items all report one call: send every one (marked as an update of the
# event) rather than hold them for a digest, so that each row's delivery is exercised.
EVERY_ITEM = 'budget = 0\nupdates = "send"'


@pytest.mark.slow
@pytest.mark.timeout(290)
def test_crash_loop_loses_nothing_and_marks_every_duplicate(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Up to 55 SIGKILLs across poll, match, store, dispatch: stored once, all sent, repeats
    marked."""
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"crash loop seed={seed}")
    rng = random.Random(seed)
    feeds = GrowingFeeds(random.Random(seed + 1))
    specs: list[dict[str, object]] = [
        {"name": f, "url": http_server.route(f"/{f}", feeds.behaviour(f)), "interval": "30s"}
        for f in FEEDS
    ]
    smtp = SmtpServer().start()
    webhook = WebhookReceiver(secret=SECRET, default=Reply(status=204, delay=0.05)).start()
    try:
        alerts = alerts_toml(smtp_port=smtp.port, webhook_url=webhook.url, common=EVERY_ITEM)
        config = write_config(tmp_path, specs, alerts)
        db = tmp_path / "monitor.db"
        feeds.grow()
        timing = _clean_run(config, http_server)
        phases = _kill_loop(config, db, feeds, http_server, rng, timing)
        feeds.grow()
        for _ in range(2):  # the second pass sends what the first one recovered
            result = run_monitor(config, "run", "--once", timeout=120)
            assert result.returncode == 0, result.stderr
    finally:
        smtp.stop()
        webhook.stop()
    figures = _check_invariants(db, feeds, smtp, webhook)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"crash loop seed={seed} {timing} kills={dict(phases)} {figures}")
    print(f"crash loop peak child RSS {peak_mib:.0f} MiB")


def _kill_loop(
    config: Path,
    db: Path,
    feeds: GrowingFeeds,
    server: TestServer,
    rng: random.Random,
    timing: RunTiming,
) -> Counter[str]:
    """Start, kill, check, until KILLS runs really died by SIGKILL or the time budget is
    spent (a loaded machine starts the monitor more slowly; at least MIN_KILLS count)."""
    phases: Counter[str] = Counter()
    deadline = time.monotonic() + LOOP_BUDGET_S
    for start in range(3 * KILLS):
        kills = phases.total() - phases["finished"]
        if kills >= KILLS or time.monotonic() > deadline:
            break
        if rng.random() < 0.6:
            feeds.grow()
        daemon = start % 5 == 4  # every fifth start is the long-running daemon
        phase = _one_kill(config, db, server, rng, timing, daemon)
        phases[("daemon " if daemon else "") + phase] += 1
        if db.exists():
            assert integrity(db) == "ok", f"after start {start} ({phase})"
    kills = phases.total() - phases["finished"]
    assert kills >= MIN_KILLS, f"only {kills} kills within {LOOP_BUDGET_S} s: {phases}"
    return phases


def _one_kill(
    config: Path,
    db: Path,
    server: TestServer,
    rng: random.Random,
    timing: RunTiming,
    daemon: bool,
) -> str:
    """One start killed at a random point; the phase it was in ("finished" if it was not)."""
    before, requests_before = _counts(db), len(server.requests)
    proc = start_monitor(config, *(["run"] if daemon else ["run", "--once"]))
    if daemon or rng.random() < 0.15:  # anywhere, start-up included
        time.sleep(rng.uniform(0.2, 1.1) * timing.total)
    else:  # somewhere in fetch, match, store or dispatch
        _wait_for_fetch(proc, server, requests_before)
        time.sleep(rng.uniform(0.0, 0.8) * timing.tail)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    if proc.returncode == 0:
        return "finished"  # it ended before the kill: still a restart
    return _phase(db, before, requests_before, len(server.requests))


def _check_invariants(
    db: Path, feeds: GrowingFeeds, smtp: SmtpServer, webhook: WebhookReceiver
) -> str:
    assert integrity(db) == "ok"
    stored = query(db, "SELECT feed, key FROM items")
    assert Counter((r["feed"], r["key"]) for r in stored).most_common(1)[0][1] == 1
    assert {(r["feed"], r["key"]) for r in stored} == feeds.served
    flags = query(db, "SELECT item_id FROM flags WHERE flagged = 1 AND silent = 0")
    rows = query(db, "SELECT * FROM outbox")
    item_rows = Counter((r["item_id"], r["channel"]) for r in rows if r["kind"] == "item")
    expected = {(f["item_id"], c) for f in flags for c in CHANNELS}
    assert set(item_rows) == expected
    assert set(item_rows.values()) == {1}
    assert {r["state"] for r in rows} == {"sent"}, Counter(r["state"] for r in rows)
    mail_dups = _check_mail(rows, smtp)
    hook_dups = _check_webhooks(rows, webhook)
    marked = sum(1 for r in rows if r["possible_duplicate"])
    return (
        f"served={len(feeds.served)} flagged={len(flags)} alerts={len(rows)} "
        f"duplicate_deliveries(email={mail_dups}, webhook={hook_dups}) rows_marked_dup={marked}"
    )


def _check_mail(rows: list[dict[str, object]], smtp: SmtpServer) -> int:
    """Every email row arrived; every repeat has the same Message-ID and is marked."""
    messages = [d.message() for d in smtp.handler.delivered]
    by_id = Counter(str(m["Message-ID"]) for m in messages)
    wanted = {f"<{r['id']}@monitor.test>" for r in rows if r["channel"] == "email"}
    assert set(by_id) == wanted
    seen: set[str] = set()
    for message in messages:
        mid = str(message["Message-ID"])
        if mid in seen:
            assert int(message["X-Monitor-Attempt"]) > 1, mid
            assert "possible duplicate" in str(message["Subject"]), mid
        seen.add(mid)
    return sum(n - 1 for n in by_id.values())


def _check_webhooks(rows: list[dict[str, object]], webhook: WebhookReceiver) -> int:
    """Every webhook row arrived signed; every repeat has the same id and is marked."""
    accepted = webhook.accepted()
    by_id = Counter(r.id for r in accepted)
    assert set(by_id) == {r["id"] for r in rows if r["channel"] == "webhook:ops"}
    seen: set[str] = set()
    for received in accepted:
        body = json.loads(received.body)
        assert body["id"] == received.id
        if received.id in seen:
            assert body["possible_duplicate"] is True, received.id
            assert body["attempt"] > 1, received.id
        seen.add(received.id)
    return sum(n - 1 for n in by_id.values())
