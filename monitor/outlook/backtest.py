"""Backtest: the outlook replayed day by day against a ground truth of summits (pure).

The ground truth is TOML: `[[summits]]` with `name` and some of `first_signal`,
`agreed`, `announced`, `held`, `cancelled` (dates), and `[[quiet_periods]]` with
`name`, `start`, `end` — long runs of working contacts without a dated summit. For
each summit the replay gives the level over the weeks before it, how long after the
agreement the level reached `elevated` and after the announcement `high`, and the
lead time: how long before the meeting (or its cancellation) the unbroken run at
each level began. Outside every summit's window, and in each quiet period, it counts
the days at each level. A stretch with no stored item is reported as not covered.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from monitor.errors import Problems
from monitor.outlook.levels import LEVELS, DayLevel, level_rank

Table = dict[str, object]  # a table of the ground-truth file, not yet checked

LOOKBACK_DAYS = 28  # the weeks shown before a summit's first public precursor
_SUMMIT_DATES = ("first_signal", "agreed", "announced", "held", "cancelled")


@dataclass(frozen=True, slots=True)
class Summit:
    """A summit of the ground truth and the dates of its public record."""

    name: str
    first_signal: date | None = None
    agreed: date | None = None
    announced: date | None = None
    held: date | None = None
    cancelled: date | None = None

    @property
    def start(self) -> date:
        """The first date the record holds."""
        return min(d for d in self._dates() if d is not None)

    @property
    def end(self) -> date:
        """The meeting, or its cancellation, or (for neither) the announcement."""
        return self.held or self.cancelled or max(d for d in self._dates() if d is not None)

    def _dates(self) -> tuple[date | None, ...]:
        return (self.first_signal, self.agreed, self.announced, self.held, self.cancelled)


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of the ground truth with no summit in preparation."""

    name: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """The summits and quiet periods a replay is measured against."""

    summits: tuple[Summit, ...]
    quiet_periods: tuple[Period, ...]


def load_ground_truth(path: Path) -> GroundTruth:
    """Read and check a ground-truth file; ConfigError lists every problem at once."""
    problems = Problems(str(path))
    try:
        raw: Table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.add("(file)", f"cannot read: {exc.strerror}", "check the path")
        raw = {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.add("(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax")
        raw = {}
    problems.raise_if_any()
    summits = [
        _summit(t, f"summits[{n}]", problems) for n, t in enumerate(_list(raw, "summits", problems))
    ]
    periods = [
        _period(t, f"quiet_periods[{n}]", problems)
        for n, t in enumerate(_list(raw, "quiet_periods", problems))
    ]
    if not summits and not periods:
        problems.add(
            "summits",
            "no [[summits]] and no [[quiet_periods]]",
            "add at least one [[summits]] table with a name and dates",
        )
    problems.raise_if_any()
    return GroundTruth(tuple(s for s in summits if s), tuple(p for p in periods if p))


def _list(raw: Table, key: str, problems: Problems) -> list[Table]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        problems.add(key, "must be an array of tables", f"write each one as [[{key}]]")
        return []
    return value


def _date(table: Table, key: str, where: str, problems: Problems) -> date | None:
    value = table.get(key)
    if value is None or (isinstance(value, date) and not hasattr(value, "hour")):
        return value
    problems.add(
        f"{where}.{key}",
        f"must be a date, not {value!r}",
        f"write it unquoted as YYYY-MM-DD, e.g. {key} = 2021-06-16",
    )
    return None


def _name(table: Table, where: str, problems: Problems) -> str:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f"{where}.name", "missing or empty", 'write name = "Geneva"')
        return ""
    return name


def _summit(table: Table, where: str, problems: Problems) -> Summit | None:
    known = {"name", "note", *_SUMMIT_DATES}
    for key in sorted(set(table) - known):
        problems.add(f"{where}.{key}", "unknown key", f"use only {', '.join(sorted(known))}")
    dates = {k: _date(table, k, where, problems) for k in _SUMMIT_DATES}
    name = _name(table, where, problems)
    if not any(dates.values()):
        problems.add(where, "no date given", "give at least announced, held or cancelled")
        return None
    return Summit(name, **dates) if name else None


def _period(table: Table, where: str, problems: Problems) -> Period | None:
    for key in sorted(set(table) - {"name", "start", "end", "note"}):
        problems.add(f"{where}.{key}", "unknown key", "use only name, start, end, note")
    name = _name(table, where, problems)
    start, end = _date(table, "start", where, problems), _date(table, "end", where, problems)
    if start is None or end is None:
        problems.add(where, "needs both start and end", "write start = … and end = …")
        return None
    if end < start:
        problems.add(f"{where}.end", "is before start", "swap start and end")
        return None
    return Period(name, start, end) if name else None


