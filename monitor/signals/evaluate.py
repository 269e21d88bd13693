"""Precision, recall and F1 of the rules on labelled items, with every error listed;
and the figures of a labelled stream: with and without borderline items, off-topic
flags per 1,000 items, misses by signal type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.models import Match


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled item and what the matcher made of it."""

    id: str
    lang: str
    label: int
    signal: str | None  # the labelled signal type, if any
    borderline: bool
    match: Match


@dataclass(frozen=True, slots=True)
class Counts:
    """A confusion matrix of flags against labels."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        """Share of the flags that are right (1.0 without flags)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of the positives flagged (1.0 without positives)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def flag_rate_of_negatives(self) -> float:
        """Share of the negatives flagged."""
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else 0.0

    def add(self, item: Labelled) -> Counts:
        """The counts with one more item."""
        flagged = item.match.flagged
        return Counts(
            self.tp + (flagged and item.label == 1),
            self.fp + (flagged and item.label == 0),
            self.fn + (not flagged and item.label == 1),
            self.tn + (not flagged and item.label == 0),
        )


@dataclass(slots=True)
class Report:
    """The figures of a labelled set, overall and per language and type."""

    overall: Counts = Counts()
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_type: dict[str, Counts] = field(default_factory=dict)  # labelled type: recall only
    without_borderline: Counts = Counts()
    false_positives: list[Labelled] = field(default_factory=list)
    false_negatives: list[Labelled] = field(default_factory=list)


def evaluate_items(items: Iterable[Labelled]) -> Report:
    """Count the matcher's flags against the labels of `items`."""
    report = Report()
    for item in items:
        report.overall = report.overall.add(item)
        report.by_lang[item.lang] = report.by_lang.get(item.lang, Counts()).add(item)
        if item.label == 1:
            kind = item.signal or "(unlabelled type)"
            report.by_type[kind] = report.by_type.get(kind, Counts()).add(item)
        if not item.borderline:
            report.without_borderline = report.without_borderline.add(item)
        if item.match.flagged and item.label == 0:
            report.false_positives.append(item)
        elif not item.match.flagged and item.label == 1:
            report.false_negatives.append(item)
    return report


def off_topic(report: Report) -> list[Labelled]:
    """Flags on items labelled 0 that are not borderline."""
    return [item for item in report.false_positives if not item.borderline]


def misses_by_type(report: Report) -> dict[str, list[Labelled]]:
    """The missed positives, per labelled signal type."""
    found: dict[str, list[Labelled]] = {}
    for item in report.false_negatives:
        found.setdefault(item.signal or "(unlabelled type)", []).append(item)
    return dict(sorted(found.items()))


def format_stream(report: Report) -> list[str]:
    """The figures of a labelled stream, at its real base rate."""
    total = report.overall.tp + report.overall.fp + report.overall.fn + report.overall.tn
    noise = off_topic(report)
    on_borderline = len(report.false_positives) - len(noise)
    lines = [
        format_counts("with borderline items", report.overall),
        format_counts("without borderline items", report.without_borderline),
        f"off-topic flags: {len(noise)} of {total} items "
        f"({1000 * len(noise) / max(total, 1):.1f} per 1,000); "
        f"flags on borderline negatives: {on_borderline}",
    ]
    missed = misses_by_type(report)
    lines.append(
        f"misses by signal type ({len(report.false_negatives)}):"
        if missed
        else "misses by signal type: none"
    )
    for kind, items in missed.items():
        counts = report.by_type.get(kind, Counts())
        borderline = sum(item.borderline for item in items)
        lines.append(
            f"  {kind:<26} {len(items)} of {counts.tp + counts.fn} missed"
            + (f" ({borderline} borderline)" if borderline else "")
        )
    return lines


def format_counts(name: str, counts: Counts) -> str:
    """One line of precision, recall and F1 with the counts behind them."""
    return (
        f"{name:<28} precision {counts.precision:.3f}  recall {counts.recall:.3f}  "
        f"F1 {counts.f1:.3f}  (tp {counts.tp}, fp {counts.fp}, fn {counts.fn}, "
        f"tn {counts.tn})"
    )


def format_report(report: Report) -> list[str]:
    """The figures of a labelled set, overall, per language and per type."""
    lines = [
        format_counts("overall", report.overall),
        format_counts("without borderline items", report.without_borderline),
    ]
    lines += [format_counts(f"lang {lang}", c) for lang, c in sorted(report.by_lang.items())]
    for lang, counts in sorted(report.by_lang.items()):
        lines.append(f"lang {lang}: {counts.flag_rate_of_negatives:.1%} of negatives flagged")
    lines += [
        f"{'type ' + kind:<28} recall {c.recall:.3f}  ({c.tp} of {c.tp + c.fn})"
        for kind, c in sorted(report.by_type.items())
    ]
    return lines
