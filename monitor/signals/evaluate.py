"""Precision, recall and F1 of the rules on labelled items, with every error listed."""

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
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def flag_rate_of_negatives(self) -> float:
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else 0.0

    def add(self, item: Labelled) -> Counts:
        flagged = item.match.flagged
        return Counts(
            self.tp + (flagged and item.label == 1),
            self.fp + (flagged and item.label == 0),
            self.fn + (not flagged and item.label == 1),
            self.tn + (not flagged and item.label == 0),
        )


@dataclass(slots=True)
class Report:
    overall: Counts = Counts()
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_type: dict[str, Counts] = field(default_factory=dict)  # labelled type: recall only
    without_borderline: Counts = Counts()
    false_positives: list[Labelled] = field(default_factory=list)
    false_negatives: list[Labelled] = field(default_factory=list)


def evaluate_items(items: Iterable[Labelled]) -> Report:
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


def format_counts(name: str, counts: Counts) -> str:
    return (f"{name:<28} precision {counts.precision:.3f}  recall {counts.recall:.3f}  "
            f"F1 {counts.f1:.3f}  (tp {counts.tp}, fp {counts.fp}, fn {counts.fn}, "
            f"tn {counts.tn})")


def format_report(report: Report) -> list[str]:
    lines = [format_counts("overall", report.overall),
             format_counts("without borderline items", report.without_borderline)]
    lines += [format_counts(f"lang {lang}", c) for lang, c in sorted(report.by_lang.items())]
    for lang, counts in sorted(report.by_lang.items()):
        lines.append(f"lang {lang}: {counts.flag_rate_of_negatives:.1%} of negatives flagged")
    lines += [f"{'type ' + kind:<28} recall {c.recall:.3f}  ({c.tp} of {c.tp + c.fn})"
              for kind, c in sorted(report.by_type.items())]
    return lines
