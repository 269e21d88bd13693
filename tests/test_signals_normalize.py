"""Folding: what it unifies, and that offsets always map back to the original text."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from monitor.signals.normalize import (
    _UNCOMMON,
    ASCII_LOWERING_UNCOMMON,
    ONE_BYTE_SUSPECTS,
    _fast_fold,
    _full_fold,
    _regular,
    fold,
    fold_unit,
    key_variants,
)


def test_fold_unifies_case_yo_dashes_and_spaces() -> None:
    """Case, ё, dash variants and non-breaking spaces fold to one spelling each."""
    assert fold("Соединённые\u00a0Штаты — Абу\u2011Даби").text == "соединенные штаты - абу-даби"


def test_fold_removes_zero_width_and_decodes_entities() -> None:
    """Zero-width characters vanish and HTML entities decode, offsets still mapping back."""
    original = "Ла\u200bвров &amp; Rubio"
    folded = fold(original)
    assert folded.text == "лавров & rubio"
    start = folded.text.index("rubio")
    a, b = folded.to_original(start, start + 5)
    assert original[a:b] == "Rubio"
    assert original[slice(*folded.to_original(0, 6))] == "Ла\u200bвров"


def test_fold_composes_combining_marks_and_compatibility_forms() -> None:
    """A decomposed й and a fullwidth or ligature spelling fold like the plain letters."""
    assert fold("Уи\u0306ткофф").text == fold("Уйткофф").text
    assert fold("ＰＵＴＩＮ ﬁx").text == "putin fix"


def test_fold_unit_is_reference_for_terms() -> None:
    """Terms are folded by the same reference folding."""
    assert fold_unit("Эр–Рияд") == "эр-рияд"


def test_common_fast_range_characters_are_regular() -> None:
    """Every character the fast route accepts without a full scan folds as the reference."""
    bad = [
        c
        for c in map(chr, range(0x10000))
        if not 0xD800 <= ord(c) <= 0xDFFF
        and c != "&"
        and not _UNCOMMON.match(c)
        and not _regular(c)
    ]
    assert bad == []


def test_uncommon_characters_that_fold_into_one_byte_encodings_are_known() -> None:
    """`fold` trusts a fast folding that is ASCII, or fits Latin-1 or cp1251, unless it
    holds a suspect character or the original a mark. Over every code point: only the
    Kelvin sign is uncommon and folds to ASCII, and every uncommon character whose
    folding fits an encoding leaves a suspect or is a mark."""
    to_ascii: list[str] = []
    unseen: dict[str, list[str]] = {encoding: [] for encoding, _, _ in ONE_BYTE_SUSPECTS}
    for c in map(chr, range(0x110000)):
        if 0xD800 <= ord(c) <= 0xDFFF or not _UNCOMMON.match(c):
            continue
        folded = _fast_fold(c)
        if folded.isascii():
            to_ascii.append(c)
        for encoding, suspects, marks in ONE_BYTE_SUSPECTS:
            try:
                folded.encode(encoding)
            except UnicodeEncodeError:
                continue
            if c not in marks and not any(char in suspects for char in folded):
                unseen[encoding].append(c)
    assert to_ascii == [ASCII_LOWERING_UNCOMMON]
    assert unseen == {encoding: [] for encoding in unseen}
    for text in ("\u212a\u212aGB talks", "Ångström \u212b", "№ 5 и Ґ", "1\u2009000 ½"):
        assert fold(text).text == _full_fold(text).text


def test_fold_makes_english_press_punctuation_ascii() -> None:
    """Curly quotes, dashes, guillemets and the ellipsis fold one for one to ASCII."""
    text = "The President\u2019s \u201cstrategic\u201d talks \u2014 \u00abnext\u00bb\u2026"
    folded = fold(text).text
    assert folded == 'the president\'s "strategic" talks - "next".'
    assert folded.isascii()
    assert len(folded) == len(text)


def test_key_variants_cover_apostrophes() -> None:
    """Automaton keys are expanded over the quote variants the fast route leaves alone."""
    assert "putin\u2019s" in key_variants("putin's")


text_strategy = st.text(
    alphabet=st.sampled_from(list("abc PUTINпутинЁё-–—\u00a0\u200b&;#x41…№ﬁ\u0306й.\n’“K")),
    max_size=60,
)


@given(text_strategy)
def test_fold_offsets_stay_inside_original_and_ordered(text: str) -> None:
    """Every folded offset maps into the original, in order."""
    folded = fold(text)
    last = 0
    for pos in range(len(folded.text) + 1):
        a, b = folded.to_original(pos, pos)
        assert 0 <= a <= len(text)
        assert 0 <= b <= len(text)
        assert a >= last or pos == 0
        last = a


@given(
    st.text(
        alphabet=st.sampled_from(list("abc PUTINпутинЁё-–—\u00a0\u200b&;#x41№ﬁ\u0306й.\n’“\u212a")),
        max_size=60,
    )
)
def test_fold_equals_reference_folding(text: str) -> None:
    """The fast route folds as the reference does (quotes and "…"-like symbols aside)."""
    reference = re.sub(r"\s", " ", fold_unit(text))
    assert re.sub(r"\s", " ", fold(text).text) == reference


@given(st.text(alphabet=st.sampled_from(list("aBcDЁжЖ ")), max_size=30))
def test_fold_ignores_case_and_normal_form(text: str) -> None:
    """Upper/lower case and NFC/NFD spellings fold alike."""
    assert fold(text.upper()).text == fold(text.lower()).text
    assert fold(unicodedata.normalize("NFD", text)).text == fold(text).text


@given(
    st.text(
        alphabet=st.sampled_from(list("abc PUTINпутинЁё-–—\u00a0…№ґé½\u212a\u212b’«")), max_size=40
    )
)
def test_fold_encoding_is_the_folded_text(text: str) -> None:
    """A one-byte encoding that `fold` hands on is exactly the folded text."""
    folded = fold(text)
    if folded.encoded is not None:
        assert folded.encoded.data.decode(folded.encoded.encoding) == folded.text
    assert folded.text == _full_fold(text).text  # the route taken does not matter
