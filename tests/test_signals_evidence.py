"""Evidence: each sentence once, its spans marked; who and where; the stored form; and
the sentence boundaries that evidence and the sides check rely on."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.signals import compose_document, load_rules, match_document
from monitor.signals.document import SENTENCE_REACH
from monitor.signals.evidence import SENTENCE_SHOWN, shown_sentence
from monitor.signals.matcher import evaluate

RULES = load_rules(Path(__file__).resolve().parent / "fixtures" / "signals" / "sides_rules.toml")


def test_evidence_sentence_once_with_each_span_marked() -> None:
    """A sentence holding several matched terms is stored once; its marks point at them."""
    title, text = "", "Putin  and\tTrump held talks in Geneva. Weather was fine."
    signal = next(s for s in match_document(RULES, title, text).signals if s.rule == "contact")
    document = compose_document(title, text)
    assert signal.sentences == ("Putin and Trump held talks in Geneva.",)
    marked = [signal.sentences[0][a:b] for a, b in signal.marks[0]]
    assert marked == ["Putin", "Trump", "talks"]
    assert sorted(marked) == sorted(document[a:b] for a, b in signal.spans)


def test_evidence_long_sentence_cut_around_its_spans() -> None:
    """A sentence longer than SENTENCE_SHOWN is cut around its spans, marks still right."""
    document = "x " * 400 + "Putin and Trump held talks" + " y" * 400
    start = document.index("Putin")
    spans = [(start, start + 5), (start + 10, start + 15)]
    text, marks = shown_sentence(document, (0, len(document)), spans)
    assert len(text) <= SENTENCE_SHOWN
    assert [text[a:b] for a, b in marks] == ["Putin", "Trump"]


def test_evidence_stored_form_keeps_old_keys_and_adds_who_and_where() -> None:
    """The stored JSON keeps type, rule, weight, terms, spans, sentences, and adds marks,
    actors, places and sides."""
    signal = match_document(RULES, "Putin and Trump meet in Geneva", "").signals[0]
    stored = signal.as_json()
    assert set(stored) == {
        "type",
        "rule",
        "weight",
        "terms",
        "spans",
        "sentences",
        "marks",
        "actors",
        "places",
        "sides",
    }
    assert stored["places"] == ["geneva"]
    assert stored["sides"] == ["ru", "us"]


_BOUNDARY_REFERENCE = re.compile(r"[.!?…\n](?:(?<=\n)|[\"'»”’)\]]*\s+)")
_NOT_AN_END = re.compile(r"(?:^|[\s.(])(?:[^\W\d_]|u\.s|mr|ms|mrs|dr|st|jr|no|vs|гг|т\.е|т\.д)\Z")


def reference_sentence(text: str, pos: int) -> tuple[int, int]:
    """Sentence bounds by the definition, over the whole text, left to right: a line
    break, or an end mark and space not after an initial or abbreviation (a mark after
    one ends nothing, and the text after it is looked at again)."""
    ends: list[tuple[int, int]] = []
    at = 0
    while (found := _BOUNDARY_REFERENCE.search(text, at)) is not None:
        if text[found.start()] == "\n" or not _NOT_AN_END.search(
            text, max(0, found.start() - 4), found.start()
        ):
            ends.append(found.span())
            at = found.end()
        else:
            at = found.start() + 1
    lo, hi = max(pos - SENTENCE_REACH, 0), min(pos + SENTENCE_REACH, len(text))
    before = [span for span in ends if span[1] <= pos]
    after = [span for span in ends if span[0] >= pos]
    start = before[-1][1] if before and before[-1][0] >= lo else lo
    end = after[0][0] + 1 if after and after[0][0] < hi else hi
    return start, end


WORDS = [
    "putin",
    "said",
    "mr.",
    "u.s.",
    "talks",
    "no.",
    "a.",
    "end.",
    "why?",
    "yes!",
    "«quote».",
    "х.",
    "т.е.",
    "long" * 30,
]
GLUE = [" ", " ", " ", "\n", "\n\n", ". ", "  "]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), min_size=1, max_size=400),
    st.integers(min_value=0),
)
def test_evidence_sentence_bounds_match_the_definition(
    parts: list[tuple[str, str]], seed: int
) -> None:
    """Sentence bounds found block by block agree with the definition over the whole text,
    at any word start, across block edges."""
    text = "".join(word + glue for word, glue in parts)
    run = evaluate(RULES, "", text)
    folded = run.folded.text
    starts = [m.start() for m in re.finditer(r"(?<!\w)\w", folded)]
    if not starts:
        return
    pos = starts[seed % len(starts)]
    assert run.sentence(pos) == reference_sentence(folded, pos)
