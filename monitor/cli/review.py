"""Review commands: flagged, show, ack/dismiss/escalate/note, export, import.

Feed text reaches the terminal only through `strip_controls` / `one_line`; filters
reach SQL only as parameters (monitor.store.review).
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TextIO, TypedDict, TypeVar, Unpack

import click

from monitor.cli import review_view as view
from monitor.cli.known import require_feed, require_signal_type
from monitor.cli.output import cell, colour_wanted, echo_json, write_file
from monitor.cli.period import SINCE_HELP, UNTIL_HELP, period
from monitor.config.load import Config
from monitor.errors import MonitorError
from monitor.models import ParsedItem
from monitor.parse.text import one_line, strip_controls
from monitor.pipeline.export import EXPORT_FORMATS
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store import review as rq

if TYPE_CHECKING:
    from monitor.pipeline.batch_import import ImportTotals
    from monitor.pipeline.export import ExportFormat


class ReviewApp(Protocol):
    """What these commands need from `monitor.app.App`."""

    def store(self, *, create: bool = False) -> Store:
        """The database (created when `create`)."""

    def now(self) -> datetime:
        """The current time (MONITOR_NOW in tests)."""

    def config(self) -> Config:
        """The loaded configuration."""

    def rules(self) -> RuleSet:
        """The loaded signal rules."""


class FilterParams(TypedDict):
    """The filter options as click passes them."""

    since: str | None
    until: str | None
    status: str | None
    signal: str | None
    feed: str | None
    search: str | None
    min_score: float | None


def reviewer(by: str | None) -> str:
    """Who is recorded for a review: `--by NAME`, else the login name of this process."""
    if by is not None:
        name = one_line(by, 100).strip()
        if not name:
            raise click.BadParameter("give the reviewer's name", param_hint="--by")
        return name
    named = os.environ.get("USER") or os.environ.get("LOGNAME")
    if named:
        return named
    try:
        return pwd.getpwuid(os.getuid()).pw_name  # the login name, even under a bare env
    except KeyError:  # a uid without a password entry (some containers)
        return f"uid {os.getuid()}"


by_option = click.option(
    "--by", metavar="NAME", help="Record NAME as the reviewer (default: your login name)."
)

_filter_options = (
    click.option("--since", metavar="WHEN", help=SINCE_HELP),
    click.option("--until", metavar="WHEN", help=UNTIL_HELP),
    click.option("--status", type=click.Choice(rq.STATUSES), help="Only this review status."),
    click.option("--signal", metavar="TYPE", help="Only items with this signal type."),
    click.option("--feed", metavar="NAME", help="Only items of this feed."),
    click.option("--search", metavar="TEXT", help="Only titles containing TEXT (literally)."),
    click.option("--min-score", type=float, help="Only items scoring at least X."),
)


_Command = TypeVar("_Command", bound=Callable[..., None])


def filter_options(func: _Command) -> _Command:
    """Add the filter options `flagged` and `export` share to a command."""
    for option in reversed(_filter_options):
        func = option(func)
    return func


def make_filter(
    app: ReviewApp, params: FilterParams, *, limit: int | None = None, sort: str = "newest"
) -> rq.FlagFilter:
    """The filter the options name; an unknown feed or signal type is an error."""
    span = period(params["since"], params["until"], app.now())
    if params["feed"] is not None:
        require_feed(app, app.store(), params["feed"])
    if params["signal"] is not None:
        require_signal_type(app, app.store(), params["signal"])
    return rq.FlagFilter(
        since=span.since,
        until=span.until,
        status=params["status"],
        signal=params["signal"],
        feed=params["feed"],
        search=params["search"],
        min_score=params["min_score"],
        limit=limit,
        sort=sort,
    )


@click.command()
@filter_options
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@click.option(
    "--sort", type=click.Choice(list(rq.SORT_ORDERS)), default="newest", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def flagged(
    app: ReviewApp, /, limit: int, sort: str, as_json: bool, **params: Unpack[FilterParams]
) -> None:
    """Flagged items, newest first by their own time: time (UTC), feed, score, signal types,
    status, title."""
    rows = rq.list_flagged(app.store(), make_filter(app, params, limit=limit, sort=sort))
    if as_json:
        echo_json([view.flag_json(r) for r in rows])
        return
    for line in view.flagged_lines(rows):
        click.echo(line)


@click.command()
@click.argument("item_id", type=view.ITEM_ID)
@click.option(
    "--color/--no-color",
    "colour",
    default=None,
    help="Highlight matched spans in colour (default: on a terminal, unless NO_COLOR is set).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the item as a JSON object.")
@click.pass_obj
def show(app: ReviewApp, item_id: int, colour: bool | None, as_json: bool) -> None:
    """One item: its evidence first, then its text with matched spans highlighted, revisions,
    alerts, history."""
    item = rq.get_item(app.store(), item_id)
    if item is None:
        raise MonitorError(f"no item with id {item_id}", "see `monitor flagged`")
    if as_json:
        echo_json(view.item_json(item))
        return
    use_colour = colour_wanted(colour)
    click.echo(view.show_text(item, use_colour), color=use_colour)


def _review(
    app: ReviewApp, ids: Sequence[int], action: str, note: str | None, by: str | None
) -> None:
    count = rq.record_review(app.store(), ids, action, user=reviewer(by), now=app.now(), note=note)
    done = {
        "ack": "acknowledged",
        "dismiss": "dismissed",
        "escalate": "escalated",
        "note": "noted",
    }[action]
    click.echo(f"{done} {count} item(s)")


@click.command()
@click.argument("item_ids", type=view.ITEM_ID, nargs=-1, required=True)
@click.option("--note", help="A note kept in the review history.")
@by_option
@click.pass_obj
def ack(app: ReviewApp, item_ids: tuple[int, ...], note: str | None, by: str | None) -> None:
    """Mark items reviewed."""
    _review(app, item_ids, "ack", note, by)


@click.command()
@click.argument("item_ids", type=view.ITEM_ID, nargs=-1, required=True)
@click.option("--note", help="Why (kept in the review history).")
@by_option
@click.pass_obj
def dismiss(app: ReviewApp, item_ids: tuple[int, ...], note: str | None, by: str | None) -> None:
    """Mark items as not a signal (they leave the outlook)."""
    _review(app, item_ids, "dismiss", note, by)


@click.command()
@click.argument("item_ids", type=view.ITEM_ID, nargs=-1, required=True)
@click.option("--note", help="Why (kept in the review history).")
@by_option
@click.pass_obj
def escalate(app: ReviewApp, item_ids: tuple[int, ...], note: str | None, by: str | None) -> None:
    """Mark items as needing attention."""
    _review(app, item_ids, "escalate", note, by)


@click.command()
@click.argument("item_id", type=view.ITEM_ID)
@click.argument("text")
@by_option
@click.pass_obj
def note(app: ReviewApp, item_id: int, text: str, by: str | None) -> None:
    """Add a note to an item's review history (status unchanged)."""
    _review(app, [item_id], "note", text, by)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@filter_options
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write to FILE instead of standard output.",
)
@click.pass_obj
def export(
    app: ReviewApp, /, fmt: ExportFormat, output: str, **params: Unpack[FilterParams]
) -> None:
    """Flags with their evidence, oldest first, for spreadsheets and other tools."""
    from monitor.pipeline.export import export_flags

    text, count = export_flags(app.store(), make_filter(app, params), fmt)
    if output == "-":
        # CSV has no escapes: files and pipes get the exact text, a terminal a safe one.
        sys.stdout.write(strip_controls(text) if sys.stdout.isatty() else text)
        return
    write_file(output, text)
    click.echo(f"exported {count} flag(s) to {cell(output, 300)}", err=True)


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option(
    "--feed",
    "feed_name",
    default="import",
    show_default=True,
    help="Feed name to store the items under.",
)
@click.option("--alert", is_flag=True, help="Send alerts for flagged items (default: silent).")
@click.option("--batch", type=click.IntRange(min=1), default=200, hidden=True)
@click.pass_obj
def import_items(app: ReviewApp, file: TextIO, feed_name: str, alert: bool, batch: int) -> None:
    """Load archived items from JSON Lines and match them like polled items.

    Bad lines are named and skipped, the others imported; the exit status is 1 when
    any line was rejected.
    """
    from monitor.pipeline.importer import read_items

    items, errors = read_items(file)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors and not items:
        raise MonitorError(
            f"no usable lines in {cell(file.name, 300)}: rejected {len(errors)} line(s)",
            "fix them and import it again",
        )
    totals = _ingest(app, items, feed_name, alert, batch)
    click.echo(
        f"imported {len(items)} item(s) into feed {cell(feed_name, 40)} "
        f"(new={totals.new} updated={totals.updated} flagged={totals.flagged}), "
        f"rejected {len(errors)} line(s)"
    )
    if errors:
        raise MonitorError(
            f"rejected {len(errors)} line(s) of {cell(file.name, 300)}",
            "fix them and import the file again: items already imported are not added twice",
        )


def _ingest(
    app: ReviewApp, items: Sequence[ParsedItem], feed_name: str, alert: bool, batch: int
) -> ImportTotals:
    """Store and match the items in batches, with a progress bar on a terminal."""
    from monitor.pipeline.batch_import import import_items as import_batches

    store, rules, alerts, now = app.store(create=True), app.rules(), app.config().alerts, app.now()
    with click.progressbar(
        length=len(items), label="importing", file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:
        return import_batches(
            store,
            rules,
            feed_name,
            items,
            now,
            alert=alert,
            alerts=alerts,
            batch=batch,
            progress=bar.update,
        )


COMMANDS: tuple[click.Command, ...] = (
    flagged,
    show,
    ack,
    dismiss,
    escalate,
    note,
    export,
    import_items,
)
