"""Time `monitor rescan` over many stored items (issue target: 100,000 in well under a minute).

Builds a database of N items whose texts are slices of real press items (the dev set when
../shared is present, else generated text), then runs the rescan as the CLI does.

    .venv/bin/python bench/bench_rescan.py [--items 100000] [--item-bytes 1500]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from monitor.clock import iso
from monitor.pipeline.rescan import rescan_items
from monitor.signals import load_rules
from monitor.store import open_store

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO.parent / "shared" / "devset" / "items.jsonl"
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def texts(size: int) -> tuple[list[str], str]:
    if DEVSET.exists():
        rows = [json.loads(line) for line in DEVSET.read_text().splitlines()]
        return [r["title"] for r in rows], "\n\n".join(r["text"] for r in rows)
    words = "the president met officials to discuss the economy and regional affairs".split()
    return ["Meeting on economic matters"], " ".join(words * (size * 50 // len(words)))


def build(path: Path, count: int, size: int) -> int:
    titles, stream = texts(size)
    store = open_store(path)
    total, pos = 0, 0
    with store.write() as db:
        db.execute("INSERT INTO feeds (name, url, lang) VALUES ('bench', 'http://b/', 'en')")
        for n in range(count):
            if pos + size > len(stream):
                pos = 0
            body, pos = stream[pos : pos + size], pos + size
            total += len(body.encode())
            db.execute(
                "INSERT INTO items (feed, key, key_kind, title, first_seen, updated, body, lang, "
                "content_hash) VALUES ('bench', ?, 'guid', ?, ?, ?, ?, 'en', ?)",
                [
                    f"k{n}",
                    titles[n % len(titles)],
                    iso(NOW),
                    iso(NOW),
                    body,
                    hashlib.sha256(body.encode()).hexdigest(),
                ],
            )
    store.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--item-bytes", type=int, default=1500)
    args = parser.parse_args()
    rules = load_rules(REPO / "config" / "rules.toml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        size = build(path, args.items, args.item_bytes)
        store = open_store(path)
        started = time.perf_counter()
        report = rescan_items(store, rules, NOW, since=None)
        elapsed = time.perf_counter() - started
        store.close()
    print(
        f"rescan of {report.scanned} items ({size / 1e6:.0f} MB of text): {elapsed:.1f} s, "
        f"{report.flagged} flagged ({size / 1e6 / elapsed:.1f} MB/s)"
    )


if __name__ == "__main__":
    main()
