"""Commands of the foundation: run, feeds, items, search, config check, rescan."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from monitor.app import App
from monitor.cli.known import require_feed
from monitor.cli.output import cell, echo_json, echo_rows, when
from monitor.cli.period import SINCE_HELP, UNTIL_HELP, period
from monitor.clock import iso
from monitor.errors import ForeignDatabaseError, StorageError
from monitor.pipeline.poll import PollReport
from monitor.store import browse


@click.command()
@click.option("--once", is_flag=True, help="Poll every feed now, print one line per feed, exit.")
@click.pass_obj
def run(app: App, once: bool) -> None:
    """Run the daemon (or one poll of every feed with --once)."""
    for warning in app.config().warnings:
        click.echo(f"warning: {warning}", err=True)
    if once:
        from monitor.daemon.once import run_once

        for report in run_once(app):
            click.echo(_report_line(report))
        return
    from monitor.daemon.scheduler import run_forever

    run_forever(app)


def _report_line(report: PollReport) -> str:
    if report.status == "error":
        status = f"{report.http_status} " if report.http_status else ""
        return cell(f"{report.feed}: error [{report.error_kind}] {status}{report.error}", 300)
    return (
        f"{report.feed}: {report.status} new={report.new} updated={report.updated} "
        f"flagged={report.flagged} next={report.next_due}"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Also list feeds no longer configured.")
@click.pass_obj
def feeds(app: App, as_json: bool, show_all: bool) -> None:
    """Health per feed: last success, last error and its class, next poll, items stored."""
    store = app.store()
    health = browse.feed_health(store, app.config().feeds, app.now())
    rows = [r for r in health.feeds if show_all or not r["removed"]]
    if as_json:
        echo_json(rows)
        return
    if health.disk_full:
        click.echo(
            f"warning: the disk holding {store.path} is full; polls cannot be stored "
            "until space is freed (feeds show as overdue)",
            err=True,
        )
    echo_rows(
        [("FEED", "STATUS", "LAST SUCCESS", "NEXT POLL", "ITEMS", "LAST ERROR")],
        (14, 12, 17, 17, 6, 60),
    )
    echo_rows(
        [
            (
                r["name"],
                r["state"],
                when(r["last_success"]),
                "-" if r["removed"] else (when(r["next_due"]) if r["next_due"] else "now"),
                r["items"],
                _error_text(r),
            )
            for r in rows
        ],
        (14, 12, 17, 17, 6, 60),
    )
    hidden = sum(1 for r in health.feeds if r["removed"]) - sum(1 for r in rows if r["removed"])
    if hidden:
        click.echo(f"({hidden} feed(s) no longer configured, their items kept: --all lists them)")


def _error_text(row: dict[str, object]) -> str:
    if not row.get("last_error"):
        return ""
    return f"[{row['last_error_kind']}] {row['last_error']} (x{row['consecutive_failures']})"


@click.command()
@click.option("--feed", help="Only items of this feed.")
@click.option("--since", metavar="WHEN", help=SINCE_HELP)
@click.option("--until", metavar="WHEN", help=UNTIL_HELP)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def items(
    app: App, feed: str | None, since: str | None, until: str | None, limit: int, as_json: bool
) -> None:
    """List stored items, newest first by their own time (published, else first seen)."""
    span = period(since, until, app.now())
    store = app.store()
    if feed is not None:
        require_feed(app, store, feed)
    rows = browse.list_items(
        store, feed=feed, since=span.since_iso(), until=span.until_iso(), limit=limit
    )
    _print_items(rows, as_json)


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def search(app: App, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over titles and bodies (the query is taken literally)."""
    from monitor.store.items import index_backlog, index_pending

    store = app.store()
    behind = index_backlog(store)
    if behind:  # the daemon indexes after its polls; a poll without it leaves this to us
        click.echo(f"note: adding {behind} new item(s) to the search index first", err=True)
        try:
            index_pending(store)
        except ForeignDatabaseError:
            raise  # a damaged file is an error of the search too
        except StorageError as exc:  # read-only, busy, full: search what is indexed
            click.echo(f"note: they are left out of this search ({exc})", err=True)
    _print_items(browse.search_items(store, query, limit), as_json)


