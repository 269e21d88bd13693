"""Find where terms may occur: per term, the key starts that verification then checks.

The reference definition of a candidate is every occurrence of a term's key (its rarest
word, see terms.py) that starts a word (`Scanner.plain_candidates`). Only verified
candidates matter to the matcher, and only their order, so any sorted subset that keeps
every candidate that verifies gives the same results. The fast route finds such a subset
with far fewer candidates: a phrase's key takes in its literal neighbours ("us
president", not "president"), joined by " ", "\\n" or "\\n\\n", so a frequent key word
no longer makes a candidate at every occurrence. Around any other gap between words
("  ", a tab, "\\n\\n\\n"), rare in press texts, the phrase candidates of the reference
definition are added.

The automata are deterministic (ahocorasick_rs, compiled Rust): one pass over the text
returns every match at once, so Python only sees the few thousand matches, never the
characters. A match inside a word (the character before it is a letter or digit) is
dropped. A text that fits a one-byte encoding (Latin-1 covers folded English press
text, cp1251 folded Russian) is scanned as those bytes by an automaton of its own, so
offsets need no conversion from UTF-8; the bytes are kept for counting words (see
document.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import ahocorasick_rs

from monitor.signals.normalize import Encoded, key_variants
from monitor.signals.terms import Term

SEPARATORS = (" ", "\n", "\n\n")
# Every other gap between words: two-character runs of the separators that are not a
# separator themselves, and any other whitespace character.
IRREGULAR_GAPS = (
    "  ",
    " \n",
    "\n ",
    "\n\n\n",
    *(  # no whitespace lies beyond U+3000
        chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in " \n"
    ),
)
ONE_BYTE_ENCODINGS = ("latin-1", "cp1251")  # folded English and Russian press text
MAX_RUN_GAPS = 2  # a run of at most three words keeps the number of keys small
_SURROGATE = re.compile("[\ud800-\udfff]")

Candidates = dict[int, list[int]]  # term -> key starts, ascending


def _automaton(patterns: Iterable[str]) -> ahocorasick_rs.AhoCorasick:
    """An automaton over `patterns` that reads str.

    Only the texts that neither one-byte encoding holds, and the rare phrases across an
    irregular gap, are read as str, so these automata are contiguous NFAs: a DFA would be
    a little faster on them and take about seven times the memory (the deterministic
    one-byte routes below carry the common case).
    """
    return ahocorasick_rs.AhoCorasick(
        list(patterns), implementation=ahocorasick_rs.Implementation.ContiguousNFA
    )


def _matches(automaton: ahocorasick_rs.AhoCorasick, text: str) -> list[tuple[int, int, int]]:
    """(pattern, start, end) of every match, overlapping ones included."""
    try:
        return automaton.find_matches_as_indexes(text, overlapping=True)
    except UnicodeEncodeError:  # lone surrogates: no key holds one, so scan a stand-in
        return automaton.find_matches_as_indexes(_SURROGATE.sub("\ufffd", text), overlapping=True)


@dataclass(frozen=True, slots=True)
class _Automaton:
    """A route's automaton and what its pattern numbers stand for."""

    automaton: ahocorasick_rs.AhoCorasick | ahocorasick_rs.BytesAhoCorasick
    runs: tuple[tuple[tuple[int, int], ...], ...]  # run spelling -> (term, key offset) pairs
    # per run spelling: whether it ends a word in every term it serves (its last word is
    # no stem), so a match followed by a letter or digit cannot verify ("russia" in
    # "russian") and is dropped at once
    ends_word: tuple[bool, ...]


