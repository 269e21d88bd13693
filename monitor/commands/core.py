"""Commands of the foundation: run, feeds, items, search, config check, rescan."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from monitor.app import App
from monitor.commands.output import cell, echo_json, echo_rows, since_option
from monitor.pipeline import PollReport
from monitor.store import browse


@click.command()
@click.option("--once", is_flag=True, help="Poll every feed now, print one line per feed, exit.")
@click.pass_obj
def run(app: App, once: bool) -> None:
    """Run the daemon (or one poll of every feed with --once)."""
    from monitor import daemon

    for warning in app.config().warnings:
        click.echo(f"warning: {warning}", err=True)
    if once:
        reports = daemon.run_once(app)
        for report in reports:
            click.echo(_report_line(report))
        return
    daemon.run_forever(app)


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
@click.pass_obj
def feeds(app: App, as_json: bool) -> None:
    """Health per feed: last success, last error and its class, next poll, items stored."""
    from monitor.store.items import sync_feeds

    store = app.store()
    with store.write() as db:
        sync_feeds(db, app.config().feeds)
    rows = browse.feed_health(store)
    if as_json:
        echo_json(rows)
        return
    echo_rows(
        [("FEED", "STATUS", "LAST SUCCESS", "NEXT POLL", "ITEMS", "LAST ERROR")],
        (14, 12, 20, 20, 6, 60),
    )
    echo_rows(
        [
            (
                r["name"],
                r["last_status"] or "never",
                r["last_success"] or "-",
                r["next_due"] or "now",
                r["items"],
                _error_text(r),
            )
            for r in rows
        ],
        (14, 12, 20, 20, 6, 60),
    )


def _error_text(row: dict[str, object]) -> str:
    if not row.get("last_error"):
        return ""
    return f"[{row['last_error_kind']}] {row['last_error']} (x{row['consecutive_failures']})"


@click.command()
@click.option("--feed", help="Only items of this feed.")
@click.option("--since", help="Only items first seen within this period (e.g. 7d, 12h).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def items(app: App, feed: str | None, since: str | None, limit: int, as_json: bool) -> None:
    """List stored items, newest first."""
    rows = browse.list_items(
        app.store(create=False), feed=feed, since=since_option(since, app.now()), limit=limit
    )
    _print_items(rows, as_json)


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def search(app: App, query: str, limit: int, as_json: bool) -> None:
    """Full-text search over titles and bodies (the query is taken literally)."""
    _print_items(browse.search_items(app.store(create=False), query, limit), as_json)


def _print_items(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    echo_rows(
        [
            (r["id"], r["first_seen"], r["feed"], "*" if r["flagged"] else " ", r["title"])
            for r in rows
        ],
        (7, 20, 12, 1, 100),
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
        "storage": {"path": str(config.storage_path)},
        "fetch": {k: v for k, v in asdict(config.fetch).items() if k != "proxy"}
        | {"proxy": _redact_url(config.fetch.proxy)},
        "signals": {
            "rules": str(config.signals.rules_path),
            "threshold": app.rules().threshold,
            "rules_version": app.rules().version,
        },
        "daemon": asdict(config.daemon),
        "outlook": asdict(config.outlook),
        "feeds": [asdict(f) for f in config.feeds],
        "alerts": config.alerts.redacted_dict(),
    }
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        echo_json(resolved)
    else:
        click.echo(f"configuration ok: {config.config_path}")
        click.echo(json.dumps(resolved, indent=2, ensure_ascii=False, default=str))


def _redact_url(url: str) -> str:
    from monitor.fetch import redact_url

    return redact_url(url) if url else ""


@click.command()
@click.option("--since", help="Only items first seen within this period (default: all).")
@click.pass_obj
def rescan(app: App, since: str | None) -> None:
    """Re-run the current rules over stored items, without alerting old items."""
    from monitor.rescan import rescan_items

    report = rescan_items(
        app.store(create=False), app.rules(), app.now(), since=since_option(since, app.now())
    )
    click.echo(
        f"rescanned {report.scanned} items with rules {app.rules().version}: "
        f"{report.flagged} flagged ({report.newly_flagged} newly, silent), "
        f"{report.unflagged} no longer flagged"
    )


COMMANDS: list[click.Command] = [run, feeds, items, search, config_group, rescan]