def _print_items(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no items match")
        return
    widths = (7, 17, 12, 4, 100)
    echo_rows([("ID", "TIME", "FEED", "FLAG", "TITLE")], widths)
    echo_rows(
        [
            (r["id"], when(r["item_time"]), r["feed"], "*" if r["flagged"] else "", r["title"])
            for r in rows
        ],
        widths,
    )


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the resolved configuration as JSON.")
@click.pass_obj
def config_check(app: App, as_json: bool) -> None:
    """Validate the configuration and print it resolved, secrets redacted."""
    config = app.config()
    app.rules()
    resolved = {
        "config_path": str(config.config_path),
        "fetch": {k: v for k, v in asdict(config.fetch).items() if k != "proxy"}
        | {"proxy": _redact_url(config.fetch.proxy)},
        "storage": {"path": str(config.storage_path), **asdict(config.retention)},
        "metrics": asdict(config.metrics),
        "signals": {
            "packaged_rules": config.signals.packaged_rules,
            "rules": str(config.signals.rules_path),
            "threshold": app.rules().threshold,
            "rules_version": app.rules().version,
        },
        "daemon": asdict(config.daemon),
        "outlook": asdict(config.outlook),
        "feeds": [asdict(f) for f in config.feeds],
        "alerts": config.alerts.redacted_dict(),
    }
    warnings = list(config.warnings) + [
        f"{problem}: alerts to {channel} will wait until it is set"
        for channel in config.alerts.channels()
        for problem in config.alerts.missing_secrets(channel)
    ]
    if config.signals.packaged_rules:
        click.echo(
            f"note: no [signals] rules set and no rules.toml beside {config.config_path.name}: "
            "using the packaged default rules",
            err=True,
        )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        echo_json(resolved)
    else:
        click.echo(f"configuration ok: {config.config_path}")
        click.echo(json.dumps(resolved, indent=2, ensure_ascii=False, default=str))


def _redact_url(url: str) -> str:
    from monitor.config.redact import redact_url

    return redact_url(url) if url else ""


@click.command()
@click.option("--since", metavar="WHEN", help=SINCE_HELP.replace("Only", "Only rescan"))
@click.option("--until", metavar="WHEN", help=UNTIL_HELP.replace("Only", "Only rescan"))
@click.pass_obj
def rescan(app: App, since: str | None, until: str | None) -> None:
    """Re-run the current rules over stored items, without alerting old items."""
    from monitor.pipeline.rescan import rescan_items

    span = period(since, until, app.now())
    report = rescan_items(
        app.store(), app.rules(), app.now(), since=span.since_iso(), until=span.until_iso()
    )
    click.echo(
        f"rescanned {report.scanned} items with rules {app.rules().version}: "
        f"{report.flagged} flagged ({report.newly_flagged} newly, silent), "
        f"{report.unflagged} no longer flagged"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_obj
def health(app: App, as_json: bool) -> None:
    """Exit 0 when all is well, 1 when degraded, 2 when down; one line per problem."""
    from monitor.daemon.health import ALERT_WAIT, Health, assess
    from monitor.daemon.instancelock import running_pid
    from monitor.store.browse import health_snapshot

    config, now = app.config(), app.now()
    pid = running_pid(config.storage_path)
    try:
        store = app.store()
    except StorageError as exc:
        result = Health("down", (str(exc),))
    else:
        snapshot = health_snapshot(store, pid, iso(now - ALERT_WAIT))
        result = assess(snapshot, config.feeds, now)
    if as_json:
        echo_json({"status": result.status, "pid": pid, "problems": list(result.problems)})
    else:
        click.echo(f"{result.status}" + (f" (monitor pid {pid})" if pid else ""))
        for problem in result.problems:
            click.echo(f"- {cell(problem, 300)}")
    app.close()
    sys.exit(result.exit_code)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.pass_obj
def prune(app: App, dry_run: bool) -> None:
    """Delete what the [storage] keep_* settings no longer keep (the daemon does it hourly)."""
    from monitor.store.retention import count_prunable, cutoffs_at
    from monitor.store.retention import prune as prune_rows

    config = app.config()
    cutoffs = cutoffs_at(app.now(), asdict(config.retention))
    store = app.store()
    counts = count_prunable(store, cutoffs) if dry_run else prune_rows(store, cutoffs)
    verb = "would delete" if dry_run else "deleted"
    for name, value in asdict(counts).items():
        kept = getattr(cutoffs, name)
        click.echo(
            f"{name.replace('_', ' ')}: {verb} {value}"
            + (f" (older than {kept})" if kept else " (kept for ever)")
        )


@click.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(app: App, target: Path) -> None:
    """Copy the database to TARGET (a new file), consistently, while the daemon runs."""
    from monitor.store import backup as backup_store

    store = app.store()
    backup_store(store, target)
    size = target.stat().st_size
    click.echo(f"backed up {store.path} to {target} ({size:,} bytes)")


COMMANDS: tuple[click.Command, ...] = (
    run,
    feeds,
    items,
    search,
    config_group,
    rescan,
    health,
    prune,
    backup,
)
