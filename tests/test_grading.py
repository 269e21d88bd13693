"""Grading: how concrete an item is about a leaders' meeting, from its title and evidence.

Every example is a paraphrase written for these tests, in English and Russian.
"""

from __future__ import annotations

from datetime import date

import pytest

from monitor.outlook.grading import Grade, grade_item, read_clause

DAY = date(2025, 8, 9)


@pytest.mark.parametrize(
    "text",
    [
        "Trump and Putin will meet in Alaska on 15 August, the White House said",
        "Putin, Trump to meet in Anchorage next Friday",
        "The two presidents agreed to hold their summit in Budapest",
        "Kremlin confirms Putin-Trump summit on August 15",
        "Встреча Путина и Трампа состоится 15 августа на Аляске",
        "Путин и Трамп договорились провести встречу в Будапеште",
        "Президенты России и США встретятся в третьей стране на следующей неделе",
        "Lavrov and Rubio discussed preparations for the Putin-Trump meeting on 15 August",
    ],
)
def test_grading_dated_or_placed_meeting_is_placed(text: str) -> None:
    """Agreement or announcement of a leaders' meeting with a date or a place: placed."""
    reading = read_clause(text, DAY, "title")
    assert reading.meeting, reading.cues
    assert reading.grade == Grade.PLACED, reading.cues


@pytest.mark.parametrize(
    "text",
    [
        "Putin invited Trump to visit Moscow during their phone call",
        "The leaders told their teams to start preparing a summit",
        "The presidents agreed in principle to meet in person",
        "Biden proposed a summit meeting with Putin in a third country",
        "Путин пригласил Трампа посетить Москву",
        "Началась подготовка встречи Путина и Трампа",
        "Путин и Трамп договорились о личной встрече",
        "Preparations for the Putin-Trump summit in Budapest continue, the Kremlin says",
    ],
)
def test_grading_meeting_agreed_or_prepared_is_agreed(text: str) -> None:
    """An invitation, preparations, or agreement without a date or place: agreed."""
    reading = read_clause(text, DAY, "title")
    assert reading.meeting, reading.cues
    assert reading.grade == Grade.AGREED, reading.cues


@pytest.mark.parametrize(
    "text",
    [
        "Putin and Trump could meet in Budapest if talks on Ukraine advance",
        "Kremlin: a Putin-Trump summit in Budapest is still possible",
        "Will Trump meet Putin in Geneva next week?",
        "Putin and Trump met in Anchorage on Friday",
        "The presidents agreed in Anchorage to meet again",
        "Kremlin: no proposals yet to organise another Putin-Trump summit",
        "Budapest ready to host a Putin-Trump summit once both sides are ready",
        "Путин и Трамп могут встретиться в Будапеште",
        "Встреча Путина и Трампа возможна, если будут условия",
        "Путин и Трамп встретились в Анкоридже",
    ],
)
def test_grading_hedged_or_past_meeting_is_contact(text: str) -> None:
    """A meeting only hoped for, asked about, conditional, or already held: a contact."""
    reading = read_clause(text, DAY, "title")
    assert reading.meeting, reading.cues
    assert reading.grade == Grade.CONTACT, reading.cues


@pytest.mark.parametrize(
    "text",
    [
        "Trump cancels planned meeting with Putin in Budapest",
        "The Putin-Trump summit has been postponed",
        "Kremlin: no plans for a Putin-Trump meeting in the coming weeks",
        "Встреча Путина и Трампа отменена",
        "Встреча Путина и Трампа в ближайшее время не планируется",
    ],
)
def test_grading_refused_meeting_is_refusal(text: str) -> None:
    """Cancelled, postponed, "no plans": a refusal of a leaders' meeting."""
    reading = read_clause(text, DAY, "title")
    assert reading.meeting
    assert reading.refusal
    assert reading.grade == Grade.NONE


def test_grading_headline_quoted_as_evidence_is_read_as_the_title() -> None:
    """A headline the matcher also quotes as a sentence keeps its attribution ("— Orban")."""
    title = "Russia-US summit in Budapest to take place with groundwork — Hungarian leader"
    graded = grade_item(title, [title], ("summit_planning",), DAY, "")
    assert graded.grade == Grade.CONTACT
    assert "speaker: third party" in graded.reason


def test_grading_leader_as_the_clause_subject_owns_its_summit() -> None:
    """ "President X …, and proposed a summit …" is a leaders' meeting however long the
    clause, with the other country named; "predictable" is no hedge."""
    text = (
        "President Biden reaffirmed his goal of a stable and predictable relationship "
        "with Russia, and proposed a summit meeting in a third country in the coming months."
    )
    reading = read_clause(text, DAY, "evidence", "us")
    assert reading.meeting
    assert reading.grade == Grade.AGREED


