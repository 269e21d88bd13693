"""Review commands: flagged, show, ack/dismiss/escalate/note, export, import, outlook, report.

Feed text reaches the terminal only through `strip_controls` / `one_line`; filters
reach SQL only as parameters (monitor.store.review).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

import click

from monitor import outlook as ol
from monitor.commands import review_view as view
from monitor.commands.output import safe_json
from monitor.errors import MonitorError
from monitor.polltiming import parse_duration
from monitor.store import Store
from monitor.store import review as rq
from monitor.textclean import strip_controls


class ReviewApp(Protocol):
    """What these commands need from `monitor.app.App`."""

    def store(self) -> Store: ...
    def now(self) -> datetime: ...
    def config(self) -> Any: ...
    def rules(self) -> Any: ...


def echo_json(value: object) -> None:
    click.echo(safe_json(value))


def duration_seconds(value: str, option: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


def since_time(value: str | None, now: datetime, option: str = "--since") -> datetime | None:
    return None if value is None else now - timedelta(seconds=duration_seconds(value, option))


def window_days(value: str) -> int:
    days = duration_seconds(value, "--window") / 86400
    if days < 1 or days != int(days):
        raise click.BadParameter("use whole days, e.g. 30d", param_hint="--window")
    return int(days)


def review_user() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


_filter_options = [
    click.option("--since", metavar="DURATION", help="Only items first seen within, e.g. 7d."),
    click.option("--status", type=click.Choice(rq.STATUSES), help="Only this review status."),
    click.option("--signal", metavar="TYPE", help="Only items with this signal type."),
    click.option("--feed", metavar="NAME", help="Only items of this feed."),
    click.option("--search", metavar="TEXT", help="Only titles containing TEXT (literally)."),
    click.option("--min-score", type=float, help="Only items scoring at least X."),
]


def filter_options(func: Any) -> Any:
    for option in reversed(_filter_options):
        func = option(func)
    return func


def make_filter(app: ReviewApp, params: dict[str, Any], **extra: Any) -> rq.FlagFilter:
    return rq.FlagFilter(
        since=since_time(params["since"], app.now()), status=params["status"],
        signal=params["signal"], feed=params["feed"], search=params["search"],
        min_score=params["min_score"], **extra,
    )


@click.command()
@filter_options
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@click.option("--sort", type=click.Choice(list(rq.SORT_ORDERS)), default="newest",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def flagged(app: ReviewApp, /, limit: int, sort: str, as_json: bool, **params: Any) -> None:
    """Flagged items, newest first: time, feed, score, signal types, status, title."""
    rows = rq.list_flagged(app.store(), make_filter(app, params, limit=limit, sort=sort))
    if as_json:
        echo_json([view.flag_json(r) for r in rows])
        return
    for line in view.flagged_lines(rows):
        click.echo(line)


@click.command()
@click.argument("item_id", type=int)
@click.option("--color/--no-color", "colour", default=None,
              help="Highlight matched spans in colour (default: only on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print the item as a JSON object.")
@click.pass_obj
def show(app: ReviewApp, item_id: int, colour: bool | None, as_json: bool) -> None:
    """One item: its evidence first, then its text with matched spans highlighted, revisions,
    alerts, history."""
    item = rq.get_item(app.store(), item_id)
    if item is None:
        raise MonitorError(f"no item with id {item_id}", "see `monitor flagged`")
    if as_json:
        echo_json(item)
        return
    use_colour = sys.stdout.isatty() if colour is None else colour
    click.echo(view.show_text(item, use_colour), color=use_colour)


def _review(app: ReviewApp, ids: Sequence[int], action: str, note: str | None) -> None:
    count = rq.record_review(app.store(), ids, action, user=review_user(), now=app.now(),
                             note=note)
    done = {"ack": "acknowledged", "dismiss": "dismissed", "escalate": "escalated",
            "note": "noted"}[action]
    click.echo(f"{done} {count} item(s)")


@click.command()
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--note", help="A note kept in the review history.")
@click.pass_obj
def ack(app: ReviewApp, item_ids: tuple[int, ...], note: str | None) -> None:
    """Mark items reviewed."""
    _review(app, item_ids, "ack", note)


@click.command()
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--note", help="Why (kept in the review history).")
@click.pass_obj
def dismiss(app: ReviewApp, item_ids: tuple[int, ...], note: str | None) -> None:
    """Mark items as not a signal (they leave the outlook)."""
    _review(app, item_ids, "dismiss", note)


@click.command()
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--note", help="Why (kept in the review history).")
@click.pass_obj
def escalate(app: ReviewApp, item_ids: tuple[int, ...], note: str | None) -> None:
    """Mark items as needing attention."""
    _review(app, item_ids, "escalate", note)


@click.command()
@click.argument("item_id", type=int)
@click.argument("text")
@click.pass_obj
def note(app: ReviewApp, item_id: int, text: str) -> None:
    """Add a note to an item's review history (status unchanged)."""
    _review(app, [item_id], "note", text)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="jsonl",
              show_default=True)
