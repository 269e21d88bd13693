"""The daemon at scale: 1,000 feeds at a one-minute interval, for a few minutes.

Starts bench/feedserver.py (N feeds, small documents, fixed ETags so polls after the
first answer 304), runs `monitor run` on them, and reports from the database and the log:

- the gaps between consecutive polls of each feed (median, 95th percentile, max), the
  target being within 10 % of the interval;
- the first polls: how they spread over the first interval;
- CPU time per poll (the daemon and its parse workers, from /proc), total and by round;
- skipped or missed runs and warnings in the log (target 0).

    .venv/bin/python bench/bench_daemon.py [--feeds 1000] [--interval 60] [--seconds 240]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import DEVSET, REPO, monitor_config, start_server  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of a process and its reaped and live children."""
    total = 0.0
    for proc in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / TICKS  # utime stime cutime cstime
    return total


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def poll_times(db: Path) -> dict[str, list[float]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT feed, started FROM fetch_log ORDER BY id").fetchall()
    finally:
        conn.close()
    times: dict[str, list[float]] = {}
    for feed, started in rows:
        stamp = datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
        times.setdefault(feed, []).append(stamp)
    return times


def run(feeds: int, interval: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server, _ = start_server(
            folder / "urls.txt",
            DEVSET if DEVSET.exists() else None,  # real press texts: a realistic share is flagged
            *("--feeds", str(feeds), "--items", "5", "--latency", "0.05"),
        )
        try:
            config = monitor_config(
                folder, (folder / "urls.txt").read_text().split(), f"{interval}s"
            )
            log = (folder / "daemon.log").open("w")
            started = time.time()
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                cwd=REPO,
                stderr=log,
                stdout=subprocess.DEVNULL,
            )
            samples = []
            while time.time() - started < seconds:
                time.sleep(5)
                samples.append((time.time() - started, cpu_seconds(daemon.pid)))
            cpu = cpu_seconds(daemon.pid)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
            log.close()
            report(folder, feeds, interval, seconds, started, cpu, samples)
        finally:
            server.terminate()
            server.wait(10)


def report(
    folder: Path,
    feeds: int,
    interval: int,
    seconds: float,
    started: float,
    cpu: float,
    samples: list[tuple[float, float]],
) -> None:
    times = poll_times(folder / "monitor.db")
    polls = sum(len(t) for t in times.values())
    gaps = sorted(b - a for t in times.values() for a, b in itertools.pairwise(t))
    firsts = sorted(t[0] - started for t in times.values())
    text = (folder / "daemon.log").read_text()
    skipped = text.count("job_still_running") + text.count("job_missed")
    warnings = sum(1 for line in text.splitlines() if "level=WARNING" in line)
    late = [s for s in samples if s[0] >= interval * 1.5]
    steady = (late[-1][1] - late[0][1]) / max(
        1, polls_between(times, late[0][0] + started, late[-1][0] + started)
    )
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"feeds {feeds}, interval {interval}s, ran {seconds:.0f}s: {polls} polls "
        f"({len(times)} feeds polled)"
    )
    print(
        f"first polls: {firsts[0]:.1f}s .. {firsts[-1]:.1f}s after start "
        f"(median {statistics.median(firsts):.1f}s)"
    )
    if gaps:
        q95 = gaps[int(len(gaps) * 0.95)]
        print(
            f"gaps between polls: median {statistics.median(gaps):.1f}s, p95 {q95:.1f}s, "
            f"max {gaps[-1]:.1f}s, min {gaps[0]:.1f}s; within 10% of the interval: "
            f"{sum(abs(g - interval) <= interval * 0.1 for g in gaps) / len(gaps):.1%}"
        )
    print(
        f"CPU: {cpu:.1f}s in all, {cpu / max(polls, 1) * 1000:.1f} ms per poll; "
        f"steady state {steady * 1000:.1f} ms per poll"
    )
    print(f"skipped or missed runs: {skipped}; warnings in the log: {warnings}")


def polls_between(times: dict[str, list[float]], start: float, end: float) -> int:
    return sum(1 for t in times.values() for stamp in t if start <= stamp <= end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=240)
    args = parser.parse_args()
    run(args.feeds, args.interval, args.seconds)


if __name__ == "__main__":
    main()
