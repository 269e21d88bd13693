"""Fold text for matching, keeping a map from folded offsets back to the original.

The reference folding of a piece of text is: HTML entities decoded, NFKC, casefold,
NFKC again, zero-width and other format characters removed, then the "variant"
characters (dashes, quotes, non-breaking spaces, ё) replaced by one canonical
character each. Applying that character by character in Python would run at a few
MB/s, so `fold` takes a fast route: it replaces ё, the common dashes, quotes and
non-breaking spaces and the ellipsis one for one (`str.replace`, in C), then
lower-cases the text (`str.lower`, one character in, one out, so offsets do not move),
and applies the reference folding only to the rare "irregular" units (entities,
characters with combining marks, compatibility characters, zero-width characters, rare
dashes and spaces, astral characters). A text with none of them (only ASCII, Cyrillic,
common Latin letters and punctuation, and "&" outside entities) is folded whole by the
fast route. Replacing first leaves most English press text ASCII, which lowers, scans
and matches several times faster than text that holds one curly quote. The ellipsis
becomes "." rather than "..." to keep offsets: both end a sentence, neither is part of
a word, and no term holds one. Other quote variants are left in place; the verifier
accepts every quote variant.
"""

from __future__ import annotations

import bisect
import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NamedTuple

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
APOSTROPHES = "'\u2018\u2019\u201a\u201b\u02bc\u2032"
DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033'
SPACES = " \u00a0\u2007\u2009\u200a\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000"
YO = "ё"

# canonical character -> every character folded to it (canonical first)
VARIANTS: Final = MappingProxyType(
    {
        "-": DASHES,
        "'": APOSTROPHES,
        '"': DOUBLE_QUOTES,
        " ": SPACES,
        "е": "е" + YO,
    }
)
_CANONICAL: Final = MappingProxyType({v: canon for canon, group in VARIANTS.items() for v in group})
_FORMAT_CHARS = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]"
)
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
_ENTITY_RE = re.compile(_ENTITY)
_COMBINING = r"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


def fold_unit(unit: str) -> str:
    """The reference folding of a short piece of text (used for terms and rare units)."""
    text = _ENTITY_RE.sub(lambda m: html.unescape(m.group()), unit) if "&" in unit else unit
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.casefold())
    text = _FORMAT_CHARS.sub("", text)
    return "".join(_CANONICAL.get(char, char) for char in text)


# What the fast route replaces, one character for one (before lower-casing, see _fast_fold).
_FAST_REPLACEMENTS = (
    ("ё", "е"),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u2010", "-"),
    ("\u2011", "-"),
    ("\u00a0", " "),
    ("\u202f", " "),
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u00ab", '"'),
    ("\u00bb", '"'),
    ("\u2026", "."),
)
_FAST_MAP: Final = MappingProxyType(dict(_FAST_REPLACEMENTS))
_BEFORE_LOWER = (*_FAST_REPLACEMENTS, ("Ё", "Е"))


def _fast_char(char: str) -> str:
    lowered = char.lower()
    return _FAST_MAP.get(lowered, lowered)


def _regular(char: str) -> bool:
    """True when the fast route folds `char` as the reference folding does."""
    fast = _fast_char(char)
    if len(fast) != 1 or char == "&" or unicodedata.category(char) == "Cf":
        return False
    folded = fold_unit(char)
    if folded == _CANONICAL.get(fast, fast):
        return fast in APOSTROPHES + DOUBLE_QUOTES or fast == folded
    # Compatibility punctuation and symbols ("…" -> "...") fold to no letter, digit,
    # dash, space or quote, so leaving them unfolded cannot change whether a term matches.
    return not any(c.isalnum() or c in _CANONICAL for c in folded)


