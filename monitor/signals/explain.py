"""Human explanations: what fired and why, what nearly fired, and terminal-safe text."""

from __future__ import annotations

import re

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
    flat = " ".join(safe(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def explain(rules: RuleSet, title: str, text: str, lang: str | None = None) -> list[str]:
    """Lines explaining the score of one text: signals with evidence, then near-misses."""
    run = evaluate(rules, title, text, lang, explain=True)
    match = to_match(run)
    verdict = "FLAGGED" if match.flagged else "not flagged"
    lines = [f"score {match.score:g} (threshold {rules.threshold:g}): {verdict}",
             f"rules version {rules.version}"]
    lines += describe_signals(match)
    lines += _near_misses(run)
    return lines


def describe_signals(match: Match) -> list[str]:
    if not match.signals:
        return ["no rule fired"]
    lines: list[str] = []
    for signal in match.signals:
        lines.append(f"- {signal.type} via rule {signal.rule} (weight {signal.weight:g})")
        lines.append(f"    terms: {', '.join(one_line(t, 60) for t in signal.terms)}")
        for span, sentence in zip(signal.spans, signal.sentences, strict=False):
            lines.append(f"    [{span[0]}:{span[1]}] {one_line(sentence, 240)}")
    return lines


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
        lines.append(f"- {miss.rule.id} ({miss.rule.type}): {one_line(anchor, 60)!r}: "
                     f"{one_line(miss.reason, 160)}")
        if len(seen) >= _MAX_MISSES:
            lines.append("  (more near misses not shown)")
            break
    return lines
