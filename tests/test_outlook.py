"""The summit outlook as a pure function of events and a date: how concrete, not how many."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from monitor.outlook.events import Event, evidence_of
from monitor.outlook.levels import (
    LEVELS,
    OutlookSettings,
    compute_outlook,
    level_rank,
    level_strip,
    outlook_series,
    replay,
    source_side,
    sparkline,
)

AS_OF = date(2025, 8, 10)
S = OutlookSettings(high_days=14, elevated_days=21, watch_days=14, window_days=60)
_ids = iter(range(1, 10_000))

PLACED = "Putin and Trump will meet in Alaska on 15 August."
AGREED = "Putin invited Trump to visit Moscow; the presidents agreed to meet."
CONTACT = "US envoy Witkoff arrived in Moscow for talks."
CANCELLED = "The Putin-Trump summit in Alaska has been cancelled."
SUSPENDED = "Russia suspends strategic stability consultations with the US."

KIND_OF = {
    PLACED: "summit_planning",
    AGREED: "summit_planning",
    CONTACT: "envoy_visit",
    CANCELLED: "refusal",
    SUSPENDED: "refusal",
}


def event(text: str, days_ago: int = 0, copies: int = 1, feed: str = "news") -> Event:
    """One event of `copies` reports of `text`, the last `days_ago` days before AS_OF."""
    items = []
    for n in range(copies):
        day = AS_OF - timedelta(days=days_ago + n)
        signal: dict[str, Any] = {"type": KIND_OF[text], "sentences": [text]}
        items.append(evidence_of(next(_ids), feed, "", text, day, [signal]))
    return Event(next(_ids), tuple(items))


def level(*events: Event, on: date = AS_OF) -> str:
    return compute_outlook(events, on, S).level


def test_outlook_empty_window_is_quiet() -> None:
    """No events in the window: quiet, score 0, and a reason saying so."""
    result = compute_outlook([event(PLACED, days_ago=70)], AS_OF, S)
    assert (result.level, result.score, result.events) == ("quiet", 0.0, [])
    assert result.reasons == ["quiet: no event reported in the last 60 days"]


@pytest.mark.parametrize(
    ("text", "expected"), [(PLACED, "high"), (AGREED, "elevated"), (CONTACT, "watch")]
)
def test_outlook_level_follows_the_most_concrete_event(text: str, expected: str) -> None:
    """A placed meeting is high, one agreed in principle elevated, a working contact watch."""
    assert level(event(CONTACT, 1), event(text)) == expected


def test_outlook_count_does_not_raise_the_level() -> None:
    """Twenty reports of working contacts stay at watch: volume is not concreteness."""
    many = [event(CONTACT, days_ago=n % 10, copies=2) for n in range(20)]
    assert level(*many) == "watch"


def test_outlook_second_source_corroborates_but_does_not_double() -> None:
    """The same announcement from two feeds gives the same level and score as from one."""
    one = compute_outlook([event(PLACED)], AS_OF, S)
    two = compute_outlook([event(PLACED), event(PLACED, feed="kremlin-en")], AS_OF, S)
    assert (one.level, one.score) == (two.level, two.score)


def test_outlook_decay_steps_down_one_level_at_a_time() -> None:
    """An agreement holds elevated for elevated_days, then watch for watch_days, then quiet."""
    agreed = event(AGREED, days_ago=0)
    days = replay([agreed], AS_OF, AS_OF + timedelta(days=40), S)
    assert level_strip(days) == "E" * 21 + "w" * 14 + "·" * 6


def test_outlook_placed_meeting_holds_high_until_its_date() -> None:
    """A meeting dated 15 August, announced on 1 August, is high to its day, then lower."""
    announced = event(PLACED, days_ago=9)  # 1 August
    assert level(announced, on=date(2025, 8, 15)) == "high"
    assert level(announced, on=date(2025, 8, 16)) == "elevated"
    undated = Event(
        99,
        (
            evidence_of(
                99,
                "news",
                "",
                "Putin and Trump to meet in Alaska",
                AS_OF,
                [{"type": "summit_planning"}],
            ),
        ),
    )
    assert level(undated, on=AS_OF + timedelta(days=S.high_days - 1)) == "high"
    assert level(undated, on=AS_OF + timedelta(days=S.high_days)) == "elevated"


def test_outlook_cancellation_brings_the_level_down_the_same_day() -> None:
    """A refusal of the meeting turns earlier meeting plans into contacts on its day."""
    plans = [event(PLACED, days_ago=3), event(AGREED, days_ago=5)]
    assert level(*plans, on=AS_OF - timedelta(days=1)) == "high"
    result = compute_outlook([*plans, event(CANCELLED, days_ago=0)], AS_OF, S)
    assert result.level == "watch"
    assert any("no longer count" in r for r in result.reasons)


def test_outlook_meeting_after_a_cancellation_counts_again() -> None:
    """A new agreement reported after a cancellation raises the level again."""
    assert level(event(PLACED, 6), event(CANCELLED, 4), event(AGREED, 1)) == "elevated"


def test_outlook_suspended_talks_end_earlier_contacts() -> None:
    """Talks suspended: earlier working contacts stop counting, later ones count."""
    assert level(event(CONTACT, 3), event(SUSPENDED, 1)) == "quiet"
    assert level(event(CONTACT, 3), event(SUSPENDED, 2), event(CONTACT, 0)) == "watch"
    assert level(event(AGREED, 3), event(SUSPENDED, 1)) == "elevated"


def test_outlook_reasons_name_the_setting_event_and_since() -> None:
    """The first reason gives the level, since when, the event, its day and its sources."""
    result = compute_outlook([event(CONTACT, 12), event(AGREED, 4, feed="kremlin-en")], AS_OF, S)
    assert result.level == "elevated"
    assert result.since == AS_OF - timedelta(days=4)
    first = result.reasons[0]
    assert first.startswith("elevated since 2025-08-06: leaders' meeting agreed in principle")
    assert "(kremlin-en)" in first
    assert "holds elevated until 2025-08-26" in first
    assert result.reasons[1].startswith("also envoy visit")


def test_outlook_ignores_future_reports() -> None:
    """Reports dated after as_of do not count (a replay must not see the future)."""
    assert level(event(PLACED, days_ago=-1)) == "quiet"


def test_outlook_series_equals_day_by_day() -> None:
    """outlook_series and replay give the same level as compute_outlook on each day."""
    events = [
        event(CONTACT, 30),
        event(AGREED, 20),
        event(CANCELLED, 12),
        event(PLACED, 5),
        event(CONTACT, -2),
    ]
    start, end = AS_OF - timedelta(days=35), AS_OF + timedelta(days=3)
    series = outlook_series(events, start, end, S)
    days = replay(events, start, end, S)
    assert len(series) == len(days) == 39
    for outlook, day in zip(series, days, strict=True):
        alone = compute_outlook(events, outlook.as_of, S)
        assert (outlook.level, outlook.score) == (alone.level, alone.score)
        assert (day.level, day.score) == (alone.level, alone.score)
    assert {d.level for d in days} == set(LEVELS)


def test_outlook_score_places_the_day_within_its_level() -> None:
    """The score is the level's rank plus the share of its period still to run."""
    fresh, old = (
        compute_outlook([event(AGREED, 0)], AS_OF, S),
        compute_outlook([event(AGREED, 20)], AS_OF, S),
    )
    assert fresh.score == pytest.approx(2.99)
    assert 2.0 < old.score < 2.1
    assert level_rank(fresh.level) == int(fresh.score)


def test_outlook_source_side_from_feed_or_url() -> None:
    """Kremlin sources are ru, White House and State are us, others neither."""
    assert source_side("kremlin-en") == "ru"
    assert source_side("import", "http://en.kremlin.ru/events/president/news/1") == "ru"
    assert source_side("wh", None, "https://www.whitehouse.gov/feed/") == "us"
    assert source_side("import", "https://www.state.gov/x") == "us"
    assert source_side("import", "https://notkremlin.ru.example.com/") == ""
    assert source_side("reuters", "https://reuters.com/") == ""


def test_outlook_sparkline_scales_to_max() -> None:
    """The sparkline has one cell per value, dots for zero, a full block for the max."""
    line = sparkline([0.0, 1.0, 4.0, 8.0])
    assert len(line) == 4
    assert line[0] == "·"
    assert line[-1] == "█"
    assert sparkline([0.0, 0.0]) == "··"
