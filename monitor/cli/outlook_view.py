"""How the outlook, events and backtest look: terminal lines and JSON documents.

Feed text (titles, evidence quoted in reasons) reaches the terminal only through
`cell` (one safe line) and JSON only through `safe_json`.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.cli.output import cell
from monitor.outlook.backtest import BacktestResult, PeriodResult, SummitResult
from monitor.outlook.events import Event, ItemEvidence
from monitor.outlook.levels import LEVELS, DayLevel, EventStanding, Outlook, level_strip
from monitor.store.events import EventPlacement, EventReview

STRIP_LEGEND = "· quiet, w watch, E elevated, H high"
STRIP_WIDTH = 60
EVENT_ROWS = 12


def item_json(item: ItemEvidence) -> dict[str, object]:
    """An event's item as JSON: where it came from, how it was graded and grouped."""
    return {
        "id": item.item_id, "feed": item.feed, "side": item.side, "day": item.day.isoformat(),
        "title": item.title, "kind": item.kind, "grade": item.grade.name,
        "refusal": item.grade.refusal or None,
        "meeting_date": item.grade.meeting_date.isoformat() if item.grade.meeting_date else None,
        "why_graded": item.grade.reason, "why_grouped": item.why,
        "actors": sorted(item.actors), "places": sorted(item.places),
    }  # fmt: skip


def event_json(event: Event, held: EventStanding | None = None) -> dict[str, object]:
    """An event as JSON, with its standing in the outlook when it holds the level."""
    doc: dict[str, object] = {
        "id": event.id, "kind": event.kind, "grade": event.lead.grade.name,
        "refusal": event.lead.grade.refusal or None, "label": event.label,
        "first_day": event.first_day.isoformat(), "last_day": event.last_day.isoformat(),
        "sources": list(event.sources), "items": [item_json(i) for i in event.items],
    }  # fmt: skip
    if held is not None:
        doc |= {
            "level": LEVELS[held.rank],
            "score": held.score,
            "set_by": held.set_by.item_id,
            "holds_until": held.until.isoformat(),
            "capped_by": held.capped_by.item_id if held.capped_by else None,
        }
    return doc


def day_json(day: DayLevel) -> dict[str, object]:
    """One day's level and score as JSON."""
    return {
        "day": day.day.isoformat(),
        "level": day.level,
        "score": day.score,
        "reported": day.reported,
    }


def outlook_json(result: Outlook) -> dict[str, object]:
    """The outlook of a day as JSON: level, since when, why, events and days."""
    return {
        "as_of": result.as_of.isoformat(), "level": result.level, "score": result.score,
        "since": result.since.isoformat() if result.since else None,
        "window_days": result.window_days, "reasons": list(result.reasons),
        "events": [event_json(h.event, h) for h in result.events],
        "daily": [day_json(d) for d in result.daily],
    }  # fmt: skip


def outlook_text(result: Outlook) -> str:
    """The outlook of a day for the terminal: level, reasons, the events that set it."""
    since = f" since {result.since.isoformat()}" if result.since else ""
    lines = [
        f"Outlook {result.as_of.isoformat()}: {result.level.upper()}{since}"
        f"  (score {result.score:.2f}, {result.window_days}-day window)",
        *(f"  {cell(r, 240)}" for r in result.reasons),
    ]
    if result.events:
        lines += ["", "Events holding a level:"]
        for held in result.events[:EVENT_ROWS]:
            lines += _event_lines(held.event, LEVELS[held.rank], held.set_by)
        if len(result.events) > EVENT_ROWS:
            lines.append(f"  … and {len(result.events) - EVENT_ROWS} more (monitor events list)")
    days = result.daily[-STRIP_WIDTH:]
    if days:
        lines += [
            "",
            f"Level by day since {days[0].day.isoformat()} ({STRIP_LEGEND}):",
            f"  {level_strip(days)}",
        ]
    return "\n".join(lines)


def _event_lines(event: Event, level: str, lead: ItemEvidence) -> list[str]:
    span = f"{event.first_day.isoformat()}..{event.last_day.isoformat()}"
    return [
        f"  #{event.id:<5} {level:<8} {span}  {cell(event.label, 70)}"
        f"  ({cell(', '.join(event.sources), 40)}; {len(event.items)} item(s))",
        f"         #{lead.item_id} {cell(lead.grade.reason, 160)}",
    ]


def series_lines(series: Sequence[Outlook]) -> list[str]:
    """One line per replayed day: day, level, score and the first reason."""
    header = f"{'DAY':<10}  {'LEVEL':<8}  {'SCORE':>5}  WHY"
    lines = [header] + [
        f"{o.as_of.isoformat()}  {o.level:<8}  {o.score:5.2f}  "
        f"{cell(o.reasons[0] if o.reasons else '', 150)}"
        for o in series
    ]
    strip = level_strip([o.daily[-1] for o in series if o.daily])
    return [*lines, "", f"{strip}  ({STRIP_LEGEND})"]


