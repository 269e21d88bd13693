"""What `--since`, `--until`, `--as-of` and `--window` accept, the same in every command.

An item belongs to a period by its own time: the publication time its feed gave,
or the time the monitor first saw it when the feed gave none (or a time after
that: a feed date later than our first sighting is a lie). So history imported
today keeps its own dates, and `--since 7d` means "dated in the last seven days"
whether an item was polled or imported (see `monitor.store.schema.item_time`).

`--since` and `--until` take the same forms:

    7d, 12h, 30m, 1h30m      that long before now
    2025-01-01               that day (UTC): --since from its start, --until to its end
    2025-01-01T12:00:00Z     that moment (an offset is converted to UTC)

A period includes its start and excludes its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click

from monitor.clock import iso, parse_iso
from monitor.config.durations import parse_duration

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FORMS = (
    "a duration such as 7d or 12h, a date such as 2025-01-01, or a time such as "
    "2025-01-01T12:00:00Z"
)
# days before and after these would overflow the date arithmetic around them (windows,
# day ends); no press item falls outside them
_EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 12, 31, tzinfo=UTC)
MAX_WINDOW_DAYS = 3660  # ten years: longer than any record the monitor holds
SINCE_HELP = (
    "Only items published (else first seen) from then on: 7d, 12h, 2025-01-01 or an ISO time."
)
UNTIL_HELP = (
    "Only items published (else first seen) before then (a date: up to its end); "
    "same forms as --since."
)


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until) in UTC; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def since_iso(self) -> str | None:
        """The start as stored ISO text, or None when open."""
        return None if self.since is None else iso(self.since)

    def until_iso(self) -> str | None:
        """The end as stored ISO text, or None when open."""
        return None if self.until is None else iso(self.until)


def moment(value: str, now: datetime, option: str, *, day_end: bool = False) -> datetime:
    """`value` in any accepted form as a UTC time; a bare date is its start (or its end)."""
    text = value.strip()
    if _DATE.fullmatch(text):
        start = datetime.combine(day(text, option), time(), tzinfo=UTC)
        return start + timedelta(days=1) if day_end else start
    if _DATE.match(text):
        try:
            return _in_range(parse_iso(text), value, option)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a time; use {FORMS}", param_hint=option
            ) from None
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration nor a date; use {FORMS}", param_hint=option
        ) from None
    back = timedelta(seconds=min(seconds, (now - _EARLIEST).total_seconds()))
    return _in_range(now - back, value, option)


def period(since: str | None, until: str | None, now: datetime) -> Period:
    """The period `--since` and `--until` name; refused when it is empty."""
    start = None if since is None else moment(since, now, "--since")
    end = None if until is None else moment(until, now, "--until", day_end=True)
    if start is not None and end is not None and end <= start:
        raise click.BadParameter(
            f"the period ends ({iso(end)}) before it starts ({iso(start)}); "
            "--until must be later than --since",
            param_hint="--until",
        )
    return Period(start, end)


def as_of_day(value: str | None, now: datetime, option: str = "--as-of") -> date:
    """The day `--as-of` names (a date, or a duration back from today); default today."""
    return now.date() if value is None else moment(value, now, option).date()


def window_days(value: str | None, option: str = "--window") -> int | None:
    """Whole days from `60` or `60d` (also `1440h`); None when not given."""
    if value is None:
        return None
    text = value.strip()
    try:
        days = float(text) if text.isdigit() else parse_duration(text) / 86400
    except ValueError:
        days = 0.0
    if days < 1 or days != int(days) or days > MAX_WINDOW_DAYS:
        raise click.BadParameter(
            f"{value!r} is not a number of days from 1 to {MAX_WINDOW_DAYS}; use e.g. 60 or 60d",
            param_hint=option,
        )
    return int(days)


def day(text: str, option: str) -> date:
    """A YYYY-MM-DD day within the range the monitor computes with."""
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"there is no day {text!r}; use YYYY-MM-DD", param_hint=option
        ) from None
    _in_range(datetime.combine(value, time(), tzinfo=UTC), text, option)
    return value


def _in_range(moment: datetime, value: str, option: str) -> datetime:
    if not _EARLIEST <= moment <= _LATEST:
        raise click.BadParameter(
            f"{value!r} is out of range; use a day from {_EARLIEST.date()} to {_LATEST.date()}",
            param_hint=option,
        )
    return moment