@pytest.mark.parametrize(
    "text",
    [
        "Kremlin: the Putin-Trump summit has not been cancelled",
        "Will the Putin-Trump summit be cancelled?",
        "Саммит Путина и Трампа не отменен",
    ],
)
def test_grading_negated_or_asked_refusal_is_not_a_refusal(text: str) -> None:
    """ "Not cancelled" and a question about a cancellation refuse nothing."""
    assert not read_clause(text, DAY, "title").refusal


def test_grading_third_party_speaker_cannot_agree_or_place_a_meeting() -> None:
    """A host country's minister announcing the summit is commentary on the two sides, a
    working contact at most; the same words from one of the two sides place it."""
    title = "Putin-Trump summit to take place in Budapest — Hungarian foreign minister"
    reading = read_clause(title, DAY, "title")
    assert reading.grade == Grade.CONTACT
    assert "speaker: third party" in reading.cues
    own = read_clause("Putin-Trump summit to take place in Budapest — Kremlin", DAY, "title")
    assert own.grade == Grade.PLACED


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("Putin received US envoy Witkoff at the Kremlin for a meeting", "ru"),
        ("The Brazilian president will travel to Moscow next week to meet Putin", "us"),
        ("Putin held a meeting with the Kazakh leader in Moscow", "ru"),
        ("After a meeting with President Trump, the carmaker announced a new plant", "us"),
        ("Trump to meet Zelensky in Florida on Sunday after a call with Putin", ""),
    ],
)
def test_grading_one_leader_with_someone_else_is_not_a_leaders_meeting(
    text: str, source: str
) -> None:
    """A leader meeting an envoy, a third leader or a company is not a leaders' meeting."""
    assert not read_clause(text, DAY, "evidence", source).meeting


def test_grading_lone_leader_counts_when_the_other_side_speaks() -> None:
    """ "The President will meet President Putin" in a White House text is a leaders' meeting."""
    text = "The President will meet with President Putin in Geneva."
    assert read_clause(text, DAY, "evidence", "us").grade == Grade.PLACED
    assert not read_clause(text, DAY, "evidence", "ru").meeting


def test_grading_dates_are_read_against_the_item_day() -> None:
    """A day-month date to come is the meeting date; one already past is not a date cue."""
    ahead = read_clause("Putin and Trump will meet on 15 August", DAY, "title")
    assert ahead.grade == Grade.PLACED
    assert ahead.meeting_date == date(2025, 8, 15)
    past = read_clause("Putin and Trump agreed on 1 August to meet", DAY, "title")
    assert past.grade == Grade.AGREED
    assert past.meeting_date is None
    next_year = read_clause("Путин и Трамп встретятся 10 января", date(2025, 12, 20), "title")
    assert next_year.meeting_date == date(2026, 1, 10)


def test_grading_wire_dateline_is_not_a_place_or_date() -> None:
    """ "MOSCOW, August 9. /TASS/." at the start of a lead names neither place nor date."""
    lead = "MOSCOW, August 9. /TASS/. Putin and Trump agreed to meet"
    reading = read_clause(lead, DAY)
    assert reading.grade == Grade.AGREED
    assert not reading.places


def test_grading_item_takes_its_most_concrete_clause() -> None:
    """A routine title with one announcing sentence is placed; contacts alone are contacts."""
    sentences = [
        "The President spoke with President Putin today.",
        "Both leaders agreed to meet in Geneva on 16 June.",
    ]
    placed = grade_item("Readout of a call", sentences, ["leader_call"], date(2021, 6, 1), "us")
    assert placed.grade == Grade.PLACED
    assert placed.meeting_date == date(2021, 6, 16)
    assert 'evidence "Both leaders agreed to meet in Geneva' in placed.reason
    contact = grade_item("Readout of a call", sentences[:1], ["leader_call"], DAY, "us")
    assert contact.grade == Grade.CONTACT
    assert contact.reason == "contact: leader_call"


def test_grading_item_refusing_a_meeting_is_at_most_a_contact() -> None:
    """An item that cancels a meeting does not also place it, whatever else it recalls."""
    item = grade_item(
        "Trump calls off the Budapest summit with Putin",
        ["On 16 October the presidents agreed to meet in Budapest."],
        ["summit_planning", "refusal"],
        date(2025, 10, 23),
    )
    assert item.refusal == "meeting"
    assert item.grade == Grade.CONTACT


def test_grading_refusal_of_talks_is_scoped_to_talks() -> None:
    """Suspended consultations refuse talks, not a leaders' meeting."""
    item = grade_item(
        "Russia suspends strategic stability consultations with the US",
        [],
        ["refusal", "strategic_stability"],
        DAY,
    )
    assert item.refusal == "talks"
    assert item.grade == Grade.CONTACT


def test_grading_matcher_refusal_type_is_trusted_when_the_words_are_its_own() -> None:
    """A refusal the matcher found with words the grader does not know still counts."""
    item = grade_item("Consultations on the treaty will not go ahead", [], ["refusal"], DAY)
    assert item.refusal == "talks"
    assert item.grade == Grade.NONE
