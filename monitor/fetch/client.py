"""The only HTTP client on the input side: conditional GET with limits and a network policy.

Every request has a total deadline (httpx timeouts are per read, so a server
dripping one byte at a time would never trip them), a cap on *decoded* bytes with
decompression done here in bounded steps (httpx inflates a whole chunk at once),
redirects followed by hand with the policy re-checked on each hop, and no
environment proxies or `.netrc` unless a proxy is configured explicitly.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Generic, TypeVar
from urllib.parse import urljoin

import httpcore
import httpx

from monitor.config.redact import redact_text, redact_url
from monitor.errors import FetchError, MonitorError
from monitor.fetch.body import (
    Deadline,
    HttpStatusError,
    quiet_http_loggers,
    read_body,
    translated_errors,
)
from monitor.fetch.netpolicy import (
    AddressPolicy,
    GuardedBackend,
    Resolver,
    check_url,
    system_resolver,
)
from monitor.fetch.timing import parse_max_age, parse_retry_after
from monitor.models import ErrorKind, FetchResult, FetchSettings, Validators

__all__ = [
    "FEED_ACCEPT",
    "POST_BODY_CAP",
    "Fetcher",
    "HttpStatusError",
    "fetch_many",
    "quiet_http_loggers",
]

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
POST_BODY_CAP = 64 * 1024
K = TypeVar("K", bound=Hashable)


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
        # one TLS context (loading the CA bundle takes ~20 ms), shared with httpx's own pool
        # that the guarded one replaces
        context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
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
        """Close the connection pool."""
        self._client.close()

    def fetch(
        self, url: str, validators: Validators | None = None, accept: str = FEED_ACCEPT
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given); 304 gives body=None."""
        started = time.monotonic()
        deadline = Deadline(self.settings.timeout)
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
        deadline = Deadline(timeout)
        with self._exchange("POST", url, headers, body, deadline) as response:
            try:
                data = read_body(response, deadline, POST_BODY_CAP, truncate=True)
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
        deadline: Deadline,
    ) -> Iterator[httpx.Response]:
        check_url(url)
        with translated_errors(url):
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
        deadline: Deadline,
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
            body = read_body(response, deadline, self.settings.max_bytes, truncate=False)
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
    fetcher: Fetcher, url: str, validators: Validators | None, accept: str
) -> FetchResult | FetchError:
    try:
        return fetcher.fetch(url, validators, accept)
    except FetchError as exc:
        return exc
    except Exception as exc:  # one broken fetch must never stop the others
        message = f"unexpected {type(exc).__name__}: {redact_text(str(exc))[:200]}"
        log.error("fetch failed unexpectedly url=%s error=%s", redact_url(url), message)
        return FetchError(ErrorKind.INTERNAL, message)


class InFlight(Generic[K]):
    """Requests sent as soon as this is made, at most `concurrency` at a time; iterating
    gives each result as it arrives (so the caller can start on it while the others are
    still in flight). Failures come back as values. Closing waits for the requests
    still running, unless it closes because of an exception: then the ones not yet
    sent are dropped and the running ones are left to end on their own."""

    def __init__(
        self,
        fetcher: Fetcher,
        jobs: Sequence[tuple[K, str, Validators | None]],
        concurrency: int,
        accept: str = FEED_ACCEPT,
    ) -> None:
        workers = max(1, min(concurrency, len(jobs)))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
        self._keys = {
            self._pool.submit(_fetch_value, fetcher, url, v, accept): key for key, url, v in jobs
        }

    def __iter__(self) -> Iterator[tuple[K, FetchResult | FetchError]]:
        """(key, result) of every job, in the order they arrive."""
        for future in as_completed(self._keys):
            yield self._keys[future], future.result()

    def __enter__(self) -> InFlight[K]:
        """The requests, closed when the block ends."""
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """Wait for the requests, or on an exception drop those not sent yet."""
        self._pool.shutdown(wait=kind is None, cancel_futures=kind is not None)


def fetch_each(
    fetcher: Fetcher,
    jobs: Sequence[tuple[K, str, Validators | None]],
    concurrency: int,
    accept: str = FEED_ACCEPT,
) -> Iterator[tuple[K, FetchResult | FetchError]]:
    """Fetch every job with at most `concurrency` in flight, yielding each result as it
    arrives; failures come back as values."""
    if not jobs:
        return
    with InFlight(fetcher, jobs, concurrency, accept) as flight:
        yield from flight


def fetch_many(
    fetcher: Fetcher,
    jobs: Sequence[tuple[K, str, Validators | None]],
    concurrency: int,
    accept: str = FEED_ACCEPT,
) -> dict[K, FetchResult | FetchError]:
    """Fetch every job with at most `concurrency` in flight; failures come back as values."""
    return dict(fetch_each(fetcher, jobs, concurrency, accept))
