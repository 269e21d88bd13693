"""Explanations for `rules test`, and terminal-safe text."""

from __future__ import annotations

from pathlib import Path

from monitor.signals import load_rules
from monitor.signals.explain import explain, one_line, safe

RULES = load_rules(Path(__file__).resolve().parent / "fixtures" / "signals" / "tiny_rules.toml")


def test_explain_safe_strips_controls_and_bidi() -> None:
    """C0/C1 controls and bidi overrides go; newline and tab stay."""
    assert safe("a\x1b[2Jb\x85c\u202ed\u2066e\n\tf") == "a[2Jbcde\n\tf"


def test_explain_one_line_truncates() -> None:
    """one_line flattens whitespace and truncates with an ellipsis."""
    assert one_line("a\n b   c", 100) == "a b c"
    assert len(one_line("x" * 500, 50)) == 50


def test_explain_reports_score_rules_and_near_misses() -> None:
    """The explanation names the fired rule with its sentence, and why others did not fire."""
    lines = explain(RULES, "", "Biden spoke with Putin. Talks in Geneva with Russia.")
    text = "\n".join(lines)
    assert "FLAGGED" in text and "leader_call via rule call" in text
    assert "Biden spoke with Putin." in text
    assert "venue" in text and "no us side within the same sentence" in text


def test_explain_nothing_found() -> None:
    """With no anchor at all, the explanation says no rule fired."""
    assert "no rule fired" in "\n".join(explain(RULES, "", "Weather report."))
