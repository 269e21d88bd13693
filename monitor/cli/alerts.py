"""`monitor alerts`: list the outbox, send a test through a channel, retry rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.alerts.channels import deliver
from monitor.alerts.enqueue import new_alert_id
from monitor.alerts.payload import build_test_payload, envelope, json_object
from monitor.alerts.summary import summarize
from monitor.cli.output import cell, echo_json, echo_rows
from monitor.cli.output import when as when_text
from monitor.clock import iso
from monitor.errors import DeliveryError, MonitorError
from monitor.store import outbox

if TYPE_CHECKING:
    from monitor.app import App

_STATES = ("pending", "sending", "sent", "dead", "held", "folded")


@click.group("alerts", invoke_without_command=True)
@click.option("--status", type=click.Choice(_STATES), help="Only rows in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document (an array).")
@click.pass_context
def alerts(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """List queued and delivered alerts (newest first); see the subcommands."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    rows = [_listed(r) for r in outbox.list_rows(app.store(), status, limit)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no alerts" + (f" in state {status}" if status else ""))
        return
    widths = (32, 14, 7, 9, 5, 17, 40, 60)
    echo_rows([("ID", "CHANNEL", "KIND", "STATE", "TRIES", "WHEN", "WHAT", "LAST ERROR")], widths)
    echo_rows([_cells(r) for r in rows], widths)


def _listed(listed: outbox.OutboxListing) -> dict[str, object]:
    """The row as `monitor alerts --json` prints it (and the table reads it)."""
    row, title = listed.row, listed.item_title
    delivery = json_object(row.payload.get("_delivery"))
    subject = summarize(envelope(row.payload, row.id, 1, False, row.created)).subject
    return {
        "id": row.id, "channel": row.channel, "kind": row.kind, "item_id": row.item_id,
        "item_title": cell(title, 200) if title else None,
        "state": row.state, "attempts": row.attempts, "created": row.created,
        "next_attempt": row.next_attempt, "last_attempt": row.last_attempt,
        "sent_at": row.sent_at, "last_error": row.last_error,
        "possible_duplicate": row.possible_duplicate, "digest_id": row.digest_id,
        "subject": cell(subject.removeprefix("[monitor] "), 200),
        "remaining_recipients": delivery.get("remaining") or [],
    }  # fmt: skip


def _cells(row: dict[str, object]) -> list[object]:
    state = str(row["state"]) + ("*" if row["possible_duplicate"] else "")
    when = row["sent_at"] if row["state"] == "sent" else row["next_attempt"]
    title = row["item_title"] or row["subject"]
    return [row["id"], row["channel"], row["kind"], state, row["attempts"], when_text(when),
            title, row["last_error"] or ""]  # fmt: skip


@alerts.command("test")
@click.argument("channel", required=False)
@click.pass_obj
def test_command(app: App, channel: str | None) -> None:
    """Send a test message through CHANNEL (default: every channel) now, not via the queue.

    Prints the receiver's own answer; exits 1 when any channel fails.
    """
    config = app.config().alerts
    names = config.channels()
    if channel is not None and channel not in names:
        known = ", ".join(names) or "none configured"
        raise click.BadParameter(f"unknown channel {channel!r} (channels: {known})")
    if not names:
        raise MonitorError(
            "no alert channels configured", "add [alerts.email] or [[alerts.webhooks]]"
        )
    failed = [name for name in ([channel] if channel else names) if not _send_test(app, name)]
    if failed:
        raise DeliveryError(f"test failed for {', '.join(failed)}")


def _send_test(app: App, channel: str) -> bool:
    now = app.now()
    document = envelope(build_test_payload(channel), new_alert_id(now), 1, False, iso(now))
    outcome = deliver(app.config().alerts, channel, document, app.fetcher(), now)
    answer = cell(outcome.answer, 200) or "no answer"
    if outcome.delivered and not outcome.error:
        click.echo(f"{channel}: ok ({answer})")
        return True
    click.echo(f"{channel}: FAILED: {cell(outcome.error, 300)} (receiver said: {answer})")
    return False


@alerts.command("retry")
@click.argument("ids", nargs=-1)
@click.option("--dead", "all_dead", is_flag=True, help="Every dead row.")
@click.pass_obj
def retry_command(app: App, ids: tuple[str, ...], all_dead: bool) -> None:
    """Put alerts back in the queue now: the given IDs, or every dead one with --dead.

    A retried row gets one more attempt at once; if its retry horizon has passed
    and that attempt fails, it is dead again.
    """
    if bool(ids) == all_dead:
        raise click.UsageError("give alert IDs or --dead (not both)")
    now = iso(app.now())
    if all_dead:
        count = outbox.retry_dead(app.store(), now)
        click.echo(f"{count} dead alert(s) queued again")
        return
    found = outbox.retry_ids(app.store(), ids, now)
    for missing in [i for i in ids if i not in found]:
        click.echo(f"{cell(missing, 40)}: no such alert in state pending, dead or sent", err=True)
    click.echo(f"{len(found)} alert(s) queued again")
    if len(found) < len(ids):
        raise MonitorError(f"{len(ids) - len(found)} alert id(s) not found")


COMMANDS = (alerts,)
