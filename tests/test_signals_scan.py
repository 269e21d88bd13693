"""Candidates: the fast route keeps every candidate that verifies."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.signals import compose_document, load_rules, match_document
from monitor.signals.document import verify
from monitor.signals.normalize import fold
from monitor.signals.rules import RuleSet
from tests.conftest import SHARED, needs_shared

REPO = Path(__file__).resolve().parent.parent
RULES = load_rules(REPO / "config" / "rules.toml")
DEVSET = SHARED / "devset" / "items.jsonl"

WORDS = [
    *sorted({word for term in RULES.terms for word in term.words}),
    "President",
    "U.S.",
    "Putin's",
    "ПУТИН",
    "Ёлка",
    "x",
    "the",
]
# Delimiters and gaps of every kind: the automaton's own, rare ones, irregular gaps,
# characters that send a text to the full folding route.
GLUE = [
    " ",
    " ",
    "\n",
    "\n\n",
    "  ",
    "\t",
    " \n",
    "\n\n\n",
    "\r\n",
    "\n \n",
    "\x85",
    "-",
    "(",
    "«",
    "“",
    ".",
    ",",
    "'",
    "’",
    "&",
    "&amp;",
    "$",
    "_",
    "é",
    "É",
    "\u200b",
    "\xa0",
    "—",
    "/",
    "",
    "@",
    "…",
    "\x0c",
    "‘",
    "„",
    "]",
    "ß",
    "©",
    "§",
    "\u2028",
    "\u3000",
    "‒",
    "№",
    "α",
]
texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), max_size=25).map(
    lambda parts: "".join(word + glue for word, glue in parts)
)


def assert_candidates_keep_verified(rules: RuleSet, document: str) -> None:
    folded = fold(document)
    fast = rules.scanner.candidates(folded.text)
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


ROUTE_TEXTS = st.lists(
    st.tuples(
        st.sampled_from(WORDS),
        st.sampled_from(
            [
                " ",
                "\n",
                "\n\n",
                "  ",
                "\t",
                ",",
                "-",
                "(",
                "'",
                '"',
                "№",
                "…",
                "ѓ",
                "ё",
                "é",
                "\u3000",
            ]
        ),
    ),
    max_size=25,
).map(lambda parts: "".join(word + glue for word, glue in parts))


@settings(max_examples=300, deadline=None)
@given(ROUTE_TEXTS)
def test_scan_byte_routes_find_what_the_str_route_finds(text: str) -> None:
    """ASCII and cp1251 texts are scanned as bytes: same matches, same offsets."""
    folded = fold(text).text
    route, encoded = RULES.scanner.route(folded)
    by_str = RULES.scanner.by_str
    assert encoded is None or len(encoded.data) == len(folded)

    def spelled(found: list[tuple[int, int, int]]) -> set[tuple[str, int]]:
        return {(folded[start:end], start) for _, start, end in found}

    assert spelled(route.matches(folded, encoded)) == spelled(by_str.matches(folded, None))


def test_scan_routes_by_text() -> None:
    """ASCII text, folded Russian press text and anything else each take their route."""
    latin_1, cp1251 = RULES.scanner.by_bytes
    assert RULES.scanner.route("putin spoke")[0] is latin_1
    assert RULES.scanner.route("president macron and putin met in évian")[0] is latin_1
    assert RULES.scanner.route("путин «сказал» №5 — ѓ…")[0] is cp1251
    assert RULES.scanner.route("erdoğan and putin")[0] is RULES.scanner.by_str


def test_scan_lone_surrogates_do_not_stop_the_scan() -> None:
    """Text decoded leniently may hold lone surrogates; terms around them are still found."""
    document = "\ud800Putin\udfff spoke with Biden \ud83d by phone"
    assert_candidates_keep_verified(RULES, document)
    found = {RULES.terms[t].source for t in RULES.scanner.candidates(fold(document).text)}
    assert {"putin", "biden"} <= {source.lower() for source in found}


@needs_shared
def test_scan_devset_candidates_keep_every_verified_candidate() -> None:
    """On every dev-set item, the fast route keeps every candidate that verifies."""
    for line in DEVSET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert_candidates_keep_verified(RULES, compose_document(row["title"], row["text"]))


@pytest.mark.parametrize(
    "document",
    [
        "russian-u.s.  president ",  # the first gap lies closer to the start than its window
        "u.s.\tpresident and the u.s.  president and u.s.\n\n\npresident",
        "x" * 300 + " u.s.  president " + "y" * 300 + " u.s.\tpresident",
    ],
)
def test_scan_phrases_across_irregular_gaps_anywhere(document: str) -> None:
    """A phrase split by an irregular gap is a candidate wherever the gap lies."""
    assert_candidates_keep_verified(RULES, document)
    term = next(i for i, t in enumerate(RULES.terms) if t.source == "u.s. president")
    expected = [m.start() for m in re.finditer(r"u\.s\.\s+president", document)]
    assert RULES.scanner.candidates(fold(document).text).get(term) == expected


STR_ONLY = dataclasses.replace(RULES, encodings=())
SENTENCES = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from([*GLUE, ". ", "! ", "\n", "? "])), max_size=60
).map(lambda parts: "".join(word + glue for word, glue in parts))


@settings(max_examples=200, deadline=None)
@given(SENTENCES, st.sampled_from(["en", "ru", None]))
def test_scan_byte_routes_match_documents_as_the_str_route(text: str, lang: str | None) -> None:
    """Scanning bytes and counting words on them flags exactly what the str route does."""
    title, body = text[:30], text[30:]
    assert match_document(RULES, title, body, lang) == match_document(STR_ONLY, title, body, lang)
