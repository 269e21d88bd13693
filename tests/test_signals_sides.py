"""Both sides: who is named in a sentence, on which side, and whether a contact there is
between Russia and the United States (monitor/signals/sides.py)."""

from __future__ import annotations

from pathlib import Path

from monitor.signals import load_rules, match_document
from monitor.signals.explain import explain

RULES = load_rules(Path(__file__).resolve().parent / "fixtures" / "signals" / "sides_rules.toml")


def fired(title: str, text: str = "") -> set[str]:
    return {s.rule for s in match_document(RULES, title, text).signals}


def why_not(text: str, title: str = "") -> str:
    return "\n".join(explain(RULES, title, text))


def test_sides_both_needs_a_russian_and_a_us_actor() -> None:
    """A contact word counts only with a Russian and a US actor in its sentence."""
    assert "contact" in fired("Putin and Trump spoke with each other; talks went well")
    assert "contact" not in fired("Putin held talks in the Kremlin")
    assert "no US actor in the same sentence" in why_not("Putin held talks in the Kremlin.")
    assert "contact" not in fired("Putin held talks. Trump was in Florida.")


def test_sides_compound_names_both_sides_alone() -> None:
    """A compound naming both sides ("Russia-US") satisfies both."""
    assert "contact" in fired("Russia-US talks resume")


def test_sides_third_party_as_counterpart_vetoes() -> None:
    """A third party next to the contact word is its counterpart, even with both sides
    in the sentence."""
    headline = "Russia interested in the Kazakh president's meeting with Trump"
    assert "contact" not in fired(headline)
    assert "third party" in why_not(headline + ".")


def test_sides_third_party_as_topic_or_in_a_list_does_not_veto() -> None:
    """A country talked about ("talks on Iran") is no counterpart; a third party listed
    with both sides ("Russian, US and French officials") takes part with them."""
    assert "contact" in fired("Russia holds talks with the US on Iran")
    assert "contact" in fired("Russia, the US and French officials hold talks in Geneva")


def test_sides_longer_mention_wins_an_overlap() -> None:
    """ "Russia-Ukraine" is a third party, not Russia; "Russia-US-Ukraine" names both."""
    assert "contact" not in fired("Russia-Ukraine talks resume, US says")
    assert "contact" in fired("Russia-US-Ukraine talks resume")


def test_sides_dash_before_the_speaker_ends_the_neighbourhood() -> None:
    """ "— Moscow" after a headline names who speaks, not who met: a third party before
    the contact word is still its counterpart."""
    assert "contact" not in fired("Kazakh president's meeting with Trump — Moscow")


def test_sides_speaker_stands_in_for_one_side() -> None:
    """The voice of the text ("I", "we") completes a pair with a named counterpart after
    "with" or right after the contact word, when no third party is named."""
    assert "contact-or-speaker" in fired("I spoke with Putin yesterday.")
    assert "contact-or-speaker" in fired("We had talks with Russia.")
    assert "contact-or-speaker" not in fired("Putin spoke with the governor, we learned.")
    assert "contact-or-speaker" not in fired("I spoke with Putin and the French president.")


def test_sides_speaker_silent_under_a_third_party_title() -> None:
    """Under a title naming a third party, "we" may be that party's voice."""
    assert "contact-or-speaker" not in fired(
        "Meeting with the Kazakh president", "We had talks with Russia."
    )


def test_sides_third_party_urging_is_no_contact() -> None:
    """A third party urging the two on ("UN chief urges Russia-US talks") is no contact."""
    assert "contact" not in fired("UN chief urges Russia-US talks")
    assert "urges the contact on" in why_not("UN chief urges Russia-US talks.")


def test_sides_title_reporting_a_third_party_contact_rules_out_the_body() -> None:
    """A readout of a meeting with a third party relays US–Russia contact in its body."""
    body = "They discussed the Russia-US talks."
    assert "contact" in fired("Readout", body)
    assert "contact" not in fired("Meeting with the Kazakh president", body)


def test_sides_pair_needs_the_two_joined_and_near() -> None:
    """`sides = "pair"`: the two joined by "and", a comma or a hyphen, the nearer within
    `sides_within` words; a spaced dash does not join them."""
    assert "pair" in fired("Russia and the US agreed on a prisoner swap")
    assert "pair" in fired("Putin, Trump agreed")
    assert "pair" not in fired("Russia, after long delays, and the US agreed")
    assert "pair" not in fired("Trump agreed — Moscow")


def test_sides_one_needs_either_side() -> None:
    """`sides = "one"`: a Russian or a US actor in the sentence is enough."""
    assert "one" in fired("Washington proposes strategic stability talks")
    assert "one" not in fired("Strategic stability in Asia")


def test_sides_signal_records_actors_places_and_sides() -> None:
    """Signals carry canonical actor names, places and sides."""
    signal = next(
        s
        for s in match_document(RULES, "Putin and Trump meet in Geneva", "").signals
        if s.rule == "contact"
    )
    assert signal.actors == ("putin", "trump")
    assert signal.places == ("geneva",)
    assert signal.sides == ("ru", "us")
    compound = next(
        s for s in match_document(RULES, "Russia-US talks", "").signals if s.rule == "contact"
    )
    assert compound.actors == ("russia", "united states")
