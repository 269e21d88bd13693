"""A fired rule's evidence: each sentence once with its matched spans marked, and who
and where it names (actors, places, sides).

`Signal.spans` are offsets into the item (title + blank line + text); `Signal.marks`
are the same spans as offsets into each shown sentence, so evidence can be marked even
where the item's text is no longer at hand.
"""

from __future__ import annotations

import bisect
import re

from monitor.models import Side, Signal
from monitor.signals.document import Evaluation, Occurrence
from monitor.signals.sides import actors_in

SENTENCE_SHOWN = 500  # characters of a long sentence shown around its spans
_OPEN, _CLOSE = "\x02", "\x03"  # placeholders for span edges while whitespace collapses
_EDGE = re.compile(f"([{_OPEN}{_CLOSE}])")
_SIDE_ORDER: tuple[Side, ...] = ("ru", "us", "third")

Span = tuple[int, int]


def make_signal(run: Evaluation, occurrences: list[Occurrence]) -> Signal:
    """The signal of one rule from its occurrences, heaviest first."""
    scoring = run.rules.scoring
    factor = occurrences[0].factor + scoring.repeat_bonus * sum(o.factor for o in occurrences[1:])
    rule = occurrences[0].rule
    shown = occurrences[: scoring.max_evidence]
    by_sentence: dict[Span, list[Span]] = {}
    for occurrence in shown:
        sentence = run.original(*occurrence.sentence)
        spans = by_sentence.setdefault(sentence, [])
        for hit in (occurrence.anchor, *occurrence.evidence):
            span = run.original(hit.start, hit.end)
            if span not in spans:
                spans.append(span)
    all_spans = [span for spans in by_sentence.values() for span in spans]
    texts = [
        shown_sentence(run.document, sentence, spans) for sentence, spans in by_sentence.items()
    ]
    actors, places, sides = _who_and_where(run, [o.sentence for o in shown])
    weight = round(rule.weight * min(factor, scoring.max_rule_factor), 4)
    return Signal(
        rule.type,
        rule.id,
        weight,
        tuple(dict.fromkeys(run.document[a:b] for a, b in all_spans)),
        tuple(all_spans),
        tuple(text for text, _ in texts),
        tuple(marks for _, marks in texts),
        actors,
        places,
        sides,
    )


def _who_and_where(
    run: Evaluation, sentences: list[Span]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Side, ...]]:
    """Canonical names of the US and Russian actors and of the places in the folded
    sentences, and the sides named there."""
    actors: dict[str, None] = {}
    sides: set[str] = set()
    places: dict[str, None] = {}
    for lo, hi in dict.fromkeys(sentences):
        for named in actors_in(run, lo, hi):
            side = named.side
            if side in ("ru", "us", "both"):
                actors.update(dict.fromkeys(named.actor.names))
                sides.update(("ru", "us") if side == "both" else (side,))
            elif side == "third":
                sides.add("third")
        places.update(dict.fromkeys(_places_in(run, lo, hi)))
    return (tuple(actors), tuple(places), tuple(side for side in _SIDE_ORDER if side in sides))


def _places_in(run: Evaluation, lo: int, hi: int) -> list[str]:
    rules = run.rules
    if not rules.place_terms:
        return []
    starts, owners = run.keyed(rules.place_terms)
    found: list[str] = []
    for i in range(bisect.bisect_left(starts, lo - rules.max_key_offset), len(starts)):
        if starts[i] >= hi:
            break
        hit = run.check(owners[i], starts[i])
        if hit is not None and hit.start >= lo and hit.end <= hi:
            found.append(rules.places[hit.term])
    return found


def shown_sentence(
    document: str, sentence: Span, spans: list[Span]
) -> tuple[str, tuple[Span, ...]]:
    """The sentence as shown (whitespace collapsed, cut to SENTENCE_SHOWN characters
    around its spans) and the spans as offsets into that string."""
    start, end = _window(sentence, spans)
    edges: list[tuple[int, str]] = []
    for a, b in _merged(spans):
        if start <= a and b <= end:
            edges += [(a, _OPEN), (b, _CLOSE)]
    pieces: list[str] = []
    at = start
    for pos, mark in sorted(edges, key=lambda e: (e[0], e[1] == _OPEN)):
        pieces += [_clean(document[at:pos]), mark]
        at = pos
    pieces.append(_clean(document[at:end]))
    return _marks(" ".join("".join(pieces).split()))


def _window(sentence: Span, spans: list[Span]) -> Span:
    start = min(sentence[0], *(a for a, _ in spans))
    end = max(sentence[1], *(b for _, b in spans))
    if end - start <= SENTENCE_SHOWN:
        return start, end
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    middle = (first + last) // 2 if last - first < SENTENCE_SHOWN else first + SENTENCE_SHOWN // 4
    lo = max(start, middle - SENTENCE_SHOWN // 2)
    return lo, min(end, lo + SENTENCE_SHOWN)


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _clean(text: str) -> str:
    return text.replace(_OPEN, " ").replace(_CLOSE, " ")


def _marks(text: str) -> tuple[str, tuple[Span, ...]]:
    """`text` without its placeholders, and the spans they enclosed."""
    out: list[str] = []
    marks: list[Span] = []
    length = 0
    opened: int | None = None
    for part in _EDGE.split(text):
        if part == _OPEN:
            opened = length
        elif part == _CLOSE:
            if opened is not None:
                marks.append((opened, length))
            opened = None
        else:
            out.append(part)
            length += len(part)
    return "".join(out), tuple(marks)