@dataclass(frozen=True, slots=True)
class SummitResult:
    """How the outlook moved before and during one summit."""

    summit: Summit
    days: list[DayLevel]  # LOOKBACK_DAYS before its start .. its end
    stored: int  # items stored in that stretch
    to_elevated: int | None  # days from the agreement (else first signal) to "elevated"
    to_high: int | None  # days from the announcement to "high"
    lead: dict[str, int | None] = field(default_factory=dict)  # level -> days before the end


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """How often each level was shown in one stretch of days."""

    name: str
    start: date
    end: date
    stored: int
    levels: dict[str, int]

    @property
    def days(self) -> int:
        """The days of the stretch."""
        return sum(self.levels.values())

    def share(self, level: str) -> float:
        """The share of the days shown at `level`."""
        return self.levels.get(level, 0) / self.days if self.days else 0.0


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """A replay measured against the ground truth."""

    start: date
    end: date
    items: int
    summits: list[SummitResult]
    quiet_periods: list[PeriodResult]
    outside: PeriodResult


def run_backtest(
    truth: GroundTruth, days: Sequence[DayLevel], item_days: Sequence[date]
) -> BacktestResult:
    """Figures from a replay (`days`, consecutive) and the days of all stored items."""
    by_day = {d.day: d for d in days}
    start, end = days[0].day, days[-1].day
    stored = Counter(item_days)
    summits = [_summit_result(s, by_day, stored) for s in truth.summits]
    periods = [_period_result(p.name, p.start, p.end, by_day, stored) for p in truth.quiet_periods]
    windows = [(s.start, s.end) for s in truth.summits]
    outside_days = [d for d in days if not any(a <= d.day <= b for a, b in windows)]
    counts = Counter(d.level for d in outside_days)
    outside = PeriodResult(
        "days outside every summit's window",
        start,
        end,
        sum(stored[d.day] for d in outside_days),
        {level: counts.get(level, 0) for level in LEVELS},
    )
    return BacktestResult(start, end, len(item_days), summits, periods, outside)


def _stretch(by_day: dict[date, DayLevel], first: date, last: date) -> list[DayLevel]:
    span = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [by_day.get(d, DayLevel(d, "quiet", 0.0)) for d in span]


def _summit_result(
    summit: Summit, by_day: dict[date, DayLevel], stored: Counter[date]
) -> SummitResult:
    first = summit.start - timedelta(days=LOOKBACK_DAYS)
    days = _stretch(by_day, first, summit.end)
    reference = summit.agreed or summit.first_signal
    return SummitResult(
        summit=summit, days=days,
        stored=sum(stored[d.day] for d in days),
        to_elevated=_delay(days, reference, "elevated"),
        to_high=_delay(days, summit.announced, "high"),
        lead={level: _lead(days, level) for level in ("watch", "elevated", "high")},
    )  # fmt: skip


def _delay(days: Sequence[DayLevel], reference: date | None, level: str) -> int | None:
    """Days from `reference` to the first day at `level` or above (None: never)."""
    if reference is None:
        return None
    hit = next(
        (d.day for d in days if d.day >= reference and level_rank(d.level) >= level_rank(level)),
        None,
    )
    return None if hit is None else (hit - reference).days


def _lead(days: Sequence[DayLevel], level: str) -> int | None:
    """How long before the last day the unbroken run at `level` or above began; the run
    must reach the last day or the day before it (None: it did not)."""
    ranks = [level_rank(d.level) >= level_rank(level) for d in days]
    if not ranks or not (ranks[-1] or (len(ranks) > 1 and ranks[-2])):
        return None
    last = len(ranks) - 1 if ranks[-1] else len(ranks) - 2
    first = last
    while first > 0 and ranks[first - 1]:
        first -= 1
    return (days[-1].day - days[first].day).days


def _period_result(
    name: str, start: date, end: date, by_day: dict[date, DayLevel], stored: Counter[date]
) -> PeriodResult:
    days = _stretch(by_day, start, end)
    levels = Counter(d.level for d in days)
    return PeriodResult(
        name,
        start,
        end,
        sum(stored[d.day] for d in days),
        {level: levels.get(level, 0) for level in LEVELS},
    )
