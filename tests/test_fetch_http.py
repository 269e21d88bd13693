"""Fetching over real loopback HTTP: conditional GET, statuses, redirects, headers, post."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch.client import (
    POST_BODY_CAP,
    Fetcher,
    HttpStatusError,
    fetch_many,
    quiet_http_loggers,
)
from monitor.models import ErrorKind, FetchResult, FetchSettings, Validators
from tests.servers import (
    Exchange,
    TestServer,
    delayed,
    gzipped,
    redirect,
    reply,
)

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()


def make_fetcher(**overrides: Any) -> Fetcher:
    settings = FetchSettings(**{"allow_private_networks": True, "timeout": 5.0, **overrides})
    return Fetcher(settings, clock=lambda: NOW)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with make_fetcher() as f:
        yield f


def test_fetch_http_returns_body_and_validators(http_server: TestServer, fetcher: Fetcher) -> None:
    """A 200 gives the body, the final URL, ETag and Last-Modified."""
    url = http_server.route("/feed", reply(FEED, etag='"v1"', headers={"Last-Modified": "x"}))
    result = fetcher.fetch(url)
    assert (result.status, result.body, result.url) == (200, FEED, url)
    assert (result.etag, result.last_modified) == ('"v1"', "x")
    assert result.headers["content-type"].startswith("application/rss+xml")


def test_fetch_http_conditional_get_round_trip(http_server: TestServer, fetcher: Fetcher) -> None:
    """Validators from one fetch make the next a conditional GET answered by 304 (body None)."""
    url = http_server.route("/feed", reply(FEED, etag='"v1"'))
    first = fetcher.fetch(url)
    second = fetcher.fetch(url, Validators(etag=first.etag, last_modified="Tue, 01 Jan 2026"))
    assert second.status == 304
    assert second.body is None
    assert second.not_modified
    assert second.etag == '"v1"'
    sent = http_server.requests[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 01 Jan 2026"
    assert "if-none-match" not in http_server.requests[0].headers


def test_fetch_http_304_keeps_sent_validators(http_server: TestServer, fetcher: Fetcher) -> None:
    """A 304 without validators of its own carries the ones we sent, so they are kept."""
    url = http_server.route("/feed", reply(b"", status=304))
    result = fetcher.fetch(url, Validators(etag='"a"', last_modified="lm"))
    assert (result.body, result.etag, result.last_modified) == (None, '"a"', "lm")


def test_fetch_http_unconditional_304_is_an_error(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """A 304 to a request that sent no validators is a status error, not 'nothing new'."""
    url = http_server.route("/feed", reply(b"", status=304))
    with pytest.raises(HttpStatusError) as caught:
        fetcher.fetch(url)
    assert caught.value.status == 304


def test_fetch_http_server_ignoring_etag_still_returns_body(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """A server that ignores If-None-Match answers 200 and the body comes back whole."""
    url = http_server.route("/feed", reply(FEED))
    assert fetcher.fetch(url, Validators(etag='"old"')).body == FEED


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 418, 429, 500, 502, 503, 504, 599])
def test_fetch_http_non_2xx_is_status_error(
    status: int, http_server: TestServer, fetcher: Fetcher
) -> None:
    """Every non-2xx answer is an HTTP_STATUS error carrying the status; its body is ignored."""
    url = http_server.route("/feed", reply(FEED, status=status))
    with pytest.raises(HttpStatusError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.HTTP_STATUS
    assert caught.value.status == status
    assert str(status) in caught.value.message


def test_fetch_http_status_message_ignores_server_reason_phrase(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """The server's own reason phrase never reaches our message (it is hostile text)."""

    def behaviour(ex: Exchange) -> None:
        ex.handler.send_response(500, "\x1b]0;pwned\x07")
        ex.handler.send_header("Content-Length", "0")
        ex.handler.end_headers()

    url = http_server.route("/feed", behaviour)
    with pytest.raises(HttpStatusError) as caught:
        fetcher.fetch(url)
    assert "\x1b" not in str(caught.value)
    assert "Internal Server Error" in str(caught.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (format_datetime(datetime.fromtimestamp(NOW + 300, UTC), usegmt=True), 300.0),
        (format_datetime(datetime.fromtimestamp(NOW + 365 * 86400, UTC), usegmt=True), 86400.0),
    ],
)
def test_fetch_http_retry_after_on_429_and_503(
    header: str, expected: float, http_server: TestServer, fetcher: Fetcher
) -> None:
    """Retry-After in seconds or as an HTTP date rides on the error, capped at 24 h."""
    for status in (429, 503):
        url = http_server.route(f"/s{status}", reply(b"", status, {"Retry-After": header}))
        with pytest.raises(HttpStatusError) as caught:
            fetcher.fetch(url)
        assert caught.value.retry_after == expected


