"""One document being matched: term candidates verified lazily, word counts, sentences,
and which hits are near an anchor.

Only candidates are examined in Python; the text itself is scanned in C (the automaton,
see scan.py), so the cost grows with the number of hits, not with terms or text size.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from monitor.signals.normalize import ONE_BYTE_SUSPECTS, Encoded, Folded

if TYPE_CHECKING:  # a rule set holds the screen's plans, and the screen reads this module
    from monitor.signals.rules import Actor, Rule, RuleSet, Side, Window
    from monitor.signals.terms import Term

_WORD_START = re.compile(r"(?<!\w)\w")
_WORD_BLOCK = 2048
_DIRECT_COUNT = 400  # gaps up to this many characters are counted without the index
SENTENCE_REACH = 600  # characters searched each way for a sentence boundary
# A sentence ends at a line break, or at . ! ? or … followed by space (closing quotes and
# brackets may come between) unless an initial ("Joseph R. Biden", "В.В.Путин") or a
# common abbreviation comes before it. Boundaries are found block by block (in C) where
# first needed.
# (Abbreviations grouped by length: a look-behind needs alternatives of one width.)
_ABBREVIATIONS = ("[^\\W\\d_]", "(?:mr|ms|dr|st|jr|no|vs|гг)", "(?:u\\.s|т\\.е|т\\.д|mrs)")
_BOUNDARY = re.compile(  # starts with one character class, so the engine skips ahead in C
    "[.!?…\n](?:(?<=\n)|"
    + "".join(f"(?<![\\s.(]{a}.)(?<!\\A{a}.)" for a in _ABBREVIATIONS)
    + "[\"'»”’)\\]]*\\s+)"
)
_END_CHAR = re.compile("[.!?…\n]")
_SENTENCE_BLOCK = 2048  # characters whose sentence boundaries are found at once
_SENTENCE_OVERLAP = 64  # how far past its block a boundary found there may end
CHARS_PER_WORD = 30  # generous bound used before counting words exactly


@dataclass(frozen=True, slots=True)
class Hit:
    """A verified occurrence of a term, in folded offsets."""

    start: int  # folded offsets
    end: int
    term: int


@dataclass(frozen=True, slots=True)
class Named:
    """An actor term found in the text (see sides.py)."""

    hit: Hit
    actor: Actor

    @property
    def side(self) -> Side:
        """The side the actor is on."""
        return self.actor.side


@dataclass(frozen=True, slots=True)
class Around:
    """The actors of an anchor's sentence, with how far each is from it (shared by every
    rule that looks at the anchor; see sides.py)."""

    named: tuple[Named, ...]
    gaps: tuple[int, ...]  # words between the anchor and each actor
    clear: tuple[bool, ...]  # no dash, colon or semicolon between them


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A rule that fired at one anchor, with its evidence and weight factor."""

    rule: Rule
    anchor: Hit
    evidence: tuple[Hit, ...]
    factor: float
    sentence: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Miss:
    """An anchor that was found but did not fire, and why (for `rules test`)."""

    rule: Rule
    anchor: Hit
    reason: str


@dataclass(frozen=True, slots=True)
class Owners:
    """The term of each candidate in a sorted list of key starts of some terms, found on
    demand (few are ever asked for). Of equal starts, the lower term comes first."""

    starts: list[int]
    terms: tuple[int, ...]  # the terms with candidates, ascending
    raw: dict[int, list[int]]

    def __getitem__(self, i: int) -> int:
        terms = self.terms
        if len(terms) == 1:
            return terms[0]
        starts, start = self.starts, self.starts[i]
        before = 0  # equal starts before this one
        while i > before and starts[i - before - 1] == start:
            before += 1
        for term in terms:
            keys = self.raw[term]
            j = bisect.bisect_left(keys, start)
            if j < len(keys) and keys[j] == start:
                if not before:
                    return term
                before -= 1
        raise IndexError(i)


