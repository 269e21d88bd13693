"""The summit outlook read from the store: on a day, day by day, and against summits.

The outlook itself is pure (`monitor.outlook`); these functions place newly flagged
items in events first, then load the events a computation needs: those reported in
the window before the first day, up to the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.errors import MonitorError
from monitor.models import OutlookSettings
from monitor.outlook import levels as ol
from monitor.outlook.backtest import BacktestResult, GroundTruth, run_backtest
from monitor.outlook.events import Event
from monitor.store import Store
from monitor.store import events as eq


def events_between(store: Store, first: date, last: date, now: datetime) -> list[Event]:
    """The events with items reported from `first` to `last`, every flag placed first."""
    eq.ensure_events(store, now)
    return eq.load_events(store, first, last)


def counting_events(
    store: Store, first: date, last: date, settings: OutlookSettings, now: datetime
) -> list[Event]:
    """The events that can count from `first` to `last`: the window before `first` too."""
    return events_between(store, first - timedelta(days=settings.window_days), last, now)


def outlook_on(store: Store, day: date, settings: OutlookSettings, now: datetime) -> ol.Outlook:
    """The outlook as it read at the end of `day`."""
    return ol.compute_outlook(counting_events(store, day, day, settings, now), day, settings)


def outlook_series(
    store: Store, first: date, last: date, settings: OutlookSettings, now: datetime
) -> list[ol.Outlook]:
    """The outlook of each day from `first` to `last`, as each read at its end."""
    events = counting_events(store, first, last, settings, now)
    return ol.outlook_series(events, first, last, settings)


def recent_events(store: Store, first: date, last: date, now: datetime) -> list[Event]:
    """The events reported from `first` to `last`, newest first."""
    events = events_between(store, first, last, now)
    events.sort(key=lambda e: (e.last_day, e.id), reverse=True)
    return events


@dataclass(frozen=True, slots=True)
class EventDetail:
    """One event as `events show` presents it: the event, its placements, its review."""

    event: Event
    placement: list[eq.EventPlacement]  # one per item placed in the event
    review: eq.EventReview  # who split or merged it, and when


def event_detail(store: Store, event_id: int, now: datetime) -> EventDetail:
    """Event `event_id` with why each item was placed in it; an error when there is no
    such event or no flagged item of it still counts."""
    eq.ensure_events(store, now)
    info, rows = eq.event_info(store, event_id), eq.event_rows(store, event_id)
    if info is None or not rows:
        raise MonitorError(f"no event with id {event_id}", "see `monitor events list`")
    found = eq.load_events(store, event_ids=[event_id])
    if not found:
        raise MonitorError(
            f"event {event_id} has no flagged item that counts (all dismissed "
            "or no longer flagged)",
            f"see `monitor show {rows[0].item_id}`",
        )
    return EventDetail(found[0], rows, info)


def backtest(
    store: Store,
    truth: GroundTruth,
    settings: OutlookSettings,
    now: datetime,
    span: tuple[date, date] | None = None,
) -> BacktestResult:
    """Replay the stored items day by day over `span` (default: all of them) against
    `truth`; an empty store is an error."""
    days = eq.item_days(store)
    if not days:
        raise MonitorError("no stored items to replay", "import or poll items first")
    first, last = span or (min(days), max(days))
    replayed = ol.replay(counting_events(store, first, last, settings, now), first, last, settings)
    return run_backtest(truth, replayed, [d for d in days if first <= d <= last])
