"""Network policy for outgoing requests: which URLs and addresses may be reached.

Host strings are not enough to decide (`2130706433`, `0x7f000001` and `127.1` all
resolve to loopback), so the policy is applied to resolved addresses, and at the
moment of connecting: `GuardedBackend` resolves the host itself, checks every address
and connects only to an address it has checked, which closes the DNS-rebinding gap
between a check and the connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor.config.redact import redact_url
from monitor.errors import FetchError
from monitor.models import ErrorKind

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int, float | None], list[IPAddress]]

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 8192
_BAD_URL_CHARS = re.compile(r"[\\\x00-\x20\x7f]")

# Non-global ranges that `ipaddress` (3.11) reports as global, or that embed an address
# which a gateway would reach for us (NAT64 and the 6to4 relay).
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.88.99.0/24",  # 6to4 relay anycast
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local use
        "2001::/32",  # Teredo
        "fec0::/10",  # site-local (deprecated, still routed inside sites)
        "3fff::/20",  # documentation
        "::/96",  # IPv4-compatible
    )
)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be reached when private networks are disallowed, or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return blocked_reason(ip.ipv4_mapped)
        if ip in _SIX_TO_FOUR and ip.sixtofour is not None:
            inner = blocked_reason(ip.sixtofour)
            return f"6to4-wrapped {inner}" if inner else None
    for flag in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(ip, f"is_{flag}"):
            return flag.replace("_", "-")
    if any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED):
        return "special-purpose"
    if not ip.is_global:
        return "non-global"
    return None


def is_blocked_ip(ip: IPAddress) -> bool:
    """True when `ip` is not a public unicast address (see `blocked_reason`)."""
    return blocked_reason(ip) is not None


def check_url(url: str) -> None:
    """Refuse URLs we never fetch: non-http(s), userinfo, backslashes, no host.

    Parsed with httpx (the parser that will send the request) and cross-checked with
    `urllib.parse`, so a URL the two read differently is refused rather than guessed.
    """
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise _blocked(url, "is not a URL of acceptable length")
    if _BAD_URL_CHARS.search(url):
        raise _blocked(url, "contains a backslash, a space or a control character")
    try:
        parsed = httpx.URL(url)
        split = urlsplit(url)
        split_host = split.hostname
    except (httpx.InvalidURL, ValueError):
        raise _blocked(url, "is not a valid URL") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise _blocked(url, "uses a scheme other than http or https")
    if parsed.userinfo or "@" in split.netloc:
        raise _blocked(url, "carries a user name or password (user@host)")
    if not parsed.host:
        raise _blocked(url, "has no host")
    if (split_host or "").rstrip(".").lower() != parsed.host.rstrip(".").lower():
        raise _blocked(url, "is ambiguous (its host reads differently to different parsers)")


def _blocked(url: object, what: str) -> FetchError:
    shown = redact_url(url) if isinstance(url, str) else type(url).__name__
    return FetchError(ErrorKind.BLOCKED, f"URL {shown} {what}", "only http and https URLs")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Decides which (address, port) endpoints a connection may use.

    `allowed_endpoints` is test support: (ip, port) pairs treated as public although
    their address is not, so a loopback test server can stand in for a public origin
    while every other private address stays refused.
    """

    allow_private: bool = False
    allowed_endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why connecting to ip:port is refused, or None when it is allowed."""
        if self.allow_private or (str(ip), port) in self.allowed_endpoints:
            return None
        return blocked_reason(ip)

    def check(self, host: str, addresses: Sequence[IPAddress], port: int) -> None:
        """Raise BLOCKED unless every address `host` resolved to is allowed."""
        for ip in addresses:
            reason = self.refusal(ip, port)
            if reason is not None:
                where = f"host {host} resolves to {ip}" if host != str(ip) else f"address {ip}"
                raise FetchError(
                    ErrorKind.BLOCKED,
                    f"{where} is a {reason} address, refused by the network policy",
                    "set fetch.allow_private_networks = true to reach private networks",
                )


def system_resolver(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Resolve with getaddrinfo, giving up after `timeout` (getaddrinfo has none)."""
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    outcome: list[list[str] | Exception] = []

    def run() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            outcome.append([str(info[4][0]) for info in infos])
        except (OSError, UnicodeError) as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, name="resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise FetchError(ErrorKind.TIMEOUT, f"resolving {host} took longer than {timeout} s")
    result = outcome[0]
    if isinstance(result, Exception):
        raise FetchError(ErrorKind.DNS, f"cannot resolve host {host}", "check the host name")
    addresses = _unique(ipaddress.ip_address(text.split("%")[0]) for text in result)
    if not addresses:
        raise FetchError(ErrorKind.DNS, f"host {host} has no address")
    return addresses


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _unique(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    return list(dict.fromkeys(addresses))


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore backend that connects only to addresses the policy allows.

    It resolves the host itself, refuses the connection if any address is refused,
    then connects to those same checked addresses in turn.
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first address of `host` that answers, after checking them all."""
        addresses = self._resolver(host, port, timeout)
        self._policy.check(host, addresses, port)
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # the resolver returns at least one address
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Refused: the monitor fetches over TCP only."""
        raise FetchError(ErrorKind.BLOCKED, "unix sockets are not used by the monitor")

    def sleep(self, seconds: float) -> None:
        """Sleep as the standard backend does."""
        self._inner.sleep(seconds)
