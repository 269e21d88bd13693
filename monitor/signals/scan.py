"""Find where terms may occur: per term, the key starts that verification then checks.

The reference definition of a candidate is every occurrence of a term's key (its rarest
word, see terms.py) that starts a word (`Scanner.plain_candidates`). Only verified
candidates matter to the matcher, and only their order, so any sorted subset that keeps
every candidate that verifies gives the same results. The fast route finds such a subset
with a faster automaton pass and far fewer candidates:

- keys begin with a delimiter: a space, a line break or one of the marks that most
  often precede a word (" putin", "«путин"), so the automaton's root has few children
  and hits inside words are never produced. Words after any other character that is not
  a letter or digit are found by probing the few places marked in the same pass that
  decides how to fold the text (normalize.fold_marking): such a character before a
  letter pair that can start a key. The text's first word takes one more probe;
- a phrase's key takes in its literal neighbours ("us president", not "president"),
  joined by " ", "\\n" or "\\n\\n", so a frequent key word no longer makes a candidate
  at every occurrence. Around any other gap between words ("  ", a tab, "\\n\\n\\n"),
  rare in press texts, the phrase candidates of the reference definition are added.

Text folded by the full route may hold any character; it is marked here instead, every
character outside the common set that is not a letter or digit counting as rare.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from monitor.signals.normalize import common_chars, fast_char, key_variants
from monitor.signals.terms import Term

DELIMITERS = " \n-.’“«(["  # the automaton keys begin with one of these
SEPARATORS = (" ", "\n", "\n\n")
IRREGULAR_GAPS = ("  ", " \n", "\n ", "\n\n\n")
MAX_RUN_GAPS = 2  # a run of at most three words keeps the number of keys small
_GAP = -1  # automaton value of an irregular gap

Candidates = dict[int, list[int]]  # term -> key starts, ascending


@dataclass(frozen=True, eq=False)
class Scanner:
    """Automata and tables compiled once per rule set."""

    automaton: Any  # delimiter + run spelling -> group; irregular gaps -> _GAP
    plain: Any  # key spelling -> (length, term indices): the reference definition
    groups: tuple[tuple[tuple[int, int], ...], ...]  # group -> (term, back) pairs
    lengths: tuple[int, ...]  # group -> length of its keys, delimiter included
    phrases: frozenset[int]  # terms of several words
    probe_length: int  # longest key without its delimiter
    marks: re.Pattern[str]  # for fold_marking: rare delimiters before a possible key
    beginnings: frozenset[str]  # first three characters of every key (two if that short)
    gap_before: int  # a phrase candidate lies at most this far after a gap inside it
    gap_after: int  # ... and at most this far before it (key length included)

    def candidates(self, text: str, marks: list[int] | None) -> Candidates:
        """Key starts per term in folded `text`. `marks`: where `self.marks` matched the
        original text if it took the fast route of folding (else they are found here)."""
        if marks is None:
            marks = self._folded_marks(text)
        extra: dict[int, list[int]] = {}

        def add(term: int, start: int) -> None:
            extra.setdefault(term, []).append(start)

        gaps = self._probe_marks(text, marks, add)
        by_group: defaultdict[int, list[int]] = defaultdict(list)
        for end, group in self.automaton.iter(text):
            by_group[group].append(end)
        gaps.extend(by_group.pop(_GAP, ()))
        for gap in gaps:
            self._gap_phrases(text, gap, add)
        return self._collect(by_group, extra)

    def plain_candidates(self, text: str, lo: int = 0, hi: int | None = None) -> Candidates:
        """Every occurrence of a term's key at a word start in text[lo:hi]."""
        found: Candidates = {}
        window = text if lo == 0 and hi is None else text[lo:hi]
        for last, (length, indices) in self.plain.iter(window):
            start = lo + last - length + 1
            if start and text[start - 1].isalnum():
                continue
            for i in indices:
                found.setdefault(i, []).append(start)
        return found

    def _folded_marks(self, text: str) -> list[int]:
        """The marks of a text folded by the full route, which may hold any character:
        rare delimiters as in fast-route text, and every other character that is neither
        common nor a letter or digit."""
        return [found.start() for found in self.marks.finditer(text)
                if not text[found.start()].isalnum()]

    def _probe_marks(self, text: str, marks: list[int],
                     add: Callable[[int, int], None]) -> list[int]:
        """Probe the start of the text and every word after a rare delimiter."""
        gaps: list[int] = []
        self._probe(text, 0, add)
        beginnings = self.beginnings
        for at in marks:
            if text[at].isspace():
                gaps.append(at)
            elif text[at + 1:at + 4] not in beginnings and text[at + 1:at + 3] not in beginnings:
                continue
            self._probe(text, at + 1, add)
        return gaps

    def _probe(self, text: str, at: int, add: Callable[[int, int], None]) -> None:
        window = DELIMITERS[0] + text[at:at + self.probe_length]
        for end, group in self.automaton.iter(window):
            if group != _GAP and end + 1 == self.lengths[group]:
                for term, back in self.groups[group]:
                    add(term, at - 1 + end - back)

    def _gap_phrases(self, text: str, gap: int, add: Callable[[int, int], None]) -> None:
        lo = max(0, gap - self.gap_before)
        for term, starts in self.plain_candidates(text, lo, gap + self.gap_after).items():
            if term in self.phrases:
                for start in starts:
                    add(term, start)

    def _collect(self, by_group: dict[int, list[int]], extra: Candidates) -> Candidates:
        parts: dict[int, list[list[int]]] = {}
        for group, ends in by_group.items():
            for term, back in self.groups[group]:
                parts.setdefault(term, []).append(list(map(back.__rsub__, ends)))
        for term, starts in extra.items():
            parts.setdefault(term, []).append(starts)
        found: Candidates = {}
        for term, lists in parts.items():
            if len(lists) == 1 and term not in extra:
                found[term] = lists[0]
            else:
                found[term] = sorted(set(itertools.chain.from_iterable(lists)))
        return found


