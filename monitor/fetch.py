"""The only HTTP client on the input side: conditional GET with limits and a network policy.

Every request has a total deadline (httpx timeouts are per read, so a server
dripping one byte at a time would never trip them), a cap on *decoded* bytes with
decompression done here in bounded steps (httpx inflates a whole chunk at once),
redirects followed by hand with the policy re-checked on each hop, and no
environment proxies or `.netrc` unless a proxy is configured explicitly.
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urljoin

import httpcore
import httpx

from monitor.errors import FetchError, MonitorError
from monitor.models import ErrorKind, FetchResult, FetchSettings, Validators
from monitor.netpolicy import (
    AddressPolicy,
    GuardedBackend,
    Resolver,
    check_url,
    redact_text,
    redact_url,
    system_resolver,
)
from monitor.polltiming import parse_max_age, parse_retry_after

__all__ = [
    "FEED_ACCEPT",
    "POST_BODY_CAP",
    "Fetcher",
    "HttpStatusError",
    "fetch_many",
    "quiet_http_loggers",
    "redact_url",  # re-exported for callers that log URLs
]

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
POST_BODY_CAP = 64 * 1024
DECODE_STEP = 64 * 1024  # most bytes inflated in one step, whatever the compression ratio
K = TypeVar("K", bound=Hashable)


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


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchError(
                ErrorKind.TIMEOUT, f"no complete answer within {self.seconds:g} s (too slow)"
            )
        return left

    def timeout(self, connect: float) -> httpx.Timeout:
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


def _read_body(response: httpx.Response, deadline: _Deadline, cap: int, truncate: bool) -> bytes:
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
    if isinstance(exc, httpx.ProtocolError | httpx.DecodingError):
        return ErrorKind.PROTOCOL
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ErrorKind.BLOCKED
    return ErrorKind.CONNECT


_WHAT = {
    ErrorKind.TLS: "TLS failure with",
    ErrorKind.DNS: "cannot resolve the host of",
    ErrorKind.TIMEOUT: "timed out talking to",
    ErrorKind.PROTOCOL: "broken HTTP answer from",
    ErrorKind.BLOCKED: "refused to fetch",
    ErrorKind.CONNECT: "cannot connect to",
}


@contextlib.contextmanager
def _translated_errors(url: str) -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError as exc:
        kind = _classify(exc)
        detail = redact_text(str(exc) or type(exc).__name__)[:200]
        raise FetchError(kind, f"{_WHAT[kind]} {redact_url(url)}: {detail}") from exc


def _build_transport(settings: FetchSettings, backend: GuardedBackend) -> httpx.HTTPTransport:
    limits = httpx.Limits(
        max_connections=settings.concurrency * 2 + 8,
        max_keepalive_connections=settings.concurrency * 2 + 8,
        keepalive_expiry=30.0,
    )
    try:
        if settings.proxy:
            return httpx.HTTPTransport(proxy=settings.proxy, trust_env=False, limits=limits)
        return _GuardedTransport(backend, limits)
    except (ImportError, ValueError, httpx.InvalidURL) as exc:
        raise MonitorError(f"fetch.proxy cannot be used: {redact_text(str(exc))}") from exc


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose every connection is policy-checked."""

    def __init__(self, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Fetcher:
    """Owns one httpx client and its pool; thread-safe, so `fetch_many` shares one instance.

    `resolver` and `allowed_endpoints` are test support: a resolver stub, and
    (ip, port) pairs treated as public so a loopback server can play a public origin.
    `clock` gives wall-clock seconds for HTTP dates (Retry-After, Expires).
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        resolver: Resolver | None = None,
        allowed_endpoints: Iterable[tuple[str, int]] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._policy = AddressPolicy(settings.allow_private_networks, frozenset(allowed_endpoints))
        self._resolver = resolver or system_resolver
        self._clock = clock
        # Requests go straight to the transport: httpx.Client.send would parse hostile
        # Location headers itself (raising outside httpx.HTTPError), keep cookies across
        # feeds and log every URL at INFO. The client only builds requests and owns the pool.
        self._transport = _build_transport(settings, GuardedBackend(self._policy, self._resolver))
        self._client = httpx.Client(
            transport=self._transport,
            trust_env=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(
        self, url: str, validators: Validators | None = None, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given); 304 gives body=None."""
        started = time.monotonic()
        deadline = _Deadline(self.settings.timeout)
        headers = {"Accept": accept, **_conditional_headers(validators)}
        current, previous = url, None
        for _hop in range(self.settings.max_redirects + 1):
            exchange = self._exchange("GET", current, headers, None, deadline)
            with _blame_redirect(previous), exchange as response:
                target = _redirect_target(response, current)
                if target is None:
                    result = self._result(response, current, validators, deadline, started)
                    _log_result(result)
                    return result
            current, previous = target, current
        raise FetchError(
            ErrorKind.PROTOCOL,
            f"more than {self.settings.max_redirects} redirects starting at {redact_url(url)}",
        )

    def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        """POST without following redirects; returns status, headers, first 64 KiB of body.

        Once the status has arrived the request counts as delivered: a body that cannot
        be read or decoded comes back empty rather than as an error.
        """
        deadline = _Deadline(timeout)
        with self._exchange("POST", url, headers, body, deadline) as response:
            try:
                data = _read_body(response, deadline, POST_BODY_CAP, truncate=True)
            except (FetchError, httpx.HTTPError):
                data = b""
            return response.status_code, dict(response.headers.items()), data

    @contextlib.contextmanager
    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        deadline: _Deadline,
    ) -> Iterator[httpx.Response]:
        check_url(url)
        with _translated_errors(url):
            self._check_before_proxy(url)
            request = self._client.build_request(
                method,
                url,
                headers=headers,
                content=body,
                timeout=deadline.timeout(self.settings.connect_timeout),
            )
            response = self._transport.handle_request(request)
            try:
                self._check_peer(response, request.url.host)
                yield response
            finally:
                response.close()

    def _check_peer(self, response: httpx.Response, host: str) -> None:
        """Backstop: refuse the answer if the connected peer is not allowed."""
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if self.settings.proxy or not isinstance(peer, tuple):
            return
        address = ipaddress.ip_address(str(peer[0]).split("%")[0])
        self._policy.check(host, [address], int(peer[1]))

    def _check_before_proxy(self, url: str) -> None:
        """Through a proxy we cannot see the connection, so check what we can resolve.

        A name we cannot resolve ourselves is left to the proxy (that is often why
        a proxy is configured); literal addresses and resolvable names are checked.
        """
        if not self.settings.proxy or self._policy.allow_private:
            return
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = self._resolver(parsed.host, port, self.settings.connect_timeout)
        except FetchError as exc:
            if exc.kind == ErrorKind.DNS:
                return
            raise
        self._policy.check(parsed.host, addresses, port)

    def _result(
        self,
        response: httpx.Response,
        url: str,
        validators: Validators | None,
        deadline: _Deadline,
        started: float,
    ) -> FetchResult:
        status = response.status_code
        headers = dict(response.headers.items())
        now, cap = self._clock(), self.settings.max_interval
        retry_after = parse_retry_after(headers.get("retry-after"), now, cap)
        sent = validators or Validators()
        if status == 304 and (sent.etag or sent.last_modified):
            body = None
        elif 200 <= status < 300:
            body = _read_body(response, deadline, self.settings.max_bytes, truncate=False)
        else:
            raise HttpStatusError(status, url, retry_after)
        return FetchResult(
            url=url,
            status=status,
            body=body,
            headers=headers,
            etag=headers.get("etag") or (sent.etag if body is None else None),
            last_modified=headers.get("last-modified")
            or (sent.last_modified if body is None else None),
            retry_after=retry_after,
            max_age=parse_max_age(headers, now, cap),
            elapsed=time.monotonic() - started,
        )


