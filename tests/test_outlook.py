"""The summit outlook as a pure function of flags and a date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from monitor.outlook import (
    CORROBORATION_FACTOR,
    HALF_LIFE_DAYS,
    LEVEL_THRESHOLDS,
    TYPE_STRENGTH,
    FlagRecord,
    compute_outlook,
    decay,
    level_for,
    level_rank,
    outlook_series,
    source_side,
    sparkline,
)

AS_OF = date(2025, 8, 10)
_ids = iter(range(1, 10_000))


def flag(kind: str, days_ago: int = 0, side: str = "us", weight: float = 1.0,
         *more: tuple[str, float]) -> FlagRecord:
    return FlagRecord(
        item_id=next(_ids),
        feed="whitehouse" if side == "us" else "kremlin-en",
        side=side,
        title=f"{kind} {days_ago}",
        day=AS_OF - timedelta(days=days_ago),
        score=weight,
        signals=((kind, weight), *more),
    )


def test_outlook_empty_window_is_quiet() -> None:
    """No flags in the window gives level quiet, score 0 and a reason saying so."""
    result = compute_outlook([flag("summit_planning", days_ago=40)], AS_OF, 30)
    assert (result.level, result.score, result.items) == ("quiet", 0.0, [])
    assert "no flagged items" in result.reasons[0]


def test_outlook_decay_halves_after_half_life() -> None:
    """A flag one half-life old counts half as much as the same flag today."""
    today = compute_outlook([flag("leader_call", 0)], AS_OF).score
    older = compute_outlook([flag("leader_call", int(HALF_LIFE_DAYS))], AS_OF).score
    assert today == TYPE_STRENGTH["leader_call"]
    assert older == pytest.approx(today / 2, abs=1e-3)
    assert decay(0) == 1.0 and decay(int(HALF_LIFE_DAYS) * 2) == pytest.approx(0.25)


def test_outlook_type_strength_orders_signal_types() -> None:
    """Summit planning > envoy visit = neutral venue > leader call > stability/arms control."""
    scores = {k: compute_outlook([flag(k)], AS_OF).score for k in TYPE_STRENGTH}
    assert scores["summit_planning"] > scores["envoy_visit"] == scores["neutral_venue_meeting"]
    assert scores["neutral_venue_meeting"] > scores["leader_call"]
    assert scores["leader_call"] > scores["strategic_stability"] == scores["arms_control"]


def test_outlook_passing_mention_counts_less_than_full_weight() -> None:
    """A low-weight rule (passing mention) counts in proportion to its weight."""
    full = compute_outlook([flag("leader_call", 0, "us", 1.0)], AS_OF).score
    mention = compute_outlook([flag("leader_call", 0, "us", 0.3)], AS_OF).score
    assert mention == pytest.approx(full * 0.3)


def test_outlook_corroboration_boosts_when_both_sides_report() -> None:
    """The same signals from a Russian and a US source score higher than from one side."""
    one_side = compute_outlook([flag("leader_call", 1, "us"), flag("leader_call", 1, "us")], AS_OF)
    both = compute_outlook([flag("leader_call", 1, "us"), flag("leader_call", 1, "ru")], AS_OF)
    assert both.score == pytest.approx(one_side.score * CORROBORATION_FACTOR, abs=1e-3)
    assert any("corroborated" in r for r in both.reasons)
    assert not any("corroborated" in r for r in one_side.reasons)


def test_outlook_refusal_from_other_side_does_not_corroborate() -> None:
    """A refusal from the other side is not corroboration."""
    result = compute_outlook([flag("leader_call", 0, "us"), flag("refusal", 0, "ru")], AS_OF)
    assert not any("corroborated" in r for r in result.reasons)


def test_outlook_refusal_pulls_down() -> None:
    """A refusal lowers the score and the level, and is named in the reasons."""
    base = [flag("summit_planning", 1, "us"), flag("leader_call", 2, "ru"), flag("envoy_visit", 3)]
    before = compute_outlook(base, AS_OF)
    after = compute_outlook([*base, flag("refusal", 0, "ru")], AS_OF)
    assert after.score < before.score
    assert level_rank(after.level) < level_rank(before.level)
    assert any(r.startswith("refusal") for r in after.reasons)
    refusal_items = [i for i in after.items if i.contribution < 0]
    assert len(refusal_items) == 1 and "pulls down" in refusal_items[0].reasons[0]


def test_outlook_refusal_never_below_zero() -> None:
    """Refusals alone leave the score at zero, not negative."""
    result = compute_outlook([flag("refusal", 0), flag("refusal", 1)], AS_OF)
    assert result.score == 0.0 and result.level == "quiet"


def test_outlook_diversity_beats_repetition() -> None:
    """Two different signal types score more than the same type twice at equal strength."""
    same = compute_outlook([flag("envoy_visit", 0), flag("envoy_visit", 0)], AS_OF)
    mixed = compute_outlook([flag("envoy_visit", 0), flag("neutral_venue_meeting", 0)], AS_OF)
    assert mixed.score > same.score
    assert any("distinct signal types" in r for r in mixed.reasons)


def test_outlook_repetition_saturates() -> None:
    """Ten same-day reports of one type add less than twice what one report adds."""
    one = compute_outlook([flag("summit_planning")], AS_OF).score
    ten = compute_outlook([flag("summit_planning") for _ in range(10)], AS_OF)
    assert one < ten.score < 2 * one
    assert "report 2 of its type x0.50" in ten.items[1].reasons[0]


@pytest.mark.parametrize(("name", "threshold"), LEVEL_THRESHOLDS)
def test_outlook_level_thresholds(name: str, threshold: float) -> None:
    """Each level starts exactly at its documented threshold."""
    assert level_for(threshold) == name
    if threshold > 0:
        assert level_rank(level_for(threshold - 0.001)) == level_rank(name) - 1


def test_outlook_realistic_levels() -> None:
    """One leader call is watch; a dated summit confirmed by both sides with a call is high."""
    assert compute_outlook([flag("leader_call")], AS_OF).level == "watch"
    assert compute_outlook([flag("strategic_stability")], AS_OF).level == "quiet"
    summit = [flag("summit_planning", 0, "us"), flag("summit_planning", 0, "ru"),
              flag("leader_call", 2, "ru")]
    assert compute_outlook(summit, AS_OF).level == "high"


def test_outlook_ignores_future_flags() -> None:
    """Flags dated after as_of do not count (replay must not see the future)."""
    result = compute_outlook([flag("summit_planning", -1)], AS_OF)
    assert result.score == 0.0


def test_outlook_replay_equals_day_by_day() -> None:
    """outlook_series gives the same outlook as compute_outlook on each day."""
    flags = [flag(k, d, s) for k, d, s in [
        ("leader_call", 20, "us"), ("summit_planning", 12, "ru"), ("refusal", 5, "us"),
        ("envoy_visit", 3, "ru"), ("arms_control", 0, "us"), ("summit_planning", -2, "us")]]
    start, end = AS_OF - timedelta(days=25), AS_OF + timedelta(days=3)
    series = outlook_series(flags, start, end, 14)
    assert len(series) == 29
    for day_outlook in series:
        assert day_outlook == compute_outlook(flags, day_outlook.as_of, 14)


def test_outlook_daily_scores_cover_window_by_type() -> None:
    """daily has one entry per window day with undecayed strength per type."""
    result = compute_outlook([flag("leader_call", 2), flag("refusal", 2)], AS_OF, 7)
    assert [d.day for d in result.daily] == [AS_OF - timedelta(days=n) for n in range(6, -1, -1)]
    day = result.daily[4]
    assert day.by_type == {"leader_call": 2.0, "refusal": 4.0}
    assert (day.positive, day.refusal) == (2.0, 4.0)


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
    assert len(line) == 4 and line[0] == "·" and line[-1] == "█"
    assert sparkline([0.0, 0.0]) == "··"
