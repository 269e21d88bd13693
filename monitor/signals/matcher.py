"""Find term hits with one automaton pass, evaluate rules around each anchor, score.

Only anchors are examined in Python; the text itself is scanned once in C (the
automaton), so the cost grows with the number of hits, not with terms or text size.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from monitor.models import Match, Signal
from monitor.signals.normalize import Folded, fold
from monitor.signals.rules import Requirement, Rule, RuleSet, Window
from monitor.signals.terms import Term

_WORD_START = re.compile(r"(?<!\w)\w")
_WORD_BLOCK = 2048
# A sentence ends at . ! ? or … followed by space, or at a line break. Initials
# ("Joseph R. Biden", "В.В.Путин") and common abbreviations do not end one.
_CANDIDATE_END = re.compile(r"[.!?…][\"'»”’)\]]*\s+|\n")
# Initials ("Joseph R. Biden", "В.В.Путин") and abbreviations do not end a sentence.
_NOT_AN_END = re.compile(r"(?:^|[\s.(])(?:[^\W\d_]|u\.s|mr|ms|mrs|dr|st|jr|no|vs|г|гг|т\.е|т\.д)\Z")
_SENTENCE_REACH = 600  # characters searched each way for a sentence boundary
_CHARS_PER_WORD = 30  # generous bound used before counting words exactly
_MAX_ANCHORS = 400  # anchors examined per rule and document
_SENTENCE_SHOWN = 500


def compose_document(title: str, text: str) -> str:
    """The exact string that spans point into."""
    return f"{title}\n\n{text}"


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # folded offsets
    end: int
    term: int


@dataclass(frozen=True, slots=True)
class Occurrence:
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
    _checked: dict[tuple[int, int], Hit | None] = field(default_factory=dict)
    _merged: dict[int, list[Hit]] = field(default_factory=dict)
    _candidates: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)
    _word_blocks: dict[int, list[int]] = field(default_factory=dict)

    def words_between(self, start: int, end: int) -> int:
        """How many words start in folded [start, end). Word starts are indexed lazily in
        blocks, so a long transcript with hits in one place costs one block, and repeated
        questions about the same passage cost two binary searches each."""
        count = 0
        for block in range(start // _WORD_BLOCK, (max(start, end - 1)) // _WORD_BLOCK + 1):
            starts = self._word_blocks.get(block)
            if starts is None:
                lo = block * _WORD_BLOCK
                starts = [m.start() for m in _WORD_START.finditer(self.folded.text, lo,
                                                                  lo + _WORD_BLOCK)]
                self._word_blocks[block] = starts
            count += bisect.bisect_left(starts, end) - bisect.bisect_left(starts, start)
        return count

    def check(self, term: int, key_start: int) -> Hit | None:
        """The verified hit of `term` whose automaton key starts at `key_start`, if any."""
        found = self._checked.get((term, key_start), False)
        if found is False:
            span = _verify(self.rules.terms[term], self.folded.text, key_start)
            found = None if span is None else Hit(span[0], span[1], term)
            self._checked[(term, key_start)] = found
        return found  # type: ignore[return-value]

    def merged(self, terms: tuple[int, ...]) -> list[Hit]:
        """Every verified hit of any of `terms`, in order (cached per term tuple)."""
        cached = self._merged.get(id(terms))
        if cached is None:
            found = [self.check(term, start) for term in terms for start in self.raw.get(term, ())]
            cached = [hit for hit in found if hit is not None]
            cached.sort(key=lambda h: (h.start, -h.end))
            self._merged[id(terms)] = cached
        return cached

    def candidates(self, terms: tuple[int, ...]) -> tuple[list[int], list[int]]:
        """Unverified key starts of any of `terms` in order, with their term."""
        cached = self._candidates.get(id(terms))
        if cached is None:
            pairs = sorted((start, term) for term in terms for start in self.raw.get(term, ()))
            cached = ([p[0] for p in pairs], [p[1] for p in pairs])
            self._candidates[id(terms)] = cached
        return cached

    def sentence(self, pos: int) -> tuple[int, int]:
        """Folded [start, end) of the sentence around folded offset `pos`."""
        cached = self._sentences.get(pos)
        if cached is None:
            cached = self._sentences[pos] = _sentence_bounds(self.folded.text, pos)
        return cached

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.folded.to_original(start, end)


def find_candidates(rules: RuleSet, text: str) -> tuple[dict[int, list[int]], dict[
        tuple[int, int], Hit | None]]:
    """Automaton key starts at a word start, per term; regex terms come verified."""
    raw: dict[int, list[int]] = {}
    checked: dict[tuple[int, int], Hit | None] = {}
    for last, (length, indices) in rules.automaton.iter(text) if rules.automaton else ():
        start = last - length + 1
        if start and text[start - 1].isalnum():
            continue
        for i in indices:
            raw.setdefault(i, []).append(start)
    for i in rules.regex_terms:
        for found in rules.terms[i].verify.finditer(text):
            raw.setdefault(i, []).append(found.start())
            checked[(i, found.start())] = Hit(found.start(), found.end(), i)
    return raw, checked


def find_hits(rules: RuleSet, text: str) -> dict[int, list[Hit]]:
    """Every verified occurrence of every term in folded `text`, per term, in order."""
    raw, checked = find_candidates(rules, text)
    hits: dict[int, list[Hit]] = {}
    for term, starts in raw.items():
        for start in starts:
            hit = checked.get((term, start)) or _checked_hit(rules, text, term, start)
            if hit is not None:
                hits.setdefault(term, []).append(hit)
    return hits


def _checked_hit(rules: RuleSet, text: str, term: int, start: int) -> Hit | None:
    span = _verify(rules.terms[term], text, start)
    return None if span is None else Hit(span[0], span[1], term)


def _verify(term: Term, text: str, key_start: int) -> tuple[int, int] | None:
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


def evaluate(rules: RuleSet, title: str, text: str, lang: str | None = None,
             explain: bool = False) -> Evaluation:
    document = compose_document(title, text)
    folded = fold(document)
    raw, checked = find_candidates(rules, folded.text)
    run = Evaluation(rules, document, folded, folded.from_original(len(title)), raw,
                     _checked=checked)
    for rule in rules.rules:
        if rule.lang and lang and rule.lang != lang:
            continue
        found = _evaluate_rule(rule, run, explain)
        if found:
            run.occurrences[rule.id] = found
    return run


def _evaluate_rule(rule: Rule, run: Evaluation, explain: bool) -> list[Occurrence]:
    if not explain and not all(_present(run, r.terms) for r in rule.requirements):
        return []  # a requirement with no candidate at all: skip verifying the anchors
    anchors = run.merged(rule.anchor)
    if not anchors:
        return []
    vetoed = next((h for h in run.merged(rule.exclude_title) if h.start < run.title_end),
                  None)
    if vetoed is not None:
        if explain:
            run.misses.append(Miss(rule, anchors[0], f"title has excluded term "
                                   f"{rules_term(run, vetoed)!r}"))
        return []
    best: dict[tuple[int, int], Occurrence] = {}
    for anchor in anchors[:_MAX_ANCHORS]:
        occurrence = _check_anchor(rule, anchor, run, explain)
        if occurrence is not None:
            current = best.get(occurrence.sentence)
            if current is None or occurrence.factor > current.factor:
                best[occurrence.sentence] = occurrence
    return sorted(best.values(), key=lambda o: (-o.factor, o.anchor.start))


def _present(run: Evaluation, terms: tuple[int, ...]) -> bool:
    raw = run.raw
    return any(term in raw for term in terms)


def _check_anchor(rule: Rule, anchor: Hit, run: Evaluation, explain: bool) -> Occurrence | None:
    in_title = anchor.start < run.title_end
    if (rule.scope == "title" and not in_title) or (rule.scope == "body" and in_title):
        return None
    evidence: list[Hit] = []
    for requirement in rule.requirements:
        found = _near(run, anchor, requirement.terms, requirement.within, requirement.side)
        if found is None:
            if explain:
                run.misses.append(Miss(rule, anchor, _missing(requirement)))
            return None
        if found != anchor:
            evidence.append(found)
    if rule.exclude:
        excluded = _near(run, anchor, rule.exclude, rule.exclude_within, "either")
        if excluded is not None:
            if explain:
                run.misses.append(Miss(rule, anchor, f"excluded: {rules_term(run, excluded)!r} "
                                       f"within {rule.exclude_within}"))
            return None
    return Occurrence(rule, anchor, tuple(evidence), _position_factor(run, anchor.start),
                      run.sentence(anchor.start))


def _missing(requirement: Requirement) -> str:
    where = {"after": " after it", "before": " before it"}.get(requirement.side, "")
    return f"no {requirement.name} within {requirement.within}{where}"


def rules_term(run: Evaluation, hit: Hit) -> str:
    return run.rules.terms[hit.term].source


def _near(run: Evaluation, anchor: Hit, terms: tuple[int, ...], within: Window,
          side: str) -> Hit | None:
    """The closest hit of `terms` inside the window around `anchor`, if any."""
    if within.words is None:
        lo, hi = run.sentence(anchor.start)
    else:
        reach = (within.words + 1) * _CHARS_PER_WORD
        lo, hi = anchor.start - reach, anchor.end + reach
    # The title and the body are separate passages: nothing is near across them.
    if anchor.start < run.title_end:
        hi = min(hi, run.title_end)
    else:
        lo = max(lo, run.title_end)
    starts, owners = run.candidates(terms)
    best: tuple[int, Hit] | None = None
    for i in range(bisect.bisect_left(starts, lo - run.rules.max_key_offset), len(starts)):
        if starts[i] >= hi:
            break
        hit = run.check(owners[i], starts[i])
        if hit is None or hit.start < lo or hit.end > hi:
            continue
        distance = _distance(run, anchor, hit, side, within)
        if distance is not None and (best is None or distance < best[0]):
            best = (distance, hit)
            if distance == 0:
                break
    return None if best is None else best[1]


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


def _position_factor(run: Evaluation, pos: int) -> float:
    scoring = run.rules.scoring
    if pos < run.title_end:
        return scoring.title_factor
    depth = pos - run.title_end
    if depth <= scoring.lead_chars:
        return 1.0
    if depth >= scoring.deep_chars:
        return scoring.deep_factor
    share = (depth - scoring.lead_chars) / max(scoring.deep_chars - scoring.lead_chars, 1)
    return 1.0 - share * (1.0 - scoring.deep_factor)


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    lo = max(0, pos - _SENTENCE_REACH)
    start = lo
    for found in _CANDIDATE_END.finditer(text, lo, pos):
        if _is_boundary(text, found.start()):
            start = found.end()
    hi = min(len(text), pos + _SENTENCE_REACH)
    end = hi
    for found in _CANDIDATE_END.finditer(text, pos, hi):
        if _is_boundary(text, found.start()):
            end = found.start() + 1
            break
    return start, end


def _is_boundary(text: str, at: int) -> bool:
    return text[at] == "\n" or _NOT_AN_END.search(text, max(0, at - 4), at) is None


def match_document(rules: RuleSet, title: str, text: str, lang: str | None = None) -> Match:
    """Score one item; every signal carries its evidence in `compose_document` offsets."""
    return to_match(evaluate(rules, title, text, lang))


def to_match(run: Evaluation) -> Match:
    signals = [_signal(run, found) for found in run.occurrences.values()]
    signals.sort(key=lambda s: (-s.weight, s.rule))
    score = round(_score(signals, run.rules.scoring.repeat_bonus), 4)
    return Match(score, score >= run.rules.threshold, tuple(signals), run.rules.version)


def _score(signals: list[Signal], repeat_bonus: float) -> float:
    """Each type counts fully once; further rules of a type that fired add a fraction.

    Several rules often describe the same sentence ("Biden-Putin summit" is both a
    bilateral term and a summit with Putin), so they must not add up in full.
    """
    best: dict[str, float] = {}
    extra = 0.0
    for signal in signals:  # heaviest first
        if signal.type in best:
            extra += repeat_bonus * signal.weight
        else:
            best[signal.type] = signal.weight
    return sum(best.values()) + extra


def _signal(run: Evaluation, occurrences: list[Occurrence]) -> Signal:
    scoring = run.rules.scoring
    factor = occurrences[0].factor + scoring.repeat_bonus * sum(o.factor for o in occurrences[1:])
    rule = occurrences[0].rule
    spans: list[tuple[int, int]] = []
    sentences: list[str] = []
    for occurrence in occurrences[: scoring.max_evidence]:
        sentence = run.original(*occurrence.sentence)
        for hit in (occurrence.anchor, *occurrence.evidence):
            span = run.original(hit.start, hit.end)
            if span not in spans:
                spans.append(span)
                sentences.append(_shown_sentence(run.document, sentence, span))
    terms = tuple(dict.fromkeys(run.document[a:b] for a, b in spans))
    weight = round(rule.weight * min(factor, scoring.max_rule_factor), 4)
    return Signal(rule.type, rule.id, weight, terms, tuple(spans), tuple(sentences))


def _shown_sentence(document: str, sentence: tuple[int, int], span: tuple[int, int]) -> str:
    start, end = min(sentence[0], span[0]), max(sentence[1], span[1])
    if end - start > _SENTENCE_SHOWN:
        middle = (span[0] + span[1]) // 2
        start = max(start, middle - _SENTENCE_SHOWN // 2)
        end = min(end, start + _SENTENCE_SHOWN)
    return " ".join(document[start:end].split())
