"""Screening and the pruned nearness search change no result of the matcher."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.signals import load_rules, match_document
from monitor.signals.document import near, near_by_scan
from monitor.signals.matcher import evaluate, to_match
from tests.conftest import SHARED, needs_shared

REPO = Path(__file__).resolve().parent.parent
RULE_SETS = [
    load_rules(REPO / "config" / "rules.toml"),
    load_rules(REPO / "tests" / "fixtures" / "signals" / "tiny_rules.toml"),
]
DEVSET = SHARED / "devset" / "items.jsonl"

WORDS = [
    *sorted({word for term in RULE_SETS[0].terms for word in term.words}),
    "President",
    "U.S.",
    "Putin's",
    "Mr.",
    "said",
    "a",
    "of",
    "ПУТИН",
    "China",
    "COP29",
]
GLUE = [" "] * 8 + ["\n", "\n\n", ". ", ", ", "-", "(", "«", "“", "'", "? ", "… ", "\xa0"]
texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), max_size=60).map(
    lambda parts: "".join(word + glue for word, glue in parts)
)
titles = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
langs = st.sampled_from(["en", "ru", None])


@settings(max_examples=200, deadline=None)
@given(titles, texts, langs)
def test_screen_leaves_the_match_unchanged(title: str, text: str, lang: str | None) -> None:
    """Matching with screening gives what checking every anchor (explain mode) gives."""
    for rules in RULE_SETS:
        full = to_match(evaluate(rules, title, text, lang, explain=True))
        assert match_document(rules, title, text, lang) == full


@settings(max_examples=200, deadline=None)
@given(titles, texts)
def test_screen_near_in_words_finds_what_a_full_scan_finds(title: str, text: str) -> None:
    """The pruned searches (word and same-sentence windows) return what a full scan returns."""
    for rules in RULE_SETS:
        run = evaluate(rules, title, text, explain=True)
        for rule in rules.rules:
            for anchor in run.merged(rule.anchor)[:50]:
                wanted = [(r.terms, r.within, r.side) for r in rule.requirements]
                wanted.append((rule.exclude, rule.exclude_within, "either"))
                for terms, within, side in wanted:
                    assert near(run, anchor, terms, within, side) == near_by_scan(
                        run, anchor, terms, within, side
                    )


@needs_shared
def test_screen_devset_matches_unchanged() -> None:
    """On every dev-set item, screening gives what checking every anchor gives."""
    rules = RULE_SETS[0]
    for line in DEVSET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        args = (str(row["title"]), str(row["text"]), str(row["lang"]))
        assert match_document(rules, *args) == to_match(evaluate(rules, *args, explain=True))
