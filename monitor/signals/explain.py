"""Human explanations: what fired and why, what nearly fired, and terminal-safe text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.models import Match
from monitor.signals.matcher import Evaluation, evaluate, to_match
from monitor.signals.rules import RuleSet

# C0/C1 controls except tab and newline, and bidi embeddings/overrides/isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MAX_MISSES = 20


def safe(text: str) -> str:
    """Text fit for a terminal: control and bidi-override characters removed."""
    return _UNSAFE.sub("", text)


def one_line(text: str, limit: int = 300) -> str:
    """Terminal-safe text on one line, cut to `limit` characters."""
    flat = " ".join(safe(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def explain(rules: RuleSet, title: str, text: str, lang: str | None = None) -> list[str]:
    """Lines explaining the score of one text: signals with evidence, then near-misses."""
    run = evaluate(rules, title, text, lang, explain=True)
    match = to_match(run)
    verdict = "FLAGGED" if match.flagged else "not flagged"
    lines = [
        f"score {match.score:g} (threshold {rules.threshold:g}): {verdict}",
        f"rules version {rules.version}",
    ]
    lines += describe_signals(match)
    lines += _near_misses(run)
    return lines


def describe_signals(match: Match) -> list[str]:
    """Each signal: what fired, who and where, then each evidence sentence once with its
    matched spans marked [[like this]]."""
    if not match.signals:
        return ["no rule fired"]
    lines: list[str] = []
    for signal in match.signals:
        lines.append(f"- {signal.type} via rule {signal.rule} (weight {signal.weight:g})")
        who = who_and_where(signal.actors, signal.sides, signal.places)
        if who:
            lines.append(f"    {who}")
        if len(signal.marks) != len(signal.sentences):  # evidence from before marks
            lines.append(f"    terms: {', '.join(one_line(t, 60) for t in signal.terms)}")
        for i, sentence in enumerate(signal.sentences):
            marks = signal.marks[i] if i < len(signal.marks) else ()
            lines.append(f"    » {one_line(mark_sentence(sentence, marks), 400)}")
    return lines


def who_and_where(actors: Sequence[str], sides: Sequence[str], places: Sequence[str]) -> str:
    """ "who: putin, trump (ru, us); where: anchorage", or "" if none is known."""
    parts = []
    if actors or sides:
        parts.append(
            f"who: {', '.join(actors) or '-'}" + (f" ({', '.join(sides)})" if sides else "")
        )
    if places:
        parts.append(f"where: {', '.join(places)}")
    return "; ".join(parts)


def mark_sentence(sentence: str, marks: Sequence[Sequence[int]]) -> str:
    """`sentence` with each marked span wrapped in [[ ]], so it shows in plain text."""
    out: list[str] = []
    at = 0
    for start, end in sorted((int(a), int(b)) for a, b in marks):
        if start < at or end > len(sentence):
            continue  # overlapping or out of range: left unmarked
        out += [sentence[at:start], "[[", sentence[start:end], "]]"]
        at = end
    return "".join([*out, sentence[at:]])


def _near_misses(run: Evaluation) -> list[str]:
    fired = set(run.occurrences)
    misses = [m for m in run.misses if m.rule.id not in fired]
    if not misses:
        return []
    lines = ["near misses (anchor found, rule did not fire):"]
    seen: set[tuple[str, str]] = set()
    for miss in misses:
        anchor = run.document[slice(*run.original(miss.anchor.start, miss.anchor.end))]
        if (miss.rule.id, miss.reason) in seen:
            continue
        seen.add((miss.rule.id, miss.reason))
        lines.append(
            f"- {miss.rule.id} ({miss.rule.type}): {one_line(anchor, 60)!r}: "
            f"{one_line(miss.reason, 160)}"
        )
        if len(seen) >= _MAX_MISSES:
            lines.append("  (more near misses not shown)")
            break
    return lines