@dataclass(frozen=True, eq=False)
class Route:
    """One automaton over the run spellings (then the irregular gaps) that a text can
    hold in one encoding. A one-byte encoding puts characters and bytes at the same
    offsets, so the automaton reads bytes and nothing converts offsets; a spelling the
    encoding cannot hold cannot occur in a text that it can. The automaton is built
    when the route first reads a text: English feeds never need the Russian one."""

    spellings: dict[str, list[tuple[int, int]]]  # run spelling -> (term, key offset) pairs
    encoding: str | None  # None: the automaton reads str
    ends_word_spellings: frozenset[str] = frozenset()
    deterministic: bool = True  # a one-byte route as a DFA (fast, larger) or an NFA

    @cached_property
    def built(self) -> _Automaton:
        """The automaton over the spellings that the encoding can hold."""
        encoding = self.encoding

        def holds(pattern: str) -> bool:
            if encoding is None:
                return True
            try:
                pattern.encode(encoding)
            except UnicodeEncodeError:
                return False
            return True

        runs = [(spelling, tuple(pairs)) for spelling, pairs in self.spellings.items()]
        runs = [(spelling, pairs) for spelling, pairs in runs if holds(spelling)]
        patterns = [spelling for spelling, _ in runs] + [g for g in IRREGULAR_GAPS if holds(g)]
        automaton: ahocorasick_rs.AhoCorasick | ahocorasick_rs.BytesAhoCorasick
        if encoding is None:
            automaton = _automaton(patterns)
        else:
            automaton = ahocorasick_rs.BytesAhoCorasick(
                [p.encode(encoding) for p in patterns],
                implementation=ahocorasick_rs.Implementation.DFA
                if self.deterministic
                else ahocorasick_rs.Implementation.ContiguousNFA,
            )
        return _Automaton(
            automaton,
            tuple(pairs for _, pairs in runs),
            tuple(spelling in self.ends_word_spellings for spelling, _ in runs),
        )

    def matches(self, text: str, encoded: Encoded | None) -> list[tuple[int, int, int]]:
        """(run or gap, start, end) of every match in `text`, read as `encoded` if the
        route reads bytes."""
        automaton = self.built.automaton
        if isinstance(automaton, ahocorasick_rs.AhoCorasick):
            return _matches(automaton, text)
        if encoded is None:
            raise ValueError(f"the {self.encoding} route reads the text's bytes")
        return automaton.find_matches_as_indexes(encoded.data, overlapping=True)


@dataclass(frozen=True, eq=False)
class Scanner:
    """Automata and tables compiled once per rule set."""

    by_str: Route  # reads any text
    by_bytes: tuple[Route, ...]  # one-byte encodings, in the order tried
    plain: ahocorasick_rs.AhoCorasick  # key spellings: the reference definition
    keys: tuple[tuple[int, ...], ...]  # key spelling -> terms
    phrases: frozenset[int]  # terms of several words
    gap_before: int  # a phrase candidate lies at most this far after a gap inside it
    gap_after: int  # ... and at most this far before it (key length included)

    def route(self, text: str) -> tuple[Route, Encoded | None]:
        """The cheapest automaton for `text`, and the bytes it reads (None: the str).
        Folded English press text is mostly ASCII (Latin-1 with accented names),
        folded Russian press text cp1251."""
        for route in self.by_bytes:
            encoding = str(route.encoding)
            try:
                return route, Encoded(encoding, text.encode(encoding))
            except UnicodeEncodeError:
                continue
        return self.by_str, None

    def candidates(self, text: str) -> Candidates:
        """Key starts per term in folded `text`."""
        return self.scan(text)[0]

    def scan(self, text: str, encoded: Encoded | None = None) -> tuple[Candidates, Encoded | None]:
        """`candidates`, and the text in the one-byte encoding its route read, if any.
        `encoded`: the text in a one-byte encoding, if the caller has it already."""
        route = next((r for r in self.by_bytes if encoded and r.encoding == encoded.encoding), None)
        if route is None:
            route, encoded = self.route(text)
        runs, ends_word = route.built.runs, route.built.ends_word
        n_runs, length = len(runs), len(text)
        by_run: dict[int, list[int]] = {}
        gaps: list[int] = []
        for pattern, start, end in route.matches(text, encoded):
            if pattern >= n_runs:
                gaps.append(start)
            elif not (
                (start and text[start - 1].isalnum())
                or (ends_word[pattern] and end < length and text[end].isalnum())
            ):
                starts = by_run.get(pattern)
                if starts is None:
                    by_run[pattern] = [start]
                else:
                    starts.append(start)
        parts: dict[int, list[list[int]]] = {}
        for pattern, starts in by_run.items():
            for term, offset in runs[pattern]:
                parts.setdefault(term, []).append(
                    starts if not offset else [start + offset for start in starts]
                )
        around_gaps = self._gap_phrases(text, gaps) if gaps else {}
        for term, starts in around_gaps.items():  # unsorted, and may repeat a key start
            parts.setdefault(term, []).append(starts)
        found = {
            term: lists[0]
            if len(lists) == 1 and term not in around_gaps
            else sorted(set(itertools.chain(*lists)))
            for term, lists in parts.items()
        }
        return found, encoded

    def plain_candidates(self, text: str, lo: int = 0, hi: int | None = None) -> Candidates:
        """Every occurrence of a term's key at a word start in text[lo:hi]."""
        found: Candidates = {}
        window = text if lo == 0 and hi is None else text[lo:hi]
        keys = self.keys
        for pattern, start, _ in _matches(self.plain, window):
            start += lo
            if start and text[start - 1].isalnum():
                continue
            for i in keys[pattern]:
                found.setdefault(i, []).append(start)
        return found

    def _gap_phrases(self, text: str, gaps: list[int]) -> Candidates:
        """The reference candidates of phrases around the gaps, one window per run of
        gaps whose windows overlap."""
        windows: list[list[int]] = []
        for gap in sorted(gaps):
            lo, hi = max(0, gap - self.gap_before), gap + self.gap_after
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = hi
            else:
                windows.append([lo, hi])
        found: Candidates = {}
        for lo, hi in windows:
            for term, starts in self.plain_candidates(text, lo, hi).items():
                if term in self.phrases:
                    found.setdefault(term, []).extend(starts)
        return found


