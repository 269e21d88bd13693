"""Candidates: the fast route keeps every candidate that verifies, and folds as fold does."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.signals import compose_document, load_rules
from monitor.signals.document import verify
from monitor.signals.normalize import fold, fold_marking
from monitor.signals.rules import RuleSet
from tests.conftest import SHARED, needs_shared

REPO = Path(__file__).resolve().parent.parent
RULES = load_rules(REPO / "config" / "rules.toml")
DEVSET = SHARED / "devset" / "items.jsonl"

WORDS = [*sorted({word for term in RULES.terms for word in term.words}),
         "President", "U.S.", "Putin's", "ПУТИН", "Ёлка", "x", "the"]
# Delimiters and gaps of every kind: the automaton's own, rare ones, irregular gaps,
# characters that send a text to the full folding route.
GLUE = [" ", " ", "\n", "\n\n", "  ", "\t", " \n", "\n\n\n", "\r\n", "-", "(", "«", "“", ".",
        ",", "'", "’", "&", "&amp;", "$", "_", "é", "É", "\u200b", "\xa0", "—", "/", "", "@",
        "…", "\x0c", "‘", "„", "]", "ß", "©", "§", "\u2028", "\u3000", "‒", "№", "α"]
texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), max_size=25).map(
    lambda parts: "".join(word + glue for word, glue in parts))


def assert_candidates_keep_verified(rules: RuleSet, document: str) -> None:
    folded, marks = fold_marking(document, rules.scanner.marks)
    fast = rules.scanner.candidates(folded.text, marks)
    reference = rules.scanner.plain_candidates(folded.text)
    for term in set(fast) | set(reference):
        kept, every = fast.get(term, []), reference.get(term, [])
        assert kept == sorted(set(kept)), rules.terms[term].source
        assert set(kept) <= set(every), rules.terms[term].source
        verified = {s for s in every if verify(rules.terms[term], folded.text, s) is not None}
        assert verified <= set(kept), (rules.terms[term].source, document)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["keep", "upper", "title"]))
def test_scan_fast_candidates_keep_every_verified_candidate(text: str, case: str) -> None:
    """Fast-route candidates are sorted reference candidates that include all that verify."""
    text = {"keep": text, "upper": text.upper(), "title": text.title()}[case]
    assert_candidates_keep_verified(RULES, text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_scan_fold_marking_folds_as_fold(text: str) -> None:
    """fold_marking gives fold's text and offsets, and marks only on the fast route."""
    expected = fold(text)
    folded, marks = fold_marking(text, RULES.scanner.marks)
    assert folded.text == expected.text
    if marks is not None:  # fast route: one folded character per original one
        assert len(folded.text) == len(text)
        assert not any(text[at].isalnum() for at in marks)
    for start in range(len(folded.text)):
        for end in (start + 1, min(len(folded.text), start + 7)):
            assert folded.to_original(start, end) == expected.to_original(start, end)


@needs_shared
def test_scan_devset_candidates_keep_every_verified_candidate() -> None:
    """On every dev-set item, the fast route keeps every candidate that verifies."""
    for line in DEVSET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert_candidates_keep_verified(RULES, compose_document(row["title"], row["text"]))
