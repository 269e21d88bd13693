"""Misbehaving local servers for tests: real sockets on 127.0.0.1, ephemeral ports.

HTTP server (`TestServer`, fixture `http_server`): register a behaviour per path,
then fetch `server.url(path)`. Unrouted paths answer 404.

    def test_example(http_server: TestServer) -> None:
        http_server.route("/feed", reply(b"<rss/>", etag='"v1"'))   # 304 on If-None-Match
        http_server.route("/old", redirect("/feed"))
        ... fetch http_server.url("/old") ...
        assert http_server.hits("/feed") == 1
        assert http_server.requests[-1].headers["if-none-match"] == '"v1"'

A behaviour is any callable taking an `Exchange` (the request, and ways to answer):
    reply(body, status, headers, etag, content_type)  plain answer; 304 when the ETag matches
    redirect(location, status)                         Location is relative or absolute
    drip(body_size, every)                             one byte per `every` seconds
    hang()                                             reads the request, never answers
    stream_forever(chunked)                            endless zeros
    lying_length(body, claimed)                        Content-Length claimed, fewer bytes sent
    truncated_chunked() / bad_chunk()                  broken chunked encoding
    gzip_file(path) / fake_gzip()                      gzip bomb from a file; non-gzip as gzip
    delayed(seconds, behaviour)                        latency in front of another behaviour
    sequence(b1, b2, ...)                              nth request gets the nth (last repeats)
Per-request hook: write your own `def behaviour(ex: Exchange) -> None` (count, vary, record),
and answer with `ex.send(...)` or by calling another behaviour with `ex`.

Raw server (`RawServer`, fixture `raw_server_factory`): `behaviour(conn, stopping)` gets
each accepted socket: `raw_hang`, `raw_close`, `raw_answer(bytes)`.

Fixtures: `http_server`, `http_server_factory` (more servers; `host="127.0.0.2"` works on
Linux), `raw_server_factory`, `self_signed_cert` and `tls_http_server` (skip without the
openssl CLI), `gzip_bomb_path` (2 GiB of zeros as ~2 MB of gzip, built once and cached).
Load them with `pytest_plugins = ("tests.servers",)`.

PYTEST_DONT_REWRITE: this module holds no assertions, and test modules import it before
pytest loads it as a plugin, which would otherwise warn.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

MAX_BEHAVIOUR_SECONDS = 60.0  # endless behaviours end by themselves after this


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent: path and query, or the absolute URL when we are a proxy
    headers: dict[str, str]  # lower-case names
    body: bytes


class Exchange:
    """One request as a behaviour sees it, with ways to answer."""

    def __init__(self, handler: _Handler, request: RecordedRequest) -> None:
        self.handler = handler
        self.request = request
        self.server: TestServer = handler.server.owner  # type: ignore[attr-defined]
        self.stopping: threading.Event = self.server.stopping

    @property
    def headers(self) -> dict[str, str]:
        return self.request.headers

    def send_head(self, status: int, headers: dict[str, str]) -> None:
        self.handler.send_response(status)
        for name, value in headers.items():
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def send(
        self, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        """A complete answer with Content-Length."""
        self.send_head(status, {"Content-Length": str(len(body)), **(headers or {})})
        self.write(body)

    def write(self, data: bytes) -> bool:
        """Write raw bytes; False once the client has gone away."""
        try:
            self.handler.wfile.write(data)
            self.handler.wfile.flush()
            return True
        except OSError:
            self.close()
            return False

    def close(self) -> None:
        """Close the connection after this answer (for deliberately broken answers)."""
        self.handler.close_connection = True
        with contextlib.suppress(OSError):
            self.handler.connection.shutdown(socket.SHUT_RDWR)


Behaviour = Callable[[Exchange], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestServer"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        recorded = RecordedRequest(self.command, self.path, headers, body)
        owner: TestServer = self.server.owner  # type: ignore[attr-defined]
        owner._record(recorded)
        owner._behaviour_for(self.path)(Exchange(self, recorded))

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    tls_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, object]:
        conn, address = super().get_request()
        if self.tls_context is not None:
            # The handshake then runs in the handler thread, not in the accept loop.
            conn = self.tls_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
        return conn, address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early are what these tests are about


class TestServer:
    """A threaded HTTP/1.1 server on host:ephemeral-port running until `close()`."""

    __test__ = False  # not a test class, despite the name

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._routes: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._httpd.tls_context = tls_context
        self.host = host
        self.port: int = self._httpd.server_address[1]
        scheme = "https" if tls_context else "http"
        self.base_url = f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Serve `behaviour` at `path` (query ignored); returns the full URL."""
        self._routes[path] = behaviour
        return self.url(path)

    def hits(self, path: str) -> int:
        """How many requests arrived for `path` (query ignored)."""
        with self._lock:
            return sum(1 for r in self.requests if _route_key(r.path) == path)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _behaviour_for(self, raw_path: str) -> Behaviour:
        return self._routes.get(_route_key(raw_path), reply(b"no such route\n", status=404))

    def close(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> TestServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _route_key(raw_path: str) -> str:
    return urlsplit(raw_path).path or "/"


# Behaviours ---------------------------------------------------------------------------


def reply(
    body: bytes = b"",
    status: int = 200,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    content_type: str = "application/rss+xml; charset=utf-8",
) -> Behaviour:
    """Answer `status` with `body`; with `etag`, answer 304 when If-None-Match matches."""

    def behaviour(ex: Exchange) -> None:
        extra = {"Content-Type": content_type, **(headers or {})}
        if etag is not None:
            extra["ETag"] = etag
            if ex.headers.get("if-none-match") == etag:
                ex.send(304, b"", {k: v for k, v in extra.items() if k != "Content-Type"})
                return
        ex.send(status, body, extra)

    return behaviour


def redirect(location: str, status: int = 302) -> Behaviour:
    return reply(b"", status=status, headers={"Location": location})


def drip(body_size: int = 1_000_000, every: float = 0.5) -> Behaviour:
    """Announce `body_size` bytes, then send one byte per `every` seconds."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/rss+xml", "Content-Length": str(body_size)})
        end = time.monotonic() + MAX_BEHAVIOUR_SECONDS
        for _ in range(body_size):
            if ex.stopping.wait(every) or time.monotonic() > end or not ex.write(b"<"):
                break
        ex.close()

    return behaviour


def hang(seconds: float = MAX_BEHAVIOUR_SECONDS) -> Behaviour:
    """Read the request, then never answer."""

    def behaviour(ex: Exchange) -> None:
        ex.stopping.wait(seconds)
        ex.close()

    return behaviour


def stream_forever(chunked: bool = False) -> Behaviour:
    """Endless zeros, close-delimited or chunked, until the client goes away."""

    def behaviour(ex: Exchange) -> None:
        head = {"Transfer-Encoding": "chunked"} if chunked else {"Connection": "close"}
        ex.send_head(200, {"Content-Type": "application/rss+xml", **head})
        block = bytes(64 * 1024)
        piece = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
        end = time.monotonic() + MAX_BEHAVIOUR_SECONDS
        while not ex.stopping.is_set() and time.monotonic() < end and ex.write(piece):
            pass
        ex.close()

    return behaviour


def lying_length(body: bytes, claimed: int) -> Behaviour:
    """Announce `claimed` bytes, send `body`, close."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/rss+xml", "Content-Length": str(claimed)})
        ex.write(body)
        ex.close()

    return behaviour


