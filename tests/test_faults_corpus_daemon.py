"""The whole hostile corpus served over loopback to a running daemon and to `run --once`.

Every file of ../shared/corpora (but LICENSE, SOURCE.txt and .htaccess) becomes one
feed, answered with the Content-Type the file asks for: the `Header: Content-type:`
line of a feedparser test file, else one chosen by extension. One healthy feed (the
real Kremlin feed) sits in every configuration. A tenth of the corpus plus every
defusedxml bomb goes to a long-running `monitor run` daemon; the rest goes through
`monitor run --once` in batches, while the daemon stays up and keeps polling.

Memory budget: 400 MB peak RSS for any one process: the daemon and its parser
workers, and every `run --once` process with its workers (VmHWM, sampled from /proc
over the process tree while it runs).
Measured here: under 100 MB; the budget leaves room for the largest file the fetch
cap admits (10 MB); entity declarations are refused before feedparser sees them,
so quadratic.xml costs nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.models import ErrorKind
from tests.conftest import REPO, SHARED, needs_shared
from tests.pipeline_env import kremlin_feed_for, write_config
from tests.servers import TestServer, reply

pytestmark = [pytest.mark.slow, needs_shared]

CORPORA = SHARED / "corpora"
SKIPPED_NAMES = frozenset({"LICENSE", "SOURCE.txt", ".htaccess"})
MEMORY_BUDGET_KB = 400 * 1024
ONCE_BATCH = 650  # feeds per `run --once` configuration
DAEMON_EVERY = 10  # every tenth file (and all of defusedxml) goes to the daemon
DAEMON_COVERAGE_S = 120.0  # every daemon feed has a fetch_log row by then
ONCE_DEADLINE_S = 150.0  # one `run --once` batch; fetch deadline is 10 s per feed
HEALTHY = "healthy"
KINDS = frozenset(str(kind) for kind in ErrorKind)
LOCK_WORDS = re.compile(r"database is locked|database .* busy", re.IGNORECASE)

_HEADER_TYPE = re.compile(rb"^\s*Header:\s*Content-type:[ \t]*([^\r\n]+)", re.I | re.M)
_TYPE_BY_SUFFIX = {
    ".xml": "application/xml",
    ".json": "application/feed+json",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml",
    ".txt": "text/plain",
    ".md": "text/markdown",
}


@dataclass
class Figures:
    """What the sweep saw, printed at the end and kept for the README's Reliability section."""

    files: int = 0
    served: int = 0
    batches: int = 0
    crashes: int = 0
    hangs: int = 0
    peak_rss_kb: int = 0
    lock_errors: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPORA.rglob("*") if p.is_file() and p.name not in SKIPPED_NAMES)


def content_type_for(path: Path, data: bytes) -> str:
    """The type a feedparser test states in its `Header:` line, else one by extension."""
    # UTF-16/32 files state it too: dropping NULs leaves their ASCII readable.
    found = _HEADER_TYPE.search(data) or _HEADER_TYPE.search(data.replace(b"\x00", b""))
    if found:
        return found.group(1).decode("latin-1").strip()
    return _TYPE_BY_SUFFIX.get(path.suffix.lower(), "application/octet-stream")


def _feeds(server: TestServer, indices: list[int]) -> list[dict[str, object]]:
    healthy = {"name": HEALTHY, "url": server.url("/healthy"), "interval": "30s"}
    return [healthy] + [
        {"name": f"c{i}", "url": server.url(f"/c/{i}"), "interval": "30s"} for i in indices
    ]


def _query(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=20)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _logged_feeds(db: Path) -> set[str]:
    if not db.exists():
        return set()
    try:
        return {str(r[0]) for r in _query(db, "SELECT DISTINCT feed FROM fetch_log")}
    except sqlite3.OperationalError:
        return set()  # schema not there yet


def _peak_rss_kb(pid: int) -> int:
    """Peak RSS (VmHWM) of `pid` or of any live descendant (its parser workers)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0  # gone meanwhile
    own = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")), 0)
    return max([own, *(_peak_rss_kb(int(child)) for child in children)])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}


def _start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the daemon
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=str(REPO),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def _run_once(config: Path, log: Path) -> tuple[int | None, int, float]:
    """Exit code (None when it had to be killed), peak RSS in kB, seconds.

    The peak is sampled from /proc (VmHWM of the process and its parser workers), not
    taken from wait4: Linux carries the pre-exec high-water mark of the forked test
    process into the child's ru_maxrss, so a pytest worker that grew large earlier
    would be charged to the monitor.
    """
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-q", "--config", str(config), "run", "--once"],
            cwd=str(REPO),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    peak, code = 0, None
    try:
        while True:
            peak = max(peak, _peak_rss_kb(proc.pid))
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > ONCE_DEADLINE_S:
                    proc.kill()
                    proc.wait()
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, peak, time.monotonic() - started


def _check_batch(db: Path, names: list[str], figures: Figures) -> None:
    """Every feed was polled; every failure carries a known error class."""
    rows = _query(
        db,
        f"SELECT name, last_status, last_error_kind, last_error FROM feeds "
        f"WHERE name IN ({','.join('?' * len(names))})",
        tuple(names),
    )
    assert {str(r[0]) for r in rows} == set(names)
    for name, status, kind, error in rows:
        assert status is not None, f"{name} was never polled"
        figures.statuses[str(status)] += 1
        if status == "error":
            assert kind in KINDS, f"{name}: unclassified failure {kind!r} {error!r}"
            assert error, f"{name}: unclassified failure {kind!r} {error!r}"
            figures.kinds[str(kind)] += 1


def _healthy_polls(db: Path) -> list[str]:
    rows = _query(db, "SELECT status FROM fetch_log WHERE feed = ?", (HEALTHY,))
    return [str(r[0]) for r in rows]


def _scan_log(log: Path, figures: Figures, until: str | None = None) -> str:
    text = log.read_text(errors="replace")
    if until and until in text:
        text = text[: text.index(until)]
    figures.lock_errors += len(LOCK_WORDS.findall(text))
    return text


def _wait(
    predicate: object, timeout: float, proc: subprocess.Popen[bytes], figures: Figures
) -> bool:
    """Wait for `predicate` while the daemon lives, sampling its process tree's peak RSS."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        figures.peak_rss_kb = max(figures.peak_rss_kb, _peak_rss_kb(proc.pid))
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.5)
    return bool(predicate())  # type: ignore[operator]


