"""The matcher: each rule feature, evidence spans, scoring by position, invariants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.signals import compose_document, load_rules, match_document
from monitor.signals.document import Owners, count_word_starts, word_table

TINY = Path(__file__).resolve().parent / "fixtures" / "signals" / "tiny_rules.toml"
RULES = load_rules(TINY)


def fired(title: str, text: str, lang: str | None = None) -> set[str]:
    return {s.rule for s in match_document(RULES, title, text, lang).signals}


def test_matcher_compose_document_joins_title_and_text() -> None:
    """Spans point into title + blank line + text."""
    assert compose_document("T", "body") == "T\n\nbody"


def test_matcher_near_after_and_party_requirements() -> None:
    """A call fires with a Russian leader after it and a US side in the sentence."""
    assert fired("", "President Biden spoke with President Putin today.") == {"call"}
    assert fired("", "President Putin spoke with Erdogan today.") == set()  # leader before
    assert fired("", "Erdogan spoke with President Putin today.") == set()  # no US side


def test_matcher_word_window_is_counted_in_words() -> None:
    """`within = 4` allows four words between anchor and requirement, not five."""
    assert fired("", "Biden spoke one two three four Putin.") == {"call"}
    assert fired("", "Biden spoke one two three four five Putin.") == set()


def test_matcher_sentence_window_stops_at_sentence_end() -> None:
    """A party in the next sentence does not count; abbreviations do not end a sentence."""
    assert fired("", "Talks in Geneva. Russia and the United States agreed.") == set()
    assert fired("", "Talks in Geneva with Russia, said Mr. Biden.") == {"venue"}


def test_matcher_exclusion_vetoes_nearby_anchor() -> None:
    """An excluded term near the anchor vetoes it (COP29 in Baku-style noise)."""
    text = "Russia and the United States held talks in Geneva"
    assert fired("", text + ".") == {"venue"}
    assert fired("", text + " at COP29.") == set()


def test_matcher_exclude_title_and_scope() -> None:
    """exclude_title vetoes by title; scope="title" only fires in the title."""
    assert "not-in-cop-titles" in fired("News", "The meeting was postponed.")
    assert "not-in-cop-titles" not in fired("COP29 update", "The meeting was postponed.")
    assert "title-only" in fired("Summit announced", "")
    assert "title-only" not in fired("News", "A summit was announced.")


def test_matcher_lang_limits_rules() -> None:
    """A rule with lang = "ru" applies to Russian items and to items of unknown language."""
    assert "ru-only" in fired("", "Спецпосланник прибыл.", "ru")
    assert "ru-only" in fired("", "Спецпосланник прибыл.")
    assert "ru-only" not in fired("", "Спецпосланник прибыл.", "en")


def test_matcher_regex_term() -> None:
    """A validated regex term fires like a phrase."""
    assert "regex" in fired("", "The New START treaty was extended.")


def test_matcher_russian_stems_match_inflections() -> None:
    """Stems match Russian case forms (стратегической / стратегическую стабильность)."""
    for phrase in (
        "стратегической стабильности",
        "стратегическую стабильность",
        "стратегическая стабильность",
    ):
        assert "stability" in fired("", f"Россия и США обсудили {phrase}.")


def test_matcher_word_boundaries() -> None:
    """Terms match whole words only: "Putin" is not found inside "Rasputin"."""
    assert fired("", "Biden spoke with Rasputin.") == set()


def test_matcher_phrase_across_line_break_and_hyphen_variants() -> None:
    """Phrase words may be separated by any whitespace; dash variants unify."""
    assert "stability" in fired("", "Россия и США: стратегической\nстабильности.")
    assert "venue" in fired("", "Россия и США провели переговоры в Абу\u2013Даби.")


def test_matcher_spans_point_at_terms_in_original() -> None:
    """Every span covers the surface text that the signal's terms quote."""
    title, text = "Call", "Ла\u200bвров… President Biden spoke with President PUTIN."
    match = match_document(RULES, title, text)
    document = compose_document(title, text)
    signal = match.signals[0]
    assert [document[a:b] for a, b in signal.spans] == ["spoke", "PUTIN", "Biden"]
    assert set(signal.terms) == {"spoke", "PUTIN", "Biden"}
    assert all("Biden spoke" in s for s in signal.sentences)


def test_matcher_title_weighs_more_than_deep_mention() -> None:
    """A hit in the title outweighs the same hit deep in a long text."""
    sentence = "Biden spoke with Putin."
    in_title = match_document(RULES, sentence, "Nothing else.")
    deep = match_document(RULES, "Briefing", "Filler words here. " * 200 + sentence)
    assert in_title.score > deep.score > 0
    assert in_title.flagged
    assert not deep.flagged


def test_matcher_records_rules_version_and_threshold() -> None:
    """Each match carries the rules version; flagged means score >= threshold."""
    match = match_document(RULES, "", "Biden spoke with Putin.")
    assert match.rules_version == RULES.version
    assert match.flagged == (match.score >= RULES.threshold)


