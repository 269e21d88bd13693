"""Refuse hostile XML before any XML parser sees it.

feedparser's loose parser re-expands "safe" internal entities (a 160 KB document
can exhaust 4 GB of memory), so a document that declares entities is refused
outright, and so is a DOCTYPE with an internal subset or an external DTD that is
not one of the feed DTDs found in the wild (RSS 0.91's). The checks look at the
document twice:
- the raw bytes, for `<!ENTITY` spelled in any ASCII-compatible encoding, UTF-16,
  UTF-32 (either byte order) or EBCDIC, anywhere in the body;
- the text exactly as feedparser's parsers will receive it (its own conversion to
  UTF-8, which honours a BOM, the HTTP charset and the XML declaration, so an
  encoding such as UTF-7 cannot hide a declaration), for `<!ENTITY` anywhere and for
  the DOCTYPE in the prolog, the part before the first element.
An HTML page (an `html` DOCTYPE or root element) is reported as not a feed.
`check_prolog` hands back that converted text, so a parser placed after it reads exactly
the bytes that were checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from monitor.errors import ParseError
from monitor.models import ErrorKind

_RAW_ENCODINGS = ("latin-1", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")
_FEED_DOCTYPES = frozenset({"rss", "rdf:rdf", "feed"})
_HTML_HINT = "the server answered with a web page, not a feed"


def _spelled_in(word: str, encoding: str) -> re.Pattern[bytes]:
    """A bytes pattern matching `word` in `encoding`, ASCII letters in either case."""
    pieces = []
    for ch in word:
        variants = {ch.upper().encode(encoding), ch.lower().encode(encoding)}
        pieces.append(b"(?:" + b"|".join(re.escape(v) for v in sorted(variants)) + b")")
    return re.compile(b"".join(pieces))


_RAW_ENTITY = tuple(_spelled_in("<!ENTITY", enc) for enc in _RAW_ENCODINGS)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ELEMENT_START = re.compile(rb"<\w")  # where feedparser itself ends the prolog
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_HTML_ROOT = re.compile(rb"<html(?:[\s>/]|$)", re.IGNORECASE)
_DOCTYPE_NAME = re.compile(rb"\s*([^\s\[>]*)\s*([A-Za-z]*)")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body as feedparser's parsers receive it, with what its conversion noticed."""

    text: bytes  # UTF-8 with an XML declaration saying so; the raw body if conversion failed
    encoding: str  # the encoding the body was read in; "" when none worked
    problem: Exception | None  # a misleading content type or charset, as feedparser notes it
    has_doctype: bool = False  # a (permitted) feed DOCTYPE in the prolog


def check_prolog(body: bytes, headers: dict[str, str]) -> Decoded:
    """The body as parsers will see it; ParseError (PARSE or NOT_A_FEED) if none may see it."""
    if any(pattern.search(body) for pattern in _RAW_ENTITY):
        _refuse_entities()
    decoded = decode(body, headers)
    text = decoded.text
    if _ENTITY.search(text):
        _refuse_entities()
    start = _ELEMENT_START.search(text)
    prolog = _COMMENT.sub(b"", text[: start.start()] if start else text)
    doctypes = 0
    for match in _DOCTYPE.finditer(prolog):
        _check_doctype(prolog, match.end())
        doctypes += 1
    if start and _HTML_ROOT.match(text, start.start()):
        raise ParseError(ErrorKind.NOT_A_FEED, "an HTML page, not a feed", _HTML_HINT)
    return replace(decoded, has_doctype=doctypes > 0)


def as_parsers_see_it(body: bytes, headers: dict[str, str]) -> bytes:
    """The body converted to UTF-8 the way feedparser converts it before parsing."""
    return decode(body, headers).text


def decode(body: bytes, headers: dict[str, str]) -> Decoded:
    """Convert the body to UTF-8 with feedparser's own rules (BOM, HTTP charset, declaration)."""
    try:
        from feedparser.encodings import convert_to_utf8
    except ImportError:  # pragma: no cover - a feedparser without this helper
        return Decoded(body, "", None)
    notes: dict[str, object] = {}
    try:
        converted = convert_to_utf8(dict(headers), body, notes)
    except Exception:  # an odd declared codec: fall back to the raw-byte checks
        return Decoded(body, "", None)
    if not isinstance(converted, bytes):
        return Decoded(body, "", None)
    problem = notes.get("bozo_exception")
    encoding = notes.get("encoding")
    return Decoded(
        converted,
        encoding if isinstance(encoding, str) else "",
        problem if isinstance(problem, Exception) else None,
    )


def _check_doctype(text: bytes, offset: int) -> None:
    """Refuse an internal subset or a foreign external DTD; an html DOCTYPE is a web page."""
    head = _DOCTYPE_NAME.match(text, offset)
    name = head.group(1).decode("latin-1").lower() if head else ""
    keyword = head.group(2).upper() if head else b""
    if name == "html":
        raise ParseError(ErrorKind.NOT_A_FEED, "an HTML page, not a feed", _HTML_HINT)
    if _has_internal_subset(text, offset):
        raise ParseError(
            ErrorKind.PARSE,
            "document type declarations with an internal subset are not allowed",
            "a feed never needs one; this document may be an XML bomb",
        )
    if keyword in (b"SYSTEM", b"PUBLIC") and name not in _FEED_DOCTYPES:
        raise ParseError(
            ErrorKind.PARSE,
            f"external document type {name[:40]!r} is not allowed",
            "feeds declare no DTD, or RSS 0.91's",
        )


def _has_internal_subset(text: bytes, offset: int, limit: int = 65_536) -> bool:
    """True if a `[` comes before the DOCTYPE's closing `>` (quoted strings skipped)."""
    quote = 0
    for byte in text[offset : offset + limit]:
        if quote:
            quote = 0 if byte == quote else quote
        elif byte in b"\"'":
            quote = byte
        elif byte == 0x5B:  # [
            return True
        elif byte == 0x3E:  # >
            return False
    return True  # no end in sight: treat as hostile


def _refuse_entities() -> None:
    raise ParseError(
        ErrorKind.PARSE,
        "entity declarations are not allowed in feeds",
        "the document declares <!ENTITY ...>; it may be an XML bomb",
    )
