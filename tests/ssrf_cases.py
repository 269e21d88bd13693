"""Shared SSRF table: spellings of private addresses, userinfo tricks and foreign schemes.

`SPELLINGS` is the fixed table (no port: nothing may be reached whatever listens).
`loopback_spellings(port)` gives spellings of 127.0.0.1 aimed at a live loopback
listener, so a test can also assert that no request arrived there.
`REDIRECT_TARGETS` are where a hostile server's redirect may point.

PYTEST_DONT_REWRITE: data only, no assertions.
"""

from __future__ import annotations

SPELLINGS = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::7f00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::]/",
    "https://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://192.88.99.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[2001::1]/",
    "http://example.com@127.0.0.1/",
    "http://127.0.0.1\\@example.com/",
    "http:\\\\127.0.0.1\\feed",
    "http://127.0.0.1:80\\@example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_GET",
    "ftp://127.0.0.1/",
    "dict://127.0.0.1:11211/stat",
    "data:text/xml,<rss/>",
    "javascript:alert(1)",
]

_LOOPBACK_TEMPLATES = [
    "http://127.0.0.1:{port}/x",
    "https://127.0.0.1:{port}/x",
    "http://2130706433:{port}/x",
    "http://017700000001:{port}/x",
    "http://0x7f000001:{port}/x",
    "http://0x7f.0.0.1:{port}/x",
    "http://0177.0.0.1:{port}/x",
    "http://127.1:{port}/x",
    "http://localhost:{port}/x",
    "http://LocalHost:{port}/x",
    "http://[::ffff:127.0.0.1]:{port}/x",
    "http://[::ffff:7f00:1]:{port}/x",
    "http://public.example@127.0.0.1:{port}/x",
    "http://127.0.0.1:{port}\\@public.example/x",
    "http://127.0.0.1:{port}#@public.example/x",
]

REDIRECT_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_GET",
]


def loopback_spellings(port: int) -> list[str]:
    """Spellings of the loopback listener on `port` (literal forms, names, tricks)."""
    return [template.format(port=port) for template in _LOOPBACK_TEMPLATES]


def loopback_redirects(port: int) -> list[str]:
    """Redirect targets: the fixed ones plus a few spellings of the live listener."""
    return [*REDIRECT_TARGETS, *loopback_spellings(port)[:4]]
