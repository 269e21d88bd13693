"""HTML to readable plain text (beautifulsoup4): paragraphs, line breaks, no scripts.

The tree walks are iterative, so a 100,000-deep document cannot raise RecursionError.
The text that comes out is cleaned by `monitor.parse.text.strip_controls`.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from monitor.parse.text import strip_controls

if TYPE_CHECKING:
    from bs4 import BeautifulSoup
    from bs4.element import Tag


DROPPED_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "iframe", "object",
        "embed", "applet", "svg", "math", "canvas", "audio", "video", "select", "button",
    }
)  # fmt: skip
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip

_PARA = "\x00"  # sentinels: control characters never survive in text parts
_LINE = "\x01"
_BREAK_RUN = re.compile("[\x00\x01][\x00\x01 ]*")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment or page.

    Scripts, styles and templates are dropped; block elements become paragraphs
    separated by a blank line, `<br>` a line break; entities are decoded, runs of
    spaces collapsed, control characters removed.
    """
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        # Plain text: no markup, so no breaks; what _assemble would do comes to this.
        return " ".join(strip_controls(html, keep_newlines=False).split())
    return element_text(parse_html(html))


def parse_html(html: str) -> BeautifulSoup:
    """`html` parsed by beautifulsoup4's own parser (every HTML text goes through here)."""
    return _beautifulsoup()(html, "html.parser")


@functools.cache
def _beautifulsoup() -> type[BeautifulSoup]:
    """beautifulsoup4, imported when the first markup is met (a feed of plain text never
    needs it; it takes 0.05 s to import), with its warnings about feed text that
    happens to look like a URL, a file name or XML silenced: it is still text."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
    return BeautifulSoup


def element_text(node: Tag) -> str:
    """Plain text of a parsed element, by the same rules as `html_to_text`."""
    return _assemble(list(_text_parts(node)))


def _text_parts(root: Tag) -> Iterator[str]:
    """Text pieces and break sentinels of `root`, in document order, without recursion."""
    from bs4.element import NavigableString, Tag

    stack: list[tuple[Iterator[object], str]] = [(iter(root.contents), "")]
    while stack:
        node = next(stack[-1][0], None)
        if node is None:
            yield stack.pop()[1]
            continue
        if isinstance(node, Tag):
            name = node.name.lower()
            if name in DROPPED_TAGS:
                continue
            if name == "br":
                yield _LINE
                continue
            brk = _PARA if name in BLOCK_TAGS else ""
            yield brk
            stack.append((iter(node.contents), brk))
        elif type(node) is NavigableString:  # not comments, CDATA (a comment to browsers), PIs
            yield _clean_part(str(node))


def _clean_part(text: str) -> str:
    """`text` with controls removed and each run of whitespace made one space."""
    text = strip_controls(text, keep_newlines=False)
    core = " ".join(text.split())  # str.split is far faster than a regex on huge text
    if not core:
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    return lead + core + (" " if text[-1].isspace() else "")


def _assemble(parts: list[str]) -> str:
    text = "".join(parts)
    while "  " in text:
        text = text.replace("  ", " ")
    text = _BREAK_RUN.sub(_render_breaks, text).replace(" \n", "\n")
    return text.strip()


def _render_breaks(match: re.Match[str]) -> str:
    run = match.group(0)
    if _PARA in run:
        return "\n\n"
    return "\n" * min(run.count(_LINE), 2)
