"""Parse throughput: feedparser against the fast reader, in MB/s of feed XML, one core.

Two sets of documents:
- bench: the 200 feeds `run.py` serves (35 items each, bodies cut from the dev set's
  real press texts, about 34 MB);
- corpora: every file of ../shared/corpora that feedparser reads as a feed with items
  (odd and hostile test feeds; about 4 MB).
For each set, best of `--repeat` passes:
- `parse_feed` end to end (guard, reader, items cleaned and keyed) with
  `reader="feedparser"` and with `reader="auto"` (the fast reader, feedparser where it
  refuses), and the share of documents the fast reader took;
- the readers alone: `feedparser.parse` (as `parse_feed` calls it), lxml building the
  tree, and, when they are installed, the two other candidates considered,
  fastfeedparser and feedparser-rs (`pip install fastfeedparser feedparser-rs` into a
  separate environment and run this script there with the repository on PYTHONPATH);
  for those, how often their entries, fed to the same item builder, give feedparser's
  items.

    .venv/bin/python bench/bench_parse.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from feedserver import make_feeds  # noqa: E402

from monitor import fastparse, parse, xmlguard  # noqa: E402
from monitor.errors import ParseError  # noqa: E402

SHARED = REPO.parent / "shared"
DEVSET = SHARED / "devset" / "items.jsonl"
Doc = tuple[bytes, str | None, str | None]  # body, content type, base URL
# As in tests/test_parse_corpora.py: the corpus states HTTP headers in a comment.
_HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z-]+):[ \t]*([^\r\n]*)", re.MULTILINE)


def bench_docs() -> list[Doc]:
    feeds = make_feeds(200, 35, 3900, 1, DEVSET if DEVSET.exists() else None)
    kind = "application/rss+xml; charset=utf-8"
    return [(f.body, kind, f"http://127.0.0.1/feeds/{n}.xml") for n, f in enumerate(feeds)]


def corpus_docs() -> list[Doc]:
    """Corpus files feedparser reads as feeds with at least one item."""
    docs = []
    skipped = {".htaccess", "LICENSE", "SOURCE.txt"}
    for path in sorted((SHARED / "corpora").rglob("*")):
        if not path.is_file() or path.name in skipped:
            continue
        body = path.read_bytes()
        headers = {
            name.decode("ascii").lower(): value.decode("latin-1").strip()
            for name, value in _HEADER.findall(body[:4096])
        }
        doc = (body, headers.get("content-type"), headers.get("content-location"))
        try:
            if parse_doc(doc, "feedparser").items:
                docs.append(doc)
        except ParseError:
            continue
    return docs


def parse_doc(doc: Doc, reader: parse.Reader) -> Any:
    body, kind, base = doc
    return parse.parse_feed(body, feed_lang="en", content_type=kind, base_url=base, reader=reader)


def best_seconds(docs: list[Doc], run: Callable[[Doc], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for doc in docs:
            try:
                run(doc)
            except Exception:  # noqa: S112 - a candidate may reject odd documents
                continue
        best = min(best, time.perf_counter() - started)
    return best


def fast_share(docs: list[Doc]) -> float:
    taken = 0
    for doc in docs:
        try:
            parse_doc(doc, "fast")
            taken += 1
        except (fastparse.Unsupported, ParseError):
            continue
    return taken / len(docs)


def readers() -> dict[str, Callable[[Doc], object]]:
    """The readers alone, without the item builder; candidates only where installed."""

    def with_feedparser(doc: Doc) -> object:
        headers = {"content-type": doc[1]} if doc[1] else {}
        return parse._run_feedparser(doc[0], headers, doc[2] if doc[1] else None)

    def lxml_tree(doc: Doc) -> object:
        headers = {"content-type": doc[1]} if doc[1] else {}
        return fastparse._tree(xmlguard.decode(doc[0], headers).text)

    def fast_reader(doc: Doc) -> object:
        headers = {"content-type": doc[1]} if doc[1] else {}
        return fastparse.read(xmlguard.check_prolog(doc[0], headers), doc[2] if doc[1] else None)

    found: dict[str, Callable[[Doc], object]] = {
        "feedparser.parse": with_feedparser,
        "guard + fast reader (refusals cut short)": fast_reader,
        "lxml tree (fast reader's parser)": lxml_tree,
    }
    for name in ("fastfeedparser", "feedparser_rs"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found[name + ".parse"] = lambda doc, m=module: m.parse(doc[0])
    return found


def agreement(docs: list[Doc], run: Callable[[Doc], Any]) -> str:
    """How often a candidate's entries, through the same item builder, equal feedparser's."""
    same = differ = failed = 0
    for doc in docs:
        try:
            result = run(doc)
            entries, feed = list(result.get("entries") or []), result.get("feed") or {}
            items, _, _ = parse._build_items(entries, feed, "en", doc[2], 500)
        except Exception:
            failed += 1
            continue
        if tuple(items) == parse_doc(doc, "feedparser").items:
            same += 1
        else:
            differ += 1
    return f"same items {same}, different {differ}, raised {failed}"


def report(label: str, docs: list[Doc], repeat: int) -> None:
    size = sum(len(doc[0]) for doc in docs) / 1e6
    print(f"\n{label}: {len(docs)} documents, {size:.1f} MB")
    rows = [
        ("parse_feed, reader=feedparser", lambda d: parse_doc(d, "feedparser")),
        ("parse_feed, reader=auto", lambda d: parse_doc(d, "auto")),
        *readers().items(),
    ]
    for name, run in rows:
        seconds = best_seconds(docs, run, repeat)
        extra = ""
        if name.startswith(("fastfeedparser", "feedparser_rs")):
            extra = "  " + agreement(docs, run)
        print(f"  {name:40s} {seconds:6.2f} s  {size / seconds:6.1f} MB/s{extra}")
    print(f"  fast reader took {fast_share(docs):.0%} of the documents")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, lxml {importlib.import_module('lxml').__version__}"
    )
    report("bench feeds", bench_docs(), args.repeat)
    report("corpora", corpus_docs(), args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