# Characters that are all regular (checked by a test); a text made only of them (and
# "&" outside entities) takes the fast route without the slower full scan. The Latin
# letters are those that lower-case to what the reference folding gives (é, ğ, ł; not ß).
_COMMON_RANGES = (
    "\\x00-\\x7f\\u0400-\\u045f\\u2010\\u2011\\u2013\\u2014\\u2016"
    "\\u2018-\\u2027\\xa0\\xab\\xbb\\u202f"
    + "".join(
        c
        for c in map(chr, range(0xC0, 0x250))
        if c.isalpha() and _regular(c) and fold_unit(c) == _fast_char(c)
    )
)
_UNCOMMON = re.compile(f"[^{_COMMON_RANGES}]")
ASCII_LOWERING_UNCOMMON = "\u212a"  # the only uncommon character `_fast_fold` makes ASCII


class Encoded(NamedTuple):
    """A folded text in a one-byte encoding: byte offsets are character offsets."""

    encoding: str
    data: bytes


# One-byte encodings a fast-route folding is tried in, with what shows that the original
# held an uncommon character after all: the characters its folding leaves that the
# encoding holds, and the uncommon characters that fold to common ones (Kelvin sign to
# "k", Angstrom sign to "å"). Checked against every code point by a test.
ONE_BYTE_SUSPECTS = (
    (
        "latin-1",
        "".join(map(chr, range(0x80, 0xA0))) + "¡¢£¤¥¦§¨©ª¬\xad®¯°±²³´µ¶·¸¹º¼½¾¿×ß÷",
        "\u212a\u212b",
    ),
    ("cp1251", "¤¦§©¬\xad®°±µ¶·ґ‰‹›€№™", "\u212a"),
)
_ONE_BYTE = tuple(
    (encoding, bytes(b for b in range(256) if bytes([b]) not in chars.encode(encoding)), marks)
    for encoding, chars, marks in ONE_BYTE_SUSPECTS
)
# Where an irregular unit can start: outside the common set, or an "&".
_UNIT_START = re.compile("[^" + _COMMON_RANGES.replace("-\\x7f", "-\\x25\\x27-\\x7f", 1) + "]")