def events_lines(events: Sequence[Event]) -> list[str]:
    """A header and one line per event."""
    if not events:
        return ["no events in this period"]
    header = (
        f"{'ID':>6}  {'DAYS':<22}  {'KIND':<9} {'GRADE':<8} {'ITEMS':>5}  {'SOURCES':<30}  WHAT"
    )
    return [header] + [
        f"{e.id:>6}  {e.first_day.isoformat()}..{e.last_day.isoformat()}  {e.kind:<9} "
        f"{e.lead.grade.name:<8} {len(e.items):>5}  {cell(', '.join(e.sources), 30):<30}  "
        f"{cell(e.label, 90)}"
        for e in events
    ]


def event_text(event: Event, rows: Sequence[EventPlacement], info: EventReview) -> str:
    """One event for the terminal: its items, why each was grouped and graded."""
    reviewed = (
        f"; split or merged by {cell(info.reviewed_by, 40)} at {info.reviewed_at}"
        if info.reviewed_by
        else ""
    )
    graded = {i.item_id: i for i in event.items}
    lines = [
        f"Event #{event.id}: {cell(event.label, 160)}",
        f"  {event.kind}, {event.lead.grade.name}; reported {event.first_day.isoformat()}.."
        f"{event.last_day.isoformat()} by {cell(', '.join(event.sources), 80)}{reviewed}",
        "",
    ]
    for row in rows:
        item = graded.get(row.item_id)
        state = "" if item else f" [{row.status if row.flagged else 'no longer flagged'}]"
        by = f" (placed by {cell(row.placed_by, 30)})" if row.placed_by else ""
        lines += [
            f"  #{row.item_id:<6} {row.day}  {cell(row.feed, 14):<14} "
            f"{cell(row.title, 100)}{state}",
            f"           grouped: {cell(row.reason, 140)}{by}",
        ]
        if item:
            lines.append(f"           graded:  {cell(item.grade.reason, 200)}")
    return "\n".join(lines)


def backtest_lines(result: BacktestResult) -> list[str]:
    """The backtest for the terminal: each summit, each quiet period, the rest."""
    lines = [
        f"Backtest over {result.start.isoformat()}..{result.end.isoformat()} "
        f"({result.items} stored item(s)); {STRIP_LEGEND}",
    ]
    for summit in result.summits:
        lines += ["", *_summit_lines(summit)]
    if result.quiet_periods:
        lines += ["", "Quiet periods (working contacts, no dated summit):"]
        lines += [f"  {_period_line(p)}" for p in result.quiet_periods]
    lines += ["", f"Outside every summit: {_period_line(result.outside)}"]
    return lines


def _summit_lines(result: SummitResult) -> list[str]:
    s = result.summit
    dates = ", ".join(
        f"{k} {v.isoformat()}"
        for k, v in (
            ("first signal", s.first_signal),
            ("agreed", s.agreed),
            ("announced", s.announced),
            ("held", s.held),
            ("cancelled", s.cancelled),
        )
        if v
    )
    lines = [f"{cell(s.name, 60)} ({dates})"]
    if not result.stored:
        return [
            *lines,
            f"  no stored item from {result.days[0].day.isoformat()} to "
            f"{result.days[-1].day.isoformat()}: not covered by the data",
        ]
    strip = level_strip(result.days)
    lines.append(f"  {result.stored} stored item(s); level from {result.days[0].day.isoformat()}:")
    lines += [f"    {strip[n : n + STRIP_WIDTH]}" for n in range(0, len(strip), STRIP_WIDTH)]
    lines.append(
        f"  elevated {_days(result.to_elevated, 'after the agreement')}; "
        f"high {_days(result.to_high, 'after the announcement')}"
    )
    lead = ", ".join(f"{level} {_days(days, 'ahead')}" for level, days in result.lead.items())
    return [*lines, f"  lead time before {'the meeting' if s.held else 'the end'}: {lead}"]


def _days(value: int | None, what: str) -> str:
    return "not reached" if value is None else f"{value} day(s) {what}"


def _period_line(period: PeriodResult) -> str:
    head = f"{cell(period.name, 60)} {period.start.isoformat()}..{period.end.isoformat()}"
    if not period.stored:
        return f"{head}: no stored item: not covered by the data"
    counts = ", ".join(f"{level} {period.levels.get(level, 0)}" for level in reversed(LEVELS))
    return (
        f"{head}: {period.days} day(s), {period.stored} item(s): {counts}; "
        f"high on {period.share('high'):.1%} of days"
    )


def backtest_json(result: BacktestResult) -> dict[str, object]:
    """The backtest as JSON."""
    return {
        "start": result.start.isoformat(), "end": result.end.isoformat(), "items": result.items,
        "summits": [{
            "name": r.summit.name, "stored": r.stored, "to_elevated": r.to_elevated,
            "to_high": r.to_high, "lead": r.lead, "levels": [day_json(d) for d in r.days],
        } for r in result.summits],
        "quiet_periods": [_period_json(p) for p in result.quiet_periods],
        "outside": _period_json(result.outside),
    }  # fmt: skip


def _period_json(period: PeriodResult) -> dict[str, object]:
    return {
        "name": period.name,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days": period.days,
        "stored": period.stored,
        "levels": period.levels,
        "high_share": round(period.share("high"), 4),
    }
