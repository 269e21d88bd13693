"""The summit outlook: the most concrete recent events into a level with reasons (pure).

The level answers one question — is a US–Russia leaders' meeting being prepared, and
how close is it? — from how concrete the events of the window are, not from how many
there are (see `monitor.outlook.grading` for the grades):

- **high**: a leaders' meeting announced or agreed with a date or a place, still on;
- **elevated**: a leaders' meeting agreed in principle or being prepared;
- **watch**: working contacts (calls, envoy visits, delegation rounds, strategic
  stability or arms-control exchanges);
- **quiet**: none of these.

Decay is stepped: an item holds the level of its grade for that level's period after
it was reported, then one level lower for that level's period, and so on
(`OutlookSettings`). A placed meeting with a known date holds "high" at least until
that date. A refusal of a leaders' meeting (cancelled, postponed, "no plans") turns
every meeting reported on or before its day into a mere contact, so a cancellation
brings the level down the day it is reported; a refusal of talks ("talks suspended")
does the same to earlier contacts, which then count for nothing. More items do not
raise the level: a second source corroborates an event, it does not double it.

`score` places the day within its level: the level's rank (quiet 0 … high 3) plus
the share of the setting event's period still to run (a fresh "high" reads 3.99).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from monitor.models import OUTLOOK_WINDOW_DAYS, OutlookSettings
from monitor.outlook.events import Event, ItemEvidence, describe
from monitor.outlook.grading import Grade

LEVELS = ("quiet", "watch", "elevated", "high")

RU, US = "ru", "us"
_SIDE_HOSTS: Final = MappingProxyType(
    {RU: ("kremlin.ru", "mid.ru"), US: ("whitehouse.gov", "state.gov")}
)
_SIDE_FEED_NAMES: Final = MappingProxyType(
    {
        RU: ("kremlin", "mid-ru", "mid_ru"),
        US: ("whitehouse", "white-house", "white_house", "state-dept", "state_dept", "state-gov"),
    }
)


@dataclass(frozen=True, slots=True)
class Standing:
    """What one item does to the level on a day: its rank there and why."""

    item: ItemEvidence
    rank: int
    score: float
    until: date
    capped_by: ItemEvidence | None = None


@dataclass(frozen=True, slots=True)
class EventStanding:
    """What one event adds to the outlook on a day, and until when."""

    event: Event
    rank: int
    score: float
    set_by: ItemEvidence
    until: date
    capped_by: ItemEvidence | None = None


@dataclass(frozen=True, slots=True)
class DayLevel:
    """One day of a replay: the level, the score, and what was reported that day."""

    day: date
    level: str
    score: float
    reported: dict[str, int] = field(default_factory=dict)  # grade name -> items


@dataclass(frozen=True, slots=True)
class Outlook:
    """The summit outlook on a day, with the events and reasons that set it."""

    as_of: date
    level: str
    score: float
    since: date | None
    reasons: list[str]
    events: list[EventStanding]
    daily: list[DayLevel]
    window_days: int = OUTLOOK_WINDOW_DAYS


def level_rank(level: str) -> int:
    """Order of levels (quiet 0 .. high 3); unknown names rank below quiet."""
    return LEVELS.index(level) if level in LEVELS else -1


def source_side(feed: str, url: str | None = None, feed_url: str | None = None) -> str:
    """ "ru" for Kremlin and Russian MFA sources, "us" for White House and State, else ""."""
    hosts = [(urlsplit(link).hostname or "").lower() for link in (url, feed_url) if link]
    for side, suffixes in _SIDE_HOSTS.items():
        if any(h == s or h.endswith("." + s) for h in hosts for s in suffixes):
            return side
    name = feed.lower()
    for side, prefixes in _SIDE_FEED_NAMES.items():
        if any(p in name for p in prefixes):
            return side
    return ""


def stages(item: ItemEvidence, grade: int, s: OutlookSettings) -> list[tuple[int, date, date]]:
    """(rank, first day, last day) of each level an item of `grade` holds, highest first."""
    periods = {3: s.high_days, 2: s.elevated_days, 1: s.watch_days}
    out: list[tuple[int, date, date]] = []
    start = item.day
    for rank in range(grade, 0, -1):
        end = start + timedelta(days=periods[rank] - 1)
        if rank == 3 and item.grade.meeting_date is not None:
            end = max(end, item.grade.meeting_date)
        out.append((rank, start, end))
        start = end + timedelta(days=1)
    return out


class Refusals:
    """The days of refusals among a set of items, for capping what came before them."""

    def __init__(self, items: Sequence[ItemEvidence]) -> None:
        self.meeting = sorted((i.day, i.item_id, i) for i in items if i.grade.refusal == "meeting")
        self.talks = sorted((i.day, i.item_id, i) for i in items if i.grade.refusal == "talks")

    def cap(self, item: ItemEvidence, as_of: date) -> tuple[int, ItemEvidence | None]:
        """The grade `item` still has on `as_of`, and the refusal that lowered it."""
        grade = int(item.grade.grade)
        if grade >= Grade.AGREED and (hit := self._after(self.meeting, item, as_of)):
            return int(Grade.CONTACT), hit
        if grade == Grade.CONTACT and (hit := self._after(self.talks, item, as_of)):
            return 0, hit
        return grade, None

    @staticmethod
    def _after(
        found: list[tuple[date, int, ItemEvidence]], item: ItemEvidence, as_of: date
    ) -> ItemEvidence | None:
        start = bisect.bisect_left(found, (item.day, -1))
        for day, _, refusal in found[start:]:
            if day > as_of:
                return None
            if refusal.item_id != item.item_id:
                return refusal
        return None


def standing(
    item: ItemEvidence, refusals: Refusals, as_of: date, s: OutlookSettings
) -> Standing | None:
    """What `item` does to the level on `as_of`, or None when it does nothing."""
    grade, capped_by = refusals.cap(item, as_of)
    for rank, start, end in stages(item, grade, s):
        if start <= as_of <= end:
            left = ((end - as_of).days + 1) / ((end - start).days + 1)
            return Standing(item, rank, round(rank + 0.99 * left, 2), end, capped_by)
    return None


def in_window(items: Sequence[ItemEvidence], as_of: date, window_days: int) -> list[ItemEvidence]:
    """The items of the `window_days` days up to and including `as_of`."""
    first = as_of - timedelta(days=window_days - 1)
    return [i for i in items if first <= i.day <= as_of]


def standings(events: Sequence[Event], as_of: date, s: OutlookSettings) -> list[EventStanding]:
    """Every event that holds a level on `as_of`, strongest first."""
    events = [e for e in events if in_window(e.items, as_of, s.window_days)]
    items = in_window([i for e in events for i in e.items], as_of, s.window_days)
    refusals = Refusals(items)
    out = []
    for event in events:
        held = [
            st
            for i in in_window(event.items, as_of, s.window_days)
            if (st := standing(i, refusals, as_of, s))
        ]
        if held:
            best = max(held, key=lambda st: (st.score, st.item.day, st.item.item_id))
            out.append(
                EventStanding(event, best.rank, best.score, best.item, best.until, best.capped_by)
            )
    return sorted(out, key=lambda e: (-e.score, -e.event.id))


def level_on(events: Sequence[Event], as_of: date, s: OutlookSettings) -> tuple[str, float]:
    """The level and score the events give on `as_of`."""
    held = standings(events, as_of, s)
    return (LEVELS[held[0].rank], held[0].score) if held else ("quiet", 0.0)


def replay(events: Sequence[Event], start: date, end: date, s: OutlookSettings) -> list[DayLevel]:
    """The level of every day from `start` to `end`, each from what was known that day."""
    days = []
    by_day: dict[date, dict[str, int]] = {}
    for item in (i for e in events for i in e.items):
        key = f"refusal of {item.grade.refusal}" if item.grade.refusal else item.grade.name
        counts = by_day.setdefault(item.day, {})
        counts[key] = counts.get(key, 0) + 1
    index = sorted((i.day, e.id) for e in events for i in e.items)
    by_id = {e.id: e for e in events}
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        lo = bisect.bisect_left(index, (day - timedelta(days=s.window_days - 1), -1))
        hi = bisect.bisect_right(index, (day, 1 << 62))
        nearby = [by_id[k] for k in dict.fromkeys(event_id for _, event_id in index[lo:hi])]
        level, score = level_on(nearby, day, s)
        days.append(DayLevel(day, level, score, dict(sorted(by_day.get(day, {}).items()))))
    return days


def compute_outlook(
    events: Sequence[Event], as_of: date, settings: OutlookSettings | None = None
) -> Outlook:
    """The outlook on `as_of` from the events reported in the window ending that day."""
    s = settings or OutlookSettings()
    held = standings(events, as_of, s)
    daily = replay(events, as_of - timedelta(days=s.window_days - 1), as_of, s)
    level = LEVELS[held[0].rank] if held else "quiet"
    since = _since(daily, level)
    return Outlook(
        as_of=as_of, level=level, score=held[0].score if held else 0.0, since=since,
        reasons=_reasons(level, since, held, events, as_of, s), events=held, daily=daily,
        window_days=s.window_days,
    )  # fmt: skip


def _since(daily: Sequence[DayLevel], level: str) -> date | None:
    """The first day of the run at `level` that ends on the last day (None if quiet)."""
    if level == "quiet" or not daily:
        return None
    since = daily[-1].day
    for day in reversed(daily):
        if day.level != level:
            break
        since = day.day
    return since


def _reasons(
    level: str,
    since: date | None,
    held: Sequence[EventStanding],
    events: Sequence[Event],
    as_of: date,
    s: OutlookSettings,
) -> list[str]:
    """Two or three lines naming the events that set the level."""
    if not held:
        recent = in_window([i for e in events for i in e.items], as_of, s.window_days)
        if not recent:
            return [f"quiet: no event reported in the last {s.window_days} days"]
        last = max(recent, key=lambda i: (i.day, i.item_id))
        return [
            f"quiet: nothing reported since {last.day.isoformat()} still holds a level "
            f"(last: {_item_label(last)})"
        ]
    top = held[0]
    lines = [
        f"{level} since {since.isoformat() if since else as_of.isoformat()}: {_held_text(top)}"
    ]
    others = [h for h in held[1:] if h.event.id != top.event.id][:2]
    if others:
        lines.append("also " + "; ".join(_held_text(h, short=True) for h in others))
    capped = next((h.capped_by for h in held if h.capped_by is not None), None)
    if capped is not None:
        what = "meetings" if capped.grade.refusal == "meeting" else "contacts"
        lines.append(
            f"{_item_label(capped)} on {capped.day.isoformat()} ({capped.feed}): "
            f"{what} reported before it no longer count as such"
        )
    return lines


def _held_text(held: EventStanding, short: bool = False) -> str:
    item = held.set_by
    text = f"{held.event.label} {item.day.isoformat()} ({', '.join(held.event.sources)})"
    if short:
        return text
    return f"{text}, holds {LEVELS[held.rank]} until {held.until.isoformat()}"


def _item_label(item: ItemEvidence) -> str:
    return describe(item)


def outlook_series(
    events: Sequence[Event], start: date, end: date, settings: OutlookSettings | None = None
) -> list[Outlook]:
    """The outlook of every day from `start` to `end`: replaying history day by day."""
    return [
        compute_outlook(events, start + timedelta(days=n), settings)
        for n in range((end - start).days + 1)
    ]


def sparkline(values: Sequence[float]) -> str:
    """Unicode block sparkline; zero is a baseline dot so quiet days stay visible."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0.0)
    if top <= 0:
        return "·" * len(values)
    return "".join(
        "·" if v <= 0 else blocks[min(len(blocks) - 1, int(v / top * (len(blocks) - 1) + 0.5))]
        for v in values
    )


LEVEL_MARKS: Final = MappingProxyType({"quiet": "·", "watch": "w", "elevated": "E", "high": "H"})


def level_strip(days: Sequence[DayLevel]) -> str:
    """One character per day: · quiet, w watch, E elevated, H high."""
    return "".join(LEVEL_MARKS[d.level] for d in days)
