"""Explanations for `rules test`, and terminal-safe text."""

from __future__ import annotations

from pathlib import Path

from monitor.models import Match, Signal
from monitor.signals import load_rules
from monitor.signals.explain import describe_signals, explain, mark_sentence, one_line, safe

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
    assert "FLAGGED" in text
    assert "leader_call via rule call" in text
    assert "» [[Biden]] [[spoke]] with [[Putin]]." in text
    assert "venue" in text
    assert "no us side within the same sentence" in text


def test_explain_nothing_found() -> None:
    """With no anchor at all, the explanation says no rule fired."""
    assert "no rule fired" in "\n".join(explain(RULES, "", "Weather report."))


def test_explain_mark_sentence_wraps_each_span() -> None:
    """Marked spans are wrapped in [[ ]]; overlapping or out-of-range marks are left out."""
    assert (
        mark_sentence("Putin and Trump spoke", [(0, 5), (10, 15)])
        == "[[Putin]] and [[Trump]] spoke"
    )
    assert mark_sentence("abc", [(0, 2), (1, 3), (2, 9)]) == "[[ab]]c"


def test_explain_each_sentence_once_with_who_and_where() -> None:
    """A sentence holding several matched terms is shown once, with actors, sides, places."""
    signal = Signal(
        "leader_call",
        "call",
        1.5,
        ("Putin", "Trump", "spoke"),
        ((0, 5), (10, 15), (16, 21)),
        ("Putin and Trump spoke in Geneva.",),
        (((0, 5), (10, 15), (16, 21)),),
        ("putin", "trump"),
        ("geneva",),
        ("ru", "us"),
    )
    lines = describe_signals(Match(1.5, True, (signal,)))
    assert lines[1] == "    who: putin, trump (ru, us); where: geneva"
    assert lines[2:] == ["    » [[Putin]] and [[Trump]] [[spoke]] in Geneva."]


def test_explain_evidence_without_marks_lists_terms() -> None:
    """Evidence stored before marks existed still shows its terms and sentences."""
    signal = Signal("leader_call", "call", 1.0, ("spoke",), ((6, 11),), ("Biden spoke.",))
    lines = describe_signals(Match(1.0, True, (signal,)))
    assert "    terms: spoke" in lines
    assert "    » Biden spoke." in lines