@filter_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Write to FILE instead of standard output.")
@click.pass_obj
def export(app: ReviewApp, /, fmt: str, output: str, **params: Any) -> None:
    """Flags with their evidence, oldest first, for spreadsheets and other tools."""
    rows = rq.export_rows(app.store(), make_filter(app, params))
    text = {"csv": view.export_csv, "json": view.export_json, "jsonl": view.export_jsonl}[fmt](rows)
    if output == "-" and sys.stdout.isatty():
        # CSV has no escapes: files and pipes get the exact text, a terminal a safe one.
        text = strip_controls(text)
    with click.open_file(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    if output != "-":
        click.echo(f"exported {len(rows)} flag(s) to {output}", err=True)


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option("--feed", "feed_name", default="import", show_default=True,
              help="Feed name to store the items under.")
@click.option("--alert", is_flag=True, help="Send alerts for flagged items (default: silent).")
@click.option("--batch", type=click.IntRange(min=1), default=200, hidden=True)
@click.pass_obj
def import_items(app: ReviewApp, file: TextIO, feed_name: str, alert: bool,
                 batch: int) -> None:
    """Load archived items from JSON Lines and match them like polled items."""
    from monitor.importer import read_items
    from monitor.ingest import ingest_items

    items, errors = read_items(file)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    store, rules, alerts, now = app.store(), app.rules(), app.config().alerts, app.now()
    totals = {"new": 0, "updated": 0, "flagged": 0}
    chunks = [items[n: n + batch] for n in range(0, len(items), batch)]
    with click.progressbar(length=len(items), label="importing", file=sys.stderr,
                           hidden=not sys.stderr.isatty()) as bar:
        for chunk in chunks:
            report = ingest_items(store, rules, feed_name, chunk, now, origin="import",
                                  alert=alert, alerts=alerts)
            for key in totals:
                totals[key] += int(getattr(report, key))
            bar.update(len(chunk))
    click.echo(f"imported {len(items)} item(s) into feed {view.cell(feed_name, 40)}: "
               f"new={totals['new']} updated={totals['updated']} flagged={totals['flagged']}"
               f" bad_lines={len(errors)}")
    if errors and not items:
        raise MonitorError(f"no usable lines in {file.name}")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD", param_hint=option) from exc


@click.command()
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Day to compute (default: today).")
@click.option("--window", default="30d", show_default=True, help="Rolling window in days.")
@click.option("--from", "start", metavar="DATE", help="Replay: first day (with --to).")
@click.option("--to", "end", metavar="DATE", help="Replay: last day (with --from).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def outlook(app: ReviewApp, as_of: str | None, window: str, start: str | None,
            end: str | None, as_json: bool) -> None:
    """The summit outlook: level, score, reasons, contributing items, daily sparkline."""
    days = window_days(window)
    first, last = _date(start, "--from"), _date(end, "--to")
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    if first is not None and last is not None:
        if last < first:
            raise click.UsageError("--to is before --from")
        records = rq.load_flag_records(app.store(), first - timedelta(days=days), last)
        series = ol.outlook_series(records, first, last, days)
        if as_json:
            echo_json([view.outlook_json(o) for o in series])
        else:
            for line in view.series_lines(series):
                click.echo(line)
        return
    day = _date(as_of, "--as-of") or app.now().date()
    records = rq.load_flag_records(app.store(), day - timedelta(days=days), day)
    result = ol.compute_outlook(records, day, days)
    if as_json:
        echo_json(view.outlook_json(result))
    else:
        click.echo(view.outlook_text(result))


@click.command()
@click.option("--since", default="90d", show_default=True, help="Period the report covers.")
@click.option("--window", default="30d", show_default=True, help="Outlook window in days.")
@click.option("--html", "html_path", required=True, type=click.Path(dir_okay=False),
              help="Write the report to this HTML file.")
@click.option("--limit", type=click.IntRange(min=1), default=300, show_default=True,
              help="Most flagged items listed.")
@click.pass_obj
def report(app: ReviewApp, since: str, window: str, html_path: str, limit: int) -> None:
    """One self-contained HTML file: outlook, timeline chart, flagged items with evidence."""
    from monitor.report import render_report

    now = app.now()
    start_time = since_time(since, now)
    assert start_time is not None
    data = view.report_data(app.store(), now, start_time, window_days(window), limit)
    Path(html_path).write_text(render_report(data), encoding="utf-8")
    click.echo(f"wrote {html_path}: level {data.outlook.level}, {len(data.items)} item(s)",
               err=True)


COMMANDS: list[click.Command] = [
    flagged, show, ack, dismiss, escalate, note, export, import_items, outlook, report,
]
