"""Screen a rule's anchors by position before the exact check.

An anchor can only fire if every requirement has a hit inside its window: at most
(N + 1) * 30 characters away for `within = N`, inside the sentence (never more than
600 characters from the anchor) otherwise, on the required side. Translated into
distances between unverified key starts (a hit starts at most `key_offset` characters
before its key and ends at most `reach` after it), this gives a bound per requirement
that a bisection in its sorted key starts checks. An anchor outside any bound cannot
fire, so it is neither verified nor checked; the exact check (matcher.py) decides for
the rest. A rule whose anchors are regexes (no bound on their length) is not screened.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.signals.document import CHARS_PER_WORD, SENTENCE_REACH

if TYPE_CHECKING:  # the rule set holds its plans: rules.py makes them with `make_plans`
    from monitor.signals.rules import Rule
    from monitor.signals.terms import Term


@dataclass(frozen=True, slots=True)
class Bound:
    """Candidates of `terms` for an anchor key at k lie in [k - before, k + after)."""

    terms: tuple[int, ...]
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What one rule's anchors need around them to be able to fire."""

    needs: tuple[frozenset[int], ...]  # anchor terms, then each requirement's terms
    need_masks: tuple[int, ...]  # the same as bit sets (bit i: term i), see `present_mask`
    bounds: tuple[Bound, ...] | None  # None: anchors are not screened
    title_reach: int  # an anchor in the title has its key before title end + this
    anchor_rank: dict[int, int] = field(default_factory=dict, compare=False)  # term -> place


@dataclass(frozen=True, slots=True)
class _Need:
    """A requirement as the screen sees it."""

    terms: tuple[int, ...]
    words: int | None  # the window in words; None: the sentence
    side: str  # of the anchor: "either" | "before" | "after"


def make_plans(
    rules: Sequence[Rule],
    terms: Sequence[Term],
    side_needs: Mapping[str, tuple[tuple[int, ...], ...]],
) -> tuple[Plan, ...]:
    """One plan per rule, in order (`side_needs`: what each value of `sides` needs)."""
    return tuple(_make_plan(terms, side_needs, rule) for rule in rules)


def _make_plan(
    terms: Sequence[Term], side_needs: Mapping[str, tuple[tuple[int, ...], ...]], rule: Rule
) -> Plan:
    requirements = [_Need(r.terms, r.within.words, r.side) for r in rule.requirements]
    # what `sides` needs at least, in the sentence (an empty list of terms can never be
    # met: no actors, no firing)
    if rule.sides:
        requirements += [_Need(needed, None, "either") for needed in side_needs[rule.sides]]
    needs = (frozenset(rule.anchor), *(frozenset(r.terms) for r in requirements))
    offset = max((terms[t].key_offset for t in rule.anchor), default=0)
    rank = {term: place for place, term in enumerate(rule.anchor)}
    masks = tuple(sum(1 << term for term in need) for need in needs)
    if any(not terms[t].key for t in rule.anchor):
        return Plan(needs, masks, None, offset, rank)
    reach = max(terms[t].reach for t in rule.anchor)
    bounds = tuple(
        _bound(r, offset, reach, max((terms[t].key_offset for t in r.terms), default=0))
        for r in requirements
    )
    return Plan(needs, masks, bounds, offset, rank)


def present_mask(terms: Iterable[int]) -> int:
    """The bit set of `terms` (bit i: term i)."""
    mask = 0
    for term in terms:
        mask |= 1 << term
    return mask


def may_fire(plan: Plan, present: int) -> bool:
    """Whether every need of the plan has a term in the bit set `present`."""
    return all(need & present for need in plan.need_masks)


def _bound(requirement: _Need, offset: int, reach: int, its_offset: int) -> Bound:
    words, side = requirement.words, requirement.side
    if words is None:
        before, after = offset + SENTENCE_REACH, SENTENCE_REACH + its_offset
    else:
        window = (words + 1) * CHARS_PER_WORD
        before, after = offset + window, reach + window + its_offset
    if side == "after":  # the hit starts after the anchor, or is the anchor
        before = min(before, offset)
    elif side == "before":
        after = min(after, its_offset + 1)
    return Bound(requirement.terms, before, after)


def screened(
    bounds: tuple[Bound, ...],
    anchor_keys: list[int],
    sorted_keys: Callable[[tuple[int, ...]], list[int]],
) -> list[int]:
    """Indices of the anchor keys that have a candidate of every requirement within its
    bound. `sorted_keys(terms)` gives the sorted candidate key starts of `terms`; it is
    only asked while some anchor is left."""
    keep: Iterable[int] = range(len(anchor_keys))
    for bound in bounds:
        keys = sorted_keys(bound.terms)
        before, after, end = bound.before, bound.after, len(keys)
        keep = [
            i
            for i in keep
            if (j := bisect.bisect_left(keys, (k := anchor_keys[i]) - before)) < end
            and keys[j] < k + after
        ]
        if not keep:
            return []
    return list(keep)