@functools.cache
def _irregular_pattern() -> re.Pattern[str]:
    """One regex finding every unit the fast route must not handle (built once, ~0.1 s)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x80, 0x10000):
        if 0xD800 <= code <= 0xDFFF or _regular(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    parts = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    combining = _COMBINING[1:-1]
    return re.compile(f"{_ENTITY}|[&{parts}{combining}\\U00010000-\\U0010ffff]{_COMBINING}*")


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text plus the piecewise map from its offsets back to the original."""

    text: str
    original_length: int
    # Piece i starts at folded offset fold_starts[i] and original offset orig_starts[i];
    # exact pieces map offset by offset, folded units map as a whole.
    fold_starts: tuple[int, ...] = (0,)
    orig_starts: tuple[int, ...] = (0,)
    exact: tuple[bool, ...] = (True,)
    encoded: Encoded | None = None  # the folded text in a one-byte encoding, if known

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering folded [start, end)."""
        return self._map(start, False), self._map(end, True)

    def from_original(self, pos: int) -> int:
        """The folded offset where original offset `pos` (a piece boundary or exact) lands."""
        if len(self.fold_starts) == 1:
            return min(pos, len(self.text))
        i = max(bisect.bisect_right(self.orig_starts, pos) - 1, 0)
        if self.exact[i]:
            return self.fold_starts[i] + pos - self.orig_starts[i]
        return self.fold_starts[i]

    def _map(self, pos: int, is_end: bool) -> int:
        if len(self.fold_starts) == 1:
            return min(pos, self.original_length)
        probe = pos - 1 if is_end and pos > 0 else pos
        i = max(bisect.bisect_right(self.fold_starts, probe) - 1, 0)
        if self.exact[i]:
            return min(self.orig_starts[i] + pos - self.fold_starts[i], self.original_length)
        if is_end:
            nxt = self.orig_starts[i + 1] if i + 1 < len(self.orig_starts) else None
            return self.original_length if nxt is None else nxt
        return self.orig_starts[i]


def fold(text: str) -> Folded:
    """Fold `text` for matching; see the module docstring for what folding means."""
    folded = _fast_fold(text)
    if "&" in text and _ENTITY_RE.search(text) is not None:
        return _full_fold(text)  # a bare "&" folds to itself; an entity does not
    encoded, trusted = _one_byte(folded, text)
    if trusted or _UNCOMMON.search(text) is None:
        return Folded(folded, len(text), encoded=encoded)
    return _full_fold(text)


def _one_byte(folded: str, text: str) -> tuple[Encoded | None, bool]:
    """`folded` (the fast folding of `text`) in the first one-byte encoding it fits, and
    whether that shows the fast route is right: nothing in it or in `text` betrays an
    uncommon character, so no search for one is needed (an encoding pass instead of a
    regex pass). Only the Kelvin sign lower-cases to ASCII from outside the common set."""
    if folded.isascii():
        return (Encoded("latin-1", folded.encode("ascii")), ASCII_LOWERING_UNCOMMON not in text)
    for encoding, ordinary, marks in _ONE_BYTE:
        try:
            data = folded.encode(encoding)
        except UnicodeEncodeError:
            continue
        suspect = bool(data.translate(None, ordinary)) or any(mark in text for mark in marks)
        return Encoded(encoding, data), not suspect
    return None, False


def _full_fold(text: str) -> Folded:
    pieces: list[str] = []
    fold_starts: list[int] = []
    orig_starts: list[int] = []
    exact: list[bool] = []
    out = 0
    last = 0

    def add(piece: str, orig: int, is_exact: bool) -> None:
        nonlocal out
        pieces.append(piece)
        fold_starts.append(out)
        orig_starts.append(orig)
        exact.append(is_exact)
        out += len(piece)

    for found in _irregular_units(text):
        start = found.start()
        if unicodedata.combining(text[start]) and start > 0:
            # A combining mark folds together with the character it sits on.
            if start == last and exact and not exact[-1]:
                start = orig_starts[-1]
                out -= len(pieces.pop())
                fold_starts.pop(), orig_starts.pop(), exact.pop()
            elif start > last:
                start -= 1
        if start > last:
            add(_fast_fold(text[last:start]), last, True)
        add(fold_unit(text[start : found.end()]), start, False)
        last = found.end()
    if last < len(text):
        add(_fast_fold(text[last:]), last, True)
    return Folded("".join(pieces), len(text), tuple(fold_starts), tuple(orig_starts), tuple(exact))


def _irregular_units(text: str) -> Iterator[re.Match[str]]:
    """What `_irregular_pattern().finditer(text)` finds, trying only where a unit can
    start (an uncommon character or "&"), which is much faster on long texts."""
    irregular = _irregular_pattern()
    at = 0
    while (candidate := _UNIT_START.search(text, at)) is not None:
        unit = irregular.match(text, candidate.start())
        if unit is None:
            at = candidate.start() + 1
        else:
            yield unit
            at = unit.end()


def _fast_fold(text: str) -> str:
    # The replaced characters have no case (Ё becomes Е, which lowers to е), so replacing
    # them first gives the same text, and an English text left ASCII lowers much faster.
    for old, new in _BEFORE_LOWER:
        if old in text:
            text = text.replace(old, new)
    return text.lower()


def variant_class(char: str) -> str:
    """Regex for one canonical folded character, accepting its variants."""
    group = VARIANTS.get(char)
    if group is None:
        return re.escape(char)
    return "[" + "".join(re.escape(c) for c in group) + "]"


def key_variants(key: str) -> list[str]:
    """Every spelling of a folded literal that the fast route may leave in the text."""
    options = [VARIANTS[char] if char in "'\"" else char for char in key]
    return ["".join(combo) for combo in itertools.product(*options)]
