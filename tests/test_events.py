"""Events: items that report one contact are grouped, with the reason, whatever the feed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from monitor.outlook.events import (
    GROUP_DAYS,
    MAX_EVENT_DAYS,
    Event,
    choose_event,
    evidence_of,
    group,
    why_together,
)
from monitor.outlook.grading import Grade

DAY = date(2025, 2, 12)
_ids = iter(range(1, 10_000))


def signal(kind: str, *sentences: str, rule: str = "some-rule", **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "rule": rule,
        "weight": 1.0,
        "terms": [],
        "spans": [],
        "sentences": list(sentences),
        **extra,
    }


def item(
    title: str,
    *signals: dict[str, Any],
    days: int = 0,
    feed: str = "kremlin-en",
    side: str = "ru",
    item_id: int | None = None,
) -> Any:
    return evidence_of(
        item_id or next(_ids), feed, side, title, DAY + timedelta(days=days), list(signals)
    )


CALL_RU = item(
    "Telephone conversation with the President of the United States",
    signal(
        "leader_call",
        "Vladimir Putin had a telephone conversation with "
        "President of the United States Donald Trump.",
    ),
)
CALL_US = item(
    "Readout of the President's call with President Putin",
    signal("leader_call", "President Trump spoke with President Putin of Russia."),
    feed="whitehouse",
    side="us",
)


def test_events_same_call_in_two_capitals_is_one_event() -> None:
    """Both capitals' readouts of one call group, and the reason names the leaders."""
    reason = why_together(CALL_US, CALL_RU)
    assert reason == "call, 0 day(s) apart; same leaders"
    (event,) = group([CALL_RU, CALL_US])
    assert event.sources == ("kremlin-en", "whitehouse")
    assert len(event.items) == 2


def test_events_same_release_in_two_languages_groups_by_actors() -> None:
    """The Russian and the English release of one envoy visit share envoy and place."""
    en = item(
        "Putin receives US Special Envoy Witkoff in Moscow",
        signal("envoy_visit", "Vladimir Putin met Steven Witkoff in the Kremlin, Moscow."),
    )
    ru = item(
        "Путин принял спецпосланника США Уиткоффа в Москве",
        signal("envoy_visit", "Владимир Путин встретился с Уиткоффом в Москве."),
        feed="kremlin-ru",
        days=1,
    )
    assert en.actors >= {"witkoff", "putin"}
    assert ru.actors >= {"witkoff", "putin"}
    assert why_together(ru, en) == (
        "visit, 1 day(s) apart; same place: moscow; same people: witkoff"
    )


def test_events_alike_titles_group_without_shared_actors() -> None:
    """A release republished with the same title groups on title shingles alone."""
    a = item(
        "Russian and US delegations hold talks on embassy operations",
        signal("neutral_venue_meeting"),
    )
    b = item(
        "Russian and US delegations hold talks on embassy operations, day two",
        signal("neutral_venue_meeting"),
        days=1,
        feed="news",
        side="",
    )
    assert why_together(a, b) is not None
    assert "titles" in str(why_together(a, b))


def test_events_far_apart_or_different_kinds_do_not_group() -> None:
    """Reports days apart, or of different kinds of contact, are different events."""
    later = item(CALL_RU.title, signal("leader_call", *CALL_RU.types), days=GROUP_DAYS + 1)
    assert why_together(later, CALL_RU) is None
    visit = item("US envoy arrives in Moscow", signal("envoy_visit", "Witkoff arrived in Moscow."))
    talks = item(
        "Consultations in Istanbul",
        signal("neutral_venue_meeting", "Russian and US diplomats met in Istanbul."),
    )
    assert why_together(visit, talks) is None


def test_events_span_is_capped() -> None:
    """A chain of daily reports does not grow one event past MAX_EVENT_DAYS days."""
    chain = [
        item(f"Witkoff in Moscow, day {n}", signal("envoy_visit", "Witkoff is in Moscow."), days=n)
        for n in range(MAX_EVENT_DAYS + 3)
    ]
    events = group(chain)
    assert len(events) == 2
    assert (events[0].last_day - events[0].first_day).days == MAX_EVENT_DAYS - 1


def test_events_choose_nearest_event_and_say_with_which_item() -> None:
    """An item joins the event holding its nearest match, and the reason names that item."""
    first = item(
        "Witkoff arrives in Moscow",
        signal("envoy_visit", "Witkoff arrived in Moscow."),
        item_id=501,
    )
    second = item(
        "Witkoff meets Dmitriev",
        signal("envoy_visit", "Witkoff met Dmitriev."),
        days=2,
        item_id=502,
    )
    newcomer = item("Witkoff leaves Moscow", signal("envoy_visit", "Witkoff left Moscow."), days=2)
    chosen = choose_event(newcomer, {7: [first], 9: [second]})
    assert chosen is not None
    assert chosen[0] == 9
    assert chosen[1].startswith("with #502: visit")


def test_events_read_matcher_actors_and_places_when_recorded() -> None:
    """New flags carry actors and places: they are used as given, leaders gain their role."""
    given = item(
        "Talks",
        signal(
            "neutral_venue_meeting",
            "Talks were held.",
            actors=["Witkoff", "dmitriev"],
            places=["Abu Dhabi"],
        ),
    )
    assert {"witkoff", "dmitriev"} <= given.actors
    assert "abu dhabi" in given.places
    leader = item("Call", signal("leader_call", "A call took place.", actors=["putin", "trump"]))
    assert {"leader:ru", "leader:us"} <= leader.actors


def test_events_evidence_does_not_depend_on_rule_ids() -> None:
    """Kind, grade, actors and places come from types and text: renaming rules changes nothing."""
    text = "Putin and Trump will meet in Alaska on 15 August."
    one = item("Statement", signal("summit_planning", text, rule="a"), item_id=900)
    two = item("Statement", signal("summit_planning", text, rule="b"), item_id=900)
    assert one == two
    assert one.grade.grade == Grade.PLACED
    assert one.kind == "meeting"


def test_events_label_says_how_concrete() -> None:
    """An event's label names the grade of its most concrete item, with place and date."""
    placed = item(
        "Putin and Trump to meet in Alaska on 20 February",
        signal("summit_planning"),
        feed="news",
        side="",
    )
    event = Event(1, (CALL_US, placed))
    assert event.lead is placed
    assert event.grade == Grade.PLACED
    assert event.label == "leaders' meeting announced or agreed (alaska, 2025-02-20)"
    refused = item("Trump cancels the summit with Putin", signal("refusal"), feed="news", side="")
    assert Event(2, (refused,)).label == "refusal of a leaders' meeting"
