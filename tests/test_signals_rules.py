"""Loading a rules file: validation reports every problem; regexes are made safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.signals import load_rules, match_document
from monitor.signals.terms import TermError, compile_term

REPO = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "fixtures" / "signals" / "tiny_rules.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_default_file_loads_and_covers_every_signal_type() -> None:
    """config/rules.toml loads, and has rules for every dev-set type plus refusal."""
    rules = load_rules(REPO / "config" / "rules.toml")
    assert set(rules.signal_types) >= {
        "strategic_stability",
        "arms_control",
        "leader_call",
        "envoy_visit",
        "neutral_venue_meeting",
        "summit_planning",
        "refusal",
    }
    assert rules.version.startswith("sha256:")
    assert rules.threshold > 0


def test_rules_version_is_stable_and_tracks_content(tmp_path: Path) -> None:
    """The version is a hash of the file content: same text, same version."""
    text = TINY.read_text(encoding="utf-8")
    first = load_rules(write(tmp_path, text)).version
    assert load_rules(write(tmp_path, text)).version == first
    assert load_rules(write(tmp_path, text + "\n# edited\n")).version != first


def test_rules_threshold_override() -> None:
    """A threshold from the main configuration overrides the rules file's."""
    assert load_rules(TINY, threshold=2.5).threshold == 2.5
    assert load_rules(TINY).threshold == 1.0


def test_rules_every_problem_reported_at_once(tmp_path: Path) -> None:
    """Unknown keys, bad types, unknown lists, bad windows and bad regexes all show up together."""
    path = write(
        tmp_path,
        """
threshold = "high"
colour = 1
[terms]
ru = ["putin", "re:(a+)+$"]
[[rules]]
id = "Bad Id"
type = "leader_call"
weight = -1
anchor = ["@nope"]
near = [{ terms = ["@ru"], within = "paragraph" }]
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    keys = " | ".join(f"{p.key}: {p.what}" for p in caught.value.problems)
    for expected in (
        "threshold",
        "colour: unknown key",
        "terms.ru[1]",
        "backtrack",
        "rules[0].id",
        "weight",
        "@nope: no such term list",
        "within",
    ):
        assert expected in keys
    assert all(p.file == str(path) for p in caught.value.problems)


def test_rules_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    """A syntax error is reported as a ConfigError naming the file."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(write(tmp_path, "threshold = \n"))


def test_rules_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing rules file is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="cannot be read"):
        load_rules(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"(a|aa)*b", r"(\w+\s?)*$", r"\s*\s*x", r"(.*)*y", "x" * 201]
)
def test_terms_dangerous_regex_refused(pattern: str) -> None:
    """Nested or overlapping quantifiers and over-long patterns are refused at load."""
    with pytest.raises(TermError):
        compile_term("re:" + pattern, 4)


@pytest.mark.parametrize(
    "pattern", [r"new start(?: treaty)?", r"(?:talks|meeting)s? with", r"путин\w{0,3}", r"a{1,3}b"]
)
def test_terms_safe_regex_accepted(pattern: str) -> None:
    """Ordinary regexes compile."""
    assert compile_term("re:" + pattern, 4).key == ""


def test_terms_regex_matching_empty_string_refused() -> None:
    """A regex that matches nothing at all would flag every text: refused."""
    with pytest.raises(TermError, match="empty"):
        compile_term("re:x*", 4)


def test_terms_stem_must_end_a_word() -> None:
    """'*' inside a word, or a stem with too short a literal, is refused."""
    for bad in ("пере*говор", "a*", "*"):
        with pytest.raises(TermError):
            compile_term(bad, 4)


def test_terms_key_is_a_rare_word_of_the_phrase() -> None:
    """The automaton key of a phrase avoids frequent words."""
    assert compile_term("president of the united states", 4).key == "states"
    assert compile_term("не планиру*", 4).key == "планиру"


ACTORS = """
[terms]
roles = ["side", "delegation"]
[actors.ru]
putin = ["putin"]
russia = ["russia", "russian @roles", "@roles-x"]
[actors.us]
"united states" = ["US"]
[actors.both]
"putin+trump" = ["putin-trump"]
[places.venues]
geneva = ["geneva"]
[[rules]]
id = "r"
type = "envoy_visit"
anchor = ["talks"]
sides = "both"
"""


def test_rules_actors_carry_side_and_canonical_names(tmp_path: Path) -> None:
    """[actors.<side>] names each term's side and canonical names; "a+b" names both."""
    rules = load_rules(write(tmp_path, ACTORS))
    by_source = {rules.terms[t].source: actor for t, actor in rules.actors.items()}
    assert by_source["putin"].side == "ru"
    assert by_source["putin"].names == ("putin",)
    assert by_source["putin-trump"].names == ("putin", "trump")
    assert {rules.terms[t].source for t in rules.term_lists["actors_ru"]} >= {"putin", "russia"}
    assert {rules.terms[t].source for t in rules.places} == {"geneva"}
    assert "places_venues" in rules.term_lists


def test_rules_list_inside_a_phrase_or_word_expands(tmp_path: Path) -> None:
    """ "russian @roles" stands for each role; "@roles-x" works inside a word too."""
    rules = load_rules(write(tmp_path, ACTORS))
    sources = {rules.terms[t].source for t in rules.term_lists["actors_ru"]}
    assert {"russian side", "russian delegation", "side-x", "delegation-x"} <= sources


def test_rules_actor_problems_all_reported(tmp_path: Path) -> None:
    """Unknown sides, a term on two sides, a bad `sides`, a missing `speaker_with` and an
    over-long expansion are each reported."""
    text = (
        ACTORS.replace("[actors.both]", '[actors.both]\nx = ["putin"]')
        + """
[actors.middle]
x = ["y"]
[[rules]]
id = "s"
type = "t"
anchor = ["talks"]
sides = "every"
[[rules]]
id = "u"
type = "t"
anchor = ["talks"]
sides = "both-or-speaker"
[[rules]]
id = "v"
type = "t"
anchor = ["MANY"]
""".replace("MANY", " ".join(["@roles"] * 13))
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(write(tmp_path, text))
    keys = " | ".join(f"{p.key}: {p.what}" for p in caught.value.problems)
    for expected in (
        "actors.middle: unknown side",
        "also an actor of side 'ru'",
        "rules[1] (s).sides",
        "rules[2] (u).speaker_with",
        "stands for more than",
    ):
        assert expected in keys, keys


def test_terms_capital_word_matches_only_capitals() -> None:
    """ "US" (the country) matches "US" but not the pronoun "us"."""
    rules = load_rules(
        Path(__file__).resolve().parent / "fixtures" / "signals" / "sides_rules.toml"
    )
    assert match_document(rules, "Russia and US talks", "").flagged
    assert not match_document(rules, "Russia told us about talks", "").flagged


def test_terms_capital_words_compile_a_cased_check() -> None:
    """A term with a capital word gets a check over the original text; one letter may be
    its key when it is in capitals ("I")."""
    term = compile_term("talks with US", 4)
    assert term.cased is not None
    assert term.cased.fullmatch("Talks with US")
    assert term.cased.fullmatch("talks with us") is None
    assert compile_term("I", 4).key == "i"
    with pytest.raises(TermError):
        compile_term("i", 4)
