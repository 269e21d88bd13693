"""Network policy: which addresses and URLs the monitor may reach."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import pytest

from monitor.config.redact import redact_text, redact_url
from monitor.errors import FetchError
from monitor.fetch.netpolicy import (
    AddressPolicy,
    check_url,
    is_blocked_ip,
    system_resolver,
)
from monitor.models import ErrorKind

BLOCKED_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "192.88.99.1",
    "192.0.0.1",
    "198.18.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::7f00:1",
    "64:ff9b::7f00:1",
    "64:ff9b::808:808",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::",
    "2002:c0a8:1::",
    "2001::1",
    "2001:db8::1",
    "fc00::1",
    "fd12::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "3fff::1",
    "100::1",
]
PUBLIC_ADDRESSES = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700::1111",
    "2a00:1450:4001::1",
    "2002:5db8:d822::",
    "::ffff:93.184.216.34",
]


@pytest.mark.parametrize("text", BLOCKED_ADDRESSES)
def test_netpolicy_blocks_non_public_address(text: str) -> None:
    """Loopback, private, link-local, CGNAT, NAT64, 6to4-wrapped, special: all refused."""
    assert is_blocked_ip(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC_ADDRESSES)
def test_netpolicy_allows_public_address(text: str) -> None:
    """Public unicast addresses, also behind IPv4 mapping or 6to4, are allowed."""
    assert not is_blocked_ip(ipaddress.ip_address(text))


GOOD_URLS = [
    "http://en.kremlin.ru/events/president/news/feed",
    "https://www.whitehouse.gov/news/feed/",
    "http://kremlin.ru/events/president/news/feed?x=1#frag",
    "https://example.com:8443/feed.xml",
    "http://пример.рф/rss",
]
BAD_URLS = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_x",
    "ftp://example.com/feed",
    "data:text/xml,<rss/>",
    "javascript:alert(1)",
    "dict://127.0.0.1:11211/",
    "http://example.com@127.0.0.1/",
    "http://user:pass@example.com/feed",
    "http://127.0.0.1\\@example.com/",
    "http:\\\\example.com\\feed",
    "http://example.com\\feed",
    "http:///feed",
    "http://",
    "",
    "example.com/feed",
    "http://exa mple.com/",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/" + "a" * 9000,
    "http://0177.0.0.1/",
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_netpolicy_check_url_accepts_plain_http_urls(url: str) -> None:
    """Ordinary http and https feed URLs pass the syntactic check."""
    check_url(url)


@pytest.mark.parametrize("url", BAD_URLS)
def test_netpolicy_check_url_refuses_tricks(url: str) -> None:
    """Other schemes, userinfo, backslashes, control characters and host-less URLs are BLOCKED."""
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.kind == ErrorKind.BLOCKED


def test_netpolicy_check_url_message_is_redacted() -> None:
    """A refused URL is named without its password or query values."""
    with pytest.raises(FetchError) as caught:
        check_url("ftp://user:PW123@example.com/x?token=SECRET123")
    assert "PW123" not in str(caught.value)
    assert "SECRET123" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://u:PW@host/p?token=S1&a=b#f", "http://host/p?token=REDACTED&a=REDACTED"),
        ("https://host/hook?S2", "https://host/hook?REDACTED"),
        ("http://host/feed", "http://host/feed"),
    ],
)
def test_netpolicy_redact_url_drops_credentials_and_query_values(url: str, expected: str) -> None:
    """Logged URLs keep scheme, host and path, never userinfo or query values."""
    assert redact_url(url) == expected


def test_netpolicy_redact_url_is_printable_and_short() -> None:
    """Control and bidi characters are escaped and very long URLs shortened."""
    shown = redact_url("http://h/a\r\nX-Injected: 1\x1b[2J\u202e/" + "b" * 1000)
    assert "\r" not in shown
    assert "\n" not in shown
    assert "\x1b" not in shown
    assert "\u202e" not in shown
    assert len(shown) <= 303
    assert shown.startswith("http://h/aX-Injected:%201%1B")


def test_netpolicy_redact_text_redacts_urls_inside_messages() -> None:
    """URLs embedded in library messages are redacted too."""
    text = redact_text("error for url 'https://x:PW@h/p?token=SECRET' here\x1b[2J\r\n")
    assert "SECRET" not in text
    assert "PW" not in text
    assert "https://h/p" in text
    assert text.endswith("here\\x1b[2J\\r\\n")


def test_netpolicy_allowed_endpoint_is_exact() -> None:
    """The test-support allowance covers one (ip, port) only; other ports stay refused."""
    policy = AddressPolicy(allowed_endpoints=frozenset({("127.0.0.1", 8080)}))
    loopback = ipaddress.ip_address("127.0.0.1")
    assert policy.refusal(loopback, 8080) is None
    assert policy.refusal(loopback, 8081) == "loopback"
    assert AddressPolicy(allow_private=True).refusal(loopback, 1) is None


def test_netpolicy_check_refuses_when_any_address_is_private() -> None:
    """A name resolving to a public and a private address is refused as a whole."""
    policy = AddressPolicy()
    addresses = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(FetchError) as caught:
        policy.check("mixed.example", addresses, 80)
    assert caught.value.kind == ErrorKind.BLOCKED
    assert "10.0.0.1" in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
    ],
)
def test_netpolicy_resolver_sees_numeric_spellings(host: str, expected: str) -> None:
    """The resolver turns odd numeric spellings into the address they really reach."""
    assert ipaddress.ip_address(expected) in system_resolver(host, 80, 5.0)


def test_netpolicy_resolver_reports_dns_failure() -> None:
    """An unresolvable name is a DNS error."""
    with pytest.raises(FetchError) as caught:
        system_resolver("no-such-host.invalid", 80, 10.0)
    assert caught.value.kind == ErrorKind.DNS


def test_netpolicy_resolver_gives_up_on_hanging_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A getaddrinfo that never returns becomes a TIMEOUT after the connect timeout."""
    release = threading.Event()

    def stuck(*args: object, **kwargs: object) -> list[object]:
        release.wait(10)
        raise socket.gaierror("released")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            system_resolver("stuck.example", 80, 0.3)
    finally:
        release.set()
    assert caught.value.kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.0
