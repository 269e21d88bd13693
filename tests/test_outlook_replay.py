"""The outlook replayed over real history: the dev set and the streams against the timeline.

Sources: kremlin.ru / en.kremlin.ru (CC BY 4.0), whitehouse.gov, and a news agency's
wire (evaluation only), all read from ../shared at test time; nothing is copied here.

What the shared data covers, and so what these tests can hold the outlook to:

- Geneva 2021: the White House items of the agreement day (13 April) and of the
  announcement (25 May) are in the dev set: elevated within two days of the first,
  high within two days of the second, and never high before the announcement.
- The security-guarantees talks (Dec 2021 – Feb 2022, dev set and Kremlin stream) and
  the post-Budapest track (the wire of 1–14 Nov 2025): high on at most 10 % of days.
- Anchorage 2025: the dev set has White House items from 13 February on, but not the
  readout of the 12 February call nor anything from the 8 August announcement; the
  bar for those two days cannot be measured on this data. What can: no day is high
  between the first call and the announcement.
- Hamburg 2017, Helsinki 2018, the 2020 Vienna rounds and Budapest 2025: no or almost
  no stored item, reported as not covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.outlook.backtest import BacktestResult, GroundTruth, load_ground_truth, run_backtest
from monitor.outlook.grading import Grade
from monitor.outlook.levels import DayLevel, OutlookSettings, level_rank, replay
from monitor.signals import load_rules
from monitor.store import open_store
from monitor.store.events import ensure_events, item_days, load_events
from tests.conftest import REPO, SHARED, needs_shared
from tests.review_fixtures import invoke

pytestmark = needs_shared
IMPORT_NOW = datetime(2026, 12, 1, tzinfo=UTC)
SOURCES = {
    "devset": "devset/items.jsonl",
    "kremlin-stream": "streams/kremlin-en-2021-10-24_2022-01-31.jsonl",
    "news-wire": "streams/news-headlines-2025-11-01_14.jsonl",
}


@dataclass(frozen=True)
class Replay:
    truth: GroundTruth
    days: list[DayLevel]
    result: BacktestResult
    concrete_days: list[date]  # days on which an item graded agreed or placed was reported
    flagged_days: list[date]

    def summit(self, name: str) -> object:
        return next(r for r in self.result.summits if r.summit.name == name)

    def level_on(self, day: date) -> str:
        return next(d.level for d in self.days if d.day == day)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    db = tmp_path_factory.mktemp("replay") / "monitor.db"
    rules = load_rules(REPO / "config" / "rules.toml")
    for feed, name in SOURCES.items():
        done = invoke(db, ["import", "--feed", feed, str(SHARED / name)], IMPORT_NOW, rules)
        assert done.exit_code == 0, done.output
    truth = load_ground_truth(SHARED / "timeline" / "summits.toml")
    settings = OutlookSettings()
    with open_store(db) as store:
        ensure_events(store, IMPORT_NOW)
        events = load_events(store)
        stored = item_days(store)
    days = replay(events, min(stored), max(stored), settings)
    items = [i for e in events for i in e.items]
    return Replay(
        truth,
        days,
        run_backtest(truth, days, stored),
        sorted({i.day for i in items if i.grade.grade >= Grade.AGREED}),
        sorted({i.day for i in items}),
    )


def test_outlook_replay_geneva_2021_elevated_then_high_within_two_days(history: Replay) -> None:
    """Geneva: elevated within two days of the agreement, high within two of the announcement."""
    geneva = history.summit("Geneva")
    assert geneva.stored > 0  # type: ignore[attr-defined]
    assert geneva.to_elevated is not None
    assert geneva.to_elevated <= 2
    assert geneva.to_high is not None
    assert geneva.to_high <= 2
    assert geneva.lead["high"] >= 14  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Geneva", date(2021, 4, 13), date(2021, 5, 23)),
        ("Anchorage", date(2025, 2, 12), date(2025, 8, 7)),
    ],
)
def test_outlook_replay_never_high_before_the_announcement(
    history: Replay, name: str, first: date, last: date
) -> None:
    """Between the first precursor and the announcement no day reads high."""
    span = [d for d in history.days if first <= d.day <= last]
    assert span, name
    assert all(d.level != "high" for d in span), name


def test_outlook_replay_quiet_periods_rarely_high(history: Replay) -> None:
    """In every quiet period the data covers, high on at most 10 % of days."""
    covered = [p for p in history.result.quiet_periods if p.stored]
    assert len(covered) >= 2
    for period in covered:
        assert period.share("high") <= 0.10, (period.name, period.levels)


def test_outlook_replay_wire_of_working_contacts_is_not_above_watch(history: Replay) -> None:
    """Two weeks of a wire full of envoy and summit talk, no date set: watch at most."""
    wire = [d for d in history.days if date(2025, 11, 1) <= d.day <= date(2025, 11, 14)]
    assert {d.level for d in wire} <= {"quiet", "watch"}
    assert "watch" in {d.level for d in wire}


def test_outlook_replay_weeks_without_contacts_are_quiet_or_watch(history: Replay) -> None:
    """A day with no flagged item in the two weeks before it is quiet or watch, unless a
    meeting agreed or placed in the last 35 days (14 + 21) still holds it up."""
    flagged, concrete = set(history.flagged_days), history.concrete_days
    checked = 0
    for day in history.days:
        if any(day.day - timedelta(days=n) in flagged for n in range(14)):
            continue
        if any(timedelta(0) <= day.day - c <= timedelta(days=35) for c in concrete):
            continue
        checked += 1
        assert level_rank(day.level) <= level_rank("watch"), day
    assert checked > 1000  # most of 2017-2026 has no contact in the data


def test_outlook_replay_outside_summits_high_is_rare(history: Replay) -> None:
    """Outside every summit's window, high on at most 1 % of the replayed days."""
    assert history.result.outside.share("high") <= 0.01, history.result.outside.levels
