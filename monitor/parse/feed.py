"""Feed bytes into ParsedItems: hostile documents refused, every field clean text.

Policy (see also the README section on parsing):
- Two readers, one result: `monitor.parse.fast` (lxml) reads well-formed RSS and Atom
  that it can read exactly as feedparser does and refuses everything else, which then
  goes to feedparser, the reference. Both give entries shaped alike, and the items are
  built from them by the same code below.
- feedparser only ever sees `io.BytesIO(body)`: bytes that spell a path or a URL
  would otherwise be opened or fetched by feedparser itself.
- Refused as PARSE before either reader runs (`xmlguard.check_prolog`): any `<!ENTITY`
  declaration, an internal DTD subset, an external DTD that is not a feed's.
- NOT_A_FEED: an empty body, an HTML page, or a document where feedparser finds
  neither a feed version nor entries (this is never "all items were removed").
- Ill-formed ("bozo") feeds: the loose parser's entries are kept and the reason
  goes into `ParsedFeed.warning`.
- Item identity: guid/id, else the normalised link, else a hash of title, summary
  and date; inside one document one item per key, the same whatever the entries' order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, Literal

import feedparser

from monitor.errors import ParseError
from monitor.models import ErrorKind, KeyKind, ParsedFeed, ParsedItem
from monitor.parse import fast as fastparse
from monitor.parse import xmlguard
from monitor.parse.html import html_to_text
from monitor.parse.text import one_line, safe_link, strip_controls

TITLE_CAP = 1_000
SUMMARY_CAP = 65_536
BODY_CAP = 1_000_000
KEY_CAP = 2_048
WARNING_CAP = 300
# HTML is cut before cleaning so one giant field cannot cost more than its share.
_HTML_INPUT_FACTOR = 4

Reader = Literal["auto", "fast", "feedparser"]
# A feed, entry or detail as feedparser (or the fast reader) gives it: arbitrary values,
# narrowed with isinstance where they are read.
FeedData = Mapping[str, object]

# json's encoder for one string, as json.dumps(..., ensure_ascii=False) uses it.
_json_string = json.encoder.encode_basestring

_LANG = re.compile(r"\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*\s*")
_DEFAULT_PORTS: Final[Mapping[str, int]] = MappingProxyType({"http": 80, "https": 443})


def parse_feed(
    body: bytes,
    *,
    feed_lang: str,
    content_type: str | None = None,
    base_url: str | None = None,
    max_items: int = 500,
    reader: Reader = "auto",
) -> ParsedFeed:
    """Parse one fetched body into a ParsedFeed, or raise ParseError (PARSE / NOT_A_FEED).

    `reader` is for tests and diagnosis: "feedparser" skips the fast reader, "fast"
    raises `fastparse.Unsupported` where "auto" would hand the body to feedparser.
    """
    if not body.strip():
        raise ParseError(ErrorKind.NOT_A_FEED, "empty body", "the server sent no document")
    headers = {"content-type": content_type} if content_type else {}
    decoded = xmlguard.check_prolog(body, headers)
    # feedparser flags any header set without a Content-Type as "not XML", so the base URL
    # goes in only beside one; links are resolved against base_url below either way.
    result = _read(body, decoded, headers, base_url if content_type else None, reader)
    entries = _list(result.get("entries"))
    version = _str(result.get("version"))
    if not version and not entries:
        raise ParseError(
            ErrorKind.NOT_A_FEED,
            "no RSS or Atom feed found in the document",
            "check the feed URL; the server may be answering with a web page",
        )
    feed = _mapping(result.get("feed"))
    items, skipped, truncated = _build_items(entries, feed, feed_lang, base_url, max_items)
    return ParsedFeed(
        title=one_line(html_to_text(str(feed.get("title") or "")[:SUMMARY_CAP]), TITLE_CAP),
        items=tuple(items),
        warning=_warning(result, version, skipped),
        truncated=truncated,
    )


def _read(
    body: bytes,
    decoded: xmlguard.Decoded,
    headers: dict[str, str],
    base_url: str | None,
    reader: Reader,
) -> FeedData:
    """The fast reader's result where it can give feedparser's, else feedparser's own."""
    if reader != "feedparser":
        try:
            return fastparse.read(decoded, base_url)
        except Exception:
            # Unsupported, or a fault in the fast reader: feedparser, the reference,
            # reads the body instead (and raises nothing but ParseError).
            if reader == "fast":
                raise
    return _run_feedparser(body, headers, base_url)


