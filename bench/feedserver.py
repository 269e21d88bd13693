"""Loopback feed server for the benchmark: N generated RSS feeds with latency, ETag and 304.

    python bench/feedserver.py --feeds 200 --items 35 --latency 0.05 --urls-file urls.txt

Serves /feeds/<n>.xml (n = 0 .. N-1). Every answer waits `--latency` seconds first
(in its own thread, so concurrent clients overlap). Each feed has a fixed ETag and
Last-Modified; a matching If-None-Match or If-Modified-Since gets 304. With `--gzip`,
clients sending `Accept-Encoding: gzip` get gzip bodies. GET /stats returns JSON counts
({"requests", "ok", "not_modified", "bytes"}); POST /stats/reset zeroes them.
Prints `READY <base-url> <feeds> <bytes>` on stdout once listening; stops on SIGTERM/SIGINT.
With the defaults the feeds hold 7,000 items and about 32 MB.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from xml.sax.saxutils import escape

WORDS = (
    "president talks summit meeting delegation ministers foreign affairs telephone "
    "conversation bilateral relations cooperation security strategic stability "
    "agreement negotiations sanctions energy trade economy visit official statement "
    "press service kremlin washington moscow geneva helsinki preparation agenda "
    "consultations envoy ambassador treaty arms control dialogue leaders"
).split()
LAST_MODIFIED = formatdate(1_764_000_000, usegmt=True)


@dataclass
class Feed:
    body: bytes
    gzipped: bytes
    etag: str


@dataclass
class Stats:
    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.ok += status == 200
            self.not_modified += status == 304
            self.bytes += size

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {k: getattr(self, k) for k in ("requests", "ok", "not_modified", "bytes")}


class TextSource:
    """Item titles and bodies: slices of real press texts when given, else word salad.

    Real texts (JSON Lines with "title" and "text", such as the dev set) make the
    benchmark's matching and parsing costs those of real releases; the generated
    salad is made only of diplomatic vocabulary, so it is a worst case for matching.
    """

    def __init__(self, path: Path | None, rng: random.Random) -> None:
        self.rng = rng
        self.titles: list[str] = []
        self.stream = ""
        self.pos = 0
        if path is not None:
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            self.titles = [str(r["title"]) for r in rows]
            self.stream = "\n\n".join(str(r["text"]) for r in rows)

    def next(self, size: int) -> tuple[str, str]:
        if not self.stream:
            words = [self.rng.choice(WORDS) for _ in range(size // 8)]
            return " ".join(words[:8]).capitalize(), " ".join(words)
        if self.pos + size > len(self.stream):
            self.pos = 0
        body = self.stream[self.pos : self.pos + size]
        self.pos += size
        return self.titles[self.pos % len(self.titles)], body


def make_feed(number: int, items: int, item_bytes: int, texts: TextSource) -> bytes:
    """An RSS 2.0 document with `items` entries of about `item_bytes` each."""
    entries = []
    for i in range(items):
        title, text = texts.next(item_bytes)
        link = f"http://bench.example/feeds/{number}/items/{i}"
        pub = formatdate(1_764_000_000 - 3600 * (number * items + i), usegmt=True)
        entries.append(
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">feed{number}-item{i}</guid><pubDate>{pub}</pubDate>'
            f"<description>{escape(text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench feed {number}</title><link>http://bench.example/{number}</link>"
        f"<description>generated</description>{''.join(entries)}</channel></rss>\n"
    ).encode()


def make_feeds(
    count: int, items: int, item_bytes: int, seed: int, texts_path: Path | None = None
) -> list[Feed]:
    texts = TextSource(texts_path, random.Random(seed))
    feeds = []
    for number in range(count):
        body = make_feed(number, items, item_bytes, texts)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        feeds.append(Feed(body, gzip.compress(body, 6), etag))
    return feeds


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: BenchServer

    def do_GET(self) -> None:
        time.sleep(self.server.latency)
        if self.path == "/stats":
            self._send(200, json.dumps(self.server.stats.as_dict()).encode(), {}, count=False)
            return
        feed = self._feed()
        if feed is None:
            self._send(404, b"not found\n", {})
            return
        head = {"ETag": feed.etag, "Last-Modified": LAST_MODIFIED}
        if self._not_modified(feed):
            self._send(304, b"", head)
            return
        head["Content-Type"] = "application/rss+xml; charset=utf-8"
        if self.server.use_gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            self._send(200, feed.gzipped, {**head, "Content-Encoding": "gzip"})
        else:
            self._send(200, feed.body, head)

    def do_POST(self) -> None:
        if self.path == "/stats/reset":
            self.server.stats = Stats()
        self._send(204, b"", {}, count=False)

    def _feed(self) -> Feed | None:
        name = self.path.split("?", 1)[0]
        if not (name.startswith("/feeds/") and name.endswith(".xml")):
            return None
        number = name[len("/feeds/") : -len(".xml")]
        if not number.isdigit() or int(number) >= len(self.server.feeds):
            return None
        return self.server.feeds[int(number)]

    def _not_modified(self, feed: Feed) -> bool:
        tag = self.headers.get("If-None-Match")
        if tag is not None:
            return feed.etag in [t.strip() for t in tag.split(",")] or tag.strip() == "*"
        return self.headers.get("If-Modified-Since") == LAST_MODIFIED

    def _send(self, status: int, body: bytes, head: dict[str, str], count: bool = True) -> None:
        self.send_response(status)
        for name, value in head.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if count:
            self.server.stats.count(status, len(body))

    def log_message(self, format: str, *args: object) -> None:
        pass


class BenchServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 200 clients connecting at once must not see refusals

    def __init__(self, address: tuple[str, int], feeds: list[Feed], latency: float, gz: bool):
        super().__init__(address, Handler)
        self.feeds = feeds
        self.latency = latency
        self.use_gzip = gz
        self.stats = Stats()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=35, help="items per feed")
    parser.add_argument("--item-bytes", type=int, default=3900, help="about this much per item")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    parser.add_argument("--gzip", action="store_true", help="gzip bodies for clients asking")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--urls-file", type=Path, help="write one feed URL per line here")
    parser.add_argument("--texts", type=Path, help="JSON Lines of real items to slice bodies from")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    feeds = make_feeds(args.feeds, args.items, args.item_bytes, args.seed, args.texts)
    server = BenchServer((args.host, args.port), feeds, args.latency, args.gzip)
    base = f"http://{args.host}:{server.server_address[1]}"
    if args.urls_file:
        lines = [f"{base}/feeds/{n}.xml\n" for n in range(len(feeds))]
        args.urls_file.write_text("".join(lines))

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {base} {len(feeds)} {sum(len(f.body) for f in feeds)}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