def _serve_corpus(server: TestServer, files: list[Path]) -> None:
    server.route("/healthy", reply(kremlin_feed_for(server.base_url)))
    for index, path in enumerate(files):
        data = path.read_bytes()
        server.route(f"/c/{index}", reply(data, content_type=content_type_for(path, data)))


def _split(files: list[Path]) -> tuple[list[int], list[list[int]]]:
    daemon = [
        i
        for i, p in enumerate(files)
        if i % DAEMON_EVERY == 0 or p.relative_to(CORPORA).parts[0] == "defusedxml"
    ]
    chosen = set(daemon)
    rest = [i for i in range(len(files)) if i not in chosen]
    return daemon, [rest[s : s + ONCE_BATCH] for s in range(0, len(rest), ONCE_BATCH)]


def _once_batches(
    server: TestServer, folder: Path, batches: list[list[int]], figures: Figures
) -> None:
    folder.mkdir()
    for number, batch in enumerate(batches):
        config = write_config(folder, _feeds(server, batch), timeout=10)
        log = folder / f"once-{number}.log"
        code, rss_kb, _ = _run_once(config, log)
        figures.batches += 1
        figures.peak_rss_kb = max(figures.peak_rss_kb, rss_kb)
        text = _scan_log(log, figures)
        figures.hangs += int(code is None)
        figures.crashes += int(code not in (0, None))
        assert code == 0, f"batch {number} exit {code}: {text[-3000:]}"
        assert "Traceback" not in text, text[-3000:]
        assert rss_kb < MEMORY_BUDGET_KB, f"batch {number} peak RSS {rss_kb} kB"
        _check_batch(folder / "monitor.db", [f"c{i}" for i in batch], figures)
    polls = _healthy_polls(folder / "monitor.db")
    assert len(polls) == len(batches), polls
    assert "error" not in polls, polls


def _report(figures: Figures) -> None:
    summary = {
        "files": figures.files,
        "served": figures.served,
        "once_batches": figures.batches,
        "crashes": figures.crashes,
        "hangs": figures.hangs,
        "peak_rss_mb": round(figures.peak_rss_kb / 1024, 1),
        "lock_errors": figures.lock_errors,
        "statuses": dict(figures.statuses),
        "error_kinds": dict(figures.kinds.most_common()),
        "seconds": round(figures.seconds, 1),
    }
    print("corpus figures:", json.dumps(summary))
    target = os.environ.get("MONITOR_FIGURES_FILE")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"corpus_daemon": summary}) + "\n")


def test_faults_corpus_daemon_survives_every_corpus_file(
    tmp_path: Path, http_server: TestServer
) -> None:
    """The corpus never kills or hangs the daemon, every failure is classified, healthy stays ok."""
    started = time.monotonic()
    files = corpus_files()
    figures = Figures(files=len(files))
    _serve_corpus(http_server, files)
    daemon_indices, batches = _split(files)
    daemon_dir = tmp_path / "daemon"
    daemon_dir.mkdir()
    config = write_config(daemon_dir, _feeds(http_server, daemon_indices), timeout=10)
    daemon_db, daemon_log = daemon_dir / "monitor.db", daemon_dir / "daemon.log"
    names = [HEALTHY] + [f"c{i}" for i in daemon_indices]
    proc = _start_daemon(config, daemon_log)
    try:
        covered = _wait(
            lambda: _logged_feeds(daemon_db) >= set(names), DAEMON_COVERAGE_S, proc, figures
        )
        assert proc.poll() is None, _scan_log(daemon_log, figures)[-3000:]
        missing = set(names) - _logged_feeds(daemon_db)
        assert covered, f"daemon hung: {len(missing)} feeds unpolled, e.g. {sorted(missing)[:5]}"
        _once_batches(http_server, tmp_path / "once", batches, figures)
        assert _wait(lambda: len(_healthy_polls(daemon_db)) >= 2, 45.0, proc, figures)
        assert proc.poll() is None, "the daemon died while the corpus was served"
        figures.peak_rss_kb = max(figures.peak_rss_kb, _peak_rss_kb(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    text = _scan_log(daemon_log, figures, until="event=stopping")
    assert proc.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    _check_batch(daemon_db, names[1:], figures)
    daemon_healthy = _healthy_polls(daemon_db)
    assert "error" not in daemon_healthy, daemon_healthy
    figures.served = len({r.path for r in http_server.requests if r.path.startswith("/c/")})
    figures.seconds = time.monotonic() - started
    _report(figures)
    assert figures.served == len(files)
    assert figures.peak_rss_kb < MEMORY_BUDGET_KB
    assert figures.lock_errors == 0