def build_scanner(terms: Sequence[Term], used: Iterable[int]) -> Scanner:
    keyed = [i for i in sorted(used) if terms[i].key]
    spellings: dict[str, list[tuple[int, int]]] = {}
    for i in keyed:
        for spelling, at in _run_spellings(terms[i]):
            for delimiter in DELIMITERS:
                key = delimiter + spelling
                spellings.setdefault(key, []).append((i, len(key) - 1 - len(delimiter) - at))
    group_index: dict[tuple[tuple[tuple[int, int], ...], int], int] = {}
    automaton = ahocorasick.Automaton()
    for key, pairs in spellings.items():
        group = group_index.setdefault((tuple(pairs), len(key)), len(group_index))
        automaton.add_word(key, group)
    for gap in IRREGULAR_GAPS:
        automaton.add_word(gap, _GAP)
    automaton.make_automaton()
    phrases = frozenset(i for i in keyed if len(terms[i].words) > 1)
    marks = _marks(spellings)
    longest_key = max((len(terms[i].key) for i in keyed), default=0)
    return Scanner(
        automaton=automaton,
        plain=_plain_automaton(terms, keyed),
        groups=tuple(pairs for pairs, _ in group_index),
        lengths=tuple(length for _, length in group_index),
        phrases=phrases,
        probe_length=max((len(k) - 1 for k in spellings), default=0),
        marks=marks,
        beginnings=frozenset(k[1:4] for k in spellings),
        gap_before=max((terms[i].reach for i in phrases), default=0) + 1,
        gap_after=max((terms[i].key_offset for i in phrases), default=0) + longest_key + 1,
    )


def _marks(spellings: dict[str, list[tuple[int, int]]]) -> re.Pattern[str]:
    """The pattern fold_marking needs.

    It matches (in the original text) every character outside the common set, every
    rare whitespace character, and every other rare delimiter followed by two characters
    that can begin a key.
    """
    common = common_chars()
    rare = {c for c in common if not fast_char(c).isalnum() and fast_char(c) not in DELIMITERS}
    spaces = {c for c in rare if fast_char(c).isspace()}
    firsts = {k[1] for k in spellings}
    seconds = {k[2] for k in spellings if len(k) > 2}
    kept = "".join(c for c in common if c not in rare)

    def chars(wanted: set[str]) -> str:
        return re.escape("".join(c for c in common if fast_char(c) in wanted)) or "\\x00"

    delimiters = re.escape("".join(sorted(rare - spaces))) or "\\x00"
    pattern = (f"[^{re.escape(kept)}](?:(?<![{delimiters}])"
               f"|(?=[{chars(firsts)}][{chars(seconds)}]))")
    return re.compile(pattern)


def _run_spellings(term: Term) -> list[tuple[str, int]]:
    """Every spelling of the term's run, with the offset of its key word in it."""
    first, last = _run(term)
    words = [key_variants(w) for w in term.words[first:last + 1]]
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


def _plain_automaton(terms: Sequence[Term], keyed: list[int]) -> Any:
    keys: dict[str, list[int]] = {}
    for i in keyed:
        for variant in key_variants(terms[i].key):
            keys.setdefault(variant, []).append(i)
    automaton = ahocorasick.Automaton()
    for variant, indices in keys.items():
        automaton.add_word(variant, (len(variant), tuple(indices)))
    if keys:
        automaton.make_automaton()
    return automaton