def build_scanner(
    terms: Sequence[Term],
    used: Iterable[int],
    encodings: Sequence[str] = ONE_BYTE_ENCODINGS,
    *,
    deterministic: bool = True,
) -> Scanner:
    """The automata that find the candidates of the `used` terms, with a route per
    one-byte encoding (`deterministic`: those routes as DFAs, fast and large, for the
    scanner every document goes through)."""
    keyed = [i for i in sorted(used) if terms[i].key]
    spellings: dict[str, list[tuple[int, int]]] = {}
    for i in keyed:
        for spelling, at in _run_spellings(terms[i]):
            spellings.setdefault(spelling, []).append((i, at))
    keys: dict[str, list[int]] = {}
    for i in keyed:
        for variant in key_variants(terms[i].key):
            keys.setdefault(variant, []).append(i)
    phrases = frozenset(i for i in keyed if len(terms[i].words) > 1)
    longest_key = max((len(terms[i].key) for i in keyed), default=0)
    ends_word = frozenset(
        spelling
        for spelling, pairs in spellings.items()
        if not any(terms[i].stems[_run(terms[i])[1]] for i, _ in pairs)
    )
    return Scanner(
        by_str=Route(spellings, None, ends_word),
        by_bytes=tuple(Route(spellings, e, ends_word, deterministic) for e in encodings),
        plain=_automaton(keys or {IRREGULAR_GAPS[0]: []}),
        keys=tuple(tuple(indices) for indices in keys.values()),
        phrases=phrases,
        gap_before=max((terms[i].reach for i in phrases), default=0) + 1,
        gap_after=max((terms[i].key_offset for i in phrases), default=0) + longest_key + 1,
    )


def _run_spellings(term: Term) -> list[tuple[str, int]]:
    """Every spelling of the term's run, with the offset of its key word in it."""
    first, last = _run(term)
    words = [key_variants(w) for w in term.words[first : last + 1]]
    spellings: list[tuple[str, int]] = []
    for seps in itertools.product(SEPARATORS, repeat=last - first):
        for spelled in itertools.product(*words):
            text = spelled[0]
            at = 0
            for j, (sep, word) in enumerate(zip(seps, spelled[1:], strict=True)):
                text += sep
                if first + j + 1 == term.key_word:
                    at = len(text)
                text += word
            spellings.append((text, at))
    return spellings


def _run(term: Term) -> tuple[int, int]:
    """First and last word of the run around the key: literal words, then a stem at most.

    A word before the run's end must be literal (a stem's ending has a variable length).
    A term whose key could also start elsewhere in the phrase keeps the key alone.
    """
    key, stems = term.key_word, term.stems
    if len(term.words) == 1 or not _key_only_at_key_word(term):
        return key, key
    first = last = key
    while first > 0 and not stems[first - 1] and last - first < MAX_RUN_GAPS:
        first -= 1
    while last + 1 < len(stems) and not stems[last] and last - first < MAX_RUN_GAPS:
        last += 1
    return first, last


def _key_only_at_key_word(term: Term) -> bool:
    key = term.key
    for j, word in enumerate(term.words):
        if j == term.key_word:
            continue
        for i in range(len(word)):
            if (i == 0 or not word[i - 1].isalnum()) and (
                key.startswith(word[i:]) or word.startswith(key, i)
            ):
                return False
    return True
