"""The article text of a fetched press-release page (for feeds with `full_text = true`).

kremlin.ru pages are read with the selectors several independent scrapers agree on
(lead `div.read__lead`, body paragraphs of `div.entry-content.e-content`, minus
`.read__bottommeta`); they are tried on every page, so a mirror or a test server
serving the same markup works too. Other pages fall back to the largest `<article>`,
then `<main>`, then the densest block of `<p>` elements.
"""

from __future__ import annotations

import codecs
import re

from bs4 import BeautifulSoup, Tag

from monitor.errors import ParseError
from monitor.models import ErrorKind
from monitor.parse.html import element_text, parse_html

ARTICLE_CAP = 1_000_000
MIN_TEXT = 20  # shorter than this is a caption or a cookie banner, not an article
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})
_BOILERPLATE = ("nav", "header", "footer", "aside", "form", "script", "style", "noscript")
# The HTML standard decodes these labels as windows-1252, which is what servers mean.
_AS_WINDOWS_1252 = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_PRESCAN_BYTES = 65_536  # further than the standard's 1024: real pages put it later
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def extract_article(html: bytes, *, url: str, content_type: str | None) -> str:
    """The article's plain text, or ParseError (NOT_A_FEED: not a page; PARSE: no text)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime not in _HTML_TYPES:
        raise ParseError(ErrorKind.NOT_A_FEED, f"article page is {mime[:60]}, not HTML")
    soup = parse_html(decode_html(html, content_type))
    text = _kremlin_article(soup) or _generic_article(soup)
    if len(text) < MIN_TEXT:
        raise ParseError(
            ErrorKind.PARSE,
            "no article text found on the page",
            "the feed's own text is kept; the page layout may have changed",
        )
    return text[:ARTICLE_CAP]


def decode_html(html: bytes, content_type: str | None) -> str:
    """Decode by BOM, else Content-Type charset, else `<meta charset>`, else UTF-8."""
    for bom, bom_encoding in _BOMS:
        if html.startswith(bom):
            return html[len(bom) :].decode(bom_encoding, "replace")
    label = _charset_param(content_type or "")
    encoding: str | None = _known_codec(label) if label else None
    if encoding is None:
        meta = _META_CHARSET.search(html[:_PRESCAN_BYTES])
        encoding = _known_codec(meta.group(1).decode("ascii", "replace")) if meta else None
        if encoding and encoding.startswith("utf-16"):
            encoding = "utf-8"  # a meta tag that could be read was not written in UTF-16
    return html.decode(encoding or "utf-8", "replace")


def _charset_param(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def _known_codec(label: str) -> str | None:
    label = label.strip().lower()
    if label in _AS_WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _kremlin_article(soup: BeautifulSoup) -> str:
    body = soup.select_one("div.entry-content.e-content")
    if body is None:
        return ""
    for junk in soup.select(".read__bottommeta"):
        junk.decompose()
    parts = []
    lead = soup.select_one("div.read__lead")
    if lead is not None and not _is_inside(lead, body):
        parts.append(element_text(lead))
    parts.append(_paragraph_text(body) or element_text(body))
    return "\n\n".join(part for part in parts if part)


def _generic_article(soup: BeautifulSoup) -> str:
    for name in _BOILERPLATE:
        for tag in soup.find_all(name):
            tag.decompose()
    articles = sorted(_outermost(soup, {"article"}), key=lambda t: -len(element_text(t)))
    for root in [*articles, *_outermost(soup, {"main"})]:
        text = _paragraph_text(root) or element_text(root)
        if len(text) >= MIN_TEXT:
            return text
    return _densest_paragraphs(soup)


def _densest_paragraphs(soup: BeautifulSoup) -> str:
    """The paragraphs of the element whose own `<p>` children hold the most text."""
    groups: dict[int, list[str]] = {}
    for paragraph in _outermost(soup, {"p"}):
        text = element_text(paragraph)
        if text:
            groups.setdefault(id(paragraph.parent), []).append(text)
    if not groups:
        return ""
    best = max(groups.values(), key=lambda texts: sum(map(len, texts)))
    return "\n\n".join(best)


def _paragraph_text(root: Tag) -> str:
    return "\n\n".join(t for t in (element_text(p) for p in _outermost(root, {"p"})) if t)


def _outermost(root: Tag, names: set[str]) -> list[Tag]:
    """Elements named `names` under `root` that are not inside another one, in order."""
    found: list[Tag] = []
    stack = [iter(root.contents)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
        elif isinstance(node, Tag):
            if node.name in names:
                found.append(node)
            else:
                stack.append(iter(node.contents))
    return found


def _is_inside(node: Tag, ancestor: Tag) -> bool:
    return any(parent is ancestor for parent in node.parents)