def truncated_chunked() -> Behaviour:
    """A chunk announced as 256 bytes, 10 sent, then the connection closes."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/rss+xml", "Transfer-Encoding": "chunked"})
        ex.write(b"100\r\n<rss>12345")
        ex.close()

    return behaviour


def bad_chunk() -> Behaviour:
    """A chunk size line that is not hexadecimal."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Type": "application/rss+xml", "Transfer-Encoding": "chunked"})
        ex.write(b"zz\r\n<rss/>\r\n0\r\n\r\n")
        ex.close()

    return behaviour


def gzip_file(path: Path) -> Behaviour:
    """Serve the bytes of `path` with `Content-Encoding: gzip`."""

    def behaviour(ex: Exchange) -> None:
        ex.send_head(
            200,
            {
                "Content-Type": "application/rss+xml",
                "Content-Encoding": "gzip",
                "Content-Length": str(path.stat().st_size),
            },
        )
        with path.open("rb") as source:
            while not ex.stopping.is_set() and (block := source.read(64 * 1024)):
                if not ex.write(block):
                    return

    return behaviour


def fake_gzip(body: bytes = b"<rss>this is not gzip</rss>") -> Behaviour:
    return reply(body, headers={"Content-Encoding": "gzip"})


def gzipped(body: bytes, encoding: str = "gzip") -> Behaviour:
    """`body` compressed honestly (gzip, or zlib-wrapped deflate)."""
    data = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    return reply(data, headers={"Content-Encoding": encoding})


