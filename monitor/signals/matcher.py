"""Evaluate the rules around each anchor of a document and score it.

The candidates, their verification and nearness are in document.py; screen.py drops
anchors that cannot fire before they are checked.
"""

from __future__ import annotations

import bisect
import itertools

from monitor.models import Match, Signal
from monitor.signals.document import (
    Evaluation,
    Hit,
    Miss,
    Occurrence,
    find_candidates,
    find_hits,
    near,
)
from monitor.signals.evidence import make_signal
from monitor.signals.normalize import fold
from monitor.signals.rules import Requirement, Rule, RuleSet
from monitor.signals.screen import Plan, may_fire, present_mask, screened
from monitor.signals.sides import check_sides, side_sentences_near, third_party_title

__all__ = [
    "Evaluation",
    "Hit",
    "compose_document",
    "evaluate",
    "find_hits",
    "match_document",
    "to_match",
]

_MAX_ANCHORS = 400  # anchors examined per rule and document


def compose_document(title: str, text: str) -> str:
    """The exact string that spans point into."""
    return f"{title}\n\n{text}"


def evaluate(
    rules: RuleSet, title: str, text: str, lang: str | None = None, explain: bool = False
) -> Evaluation:
    """Evaluate every rule on one item; `explain` also checks anchors that cannot fire and
    records why each did not."""
    document = compose_document(title, text)
    folded = fold(document)
    raw, checked, encoded = find_candidates(rules, folded.text, folded.encoded)
    run = Evaluation(
        rules,
        document,
        folded,
        folded.from_original(len(title)),
        raw,
        _checked=checked,
        encoded=encoded,
    )
    present = present_mask(raw)
    for rule, plan in zip(rules.rules, rules.plans, strict=True):
        if rule.lang and lang and rule.lang != lang:
            continue
        if explain:
            anchors = _explained_anchors(rule, run)
        elif not may_fire(plan, present):
            continue  # a requirement without any candidate: the rule cannot fire
        else:
            anchors = _screened_anchors(rule, plan, run)
        found = _evaluate_rule(rule, anchors, run, explain)
        if found:
            run.occurrences[rule.id] = found
    return run


def _evaluate_rule(
    rule: Rule, anchors: list[Hit], run: Evaluation, explain: bool
) -> list[Occurrence]:
    best: dict[tuple[int, int], Occurrence] = {}
    fired_until = -1  # the end of the last sentence that fired: later anchors in it weigh
    for anchor in anchors:  # no more (the factor falls with depth), so they are skipped
        if anchor.start < fired_until and not explain:
            continue
        occurrence = _check_anchor(rule, anchor, run, explain)
        if occurrence is not None:
            fired_until = max(fired_until, occurrence.sentence[1])
        if occurrence is not None:
            current = best.get(occurrence.sentence)
            if current is None or occurrence.factor > current.factor:
                best[occurrence.sentence] = occurrence
    return sorted(best.values(), key=lambda o: (-o.factor, o.anchor.start))


def _explained_anchors(rule: Rule, run: Evaluation) -> list[Hit]:
    """Every anchor (up to the cap), recording why the body's anchors of a rule vetoed
    by the title were not looked at."""
    anchors = run.merged(rule.anchor)
    if not anchors:
        return []
    why = _body_ruled_out(rule, run)
    if why:
        in_title = [a for a in anchors if a.start < run.title_end]
        if len(in_title) < len(anchors):
            run.misses.append(
                Miss(rule, anchors[len(in_title)], f"{why}, which rules out the body")
            )
        anchors = in_title
    return anchors[:_MAX_ANCHORS]


def _screened_anchors(rule: Rule, plan: Plan, run: Evaluation) -> list[Hit]:
    """The anchors `_explained_anchors` gives, in the same order, less those that cannot
    fire: none of a requirement's candidates near them (screen.py)."""
    keyed = _anchor_keys(rule, plan, run)
    if keyed is None or plan.bounds is None:
        found = run.merged(rule.anchor)
        if rule.sides:
            keep = side_sentences_near(run, rule, [hit.start for hit in found])
            found = [hit for hit, ok in zip(found, keep, strict=True) if ok]
        found = found[:_MAX_ANCHORS]
    else:
        starts, owners = keyed
        chosen = screened(plan.bounds, starts, run.candidate_starts)
        if rule.sides:
            keep = side_sentences_near(run, rule, [starts[i] for i in chosen])
            chosen = [i for i, ok in zip(chosen, keep, strict=True) if ok]
        hits = [run.check(owners[i], starts[i]) for i in chosen[:_MAX_ANCHORS]]
        found = [hit for hit in hits if hit is not None]
        found.sort(key=lambda h: (h.start, -h.end))
    if found and found[-1].start >= run.title_end and _body_ruled_out(rule, run):
        return [hit for hit in found if hit.start < run.title_end]
    return found


