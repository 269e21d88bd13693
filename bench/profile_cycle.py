"""Where a cold `monitor run --once` cycle goes, by phase, on run.py's 200 feeds.

The cycle runs in a child process (fresh database) whose phase functions are wrapped
with wall-clock timers before the command starts, so the figures carry no profiler
overhead: start-up, fetching, waiting for the parser workers, storing. Its CPU time
is read for the main process and, separately, for the worker processes. What the
workers do to the same 200 bodies (parse, then match every item) is also timed here
in one process, with each reader.

    .venv/bin/python bench/profile_cycle.py [--baseline DIR] [--repeat 3] [--reader]

`--baseline DIR` also times another monitor source tree (for instance `git archive`
of an earlier commit unpacked into DIR), alternating with this one on the same server.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import DEVSET, REPO, ensure_reader, monitor_config, reader_db, start_server  # noqa: E402

PHASES = {
    "fetch": "fetch 200 feeds (16 at a time, 50 ms latency), each body to a worker",
    "wait": "wait for parsed and matched feeds",
    "store": "store items, flags and outcomes",
    "commit": "commit what was stored (one fsync per group of feeds)",
    "after": "after the round (outbox, digests)",
}


def driver(config: str) -> None:
    """In the child: wrap the phase functions with timers, run the cycle, print JSON."""
    from monitor.cli.main import cli
    from monitor.pipeline import poll as pipeline
    from monitor.pipeline.workers import ParsePool
    from monitor.store import Store

    try:  # the round has lived in once.py since the scheduler was kept out of run --once
        from monitor.daemon import once as daemon
    except ImportError:
        from monitor.daemon import scheduler as daemon  # type: ignore[no-redef]

    spent: dict[str, float] = dict.fromkeys([*PHASES, "run_once"], 0.0)

    def timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - started

        return wrapper

    # earlier trees fetched every feed (fetch_many) before handing bodies to the workers
    fetch = "_fetch_and_submit" if hasattr(pipeline, "_fetch_and_submit") else "fetch_many"
    wrapped = [
        ("fetch", pipeline, fetch),
        ("store", pipeline, "ingest_items"),
        ("commit", Store, "commit_group"),  # earlier trees commit inside "store"
        ("wait", ParsePool, "result"),
        ("after", daemon, "after_round"),
        ("run_once", daemon, "run_once"),
    ]
    for phase, owner, name in wrapped:
        if hasattr(owner, name):
            setattr(owner, name, timed(phase, getattr(owner, name)))
    cli(["-q", "--config", config, "run", "--once"], standalone_mode=False)
    reaping = time.perf_counter()  # the command leaves without waiting for its workers
    for worker in multiprocessing.active_children():  # to exit: their CPU counts once
        worker.join()  # they are reaped, and the wait is not the command's time
    spent["reap"] = time.perf_counter() - reaping
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    spent["cpu_main"] = own.ru_utime + own.ru_stime
    spent["cpu_workers"] = workers.ru_utime + workers.ru_stime
    print(json.dumps(spent))


def cold_cycle(source: Path | None, folder: Path, config: Path) -> dict[str, float]:
    for leftover in folder.glob("monitor.db*"):
        leftover.unlink()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(source or REPO)
    command = [sys.executable, str(Path(__file__).resolve()), "--driver", str(config)]
    started = time.perf_counter()
    done = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    spent: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    spent["wall"] = time.perf_counter() - started - spent["reap"]
    return spent


def reader_cold_cycle(folder: Path, urls: list[str]) -> dict[str, float]:
    """lemon24/reader's cold cycle on the same feeds: wall and CPU, for comparison."""
    python = ensure_reader()
    for leftover in folder.glob("reader.sqlite*"):
        leftover.unlink()
    db = reader_db(python, folder, urls)
    command = [str(python), "-m", "reader", "--db", str(db), "update", "--workers", "10"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=folder)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"wall": wall, "cpu": cpu}


def report(label: str, runs: list[dict[str, float]]) -> None:
    for run in runs:  # what no phase covers, per run (medians of parts do not add up)
        run["rest"] = run["run_once"] - sum(run[phase] for phase in PHASES)
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        f"\ncold cycle, {label} (median of {len(runs)}): {median['wall']:.2f} s wall;"
        f" CPU {median['cpu_main']:.2f} s main + {median['cpu_workers']:.2f} s workers"
    )
    print(
        f"  {'start: interpreter, imports, configuration':50s} "
        f"{median['wall'] - median['run_once']:6.2f} s"
    )
    for phase, text in PHASES.items():
        print(f"  {text:50s} {median[phase]:6.2f} s")
    rest = median["rest"]
    print(f"  {'the rest (locks, checks, quiet outcomes, shutdown)':50s} {rest:6.2f} s")


def worker_side(bodies: list[bytes]) -> None:
    """What the workers do to the same bodies, one process, best of three."""
    sys.path.insert(0, str(REPO))
    from monitor.parse.feed import parse_feed
    from monitor.signals import load_rules, match_document

    rules = load_rules(REPO / "config" / "rules.toml", None)
    kind = "application/rss+xml; charset=utf-8"
    print("\nworker side, the same 200 bodies in one process (best of 3):")
    for reader in ("feedparser", "auto"):
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            feeds = [
                parse_feed(b, feed_lang="en", content_type=kind, reader=reader) for b in bodies
            ]
            best = min(best, time.process_time() - started)
        print(f"  parse, reader={reader:10s} {best:6.2f} s CPU")
    started = time.process_time()
    for feed in feeds:
        for item in feed.items:
            match_document(rules, item.title, item.body or item.summary, item.lang)
    print(f"  match every item          {time.process_time() - started:6.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another monitor source tree to time")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reader", action="store_true", help="time reader's cold cycle too")
    parser.add_argument("--driver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        driver(args.driver)
        return
    sources = {"this tree": None}
    if args.baseline is not None:
        sources = {f"baseline {args.baseline}": args.baseline.resolve(), **sources}
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in sources}
    readers: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server, banner = start_server(folder / "urls.txt", DEVSET if DEVSET.exists() else None)
        try:
            urls = (folder / "urls.txt").read_text().split()
            config = monitor_config(folder, urls)
            for _ in range(args.repeat):
                for label, source in sources.items():
                    runs[label].append(cold_cycle(source, folder, config))
                if args.reader:
                    readers.append(reader_cold_cycle(folder, urls))
        finally:
            server.terminate()
            server.wait(10)
    print(f"server: {banner}; machine: {os.cpu_count()} cores")
    for label, found in runs.items():
        report(label, found)
    if readers:
        wall = statistics.median(r["wall"] for r in readers)
        cpu = statistics.median(r["cpu"] for r in readers)
        print(f"\nreader's cold cycle (median of {len(readers)}): {wall:.2f} s wall,", end=" ")
        print(f"{cpu:.2f} s CPU")
    from feedserver import make_feeds

    worker_side([f.body for f in make_feeds(200, 35, 3900, 1, DEVSET)])


if __name__ == "__main__":
    main()
