"""URLs and library messages made safe to print: no credentials, no query values, no
controls (pure: the configuration, the fetcher and the alerts all show URLs)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_UNPRINTABLE = re.compile("[\x00-\x20\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_SHOWN_URL = 300


def redact_url(url: str) -> str:
    """The URL without user name, password, fragment or query values, safe to print.

    Control, space and bidi characters are percent-escaped and long URLs shortened, so a
    hostile URL cannot rewrite a terminal line or a log record.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    shown = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    shown = _UNPRINTABLE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), shown)
    return shown if len(shown) <= MAX_SHOWN_URL else shown[:MAX_SHOWN_URL] + "..."


def _redact_pair(pair: str) -> str:
    key, equals, _ = pair.partition("=")
    return f"{key}=REDACTED" if equals else "REDACTED"


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def redact_text(text: str) -> str:
    """`text` with every URL redacted and control characters escaped (library messages)."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)
