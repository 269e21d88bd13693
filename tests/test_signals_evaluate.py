"""Evaluation arithmetic: precision, recall, F1, per language and labelled type."""

from __future__ import annotations

from monitor.models import Match
from monitor.signals.evaluate import Counts, Labelled, evaluate_items, format_report


def item(
    label: int, flagged: bool, lang: str = "en", signal: str | None = None, borderline: bool = False
) -> Labelled:
    return Labelled(
        f"{label}{flagged}{lang}",
        lang,
        label,
        signal,
        borderline,
        Match(1.0 if flagged else 0.0, flagged),
    )


def test_evaluate_counts_precision_recall_f1() -> None:
    """tp 2, fp 1, fn 1 gives precision 2/3, recall 2/3, F1 2/3."""
    report = evaluate_items(
        [item(1, True), item(1, True), item(0, True), item(1, False), item(0, False)]
    )
    assert report.overall == Counts(tp=2, fp=1, fn=1, tn=1)
    assert abs(report.overall.precision - 2 / 3) < 1e-9
    assert abs(report.overall.f1 - 2 / 3) < 1e-9


def test_evaluate_per_language_type_and_borderline() -> None:
    """Figures split by language and by labelled type; borderline items scored apart."""
    report = evaluate_items(
        [
            item(1, True, "ru", "leader_call"),
            item(0, True, "ru"),
            item(0, False, "ru"),
            item(1, False, "en", "arms_control"),
            item(0, True, "en", borderline=True),
        ]
    )
    assert report.by_lang["ru"].flag_rate_of_negatives == 0.5
    assert report.by_type["arms_control"].recall == 0.0
    assert report.by_type["leader_call"].recall == 1.0
    assert report.without_borderline.fp == 1
    assert len(report.false_positives) == 2
    assert len(report.false_negatives) == 1
    assert any("type arms_control" in line for line in format_report(report))


def test_evaluate_empty_counts_do_not_divide_by_zero() -> None:
    """No items means perfect precision and recall rather than an error."""
    assert Counts().precision == 1.0
    assert Counts().recall == 1.0
