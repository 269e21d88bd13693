"""Outlook commands: outlook, report, events (list/show/split/merge) and backtest."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from monitor.cli import outlook_view as view
from monitor.cli.output import echo_json, write_file
from monitor.cli.period import as_of_day, day, moment, period, window_days
from monitor.cli.review import ReviewApp, by_option, reviewer
from monitor.cli.review_view import ITEM_ID
from monitor.models import OutlookSettings
from monitor.pipeline import replay
from monitor.store import Store
from monitor.store import events as eq


def settings_for(app: ReviewApp, window: str | None) -> OutlookSettings:
    """The configured outlook settings, with `--window` (whole days) if given."""
    settings: OutlookSettings = app.config().outlook
    days = window_days(window)
    return settings if days is None else dataclasses.replace(settings, window_days=days)


def _date(value: str | None, option: str) -> date | None:
    return None if value is None else day(value, option)


def _range(start: str | None, end: str | None) -> tuple[date, date] | None:
    first, last = _date(start, "--from"), _date(end, "--to")
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    if first is None or last is None:
        return None
    if last < first:
        raise click.UsageError("--to is before --from")
    return first, last


EVENTS_DAYS = 30  # what `events list` shows without --since

_window_option = click.option(
    "--window",
    metavar="DAYS",
    help="How many days back events count, as 60 or 60d (default: [daemon] outlook_window).",
)


@click.command()
@click.option(
    "--as-of",
    "as_of",
    metavar="DAY",
    help="Day to compute: YYYY-MM-DD, or 7d for a week ago (default: today).",
)
@_window_option
@click.option("--from", "start", metavar="DATE", help="Replay: first day (with --to).")
@click.option("--to", "end", metavar="DATE", help="Replay: last day (with --from).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def outlook(
    app: ReviewApp,
    as_of: str | None,
    window: str | None,
    start: str | None,
    end: str | None,
    as_json: bool,
) -> None:
    """The summit outlook: level, since when, why (the events that set it), events, days."""
    settings, now = settings_for(app, window), app.now()
    span = _range(start, end)
    if span is not None:
        series = replay.outlook_series(app.store(), *span, settings, now)
        if as_json:
            echo_json([view.outlook_json(o) for o in series])
        else:
            for line in view.series_lines(series):
                click.echo(line)
        return
    day = as_of_day(as_of, now)
    result = replay.outlook_on(app.store(), day, settings, now)
    if as_json:
        echo_json(view.outlook_json(result))
    else:
        click.echo(view.outlook_text(result))


@click.command()
@click.option(
    "--since",
    default="90d",
    show_default=True,
    metavar="WHEN",
    help="Start of the period the report covers: 90d (before --as-of), a date or an ISO time.",
)
@click.option(
    "--as-of",
    "--until",
    "as_of",
    metavar="DAY",
    help="The report as it would have read at the end of this day: YYYY-MM-DD, or "
    "7d for a week ago (default: today).",
)
@_window_option
@click.option(
    "--html",
    "html_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Write the report to this HTML file.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Most flagged items listed.",
)
@click.pass_obj
def report(
    app: ReviewApp, since: str, as_of: str | None, window: str | None, html_path: str, limit: int
) -> None:
    """One self-contained HTML file: outlook, level timeline, events, flagged items."""
    from monitor.outlook.report import render_report
    from monitor.pipeline.report import report_data

    now = app.now()
    end = as_of_day(as_of, now)
    # durations count back from the as-of day at this time of day (today: from now)
    start = moment(since, datetime.combine(end, now.time(), tzinfo=UTC), "--since").date()
    if start > end:
        raise click.BadParameter(
            f"the period starts ({start}) after it ends ({end})", param_hint="--since"
        )
    settings = settings_for(app, window)
    events = replay.counting_events(app.store(), start, end, settings, now)
    data = report_data(app.store(), now, start, end, events, settings, limit)
    write_file(html_path, render_report(data))
    click.echo(
        f"wrote {html_path}: level {data.outlook.level} on {end}, "
        f"{len(data.events)} event(s), {len(data.items)} item(s)",
        err=True,
    )


@click.group("events")
def events_group() -> None:
    """Events: the items that report one contact, grouped; list, show, split, merge."""


@events_group.command("list")
@click.option(
    "--since",
    metavar="WHEN",
    help="Events reported from then on (by the items' own days): 30d, a date or an "
    "ISO time (default: 30 days before --until).",
)
@click.option(
    "--until",
    metavar="WHEN",
    help="Events reported before then (a date: up to its "
    "end); same forms as --since (default: now).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def events_list(app: ReviewApp, since: str | None, until: str | None, as_json: bool) -> None:
    """Events, newest first: id, days, kind, grade, items, sources, what they report."""
    span = period(since, until, app.now())
    end = app.now() if span.until is None else span.until - timedelta(seconds=1)
    start = span.since or end - timedelta(days=EVENTS_DAYS)
    events = replay.recent_events(app.store(), start.date(), end.date(), app.now())
    if as_json:
        echo_json([view.event_json(e) for e in events])
        return
    for line in view.events_lines(events):
        click.echo(line)


@events_group.command("show")
@click.argument("event_id", type=ITEM_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the event as a JSON object.")
@click.pass_obj
def events_show(app: ReviewApp, event_id: int, as_json: bool) -> None:
    """One event: its items, why each was grouped with the others and how each was graded."""
    detail = replay.event_detail(app.store(), event_id, app.now())
    if as_json:
        echo_json(
            {
                **view.event_json(detail.event),
                "placement": [dataclasses.asdict(row) for row in detail.placement],
                "review": dataclasses.asdict(detail.review),
            }
        )
        return
    click.echo(view.event_text(detail.event, detail.placement, detail.review))


@events_group.command("split")
@click.argument("event_id", type=ITEM_ID)
@click.argument("item_ids", type=ITEM_ID, nargs=-1, required=True)
@by_option
@click.pass_obj
def events_split(app: ReviewApp, event_id: int, item_ids: tuple[int, ...], by: str | None) -> None:
    """Move ITEM_IDS out of EVENT_ID into a new event of their own."""
    store = _placed(app)
    new_id = eq.split(store, event_id, item_ids, reviewer(by), app.now())
    click.echo(f"moved {len(item_ids)} item(s) from event {event_id} into new event {new_id}")


@events_group.command("merge")
@click.argument("event_ids", type=ITEM_ID, nargs=-1, required=True)
@by_option
@click.pass_obj
def events_merge(app: ReviewApp, event_ids: tuple[int, ...], by: str | None) -> None:
    """Merge the events into the first one named: they report the same contact."""
    if len(set(event_ids)) < 2:
        raise click.UsageError("name at least two different events")
    target = eq.merge(_placed(app), event_ids, reviewer(by), app.now())
    click.echo(f"merged event(s) {', '.join(str(e) for e in event_ids[1:])} into {target}")


def _placed(app: ReviewApp) -> Store:
    store = app.store()
    eq.ensure_events(store, app.now())
    return store


@click.command()
@click.argument("ground_truth", metavar="GROUND_TRUTH.toml", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "start",
    metavar="DATE",
    help="First day replayed (default: the first stored item's day; with --to).",
)
@click.option("--to", "end", metavar="DATE", help="Last day replayed (with --from).")
@_window_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def backtest(
    app: ReviewApp,
    ground_truth: str,
    start: str | None,
    end: str | None,
    window: str | None,
    as_json: bool,
) -> None:
    """Replay stored items day by day against summits: levels before each, lead times,
    days at each level in quiet periods and outside every summit."""
    from monitor.outlook.backtest import load_ground_truth

    truth = load_ground_truth(Path(ground_truth))
    settings = settings_for(app, window)
    result = replay.backtest(app.store(), truth, settings, app.now(), _range(start, end))
    if as_json:
        echo_json(view.backtest_json(result))
    else:
        for line in view.backtest_lines(result):
            click.echo(line)


COMMANDS: tuple[click.Command, ...] = (outlook, report, events_group, backtest)