@dataclass(slots=True)
class Evaluation:
    """One document being matched. Term candidates are verified lazily: anchors in
    full, other terms only where a rule looks for them, near an anchor."""

    rules: RuleSet
    document: str
    folded: Folded
    title_end: int  # folded offset where the body starts
    raw: dict[int, list[int]]  # term -> automaton key starts, in order
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    _sentences: dict[int, tuple[int, int]] = field(default_factory=dict)
    _boundary_blocks: dict[int, list[int]] = field(default_factory=dict)
    _checked: dict[tuple[int, int], Hit | None] = field(default_factory=dict)
    # per term list (a rule set's lists hash once, see terms.TermList)
    _merged: dict[tuple[int, ...], list[Hit]] = field(default_factory=dict)
    _candidates: dict[tuple[int, ...], tuple[list[int], Owners]] = field(default_factory=dict)
    _candidate_starts: dict[tuple[int, ...], list[int]] = field(default_factory=dict)
    _keyed: dict[tuple[int, ...], tuple[list[int], list[int]]] = field(default_factory=dict)
    _word_blocks: dict[int, list[int]] = field(default_factory=dict)
    # per `exclude_title` list: whether one of its terms is in the title (see matcher.py)
    title_vetoes: dict[tuple[int, ...], bool] = field(default_factory=dict)
    # per contact list and window: whether the title reports a third party's contact
    third_party_titles: dict[tuple[tuple[int, ...], int], bool] = field(default_factory=dict)
    # (anchor list, scope) -> anchor key starts and their terms (see matcher.py)
    anchor_keys: dict[tuple[tuple[int, ...], str], tuple[list[int], list[int]] | None] = field(
        default_factory=dict
    )
    encoded: Encoded | None = None  # the folded text in a one-byte encoding, if it has one
    actor_cache: dict[tuple[int, int], tuple[Named, ...]] = field(default_factory=dict)
    main_cache: dict[tuple[int, int], list[Hit]] = field(default_factory=dict)
    lazy_cache: dict[tuple[int, int], list[Hit]] = field(default_factory=dict)
    screen_cache: dict[tuple[tuple[int, ...], int, int], bool] = field(default_factory=dict)
    around_cache: dict[tuple[int, int, int, int], Around] = field(default_factory=dict)
    _word_classes: bytes | None = None  # encoded, word characters "a", others " "

    def words_between(self, start: int, end: int) -> int:
        """How many words start in folded [start, end). In a text with a one-byte
        encoding, that is how often a non-word character precedes a word character,
        counted in C over the text mapped to two classes. Otherwise word starts are
        indexed lazily in blocks, so a long transcript with hits in one place costs one
        block, and repeated questions about the same passage cost two binary searches
        each; a short gap outside the indexed blocks is counted directly."""
        classes = self._word_classes
        if classes is None and self.encoded is not None:
            classes = self._word_classes = self.encoded.data.translate(
                word_table(self.encoded.encoding)
            )
        if classes is not None:
            return count_word_starts(classes, start, end)
        first, last = start // _WORD_BLOCK, max(start, end - 1) // _WORD_BLOCK
        blocks = self._word_blocks
        if end - start <= _DIRECT_COUNT and (first not in blocks or last not in blocks):
            return len(_WORD_START.findall(self.folded.text, start, end))
        count = 0
        for block in range(first, last + 1):
            starts = blocks.get(block)
            if starts is None:
                lo = block * _WORD_BLOCK
                starts = [
                    m.start() for m in _WORD_START.finditer(self.folded.text, lo, lo + _WORD_BLOCK)
                ]
                blocks[block] = starts
            count += bisect.bisect_left(starts, end) - bisect.bisect_left(starts, start)
        return count

    def check(self, term: int, key_start: int) -> Hit | None:
        """The verified hit of `term` whose automaton key starts at `key_start`, if any."""
        found = self._checked.get((term, key_start), False)
        if found is False:
            span = verify(self.rules.terms[term], self.folded.text, key_start)
            found = None if span is None else self.in_case(Hit(span[0], span[1], term))
            self._checked[(term, key_start)] = found
        return found  # type: ignore[return-value]

    def in_case(self, hit: Hit) -> Hit | None:
        """`hit`, unless its term has words in capitals that the original text has not."""
        cased = self.rules.terms[hit.term].cased
        if cased is None or cased.fullmatch(
            self.document, *self.folded.to_original(hit.start, hit.end)
        ):
            return hit
        return None

    def title_hits(self, terms: tuple[int, ...]) -> list[Hit]:
        """The verified hits of `terms` in the title, in order (only title candidates
        are verified)."""
        starts, owners = self.candidates(terms)
        limit = self.title_end + self.rules.max_key_offset
        found = [self.check(owners[i], starts[i]) for i in range(bisect.bisect_left(starts, limit))]
        return sorted(
            (hit for hit in found if hit is not None and hit.start < self.title_end),
            key=lambda h: (h.start, -h.end),
        )

    def merged(self, terms: tuple[int, ...]) -> list[Hit]:
        """Every verified hit of any of `terms`, in order (cached per term tuple)."""
        cached = self._merged.get(terms)
        if cached is None:
            found = [self.check(term, start) for term in terms for start in self.raw.get(term, ())]
            cached = [hit for hit in found if hit is not None]
            cached.sort(key=lambda h: (h.start, -h.end))
            self._merged[terms] = cached
        return cached

    def candidates(self, terms: tuple[int, ...]) -> tuple[list[int], Owners]:
        """Unverified key starts of any of `terms` in order, with their term (of equal
        starts, the lower term first)."""
        cached = self._candidates.get(terms)
        if cached is None:
            present = tuple(sorted(self.present(terms)))
            starts = self.candidate_starts(terms)
            cached = (starts, Owners(starts, present, self.raw))
            self._candidates[terms] = cached
        return cached

    def keyed(self, terms: tuple[int, ...]) -> tuple[list[int], list[int]]:
        """The candidates of `terms` as sorted key starts and, index for index, their
        terms (for large lists, where `candidates` would search for each owner)."""
        cached = self._keyed.get(terms)
        if cached is None:
            pairs = sorted(
                (start, term) for term in self.present(terms) for start in self.raw[term]
            )
            cached = self._keyed[terms] = ([p[0] for p in pairs], [p[1] for p in pairs])
        return cached

    def present(self, terms: tuple[int, ...]) -> frozenset[int]:
        """Which of `terms` have candidates. (The set's own intersection looks up the few
        terms found in the large set of a list; `raw.keys() & set` would look up every
        term of the list in `raw`.)"""
        return self.rules.term_set(terms).intersection(self.raw)

    def candidate_starts(self, terms: tuple[int, ...]) -> list[int]:
        """The starts `candidates` gives, without their terms (sorted in C)."""
        cached = self._candidate_starts.get(terms)
        if cached is None:
            present = self.present(terms)
            if len(present) == 1:
                cached = self.raw[next(iter(present))]
            else:
                cached = sorted(itertools.chain.from_iterable(map(self.raw.__getitem__, present)))
            self._candidate_starts[terms] = cached
        return cached

    def sentence(self, pos: int) -> tuple[int, int]:
        """Folded [start, end) of the sentence around folded offset `pos`: from the end
        of the last boundary before it to the first character of the next boundary,
        each looked for at most SENTENCE_REACH characters away."""
        cached = self._sentences.get(pos)
        if cached is None:
            text = self.folded.text
            lo, hi = max(pos - SENTENCE_REACH, 0), min(pos + SENTENCE_REACH, len(text))
            start, end = lo, hi
            for block in range(pos // _SENTENCE_BLOCK, lo // _SENTENCE_BLOCK - 1, -1):
                starts = self._boundary_block(block)
                i = bisect.bisect_left(starts, pos) - 1  # the last starting before pos
                while i >= 0:
                    found = _BOUNDARY.match(text, starts[i])
                    if found is not None and found.end() <= pos:
                        start = found.end() if starts[i] >= lo else lo
                        break
                    i -= 1  # pos lies inside that boundary's spaces
                if i >= 0:
                    break
            for block in range(pos // _SENTENCE_BLOCK, hi // _SENTENCE_BLOCK + 1):
                starts = self._boundary_block(block)
                j = bisect.bisect_left(starts, pos)  # the first starting at or after pos
                if j < len(starts):
                    end = starts[j] + 1 if starts[j] < hi else hi
                    break
            cached = self._sentences[pos] = (start, end)
        return cached

    def boundary_between(self, start: int, end: int) -> bool:
        """Whether a sentence boundary starts in folded [start, end), or the title ends
        there."""
        if start < self.title_end <= end:
            return True
        if _END_CHAR.search(self.folded.text, start, end) is None:
            return False  # no character that could end a sentence: no index needed
        for block in range(start // _SENTENCE_BLOCK, max(start, end - 1) // _SENTENCE_BLOCK + 1):
            starts = self._boundary_block(block)
            i = bisect.bisect_left(starts, start)
            if i < len(starts) and starts[i] < end:
                return True
        return False

    def _boundary_block(self, block: int) -> list[int]:
        """Where the sentence boundaries starting in one block of the text start, found
        when first needed: a long transcript is searched only where actors are."""
        found = self._boundary_blocks.get(block)
        if found is None:
            begin, stop = block * _SENTENCE_BLOCK, (block + 1) * _SENTENCE_BLOCK
            found = self._boundary_blocks[block] = [
                m.start()
                for m in _BOUNDARY.finditer(self.folded.text, begin, stop + _SENTENCE_OVERLAP)
            ]
            while found and found[-1] >= stop:
                found.pop()
        return found

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original document of a folded span."""
        return self.folded.to_original(start, end)


def count_word_starts(classes: bytes, start: int, end: int) -> int:
    """Word starts in [start, end) of a text mapped to classes by `word_table`."""
    if start > 0:
        return classes.count(b" a", start - 1, end)
    return classes.count(b" a", 0, end) + int(end > 0 and classes[:1] == b"a")


def word_table(encoding: str) -> bytes:
    """bytes.translate table of a one-byte encoding: word characters (what regex \\w
    matches) to "a", every other byte to " " (made once for the encodings scanned)."""
    made = _WORD_TABLES.get(encoding)
    return made if made is not None else _make_word_table(encoding)


def _make_word_table(encoding: str) -> bytes:
    def word(byte: int) -> bool:
        char = bytes([byte]).decode(encoding, "replace")
        return char.isalnum() or char == "_"

    return bytes(ord("a") if word(byte) else ord(" ") for byte in range(256))


_WORD_TABLES: Final = MappingProxyType(
    {encoding: _make_word_table(encoding) for encoding, _, _ in ONE_BYTE_SUSPECTS}
)


def find_candidates(
    rules: RuleSet, text: str, encoded: Encoded | None = None
) -> tuple[dict[int, list[int]], dict[tuple[int, int], Hit | None], Encoded | None]:
    """Key starts per term in folded `text` (see scan.py), regex terms verified, and the
    text as the scan's one-byte encoding, if it had one (`encoded`: if known already)."""
    raw, encoded = rules.scanner.scan(text, encoded)
    checked: dict[tuple[int, int], Hit | None] = {}
    for i in rules.regex_terms:
        for found in rules.terms[i].verify.finditer(text):
            raw.setdefault(i, []).append(found.start())
            checked[(i, found.start())] = Hit(found.start(), found.end(), i)
    return raw, checked, encoded


def find_hits(rules: RuleSet, text: str) -> dict[int, list[Hit]]:
    """Every verified occurrence of every term in folded `text`, per term, in order."""
    raw, checked, _ = find_candidates(rules, text)
    hits: dict[int, list[Hit]] = {}
    for term, starts in raw.items():
        for start in starts:
            hit = checked.get((term, start)) or _checked_hit(rules, text, term, start)
            if hit is not None:
                hits.setdefault(term, []).append(hit)
    return hits


def _checked_hit(rules: RuleSet, text: str, term: int, start: int) -> Hit | None:
    span = verify(rules.terms[term], text, start)
    return None if span is None else Hit(span[0], span[1], term)


def verify(term: Term, text: str, key_start: int) -> tuple[int, int] | None:
    """The span of `term` that covers the candidate key start `key_start`, if any."""
    if not term.key_offset:
        found = term.verify.match(text, key_start)
        return None if found is None else found.span()
    lo = max(0, key_start - term.key_offset)
    for found in term.verify.finditer(text, lo, key_start + term.reach):
        if found.start() > key_start:
            break
        if found.end() > key_start and not (found.start() and text[found.start() - 1].isalnum()):
            return found.span()
    return None


def near(
    run: Evaluation, anchor: Hit, terms: tuple[int, ...], within: Window, side: str
) -> Hit | None:
    """The closest hit of `terms` inside the window around `anchor`, if any; of equally
    close hits, the one whose candidate comes first. Candidates that cannot be closer
    than a hit already found are not looked at (see `NearSearch`)."""
    search = NearSearch.around(run, anchor, terms, within, side)
    reach = run.rules.list_reach.get(terms)
    if within.words is None:
        search.forwards(prune=True)
    elif reach is not None:
        search.outwards(reach)
    else:
        search.forwards(prune=False)
    return search.closest


def near_by_scan(
    run: Evaluation, anchor: Hit, terms: tuple[int, ...], within: Window, side: str
) -> Hit | None:
    """`near` by examining every candidate in the window, in order (the reference)."""
    search = NearSearch.around(run, anchor, terms, within, side)
    search.forwards(prune=False)
    return search.closest


@dataclass(slots=True)
class NearSearch:
    """One search for the hit of some terms closest to an anchor. What counts (a
    verified hit inside the window, on the required side, within the words) and which
    hit is closest are decided in `consider`; the sweeps only choose which candidates
    to consider, and stop where none further on can be closer."""

    run: Evaluation
    anchor: Hit
    within: Window
    side: str
    lo: int  # the window, cut to the anchor's passage
    hi: int
    starts: list[int]  # the candidates' key starts, in order
    owners: Owners
    best: tuple[int, int, Hit] | None = None  # (words from the anchor, candidate, hit)

    @classmethod
    def around(
        cls, run: Evaluation, anchor: Hit, terms: tuple[int, ...], within: Window, side: str
    ) -> NearSearch:
        """A search among the candidates of `terms` in the window `within` of `anchor`."""
        if within.words is None:
            lo, hi = _passage(run, anchor, *run.sentence(anchor.start))
        else:
            window = (within.words + 1) * CHARS_PER_WORD
            lo, hi = _passage(run, anchor, anchor.start - window, anchor.end + window)
        starts, owners = run.candidates(terms)
        return cls(run, anchor, within, side, lo, hi, starts, owners)

    @property
    def closest(self) -> Hit | None:
        """The closest hit found, if any."""
        return None if self.best is None else self.best[2]

    def consider(self, i: int) -> Hit | None:
        """Candidate `i`'s hit if it counts (kept when it is the closest so far)."""
        hit = self.run.check(self.owners[i], self.starts[i])
        if hit is None or hit.start < self.lo or hit.end > self.hi:
            return None
        distance = _distance(self.run, self.anchor, hit, self.side, self.within)
        if distance is None:
            return None
        if self.best is None or (distance, i) < self.best[:2]:
            self.best = (distance, i, hit)
        return hit

    def forwards(self, prune: bool) -> None:
        """Consider the candidates in order, until a hit is no word from the anchor.
        `prune`: once a hit after the anchor counts, also stop at a candidate whose key
        starts `max_key_offset` or more past that hit's start: its hit is after that
        one too, so it is no closer."""
        offset = self.run.rules.max_key_offset
        starts, stop = self.starts, self.hi
        for i in range(bisect.bisect_left(starts, self.lo - offset), len(starts)):
            if starts[i] >= stop:
                break
            hit = self.consider(i)
            if hit is None:
                continue
            if self.best is not None and self.best[0] == 0:
                break
            if prune and hit.start >= self.anchor.end:
                stop = min(stop, hit.start + offset)

    def outwards(self, reach: int) -> None:
        """Consider the candidates from the anchor outwards, in a window of N words, for
        terms whose hits end at most `reach` characters after their key start. A hit
        starts at most max_key_offset characters before its key, so once even that
        nearest place is outside the window or further away than the closest hit so
        far, so is every further candidate in that direction."""
        run, anchor, starts = self.run, self.anchor, self.starts
        offset = run.rules.max_key_offset
        window = (self._limit() + 1) * CHARS_PER_WORD
        after = bisect.bisect_left(starts, anchor.end + offset)
        before = bisect.bisect_right(starts, anchor.start - reach)
        for i in range(before, after):  # hits that may overlap the anchor
            self.consider(i)
        if self.side != "after":
            for i in range(before - 1, -1, -1):
                if (
                    starts[i] < anchor.start - window
                    or run.words_between(starts[i] + reach, anchor.start) > self._limit()
                ):
                    break
                self.consider(i)
        if self.side != "before":
            for i in range(after, len(starts)):
                gap_end = starts[i] - offset
                if (
                    gap_end > anchor.end + window
                    or run.words_between(anchor.end, gap_end) > self._limit()
                ):
                    break
                self.consider(i)

    def _limit(self) -> int:
        """The most words from the anchor a hit may still be to be considered."""
        return (self.within.words or 0) if self.best is None else self.best[0]


def _passage(run: Evaluation, anchor: Hit, lo: int, hi: int) -> tuple[int, int]:
    """The window [lo, hi) cut to the anchor's passage: nothing is near across the
    title and the body."""
    if anchor.start < run.title_end:
        return lo, min(hi, run.title_end)
    return max(lo, run.title_end), hi


def _distance(run: Evaluation, anchor: Hit, hit: Hit, side: str, within: Window) -> int | None:
    if hit.start >= anchor.end:
        gap = (anchor.end, hit.start)
        if side == "before":
            return None
    elif hit.end <= anchor.start:
        gap = (hit.end, anchor.start)
        if side == "after":
            return None
    else:
        return 0 if side == "either" or hit == anchor else None
    words = run.words_between(*gap)
    if within.words is not None and words > within.words:
        return None
    return words