def delayed(seconds: float, behaviour: Behaviour) -> Behaviour:
    def wrapper(ex: Exchange) -> None:
        if not ex.stopping.wait(seconds):
            behaviour(ex)

    return wrapper


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The nth request gets the nth behaviour; the last one repeats."""
    calls = iter(range(1 << 62))
    lock = threading.Lock()

    def behaviour(ex: Exchange) -> None:
        with lock:
            index = min(next(calls), len(behaviours) - 1)
        behaviours[index](ex)

    return behaviour


# Raw socket server -----------------------------------------------------------------------

RawBehaviour = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Accepts TCP connections on 127.0.0.1 and hands each socket to `behaviour`."""

    def __init__(self, behaviour: RawBehaviour, host: str = "127.0.0.1") -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.accepted = 0
        self._sock = socket.create_server((host, 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.behaviour(conn, self.stopping)

    def close(self) -> None:
        self.stopping.set()
        self._thread.join(2)
        self._sock.close()


def _read_head(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            block = conn.recv(4096)
        except OSError:
            break
        if not block:
            break
        data += block
    return data


def raw_hang(conn: socket.socket, stopping: threading.Event) -> None:
    """Accept, never read, never answer."""
    stopping.wait(MAX_BEHAVIOUR_SECONDS)


def raw_close(conn: socket.socket, stopping: threading.Event) -> None:
    """Accept, read the request, close without a word."""
    _read_head(conn)


def raw_reset_after_request(received: list[bytes]) -> RawBehaviour:
    """Read the whole request (head and Content-Length body), keep it, then reset (RST)."""

    def behaviour(conn: socket.socket, stopping: threading.Event) -> None:
        data = _read_head(conn)
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)):
            block = conn.recv(65536)
            if not block:
                break
            body += block
        received.append(body)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behaviour


def raw_answer(data: bytes) -> RawBehaviour:
    """Read the request head, send `data` verbatim, close."""

    def behaviour(conn: socket.socket, stopping: threading.Event) -> None:
        _read_head(conn)
        with contextlib.suppress(OSError):
            conn.sendall(data)

    return behaviour


# Artefacts ---------------------------------------------------------------------------------


def build_gzip_bomb(path: Path, gib: int = 2) -> Path:
    """Write a gzip file of `gib` GiB of zeros (about 1 MB per GiB), atomically.

    Deflating 2 GiB takes seconds; after a full flush the deflate stream of a zero
    block is the same every time, so one block is compressed and repeated.
    """
    block = bytes(16 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    repeat = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    tail = deflater.flush(zlib.Z_FINISH)
    count = gib * 64
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with temporary.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03")
        out.write(first)
        for _ in range(count - 1):
            out.write(repeat)
        out.write(tail)
        out.write(struct.pack("<II", crc, (count * len(block)) & 0xFFFFFFFF))
    os.replace(temporary, path)
    return path


def make_self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl CLI: (certfile, keyfile)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is not installed")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


# Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[TestServer]:
    """A fresh HTTP server on 127.0.0.1 with no routes."""
    with TestServer() as server:
        yield server


@pytest.fixture
def http_server_factory() -> Iterator[Callable[..., TestServer]]:
    """Make more servers: `http_server_factory(host="127.0.0.2", port=...)`."""
    servers: list[TestServer] = []

    def make(**kwargs: object) -> TestServer:
        server = TestServer(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def raw_server_factory() -> Iterator[Callable[[RawBehaviour], RawServer]]:
    """Make raw socket servers: `raw_server_factory(raw_hang)`."""
    servers: list[RawServer] = []

    def make(behaviour: RawBehaviour) -> RawServer:
        server = RawServer(behaviour)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed; cannot make a test certificate")
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_http_server(self_signed_cert: tuple[Path, Path]) -> Iterator[TestServer]:
    """An HTTPS server on 127.0.0.1 whose certificate no client trusts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, self_signed_cert))
    with TestServer(tls_context=context) as server:
        yield server


@pytest.fixture(scope="session")
def gzip_bomb_path() -> Path:
    """2 GiB of zeros, gzipped; cached across runs in the system temp folder."""
    folder = Path(tempfile.gettempdir()) / f"monitor-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "gzip-bomb-2GiB-v1.gz"
    if not path.exists():
        build_gzip_bomb(path)
    return path