def _log_result(result: FetchResult) -> None:
    size = -1 if result.body is None else len(result.body)
    log.debug(
        "fetched url=%s status=%d bytes=%d elapsed=%.3f",
        redact_url(result.url),
        result.status,
        size,
        result.elapsed,
    )


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers = {}
    if validators is not None and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators is not None and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _redirect_target(response: httpx.Response, current: str) -> str | None:
    """Where a redirect points (checked when it is requested), or None for no redirect."""
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location: str = response.headers.get("location", "").strip()
    try:
        if location:
            return str(urljoin(current, location))
    except ValueError:
        pass
    raise FetchError(
        ErrorKind.PROTOCOL, f"redirect from {redact_url(current)} has no usable target"
    )


@contextlib.contextmanager
def _blame_redirect(previous: str | None) -> Iterator[None]:
    """Say so when a refused URL came from a server's redirect, not from the configuration."""
    try:
        yield
    except FetchError as exc:
        if previous is None or exc.kind != ErrorKind.BLOCKED:
            raise
        message = f"redirect from {redact_url(previous)} refused: {exc.message}"
        raise FetchError(ErrorKind.BLOCKED, message, exc.hint) from None


def _fetch_value(
    fetcher: Fetcher, url: str, validators: Validators | None
) -> FetchResult | FetchError:
    try:
        return fetcher.fetch(url, validators)
    except FetchError as exc:
        return exc
    except Exception as exc:  # one broken fetch must never stop the others
        message = f"unexpected {type(exc).__name__}: {redact_text(str(exc))[:200]}"
        log.error("fetch failed unexpectedly url=%s error=%s", redact_url(url), message)
        return FetchError(ErrorKind.INTERNAL, message)


def fetch_many(
    fetcher: Fetcher, jobs: Sequence[tuple[K, str, Validators | None]], concurrency: int
) -> dict[K, FetchResult | FetchError]:
    """Fetch every job with at most `concurrency` in flight; failures come back as values."""
    if not jobs:
        return {}
    workers = max(1, min(concurrency, len(jobs)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = {key: pool.submit(_fetch_value, fetcher, url, v) for key, url, v in jobs}
        return {key: future.result() for key, future in futures.items()}