def _run_feedparser(body: bytes, headers: dict[str, str], base_url: str | None) -> FeedData:
    response_headers = dict(headers)
    if base_url:
        response_headers["content-location"] = base_url
    try:
        parsed: FeedData = feedparser.parse(
            io.BytesIO(body),
            response_headers=response_headers,
            # Only plain text leaves this module (html_to_text drops scripts and the like),
            # so feedparser's own HTML rewriting would triple the cost for nothing.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser promises not to raise; a hostile body may disagree
        raise ParseError(ErrorKind.PARSE, f"feed parser failed: {type(exc).__name__}") from exc
    return parsed


def _warning(result: FeedData, version: str, skipped: int) -> str | None:
    reasons = []
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        # These two mean the labels were wrong, not the XML: the strict parser still ran.
        if type(exc).__name__ in ("CharacterEncodingOverride", "NonXMLContentType"):
            prefix = "feed served with a misleading content type or charset"
        else:
            prefix = "ill-formed feed, read leniently"
        reasons.append(f"{prefix}: {type(exc).__name__}: {exc}")
    if not version:
        reasons.append("feed format not recognised")
    if skipped:
        reasons.append(f"{skipped} unreadable entr{'y' if skipped == 1 else 'ies'} skipped")
    return one_line("; ".join(reasons), WARNING_CAP) if reasons else None


def _build_items(
    entries: list[object],
    feed: FeedData,
    feed_lang: str,
    base_url: str | None,
    max_items: int,
) -> tuple[list[ParsedItem], int, bool]:
    """Items in document order, one per key, at most `max_items` keys.

    Of several entries with one key, the same one is kept whatever their order (the
    latest dated, then the greatest content hash): a feed that lists a guid twice and
    swaps the two between polls must not make a new revision on every poll.
    """
    default_lang = plausible_lang(feed.get("language")) or feed_lang
    kept: dict[str, ParsedItem] = {}
    skipped = 0
    truncated = False
    for entry in entries:
        try:
            if not isinstance(entry, Mapping):
                raise TypeError("an entry that is not a mapping")
            item = build_item(entry, default_lang=default_lang, base_url=base_url)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            skipped += 1
            continue
        other = kept.get(item.key)
        if other is None and len(kept) >= max_items:
            truncated = True
            break
        if other is None or _rank(item) > _rank(other):
            kept[item.key] = item
    return list(kept.values()), skipped, truncated


def _rank(item: ParsedItem) -> tuple[str, str]:
    return item.published or "", item.content_hash


def build_item(entry: FeedData, *, default_lang: str, base_url: str | None) -> ParsedItem:
    """One feedparser entry as a ParsedItem with clean, capped text."""
    title = one_line(html_to_text(_str(entry.get("title"))[: TITLE_CAP * 64]), TITLE_CAP)
    summary_detail = _mapping(entry.get("summary_detail"))
    summary = _clean(_str(entry.get("summary")), summary_detail, SUMMARY_CAP)
    content = _main_content(entry)
    body = _clean(_str(content.get("value")), content, BODY_CAP) if content else summary
    published = iso_utc(_date(entry, "published_parsed") or _date(entry, "updated_parsed"))
    raw_link = _str(entry.get("link")).strip()
    # No link is no URL: joined with the feed's URL it would become that URL, and the
    # feed's URL is no item's key.
    url = safe_link(urllib.parse.urljoin(base_url, raw_link) if base_url and raw_link else raw_link)
    key, key_kind = item_key(_str(entry.get("id")), url, title, summary, published)
    return ParsedItem(
        key=key,
        key_kind=key_kind,
        url=url,
        title=title,
        published=published,
        summary=summary,
        body=body,
        lang=_entry_lang(entry, content, summary_detail) or default_lang,
        content_hash=content_hash(title, summary, body),
    )


def item_key(
    guid: str, url: str | None, title: str, summary: str, published: str | None
) -> tuple[str, KeyKind]:
    """(key, key_kind): the guid, else the normalised http(s) link, else a content hash."""
    guid = guid.strip()
    if guid:
        if len(guid) > KEY_CAP:
            return "sha256:" + _sha256(guid), "guid"
        return guid, "guid"
    link = normalise_link(url) if url else None
    if link and len(link) <= KEY_CAP:
        return link, "link"
    return "hash:" + _sha256(json.dumps([title, summary, published], ensure_ascii=False)), "hash"


def normalise_link(url: str) -> str | None:
    """Lowercase scheme and host, no fragment, no default port; None if not http(s)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def content_hash(title: str, summary: str, body: str) -> str:
    """sha256 over the three texts, encoded so no two different triples collide.

    The text hashed is `json.dumps([title, summary, body], ensure_ascii=False)`, written
    out with json's own string encoder: the same characters without the list encoder's
    overhead, and a body that is the summary is encoded once.
    """
    summary_json = _json_string(summary)
    body_json = summary_json if body is summary else _json_string(body)
    return _sha256(f"[{_json_string(title)}, {summary_json}, {body_json}]")


def iso_utc(parsed: object) -> str | None:
    """feedparser's UTC struct_time as "YYYY-MM-DDTHH:MM:SSZ", or None if unusable."""
    if not isinstance(parsed, time.struct_time | tuple) or len(parsed) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in parsed[:6])
        moment = dt.datetime(year, month, day, hour, minute, second)
    except (ValueError, TypeError, OverflowError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def plausible_lang(value: object) -> str | None:
    """The two-letter primary language of a tag like "en-US" or "ru", else None."""
    if not isinstance(value, str):
        return None
    match = _LANG.fullmatch(value)
    return match.group(1).lower() if match else None


def _main_content(entry: FeedData) -> FeedData:
    """Atom `content` / RSS `content:encoded`: the first HTML one, else the first."""
    contents = [c for c in _list(entry.get("content")) if isinstance(c, Mapping)]
    for content in contents:
        if "html" in _str(content.get("type")):
            return content
    return contents[0] if contents else {}


def _clean(raw: str, detail: FeedData, cap: int) -> str:
    raw = raw[: cap * _HTML_INPUT_FACTOR]
    if _str(detail.get("type")) == "text/plain":
        lines = (" ".join(line.split()) for line in strip_controls(raw).split("\n"))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        text = html_to_text(raw)
    return text[:cap]


def _entry_lang(entry: FeedData, *details: FeedData) -> str | None:
    for detail in details:
        lang = plausible_lang(detail.get("language"))
        if lang:
            return lang
    lang = plausible_lang(_mapping(entry.get("title_detail")).get("language"))
    return lang or plausible_lang(entry.get("language"))


def _date(entry: FeedData, key: str) -> object:
    """`entry[key]` without FeedParserDict's warning alias of updated to published."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> FeedData:
    """A detail or the feed's mapping; none is empty, and anything else is unreadable."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return value
    raise TypeError(f"a {type(value).__name__} where a mapping belongs")


def _list(value: object) -> list[object]:
    """The entries or contents as a list; none is empty, and anything else is unreadable."""
    if not value:
        return []
    if isinstance(value, Iterable):
        return list(value)
    raise TypeError(f"a {type(value).__name__} where a list belongs")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
