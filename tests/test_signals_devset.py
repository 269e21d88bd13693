"""The default rules on the labelled sets in ../shared: the quality bar, and floors that
fail when a figure drops.

Sources: the dev set (kremlin.ru / en.kremlin.ru, CC BY 4.0; whitehouse.gov, public
domain) and the labelled streams (a news agency's headlines, for internal evaluation
only; en.kremlin.ru). Texts are read from ../shared at test time, never copied here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from monitor.signals import compose_document, load_rules, match_document
from monitor.signals.evaluate import Labelled, Report, evaluate_items, off_topic
from tests.conftest import SHARED, needs_shared

REPO = Path(__file__).resolve().parent.parent
DEVSET = SHARED / "devset" / "items.jsonl"
NEWS = SHARED / "streams" / "news-headlines-2025-11-01_14.jsonl"
KREMLIN = SHARED / "streams" / "kremlin-en-2021-10-24_2022-01-31.jsonl"
# The bar: precision and recall >= 0.90 on every set, borderline items left out.
BAR = 0.90
# Floors: the figures the default rules reach today (README, "Figures"); a test fails
# when one drops. Raise them when the rules get better.
FLOORS = {  # set: (precision, recall), borderline items left out
    "devset": (0.93, 0.95),
    "news": (0.97, 1.00),
}
MAX_KREMLIN_OFF_TOPIC = 1


@cache
def scored(path: Path) -> tuple[tuple[dict[str, object], Labelled], ...]:
    rules = load_rules(REPO / "config" / "rules.toml")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return tuple(
        (
            row,
            Labelled(
                str(row["id"]),
                str(row["lang"]),
                int(str(row["label"])),
                row.get("signal"),  # type: ignore[arg-type]
                row.get("borderline") is True or str(row.get("why", "")).startswith("BORDERLINE"),
                match_document(rules, str(row["title"]), str(row["text"]), str(row["lang"])),
            ),
        )
        for row in rows
    )


def report(path: Path) -> Report:
    return evaluate_items(item for _, item in scored(path))


@needs_shared
@pytest.mark.parametrize(("name", "path"), [("devset", DEVSET), ("news", NEWS)])
def test_devset_quality_bar_and_floors(name: str, path: Path) -> None:
    """Precision and recall, borderline items left out, reach the bar and today's floors."""
    counts = report(path).without_borderline
    precision, recall = FLOORS[name]
    assert counts.precision >= max(BAR, precision), counts
    assert counts.recall >= max(BAR, recall), counts


@needs_shared
def test_devset_kremlin_stream_at_most_one_off_topic_flag() -> None:
    """On a complete en.kremlin.ru stream (nearly all routine), at most one off-topic flag."""
    flagged = [item.id for item in off_topic(report(KREMLIN))]
    assert len(flagged) <= MAX_KREMLIN_OFF_TOPIC, flagged


@needs_shared
def test_devset_russian_items_all_right() -> None:
    """Every Russian positive is found and no Russian negative is flagged."""
    russian = report(DEVSET).by_lang["ru"]
    assert russian.recall == 1.0, russian
    assert russian.fp == 0, russian


@needs_shared
def test_devset_kremlin_positives_whose_subject_is_the_contact() -> None:
    """Kremlin positives are found, except the passing mention in a Foreign Ministry board
    speech (kremlin-en-67123): the dev set counts any passage, the Kremlin stream labels
    the same item 0 (its main subject is not the contact), and the rules follow the
    stream: no US actor is named with the contact there."""
    missed = [
        item.id
        for row, item in scored(DEVSET)
        if row["source"] == "kremlin" and item.label == 1 and not item.match.flagged
    ]
    assert missed in ([], ["kremlin-en-67123"])


@needs_shared
@pytest.mark.parametrize(
    ("item_id", "kind", "quote"),
    [
        (
            "wh-2021-01-26-readout-of-president-joseph-r-biden-jr-call-with-preside",
            "leader_call",
            "Putin",
        ),
        ("wh-2025-03-25-outcomes-of-the-united-states-and-russia-expert-groups-o", None, None),
        ("kremlin-ru-76338", "envoy_visit", "российско-американских"),
        (
            "wh-2021-05-25-statement-by-white-house-press-secretary-jen-psaki-on-th",
            "summit_planning",
            "Putin",
        ),
    ],
)
def test_devset_golden_items_flagged_with_evidence(
    item_id: str, kind: str | None, quote: str | None
) -> None:
    """Known positives are flagged, and their evidence spans quote the real text."""
    row, item = next((r, i) for r, i in scored(DEVSET) if str(r["id"]).startswith(item_id))
    assert item.match.flagged
    document = compose_document(str(row["title"]), str(row["text"]))
    with_sides = {
        rule.id for rule in load_rules(REPO / "config" / "rules.toml").rules if rule.sides
    }
    for signal in item.match.signals:
        assert set(signal.terms) <= {document[a:b] for a, b in signal.spans}
        if signal.rule in with_sides:
            assert signal.sides
            assert set(signal.sides) <= {"ru", "us", "third"}
    if kind is not None:
        signal = next(s for s in item.match.signals if s.type == kind)
        assert any(quote in document[a:b] for a, b in signal.spans)


@needs_shared
@pytest.mark.parametrize(
    "item_id",
    [
        "wh-2021-03-21-statement-by-president-biden-on-turkeys-withdrawal-from-",
        "wh-2025-03-25-outcomes-of-the-united-states-and-ukraine-expert-groups-",
        "wh-2024-11-23-statement-from-president-joe-biden-on-conclusion-of-cop2",
        "wh-2025-05-12-joint-statement-on-u-s-china-economic-and-trade-meeting-",
        "kremlin-en-67712",
        "kremlin-en-68696",
    ],
)
def test_devset_golden_hard_negatives_not_flagged(item_id: str) -> None:
    """Known hard negatives (same venue or wording, other parties) are not flagged."""
    _, item = next((r, i) for r, i in scored(DEVSET) if str(r["id"]).startswith(item_id))
    assert not item.match.flagged