def test_matcher_repeated_hits_add_with_diminishing_weight() -> None:
    """Repeated mentions raise a rule's weight, up to the cap."""
    once = match_document(RULES, "", "Biden spoke with Putin.").score
    twice = match_document(RULES, "", "Biden spoke with Putin. Trump spoke with Putin.").score
    many = match_document(RULES, "", "Biden spoke with Putin. " * 20).score
    assert once < twice < many <= 2.0


FILLER = st.lists(
    st.sampled_from(
        ["the", "economy", "weather", "budget", "Moscow", "talks", "экономика", "погода", "\n", "."]
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(FILLER, FILLER)
def test_matcher_inserted_phrase_is_found_anywhere(before: list[str], after: list[str]) -> None:
    """A signal sentence inserted anywhere in unrelated text is found, at its own offsets."""
    sentence = "Biden spoke with Putin."
    prefix = " ".join(before) + " "
    text = prefix + sentence + " " + " ".join(after)
    match = match_document(RULES, "", text)
    document = compose_document("", text)
    call = next(s for s in match.signals if s.rule == "call")
    assert document[slice(*call.spans[0])] == "spoke"
    assert call.spans[0][0] >= len(prefix)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            "Biden spoke with Putin in Geneva talks with Russia.",
            "Россия и США: переговоры в Абу-Даби, стратегическая стабильность.",
        ]
    ),
    st.sampled_from(["upper", "lower", "title", "swapcase", "nbsp", "zw", "yo"]),
)
def test_matcher_case_and_unicode_variants_do_not_change_result(text: str, how: str) -> None:
    """Case changes, non-breaking spaces, zero-width characters and ё leave rules unchanged."""
    variant = {
        "upper": text.upper(),
        "lower": text.lower(),
        "title": text.title(),
        "swapcase": text.swapcase(),
        "nbsp": text.replace(" ", "\u00a0"),
        "zw": text.replace("a", "a\u200b"),
        "yo": text.replace("е", "ё"),
    }[how]
    assert fired("", variant) == fired("", text)
    match = match_document(RULES, "", variant)
    document = compose_document("", variant)
    for signal in match.signals:
        for a, b in signal.spans:
            assert 0 <= a < b <= len(document)
        assert set(signal.terms) <= {document[a:b] for a, b in signal.spans}


@pytest.mark.parametrize("text", ["", " ", "\n\n", "&", "&amp;" * 3, "\u0306" * 5])
def test_matcher_degenerate_texts(text: str) -> None:
    """Empty and odd texts score zero without errors."""
    assert match_document(RULES, text, text).score == 0


@given(
    st.dictionaries(
        st.integers(0, 30), st.sets(st.integers(0, 60), min_size=1), min_size=1, max_size=6
    )
)
def test_owners_give_each_merged_candidate_its_term(raw_sets: dict[int, set[int]]) -> None:
    """Owners found on demand equal one sort of (start, term): equal starts, lower term
    first."""
    raw = {term: sorted(starts) for term, starts in raw_sets.items()}
    expected = sorted((start, term) for term, starts in raw.items() for start in starts)
    starts = [start for start, _ in expected]
    owners = Owners(starts, tuple(sorted(raw)), raw)
    assert [owners[i] for i in range(len(starts))] == [term for _, term in expected]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1251"])
def test_word_table_classes_bytes_as_regex_word_characters(encoding: str) -> None:
    """Each byte's class is what regex \\w says of the character it encodes."""
    table = word_table(encoding)
    for byte in range(256):
        char = bytes([byte]).decode(encoding, "replace")
        assert (table[byte] == ord("a")) == bool(re.match(r"\w", char)), (encoding, byte)


@settings(max_examples=300)
@given(
    st.sampled_from(["latin-1", "cp1251"]),
    st.text(alphabet=st.sampled_from(list("ab_1 .,-'\n\t«\u00a0")), max_size=80),
    st.data(),
)
def test_word_starts_counted_on_bytes_as_by_regex(
    encoding: str, text: str, data: st.DataObject
) -> None:
    """Counting word starts on the byte classes gives the regex count for any range."""
    if encoding == "cp1251":
        text = text.replace("a", "п").replace("1", "ѓ").replace("_", "№")
    else:
        text = text.replace("1", "é")
    start = data.draw(st.integers(0, len(text) + 2))
    end = data.draw(st.integers(0, len(text) + 2))
    classes = text.encode(encoding).translate(word_table(encoding))
    expected = len(re.compile(r"(?<!\w)\w").findall(text, start, end))
    assert count_word_starts(classes, start, end) == expected


@pytest.mark.parametrize(
    ("text", "start", "end", "words"),
    [
        (" ab cd", 1, 6, 2),  # a word starts right at `start`
        (" ab cd", 2, 6, 1),  # `start` inside a word: that word started before
        ("ab cd", 0, 5, 2),  # a word at the very start of the text
        ("ab cd", 0, 0, 0),
        ("ab cd", 3, 3, 0),
        ("a_b1 c", 0, 6, 2),  # "_" and digits are word characters
    ],
)
def test_word_starts_counted_on_bytes_at_the_edges(
    text: str, start: int, end: int, words: int
) -> None:
    classes = text.encode("latin-1").translate(word_table("latin-1"))
    assert count_word_starts(classes, start, end) == words
