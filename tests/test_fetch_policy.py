"""Network policy applied by the fetcher: SSRF spellings, redirects, rebinding, proxies.

Private networks are disallowed here. A loopback test server plays a public origin
through `allowed_endpoints` (that one ip:port only); everything else private must be
refused before any connection, and the conftest guard fails a test that connects
beyond loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from monitor.errors import FetchError
from monitor.fetch.client import Fetcher
from monitor.fetch.netpolicy import IPAddress
from monitor.models import ErrorKind, FetchSettings
from tests.servers import TestServer, redirect, reply
from tests.ssrf_cases import SPELLINGS


def make_fetcher(server: TestServer | None = None, **kwargs: Any) -> Fetcher:
    allowed = [("127.0.0.1", server.port)] if server else []
    settings = FetchSettings(allow_private_networks=False, timeout=5.0)
    return Fetcher(settings, allowed_endpoints=allowed, **kwargs)


@pytest.fixture
def public_server(http_server: TestServer) -> Iterator[tuple[TestServer, Fetcher]]:
    """The loopback server stands in for a public origin; nothing else private is allowed."""
    with make_fetcher(http_server) as fetcher:
        yield http_server, fetcher


def _blocked(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.kind == ErrorKind.BLOCKED, caught.value
    return caught.value


@pytest.mark.parametrize("url", SPELLINGS)
def test_fetch_policy_refuses_ssrf_spelling(url: str) -> None:
    """Each spelling of a private address, userinfo trick or foreign scheme is BLOCKED."""
    with make_fetcher() as fetcher:
        _blocked(fetcher, url)


def test_fetch_policy_allowed_origin_is_fetched(public_server: tuple[TestServer, Fetcher]) -> None:
    """The stand-in public origin itself is reachable (the knob works)."""
    server, fetcher = public_server
    assert fetcher.fetch(server.route("/feed", reply(b"<rss/>"))).body == b"<rss/>"


def test_fetch_policy_refuses_real_loopback_server(http_server: TestServer) -> None:
    """A live loopback server is refused by address, before any request reaches it."""
    url = http_server.route("/secret", reply(b"secret"))
    with make_fetcher() as fetcher:
        _blocked(fetcher, url)
        _blocked(fetcher, url.replace("127.0.0.1", "2130706433"))
    assert http_server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0x7f000001/",
        "file:///etc/passwd",
        "gopher://x/",
    ],
)
def test_fetch_policy_redirect_to_private_is_blocked(
    target: str, public_server: tuple[TestServer, Fetcher]
) -> None:
    """A redirect from an allowed server to a private address or other scheme is BLOCKED."""
    server, fetcher = public_server
    error = _blocked(fetcher, server.route("/feed", redirect(target)))
    assert "redirect" in error.message
    assert server.hits("/feed") == 1


def test_fetch_policy_redirect_to_other_loopback_server_is_blocked(
    public_server: tuple[TestServer, Fetcher], http_server_factory: Callable[..., TestServer]
) -> None:
    """A redirect to a live loopback server on another port is refused; it sees no request."""
    server, fetcher = public_server
    secret = http_server_factory()
    target = secret.route("/admin", reply(b"secret"))
    _blocked(fetcher, server.route("/feed", redirect(target)))
    assert secret.requests == []


def test_fetch_policy_dns_rebinding_cannot_reach_private_address(
    http_server: TestServer, http_server_factory: Callable[..., TestServer]
) -> None:
    """A name that resolves public first and private later is checked on every connection."""
    secret = http_server_factory(host="127.0.0.2", port=http_server.port)
    secret.route("/feed", reply(b"secret"))
    http_server.route("/feed", reply(b"<rss/>", headers={"Connection": "close"}))
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])

    def rebinding(host: str, port: int, timeout: float | None) -> list[IPAddress]:
        return [ipaddress.ip_address(next(answers))]

    url = f"http://rebind.example:{http_server.port}/feed"
    with make_fetcher(http_server, resolver=rebinding) as fetcher:
        assert fetcher.fetch(url).body == b"<rss/>"
        error = _blocked(fetcher, url)
    assert "127.0.0.2" in error.message
    assert secret.requests == []


def test_fetch_policy_name_with_one_private_address_is_blocked(http_server: TestServer) -> None:
    """A name resolving to the allowed origin and a private address is refused whole."""

    def mixed(host: str, port: int, timeout: float | None) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.1.2.3")]

    http_server.route("/feed", reply(b"<rss/>"))
    with make_fetcher(http_server, resolver=mixed) as fetcher:
        _blocked(fetcher, f"http://mixed.example:{http_server.port}/feed")
    assert http_server.requests == []


def test_fetch_policy_private_networks_allowed_when_configured(http_server: TestServer) -> None:
    """allow_private_networks = true lets loopback through."""
    url = http_server.route("/feed", reply(b"<rss/>"))
    with Fetcher(FetchSettings(allow_private_networks=True)) as fetcher:
        assert fetcher.fetch(url).body == b"<rss/>"


@pytest.mark.parametrize("target", ["http://10.0.0.1/feed", "http://2130706433/", "http://[::1]/"])
def test_fetch_policy_proxy_still_refuses_private_targets(
    target: str, http_server: TestServer
) -> None:
    """Through a proxy, private literal or locally resolvable targets are refused unsent."""
    settings = FetchSettings(allow_private_networks=False, proxy=http_server.base_url)
    with Fetcher(settings) as fetcher:
        _blocked(fetcher, target)
    assert http_server.requests == []


def test_fetch_policy_blocked_message_is_redacted() -> None:
    """A refused URL is never echoed with its secrets."""
    with make_fetcher() as fetcher:
        error = _blocked(fetcher, "http://u:PW123@10.0.0.1/?token=SECRET123")
    assert "PW123" not in str(error)
    assert "SECRET123" not in str(error)