def test_fetch_http_cache_headers_on_success(http_server: TestServer, fetcher: Fetcher) -> None:
    """Cache-Control max-age is reported; Expires: 0 and no-cache give no hint."""
    cached = http_server.route("/a", reply(FEED, headers={"Cache-Control": "max-age=900"}))
    expired = http_server.route("/b", reply(FEED, headers={"Expires": "0"}))
    nocache = http_server.route("/c", reply(FEED, headers={"Cache-Control": "no-cache"}))
    assert fetcher.fetch(cached).max_age == 900.0
    assert fetcher.fetch(expired).max_age is None
    assert fetcher.fetch(nocache).max_age is None


@pytest.mark.parametrize("status", [200, 204])
def test_fetch_http_empty_2xx_gives_empty_body(
    status: int, http_server: TestServer, fetcher: Fetcher
) -> None:
    """An empty 200 or 204 is a successful fetch of b'' (the parser calls it not a feed)."""
    url = http_server.route("/feed", reply(b"", status=status))
    assert fetcher.fetch(url).body == b""


def test_fetch_http_html_200_is_returned_unchanged(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """An HTML page with 200 is fetched as is; deciding 'not a feed' is the parser's job."""
    page = b"<!doctype html><html><body><form>login</form></body></html>"
    url = http_server.route("/feed", reply(page, content_type="text/html"))
    assert fetcher.fetch(url).body == page


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_fetch_http_decodes_gzip_and_deflate(
    encoding: str, http_server: TestServer, fetcher: Fetcher
) -> None:
    """Honest gzip and deflate bodies are decoded."""
    url = http_server.route("/feed", gzipped(FEED * 500, encoding))
    assert fetcher.fetch(url).body == FEED * 500


def test_fetch_http_sends_expected_request_headers(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """We ask for feeds, accept only gzip and deflate, and name ourselves."""
    fetcher.fetch(http_server.route("/feed", reply(FEED)))
    sent = http_server.requests[0].headers
    assert sent["accept-encoding"] == "gzip, deflate"
    assert "application/rss+xml" in sent["accept"]
    assert sent["user-agent"] == FetchSettings().user_agent


def test_fetch_http_keeps_no_cookies(http_server: TestServer, fetcher: Fetcher) -> None:
    """Cookies set by one answer are not sent back (no state shared between feeds)."""
    url = http_server.route("/feed", reply(FEED, headers={"Set-Cookie": "session=abc; Path=/"}))
    fetcher.fetch(url)
    fetcher.fetch(url)
    assert "cookie" not in http_server.requests[1].headers


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_fetch_http_follows_each_redirect_status(
    status: int, http_server: TestServer, fetcher: Fetcher
) -> None:
    """Every redirect status is followed and the final URL reported."""
    final = http_server.route("/feed", reply(FEED))
    url = http_server.route("/old", redirect("/feed", status))
    result = fetcher.fetch(url)
    assert result.body == FEED
    assert result.url == final


def test_fetch_http_follows_five_hops_to_another_origin(
    http_server: TestServer, http_server_factory: Any, fetcher: Fetcher
) -> None:
    """Five redirects, the last to another server, are fine."""
    other: TestServer = http_server_factory()
    final = other.route("/feed", reply(FEED))
    for hop in range(1, 5):
        http_server.route(f"/h{hop}", redirect(f"/h{hop + 1}"))
    http_server.route("/h5", redirect(final))
    assert fetcher.fetch(http_server.url("/h1")).url == final


def test_fetch_http_six_hops_are_too_many(http_server: TestServer, fetcher: Fetcher) -> None:
    """A sixth redirect is refused after exactly six requests."""
    for hop in range(1, 7):
        http_server.route(f"/h{hop}", redirect(f"/h{hop + 1}"))
    http_server.route("/h7", reply(FEED))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.fetch(http_server.url("/h1"))
    assert len(http_server.requests) == 6
    assert http_server.hits("/h7") == 0


def test_fetch_http_redirect_loop_stops(http_server: TestServer, fetcher: Fetcher) -> None:
    """A redirect to itself stops at the hop limit."""
    url = http_server.route("/loop", redirect("/loop"))
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.PROTOCOL
    assert http_server.hits("/loop") == 6


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://127.0.0.1/", "data:,x"]
)
def test_fetch_http_redirect_to_other_scheme_is_blocked(
    target: str, http_server: TestServer, fetcher: Fetcher
) -> None:
    """A redirect to a non-http scheme is BLOCKED even when private networks are allowed."""
    url = http_server.route("/feed", redirect(target))
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.BLOCKED
    assert "redirect" in caught.value.message


def test_fetch_http_redirect_without_location_fails(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """A 302 with no Location is a protocol error."""
    url = http_server.route("/feed", reply(b"", status=302))
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.PROTOCOL


def test_fetch_http_deadline_covers_all_hops(http_server: TestServer) -> None:
    """The total deadline spans the redirect chain, not each hop."""
    for hop in range(1, 5):
        http_server.route(f"/h{hop}", delayed(0.4, redirect(f"/h{hop + 1}")))
    http_server.route("/h5", reply(FEED))
    started = time.monotonic()
    with make_fetcher(timeout=1.0) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(http_server.url("/h1"))
    assert caught.value.kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.0


def test_fetch_http_ignores_proxy_environment(
    http_server: TestServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proxy variables in the environment are ignored: the fetch goes direct."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:1")
    with make_fetcher() as fresh:
        assert fresh.fetch(http_server.route("/feed", reply(FEED))).body == FEED


def test_fetch_http_uses_configured_proxy(http_server: TestServer) -> None:
    """With fetch.proxy set, requests go through that proxy (absolute-form request line)."""
    http_server.route("/rss", reply(FEED))
    with make_fetcher(proxy=http_server.base_url, allow_private_networks=False) as fetcher:
        assert fetcher.fetch("http://feed.invalid/rss").body == FEED
    assert http_server.requests[0].path == "http://feed.invalid/rss"


def test_fetch_http_post_returns_status_without_following(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """post() sends body and headers and returns a 3xx as a status, not followed."""
    url = http_server.route("/hook", redirect("/elsewhere", 307))
    status, headers, _ = fetcher.post(url, b'{"a":1}', {"Content-Type": "application/json"}, 5.0)
    assert status == 307
    assert headers["location"] == "/elsewhere"
    assert http_server.hits("/elsewhere") == 0
    assert http_server.requests[0].body == b'{"a":1}'
    assert http_server.requests[0].headers["content-type"] == "application/json"


def test_fetch_http_post_caps_response_body(http_server: TestServer, fetcher: Fetcher) -> None:
    """A webhook response body is cut at 64 KiB, and non-2xx is returned, not raised."""
    url = http_server.route("/hook", reply(b"x" * 1_000_000, status=500))
    status, _, body = fetcher.post(url, b"{}", {}, 5.0)
    assert status == 500
    assert len(body) == POST_BODY_CAP


def test_fetch_http_post_refuses_private_address(http_server: TestServer) -> None:
    """post() obeys the network policy."""
    url = http_server.route("/hook", reply(b"ok"))
    with make_fetcher(allow_private_networks=False) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.post(url, b"{}", {}, 5.0)
    assert caught.value.kind == ErrorKind.BLOCKED
    assert http_server.hits("/hook") == 0


def test_fetch_http_fetch_many_runs_concurrently(http_server: TestServer, fetcher: Fetcher) -> None:
    """40 feeds at 200 ms latency, 10 in flight: about 4 rounds, never more than 10 at once."""
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(ex: Exchange) -> None:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        ex.send(200, FEED)

    http_server.route("/feed", slow)
    jobs = [(n, http_server.url(f"/feed?n={n}"), None) for n in range(40)]
    started = time.monotonic()
    results = fetch_many(fetcher, jobs, concurrency=10)
    elapsed = time.monotonic() - started
    assert sorted(results) == list(range(40))
    assert all(isinstance(r, FetchResult) and r.body == FEED for r in results.values())
    assert elapsed < 40 * 0.2 / 3
    assert 1 < peak[0] <= 10


def test_fetch_http_fetch_many_returns_failures_as_values(
    http_server: TestServer, fetcher: Fetcher
) -> None:
    """Failures, including unexpected exceptions, are values; other fetches still succeed."""

    def broken_resolver(host: str, port: int, timeout: float | None) -> list[Any]:
        raise RuntimeError("resolver bug for http://x/?token=SECRET")

    good = http_server.route("/feed", reply(FEED))
    with Fetcher(FetchSettings(allow_private_networks=True), resolver=broken_resolver) as weird:
        internal = fetch_many(weird, [("a", "http://broken.example/", None)], 4)["a"]
    results = fetch_many(
        fetcher,
        [
            ("ok", good, None),
            ("bad", "http://127.0.0.1:1/", None),
            ("404", http_server.url("/missing"), None),
        ],
        4,
    )
    assert isinstance(internal, FetchError)
    assert internal.kind == ErrorKind.INTERNAL
    assert "SECRET" not in internal.message
    assert isinstance(results["ok"], FetchResult)
    assert isinstance(results["bad"], FetchError)
    assert results["bad"].kind == ErrorKind.CONNECT
    assert isinstance(results["404"], HttpStatusError)
    assert results["404"].status == 404


def test_fetch_http_logs_and_errors_hide_secrets(
    http_server: TestServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    """Query values and passwords appear in no log line and no error message."""
    quiet_http_loggers()
    caplog.set_level(logging.DEBUG)
    url = http_server.route("/feed", reply(FEED))
    fetcher.fetch(url + "?token=SECRET123")
    with pytest.raises(FetchError) as caught:
        fetcher.fetch("http://127.0.0.1:1/feed?token=SECRET123")
    assert "SECRET123" not in caplog.text
    assert "SECRET123" not in str(caught.value)
    assert logging.getLogger("httpx").level == logging.WARNING
    assert any("fetched" in r.getMessage() for r in caplog.records)
