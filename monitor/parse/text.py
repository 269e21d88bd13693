"""Feed text made safe to show: control characters out, one line, safe links (pure).

Shared by the parser, the extractor, the CLI and the alert renderers; it needs no HTML
parser, so showing a line never loads one. Everything here treats its input as hostile.

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
