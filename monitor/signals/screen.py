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
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitor.signals.document import CHARS_PER_WORD, SENTENCE_REACH
from monitor.signals.rules import Requirement, Rule, RuleSet, Window


@dataclass(frozen=True, slots=True)
class Bound:
    """Candidates of `terms` for an anchor key at k lie in [k - before, k + after)."""

    terms: tuple[int, ...]
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Plan:
    needs: tuple[frozenset[int], ...]  # anchor terms, then each requirement's terms
    need_masks: tuple[int, ...]  # the same as bit sets (bit i: term i), see `present_mask`
    bounds: tuple[Bound, ...] | None  # None: anchors are not screened
    title_reach: int  # an anchor in the title has its key before title end + this
    anchor_rank: dict[int, int] = field(default_factory=dict, compare=False)  # term -> place


_PLANS: weakref.WeakKeyDictionary[RuleSet, tuple[Plan, ...]] = weakref.WeakKeyDictionary()


def plans(rules: RuleSet) -> tuple[Plan, ...]:
    """One plan per rule of `rules`, in order (made once per rule set)."""
    found = _PLANS.get(rules)
    if found is None:
        found = _PLANS[rules] = tuple(_make_plan(rules, rule) for rule in rules.rules)
    return found


def _make_plan(rules: RuleSet, rule: Rule) -> Plan:
    terms = rules.terms
    requirements = (*rule.requirements, *_side_requirements(rules, rule))
    needs = (frozenset(rule.anchor), *(frozenset(r.terms) for r in requirements))
    offset = max((terms[t].key_offset for t in rule.anchor), default=0)
    rank = {term: place for place, term in enumerate(rule.anchor)}
    masks = tuple(sum(1 << term for term in need) for need in needs)
    if any(not terms[t].key for t in rule.anchor):
        return Plan(needs, masks, None, offset, rank)
    reach = max(terms[t].reach for t in rule.anchor)
    bounds = tuple(_bound(r, offset, reach, max((terms[t].key_offset for t in r.terms), default=0))
                   for r in requirements)
    return Plan(needs, masks, bounds, offset, rank)


def _side_requirements(rules: RuleSet, rule: Rule) -> tuple[Requirement, ...]:
    """What `sides` needs at least, as requirements in the sentence (an empty list of
    terms can never be met: no actors, no firing)."""
    if not rule.sides:
        return ()
    return tuple(Requirement("side", terms, Window(None), "either")
                 for terms in rules.side_needs[rule.sides])


def present_mask(terms: Iterable[int]) -> int:
    """The bit set of `terms` (bit i: term i)."""
    mask = 0
    for term in terms:
        mask |= 1 << term
    return mask


def may_fire(plan: Plan, present: int) -> bool:
    """Whether every need of the plan has a term in the bit set `present`."""
    for need in plan.need_masks:
        if not need & present:
            return False
    return True


def _bound(requirement: Requirement, offset: int, reach: int, its_offset: int) -> Bound:
    words = requirement.within.words
    if words is None:
        before, after = offset + SENTENCE_REACH, SENTENCE_REACH + its_offset
    else:
        window = (words + 1) * CHARS_PER_WORD
        before, after = offset + window, reach + window + its_offset
    if requirement.side == "after":  # the hit starts after the anchor, or is the anchor
        before = min(before, offset)
    elif requirement.side == "before":
        after = min(after, its_offset + 1)
    return Bound(requirement.terms, before, after)


def screened(bounds: tuple[Bound, ...], anchor_keys: list[int],
             sorted_keys: Callable[[tuple[int, ...]], list[int]]) -> list[int]:
    """Indices of the anchor keys that have a candidate of every requirement within its
    bound. `sorted_keys(terms)` gives the sorted candidate key starts of `terms`; it is
    only asked while some anchor is left."""
    keep: Iterable[int] = range(len(anchor_keys))
    for bound in bounds:
        keys = sorted_keys(bound.terms)
        before, after, end = bound.before, bound.after, len(keys)
        keep = [i for i in keep
                if (j := bisect.bisect_left(keys, (k := anchor_keys[i]) - before)) < end
                and keys[j] < k + after]
        if not keep:
            return []
    return list(keep)
