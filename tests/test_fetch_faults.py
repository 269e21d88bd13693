"""Fetching against hostile and broken servers (RELIABILITY.md 2.1, F1 and F4 to F8)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch.client import Fetcher
from monitor.models import ErrorKind, FetchSettings
from tests.conftest import REPO
from tests.servers import (
    RawBehaviour,
    RawServer,
    TestServer,
    bad_chunk,
    drip,
    fake_gzip,
    gzip_file,
    hang,
    lying_length,
    raw_answer,
    raw_close,
    raw_hang,
    reply,
    stream_forever,
    truncated_chunked,
)

DEADLINE = 1.5


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    settings = FetchSettings(allow_private_networks=True, timeout=DEADLINE, max_bytes=1_000_000)
    with Fetcher(settings) as f:
        yield f


def _kind_of(fetcher: Fetcher, url: str) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    return caught.value.kind, time.monotonic() - started


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fetch_faults_refused_port_is_connect(fetcher: Fetcher) -> None:
    """Nothing listening on the port is a CONNECT error."""
    assert _kind_of(fetcher, f"http://127.0.0.1:{_unused_port()}/feed")[0] == ErrorKind.CONNECT


def test_fetch_faults_unknown_name_is_dns(fetcher: Fetcher) -> None:
    """A name under .invalid cannot resolve: DNS error."""
    assert _kind_of(fetcher, "http://feed.monitor-test.invalid/rss")[0] == ErrorKind.DNS


def test_fetch_faults_untrusted_certificate_is_tls(
    tls_http_server: TestServer, fetcher: Fetcher
) -> None:
    """A self-signed certificate fails verification: TLS error, no request served."""
    url = tls_http_server.route("/feed", reply(b"<rss/>"))
    assert _kind_of(fetcher, url)[0] == ErrorKind.TLS
    assert tls_http_server.hits("/feed") == 0


def test_fetch_faults_drip_stops_at_deadline(http_server: TestServer, fetcher: Fetcher) -> None:
    """A body dripped one byte at a time is abandoned at the total deadline."""
    kind, elapsed = _kind_of(fetcher, http_server.route("/feed", drip(every=0.2)))
    assert kind == ErrorKind.TIMEOUT
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0


def test_fetch_faults_silent_http_server_times_out(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """A server that reads the request and never answers times out at the deadline."""
    kind, elapsed = _kind_of(fetcher, http_server.route("/feed", hang()))
    assert kind == ErrorKind.TIMEOUT
    assert elapsed < DEADLINE + 1.0


def test_fetch_faults_accept_and_hang_times_out(
    raw_server_factory: Callable[[RawBehaviour], RawServer], fetcher: Fetcher
) -> None:
    """A socket that accepts and never reads or answers times out at the deadline."""
    server = raw_server_factory(raw_hang)
    kind, elapsed = _kind_of(fetcher, server.url("/feed"))
    assert kind == ErrorKind.TIMEOUT
    assert elapsed < DEADLINE + 1.0
    assert server.accepted == 1


@pytest.mark.parametrize("chunked", [False, True])
def test_fetch_faults_endless_body_is_too_large(
    chunked: bool, http_server: TestServer, fetcher: Fetcher
) -> None:
    """An endless body, close-delimited or chunked, stops at the size cap."""
    kind, elapsed = _kind_of(fetcher, http_server.route("/feed", stream_forever(chunked)))
    assert kind == ErrorKind.TOO_LARGE
    assert elapsed < DEADLINE


def test_fetch_faults_huge_content_length_rejected_early(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """A Content-Length over the cap is refused before the body is read."""
    url = http_server.route("/feed", lying_length(b"<rss/>", 10_000_000_000))
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.TOO_LARGE
    assert "announces" in caught.value.message


@pytest.mark.parametrize(
    "behaviour",
    [
        lying_length(b"<rss>partial", 5000),
        truncated_chunked(),
        bad_chunk(),
        fake_gzip(),
        reply(b"<rss/>", headers={"Content-Encoding": "br"}),
        reply(b"<rss/>", headers={"Content-Encoding": "gzip, gzip"}),
    ],
    ids=["short-body", "truncated-chunked", "bad-chunk", "fake-gzip", "brotli", "double-gzip"],
)
def test_fetch_faults_broken_body_is_protocol(
    behaviour: Any, http_server: TestServer, fetcher: Fetcher
) -> None:
    """Truncated bodies, bad chunking, fake gzip and unasked-for encodings are PROTOCOL errors."""
    assert _kind_of(fetcher, http_server.route("/feed", behaviour))[0] == ErrorKind.PROTOCOL


def test_fetch_faults_truncated_gzip_is_protocol(http_server: TestServer, fetcher: Fetcher) -> None:
    """A gzip stream cut short (with an honest Content-Length) is a PROTOCOL error."""
    import gzip

    cut = gzip.compress(b"<rss>" + bytes(range(256)) * 400 + b"</rss>")[:-40]
    url = http_server.route("/feed", reply(cut, headers={"Content-Encoding": "gzip"}))
    assert _kind_of(fetcher, url)[0] == ErrorKind.PROTOCOL


@pytest.mark.parametrize(
    "behaviour",
    [
        raw_close,
        raw_answer(b"HELLO\r\n\r\n"),
        raw_answer(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
    ],
    ids=["close", "garbage", "bad-length"],
)
def test_fetch_faults_broken_server_is_protocol(
    behaviour: RawBehaviour,
    raw_server_factory: Callable[[RawBehaviour], RawServer],
    fetcher: Fetcher,
) -> None:
    """No answer, or an answer that is not HTTP, is a PROTOCOL error."""
    assert _kind_of(fetcher, raw_server_factory(behaviour).url("/"))[0] == ErrorKind.PROTOCOL


def test_fetch_faults_gzip_bomb_is_too_large(
    http_server: TestServer, gzip_bomb_path: Path, fetcher: Fetcher
) -> None:
    """2 GiB of gzipped zeros stop at the decoded-size cap, quickly."""
    kind, elapsed = _kind_of(fetcher, http_server.route("/feed", gzip_file(gzip_bomb_path)))
    assert kind == ErrorKind.TOO_LARGE
    assert elapsed < DEADLINE


_BOMB_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from monitor.errors import FetchError
    from monitor.fetch.client import Fetcher
    from monitor.models import FetchSettings

    def peak_kib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    fetcher = Fetcher(FetchSettings(allow_private_networks=True, timeout=20))
    before = peak_kib()
    try:
        fetcher.fetch(sys.argv[1])
        kind = "none"
    except FetchError as exc:
        kind = exc.kind
    print(json.dumps({"kind": kind, "growth_kib": peak_kib() - before}))
    """
)


def test_fetch_faults_gzip_bomb_keeps_memory_low(
    http_server: TestServer, gzip_bomb_path: Path
) -> None:
    """In a child under a 1 GiB address-space limit, the bomb adds < 200 MB peak RSS (10 MB cap)."""
    url = http_server.route("/feed", gzip_file(gzip_bomb_path))
    done = subprocess.run(
        [sys.executable, "-c", _BOMB_CHILD, url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome = json.loads(done.stdout)
    assert outcome["kind"] == ErrorKind.TOO_LARGE
    assert outcome["growth_kib"] < 200 * 1024
