"""Poll-cycle benchmark: `monitor run --once` beside lemon24/reader on the same feeds.

Starts bench/feedserver.py (200 feeds, about 7,000 items and 32 MB, 50 ms latency on
loopback), then measures in the same run, alternating the two tools:

- monitor cold: a fresh database, every feed fetched, parsed, matched and stored;
- monitor warm: the same database again, every feed answering 304;
- reader cold / warm: `python -m reader --db X update --workers 10`, likewise; the plain
  command skips feeds it updated within its own update interval (no request at all), so
  the warm cycle is also measured with `--no-scheduled`, which revalidates every feed
  (conditional GET, 304) as the monitor does; the ratio uses that one.

reader is installed into bench/.venv-reader (created on first use; it is a benchmark
dependency only, never a dependency of the monitor). Ratios are what count: the machine
is shared, so absolute seconds vary between runs.

    .venv/bin/python bench/run.py [--repeat 3] [--no-reader] [--baseline DIR]

`--baseline DIR` times a second monitor in the same rounds, from the source tree DIR
(for instance `git archive` of an earlier commit unpacked there): before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
READER_VENV = BENCH / ".venv-reader"
DEVSET = REPO.parent / "shared" / "devset" / "items.jsonl"


def start_server(
    urls_file: Path, texts: Path | None, *options: str
) -> tuple[subprocess.Popen[str], str]:
    """Start feedserver.py (`options`: its own, e.g. "--feeds", "1000"); returns it and the
    rest of its READY line."""
    cmd = [sys.executable, str(BENCH / "feedserver.py"), "--urls-file", str(urls_file), *options]
    if texts is not None:
        cmd += ["--texts", str(texts)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "READY":
        proc.kill()
        raise SystemExit("feed server did not start")
    return proc, " ".join(line[1:])


def monitor_config(folder: Path, urls: list[str], interval: str = "10m") -> Path:
    """monitor.toml (and the default rules beside it) for `urls`, polled every `interval`."""
    (folder / "rules.toml").write_text((REPO / "config" / "rules.toml").read_text())
    feeds = "".join(
        f'[[feeds]]\nname = "f{n}"\nurl = "{url}"\ninterval = "{interval}"\n\n'
        for n, url in enumerate(urls)
    )
    path = folder / "monitor.toml"
    path.write_text(
        '[storage]\npath = "monitor.db"\n\n'
        "[fetch]\nallow_private_networks = true\nconcurrency = 16\n\n" + feeds
    )
    return path


def timed(
    cmd: list[str],
    server: str,
    requests: dict[str, int],
    key: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> float:
    """Run one cycle; record how many requests (and 200s) the feed server saw during it."""
    urllib.request.urlopen(urllib.request.Request(server + "/stats/reset", method="POST"))
    started = time.perf_counter()
    # Run from the feed folder: `python -m` puts the working directory first on the path,
    # which from the repository would shadow a baseline's source tree.
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    elapsed = time.perf_counter() - started
    with urllib.request.urlopen(server + "/stats") as answer:
        stats = json.load(answer)
    requests[key] = stats["requests"]
    requests[key + "_200"] = stats["ok"]
    return elapsed


def ensure_reader() -> Path:
    python = READER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(READER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "reader[cli]", "sgmllib3k"], check=True
        )
    return python


def reader_db(python: Path, folder: Path, urls: list[str]) -> Path:
    db = folder / "reader.sqlite"
    script = (
        "import sys\nfrom reader import make_reader\n"
        "r = make_reader(sys.argv[1])\n"
        "for url in open(sys.argv[2]).read().split():\n    r.add_feed(url, exist_ok=True)\n"
    )
    urls_file = folder / "urls.txt"
    urls_file.write_text("\n".join(urls))
    subprocess.run([str(python), "-c", script, str(db), str(urls_file)], check=True)
    return db


def one_round(
    config: Path,
    reader: tuple[Path, Path] | None,
    server: str,
    requests: dict[str, int],
    baseline: Path | None = None,
) -> dict[str, float]:
    """A cold and a warm cycle of each tool, each on a fresh database."""
    monitor = [sys.executable, "-m", "monitor", "-q", "--config", str(config), "run", "--once"]
    result: dict[str, float] = {}
    if baseline is not None:  # an earlier monitor, from its source tree
        env = {**os.environ, "PYTHONPATH": str(baseline)}
        for leftover in config.parent.glob("monitor.db*"):
            leftover.unlink()
        for cycle in ("cold", "warm"):
            key = f"baseline_{cycle}"
            result[key] = timed(monitor, server, requests, key, env, config.parent)
    for leftover in config.parent.glob("monitor.db*"):
        leftover.unlink()
    result |= {
        "monitor_cold": timed(monitor, server, requests, "monitor_cold", cwd=config.parent),
        "monitor_warm": timed(monitor, server, requests, "monitor_warm", cwd=config.parent),
    }
    if reader is not None:
        python, folder = reader
        for leftover in folder.glob("reader.sqlite*"):
            leftover.unlink()
        urls = (folder / "all-urls.txt").read_text().split()
        db = reader_db(python, folder, urls)
        update = [str(python), "-m", "reader", "--db", str(db), "update", "--workers", "10"]
        result |= {
            "reader_cold": timed(update, server, requests, "reader_cold"),
            # As the plain command does: feeds updated within reader's own interval are
            # skipped, so no request is made at all.
            "reader_warm_sched": timed(update, server, requests, "reader_warm_sched"),
            # Revalidating every feed, as the monitor's warm cycle does.
            "reader_warm": timed([*update, "--no-scheduled"], server, requests, "reader_warm"),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument(
        "--texts",
        type=Path,
        default=DEVSET if DEVSET.exists() else None,
        help="real items to slice bodies from (default: the dev set if present)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also time the monitor in this source tree (e.g. an earlier commit, unpacked)",
    )
    parser.add_argument(
        "--salad",
        action="store_true",
        help="generated diplomatic word salad instead (worst case for matching)",
    )
    args = parser.parse_args()
    texts = None if args.salad else args.texts
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server, banner = start_server(folder / "all-urls.txt", texts)
        try:
            urls = (folder / "all-urls.txt").read_text().split()
            config = monitor_config(folder, urls)
            reader = None if args.no_reader else (ensure_reader(), folder)
            base = banner.split()[0]
            requests: dict[str, int] = {}
            baseline = args.baseline.resolve() if args.baseline else None
            rounds = [
                one_round(config, reader, base, requests, baseline) for _ in range(args.repeat)
            ]
        finally:
            server.terminate()
            server.wait(10)
    report(f"{banner} texts={texts or 'generated'}", rounds, requests)


def report(banner: str, rounds: list[dict[str, float]], requests: dict[str, int]) -> None:
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(f"server: {banner}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for key, value in median.items():
        print(
            f"{key:14s} {value:6.2f} s (median of {len(rounds)}); requests {requests[key]}, "
            f"full answers {requests[key + '_200']}"
        )
    if "reader_cold" in median:
        for tool in ("baseline", "monitor"):
            if f"{tool}_cold" in median:
                for cycle in ("cold", "warm"):
                    ratio = median[f"{tool}_{cycle}"] / median[f"reader_{cycle}"]
                    print(f"{cycle} ratio {tool}/reader: {ratio:.2f}")
    (BENCH / "out").mkdir(exist_ok=True)
    (BENCH / "out" / "last.json").write_text(json.dumps({"rounds": rounds, "median": median}))


if __name__ == "__main__":
    main()
