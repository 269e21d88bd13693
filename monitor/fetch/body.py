"""Reading one HTTP body safely, and naming what went wrong.

The body is read raw and inflated here in bounded steps under a wall-clock deadline
(httpx's own decoders inflate a whole chunk at once, and its timeouts are per read);
exceptions from httpx and the network are translated into FetchError values with a
class (dns, connect, tls, timeout, protocol, too_large, http_status) and a message
a person can act on.
"""

from __future__ import annotations

import contextlib
import http
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

import httpx

from monitor.config.redact import redact_text, redact_url
from monitor.errors import FetchError
from monitor.models import ErrorKind

DECODE_STEP = 64 * 1024  # most bytes inflated in one step, whatever the compression ratio


class HttpStatusError(FetchError):
    """A non-2xx answer; `status` and the capped `retry_after` (seconds) ride along."""

    def __init__(self, status: int, url: str, retry_after: float | None) -> None:
        try:
            phrase = " " + http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        super().__init__(
            ErrorKind.HTTP_STATUS, f"HTTP {status}{phrase} from {redact_url(url)}", _hint(status)
        )
        self.status = status
        self.retry_after = retry_after


def _hint(status: int) -> str:
    if status in (401, 403):
        return "some sites refuse datacenter or foreign addresses: see fetch.proxy"
    if status in (404, 410):
        return "check the feed URL: the feed may have moved or been removed"
    if status in (429, 503):
        return "the server asks us to slow down; the next poll honours Retry-After"
    return "retried later with backoff" if status >= 500 else ""


def quiet_http_loggers() -> None:
    """Silence httpx's per-request INFO lines (they would log full URLs)."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Deadline:
    """One request's total time budget, body included, started when it is made."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; FetchError (TIMEOUT) once none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchError(
                ErrorKind.TIMEOUT, f"no complete answer within {self.seconds:g} s (too slow)"
            )
        return left

    def timeout(self, connect: float) -> httpx.Timeout:
        """httpx's timeouts for the next step: what is left, connecting within `connect`."""
        left = self.remaining()
        return httpx.Timeout(left, connect=min(connect, left))


class _Decoder:
    """Content-Encoding decoding whose output per step is bounded (gzip bombs)."""

    def __init__(self, encoding: str) -> None:
        name = encoding.strip().lower()
        self._inflater: zlib._Decompress | None = None
        self._deflate = name == "deflate"
        if name in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name not in ("", "identity", "deflate"):
            raise FetchError(ErrorKind.PROTOCOL, f"unsupported Content-Encoding {name[:40]!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._deflate and self._inflater is None:
            # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate instead.
            wrapped = len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self._inflater is None:
            yield data
            return
        try:
            while data or not self._inflater.eof:
                out = self._inflater.decompress(data, DECODE_STEP)
                data = self._inflater.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < DECODE_STEP:
                    break
        except zlib.error:
            raise FetchError(ErrorKind.PROTOCOL, "the compressed body is corrupt") from None

    def finish(self) -> None:
        if self._inflater is not None and not self._inflater.eof:
            raise FetchError(ErrorKind.PROTOCOL, "the compressed body ends early")


def read_body(response: httpx.Response, deadline: Deadline, cap: int, truncate: bool) -> bytes:
    """The decoded body, at most `cap` bytes (cut there when `truncate`, else TOO_LARGE)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap and not truncate:
        raise _too_large(cap, f"announces {int(declared):,} bytes")
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    body = bytearray()
    received = 0
    for raw in response.iter_raw():
        deadline.remaining()
        received += len(raw)
        if received > cap + DECODE_STEP and not truncate:
            raise _too_large(cap, "sends more than that")
        for piece in decoder.feed(raw):
            if len(body) + len(piece) > cap:
                if truncate:
                    return bytes(body + piece[: cap - len(body)])
                raise _too_large(cap, "decodes to more than that")
            body += piece
    decoder.finish()
    return bytes(body)


def _too_large(cap: int, what: str) -> FetchError:
    return FetchError(
        ErrorKind.TOO_LARGE,
        f"body is over the {cap:,}-byte cap: the server {what}",
        "raise fetch.max_bytes if this feed is really that large",
    )


def _error_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _classify(exc: httpx.HTTPError) -> ErrorKind:
    for link in _error_chain(exc):
        if isinstance(link, ssl.SSLError):
            return ErrorKind.TLS
        if isinstance(link, socket.gaierror):
            return ErrorKind.DNS
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if isinstance(exc, httpx.ProtocolError | httpx.DecodingError | httpx.ReadError):
        # A read error comes after the request went out: the answer broke, and a POST
        # may have been taken by the receiver.
        return ErrorKind.PROTOCOL
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ErrorKind.BLOCKED
    return ErrorKind.CONNECT


_WHAT: Final[Mapping[ErrorKind, str]] = MappingProxyType(
    {
        ErrorKind.TLS: "TLS failure with",
        ErrorKind.DNS: "cannot resolve the host of",
        ErrorKind.TIMEOUT: "timed out talking to",
        ErrorKind.PROTOCOL: "broken HTTP answer from",
        ErrorKind.BLOCKED: "refused to fetch",
        ErrorKind.CONNECT: "cannot connect to",
    }
)


@contextlib.contextmanager
def translated_errors(url: str) -> Iterator[None]:
    """Turn httpx's errors inside the block into FetchErrors with a class and a safe URL."""
    try:
        yield
    except httpx.HTTPError as exc:
        kind = _classify(exc)
        detail = redact_text(str(exc) or type(exc).__name__)[:200]
        raise FetchError(kind, f"{_WHAT[kind]} {redact_url(url)}: {detail}") from exc