def _body_ruled_out(rule: Rule, run: Evaluation) -> str:
    """Why the title rules out the rule's anchors in the body ("" if it does not): it
    holds an `exclude_title` term, or reports a contact with a third party."""
    if _title_vetoes(rule, run):
        term = run.title_hits(rule.exclude_title)[0]
        return f"the title has excluded term {rules_term(run, term)!r}"
    if rule.third_party_title and third_party_title(
        run, rule.third_party_title, rule.counterpart_within
    ):
        return "the title reports a contact with a third party"
    return ""


def _anchor_keys(rule: Rule, plan: Plan, run: Evaluation) -> tuple[list[int], list[int]] | None:
    """The anchors' key starts in the rule's scope, term by term in the rule's order, with
    their terms; None if they are not to be screened. Rules with the same anchor list and
    scope share them (cached per document)."""
    key = (rule.anchor, rule.scope)
    if key in run.anchor_keys:
        return run.anchor_keys[key]
    raw = run.raw
    present = sorted(plan.needs[0].intersection(raw), key=plan.anchor_rank.__getitem__)
    keyed: tuple[list[int], list[int]] | None = None
    if plan.bounds is not None:
        starts: list[int] = []
        owners: list[int] = []
        for term in present:  # in the rule's order
            keys = raw[term]
            if rule.scope == "title":
                keys = keys[: bisect.bisect_left(keys, run.title_end + plan.title_reach)]
            elif rule.scope == "body":
                keys = keys[bisect.bisect_left(keys, run.title_end) :]
            starts += keys
            owners += [term] * len(keys)
        keyed = (starts, owners)
    run.anchor_keys[key] = keyed
    return keyed


def _title_vetoes(rule: Rule, run: Evaluation) -> bool:
    """Whether an `exclude_title` term is in the title (only title candidates verified)."""
    if not rule.exclude_title:
        return False
    vetoes = run.title_vetoes.get(rule.exclude_title)
    if vetoes is None:
        limit = run.title_end + run.rules.max_key_offset
        vetoes = run.title_vetoes[rule.exclude_title] = any(
            hit is not None and hit.start < run.title_end
            for term in run.present(rule.exclude_title)
            for start in itertools.takewhile(limit.__gt__, run.raw[term])
            if (hit := run.check(term, start)) is not None
        )
    return vetoes


def _check_anchor(rule: Rule, anchor: Hit, run: Evaluation, explain: bool) -> Occurrence | None:
    in_title = anchor.start < run.title_end
    if (rule.scope == "title" and not in_title) or (rule.scope == "body" and in_title):
        return None
    evidence: list[Hit] = []
    sentence = passage_sentence(run, anchor)
    if rule.sides:  # first: most anchors have no actor of either side in their sentence
        verdict = check_sides(run, rule, anchor, *sentence)
        if verdict.problem:
            if explain:
                run.misses.append(Miss(rule, anchor, verdict.problem))
            return None
        evidence += [n.hit for n in verdict.participants]
    for requirement in rule.requirements:
        found = near(run, anchor, requirement.terms, requirement.within, requirement.side)
        if found is None:
            if explain:
                run.misses.append(Miss(rule, anchor, _missing(requirement)))
            return None
        if found != anchor and found not in evidence:
            evidence.append(found)
    vetoes = ((rule.exclude, rule.exclude_within),) if rule.exclude else ()
    for terms, within in (*vetoes, *((v.terms, v.within) for v in rule.vetoes)):
        excluded = near(run, anchor, terms, within, "either")
        if excluded is not None:
            if explain:
                run.misses.append(
                    Miss(rule, anchor, f"excluded: {rules_term(run, excluded)!r} within {within}")
                )
            return None
    return Occurrence(rule, anchor, tuple(evidence), _position_factor(run, anchor.start), sentence)


def passage_sentence(run: Evaluation, anchor: Hit) -> tuple[int, int]:
    """The anchor's sentence, cut to its passage (the title or the body)."""
    lo, hi = run.sentence(anchor.start)
    if anchor.start < run.title_end:
        return lo, min(hi, run.title_end)
    return max(lo, run.title_end), hi


def _missing(requirement: Requirement) -> str:
    where = {"after": " after it", "before": " before it"}.get(requirement.side, "")
    return f"no {requirement.name} within {requirement.within}{where}"


def rules_term(run: Evaluation, hit: Hit) -> str:
    return run.rules.terms[hit.term].source


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


def match_document(rules: RuleSet, title: str, text: str, lang: str | None = None) -> Match:
    """Score one item; every signal carries its evidence in `compose_document` offsets."""
    return to_match(evaluate(rules, title, text, lang))


def to_match(run: Evaluation) -> Match:
    """The match of an evaluation: its signals, heaviest first, and the score."""
    signals = [make_signal(run, found) for found in run.occurrences.values()]
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
