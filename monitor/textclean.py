"""Feed text made safe and readable: HTML to plain text, control characters out.

Pure functions shared by the parser, the extractor, the CLI and the alert renderers.
Everything here treats its input as hostile: any depth of nesting, any size, any
character. The tree walks are iterative, so a 100,000-deep document cannot raise
RecursionError.

Characters removed by `strip_controls`:
- C0 controls and DEL (tab and newline kept when asked), C1 controls;
- ANSI/VT escape sequences (CSI, OSC, DCS and single-character escapes), whole;
- bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the
  invisible direction marks LRM, RLM and ALM (U+200E, U+200F, U+061C): none of them
  is needed to read English or Russian press text, and each can reorder what a
  person sees in a terminal, a subject line or a list row.
Line breaks of every kind (CR, CRLF, VT, FF, NEL, U+2028, U+2029) become "\\n" when
newlines are kept and a space otherwise, so words never run together.
"""

from __future__ import annotations

import re
import urllib.parse
import warnings
from collections.abc import Iterator

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.element import NavigableString, Tag

try:  # bs4 >= 4.11
    from bs4 import XMLParsedAsHTMLWarning
except ImportError:  # pragma: no cover - older bs4
    XMLParsedAsHTMLWarning = UserWarning  # type: ignore[assignment,misc]

# Feed text that happens to look like a URL or a file name is still text.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

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

_ANSI = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?              # CSI ... final byte
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])        # OSC, DCS, SOS, PM, APC ...
      [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?         # ... up to BEL or ST
  | \x1b[ -/]*[0-~]?                               # other escapes (ESC ( B, ESC c ...)
    """,
    re.VERBOSE,
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_CONTROLS_NO_TAB = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "]")
_SPACES = re.compile(r"\s+")
_NEEDS_STRIP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029" + _BIDI + "]")
_NEEDS_STRIP_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + _BIDI + "]")
_BREAK_RUN = re.compile("[\x00\x01][\x00\x01 ]*")
# Everything strip_controls removes or rewrites except tab, CR and LF.
_NEEDS_REGEXES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029" + _BIDI + "]")


def strip_controls(s: str, keep_newlines: bool = True) -> str:
    """Remove control characters, escape sequences and bidi controls from `s`.

    With `keep_newlines`, tabs and line breaks survive (line breaks as "\\n");
    without it they become spaces.
    """
    if not (_NEEDS_STRIP if keep_newlines else _NEEDS_STRIP_ONE_LINE).search(s):
        return s
    if not _NEEDS_REGEXES.search(s):
        # Only tabs and CR/LF line breaks (most feed text): plain replacements give what
        # the three regex passes below would, several times faster.
        s = s.replace("\r\n", "\n").replace("\r", "\n")
        return s if keep_newlines else s.replace("\n", " ").replace("\t", " ")
    s = _ANSI.sub("", s)
    if keep_newlines:
        return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", s))
    s = _LINE_BREAKS.sub(" ", s).replace("\t", " ")
    return _CONTROLS_NO_TAB.sub("", s)


def one_line(s: str, limit: int) -> str:
    """One line of at most `limit` characters, for subjects and list rows."""
    text = _SPACES.sub(" ", strip_controls(s, keep_newlines=False)).strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    return text[: limit - 1].rstrip() + "…"


def safe_link(url: str | None) -> str | None:
    """`url` if it is a plain absolute http(s) link, else None.

    Refused: other schemes, whitespace or control characters inside, backslashes
    (parsers disagree on them), user:password@ prefixes (a spoofing trick), no host.
    """
    if not url:
        return None
    url = url.strip(" \t\r\n")
    if len(url) > 4096 or not url.isprintable() or _SPACES.search(url) or "\\" in url:
        return None
    if any(ch in _BIDI for ch in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return url


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
    soup = BeautifulSoup(html, "html.parser")
    return element_text(soup)


def element_text(node: Tag) -> str:
    """Plain text of a parsed element, by the same rules as `html_to_text`."""
    return _assemble(list(_text_parts(node)))


def _text_parts(root: Tag) -> Iterator[str]:
    """Text pieces and break sentinels of `root`, in document order, without recursion."""
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
