"""Deliver due outbox rows: claim, send, record. At least once, with stable ids.

For each row: mark it `sending` (attempt + 1) in its own committed transaction,
then make one network attempt, then mark it `sent`, back to `pending` with backoff
and jitter, or `dead` (permanent error, or the next attempt would fall past the
channel's `give_up_after` horizon counted from the row's creation). A crash between
the receiver's answer and our record leaves the row `sending`; `recover_sending`
(called when the daemon starts) puts such rows back to pending with
`possible_duplicate = 1`, same id, so receivers can de-duplicate and people can see it.

Channels run in parallel threads, one per channel, so a slow or dead mail server
never delays a webhook. They share the store's single connection, so every
database step takes the run's gate (a lock owned by the run); network calls happen
outside it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alerts.channels import Outcome, WebhookPoster, deliver
from monitor.alerts.digest import fold_due_digests
from monitor.alerts.payload import JSONValue, Payload, envelope, json_list, json_object
from monitor.clock import iso, parse_iso
from monitor.config.alerts import AlertsConfig
from monitor.store import Store, outbox
from monitor.store.outbox import OutboxRow

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt (Standard Webhooks' example).
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.2  # each delay is spread over +-20 %
MAX_ROWS_PER_CHANNEL = 200  # per dispatch run: a backlog never holds a run for long


@dataclass
class DispatchReport:
    """What one dispatch run did: rows sent, retried, dead, digests folded, failures."""

    sent: int = 0
    partial: int = 0  # sent, but some recipients refused for good
    retried: int = 0
    dead: int = 0
    digests: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # channel, id, error

    def merge(self, other: DispatchReport) -> None:
        """Add another channel's figures to these."""
        self.sent += other.sent
        self.partial += other.partial
        self.retried += other.retried
        self.dead += other.dead
        self.failures.extend(other.failures)


def backoff(failed_attempts: int, rng: random.Random) -> float:
    """Delay before the next attempt after `failed_attempts` failures, with jitter."""
    base = SCHEDULE[min(max(failed_attempts, 1), len(SCHEDULE)) - 1]
    return base * rng.uniform(1.0 - JITTER, 1.0 + JITTER)


def dispatch_due(
    store: Store,
    alerts: AlertsConfig,
    fetcher: WebhookPoster,
    now: datetime,
    *,
    channels: list[str] | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.time,
    stop: Callable[[], bool] = lambda: False,
    warned: set[str] | None = None,
) -> DispatchReport:
    """Fold due digests, then deliver every due row, each channel in its own thread.

    Once `stop()` is true (the daemon is shutting down), no further row is claimed;
    the attempts under way finish and are recorded. A channel whose secret cannot be
    read is skipped whole (its rows wait, no attempt is spent) and said once per process
    (`warned` remembers what was said).
    """
    report = DispatchReport()
    report.digests = len(fold_due_digests(store, alerts, now))  # before the threads start
    said = set() if warned is None else warned
    names = [
        name
        for name in alerts.channels()
        if (channels is None or name in channels) and _secrets_ready(alerts, name, said)
    ]
    if not names:
        return report
    rng = rng or random.Random()
    job = _ChannelJob(store, alerts, fetcher, now, rng, clock, stop)
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="alerts") as pool:
        for part in pool.map(job.run, names):
            report.merge(part)
    return report


def _secrets_ready(alerts: AlertsConfig, channel: str, warned: set[str]) -> bool:
    missing = alerts.missing_secrets(channel)
    for problem in missing:
        if problem not in warned:
            warned.add(problem)
            log.warning(
                "event=alerts_waiting channel=%s reason=%r (its alerts stay queued)",
                channel,
                problem,
            )
    return not missing


@dataclass
class _ChannelJob:
    """One dispatch run: its channel threads share the store's connection through `gate`."""

    store: Store
    alerts: AlertsConfig
    fetcher: WebhookPoster
    now: datetime
    rng: random.Random
    clock: Callable[[], float]
    stop: Callable[[], bool]
    gate: threading.Lock = field(default_factory=threading.Lock)

    def run(self, channel: str) -> DispatchReport:
        report = DispatchReport()
        for _ in range(MAX_ROWS_PER_CHANNEL):
            if self.stop():
                break
            with self.gate:
                row = outbox.claim_next(self.store, channel, iso(self.now))
            if row is None:
                break
            outcome = self._attempt(row)
            with self.gate:
                self._record(row, outcome, report)
        return report

    def _attempt(self, row: OutboxRow) -> Outcome:
        document = envelope(row.payload, row.id, row.attempts, row.possible_duplicate, row.created)
        remaining = json_list(json_object(row.payload.get("_delivery")).get("remaining"))
        try:
            return deliver(
                self.alerts,
                row.channel,
                document,
                self.fetcher,
                self.now,
                recipients=tuple(str(r) for r in remaining) if remaining else None,
                clock=self.clock,
            )
        except Exception as exc:  # a bug must not stop the other rows; the row is retried
            log.error(
                "event=alert_internal_error channel=%s id=%s error=%s",
                row.channel,
                row.id,
                type(exc).__name__,
            )
            return Outcome(False, error=f"internal error ({type(exc).__name__}); see the log")

    def _record(self, row: OutboxRow, outcome: Outcome, report: DispatchReport) -> None:
        delivery = json_object(row.payload.get("_delivery"))
        refused: dict[str, JSONValue] = {**json_object(delivery.get("refused")), **outcome.refused}
        if outcome.delivered:
            note = "; ".join(f"{r} refused for good ({why})" for r, why in refused.items())
            outbox.mark_sent(self.store, row.id, iso(self.now), note or None)
            report.partial += bool(note)
            report.sent += not note
            log.info(
                "event=alert_sent channel=%s id=%s attempt=%d", row.channel, row.id, row.attempts
            )
            return
        report.failures.append((row.channel, row.id, outcome.error))
        payload = self._payload_with(row, outcome, refused)
        if outcome.permanent:
            self._dead(row, outcome.error, payload, report)
            return
        self._retry(row, outcome, payload, report)

    def _payload_with(
        self, row: OutboxRow, outcome: Outcome, refused: dict[str, JSONValue]
    ) -> Payload | None:
        if not (outcome.remaining or refused):
            return None
        remaining: list[JSONValue] = list(outcome.remaining)
        return {**row.payload, "_delivery": {"remaining": remaining, "refused": refused}}

    def _retry(
        self,
        row: OutboxRow,
        outcome: Outcome,
        payload: Payload | None,
        report: DispatchReport,
    ) -> None:
        delay = max(backoff(row.attempts, self.rng), outcome.retry_after or 0.0)
        next_at = self.now + timedelta(seconds=delay)
        policy = self.alerts.policy(row.channel)
        horizon = policy.give_up_after if policy else 0.0
        if (next_at - parse_iso(row.created)).total_seconds() > horizon:
            span = _span(horizon)
            error = f"gave up after {row.attempts} attempt(s) within {span}: {outcome.error}"
            self._dead(row, error, payload, report)
            return
        outbox.mark_retry(
            self.store,
            row.id,
            iso(next_at),
            outcome.error,
            payload,
            possible_duplicate=outcome.maybe_delivered,
        )
        report.retried += 1
        log.warning(
            "event=alert_retry channel=%s id=%s attempt=%d next=%s error=%s",
            row.channel,
            row.id,
            row.attempts,
            iso(next_at),
            outcome.error,
        )

    def _dead(
        self, row: OutboxRow, error: str, payload: Payload | None, report: DispatchReport
    ) -> None:
        outbox.mark_dead(self.store, row.id, error, payload)
        report.dead += 1
        log.error(
            "event=alert_dead channel=%s id=%s attempt=%d error=%s",
            row.channel,
            row.id,
            row.attempts,
            error,
        )


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{round(seconds / size, 1):g}{unit}"
    return f"{seconds:g}s"


def recover_sending(store: Store, now: datetime, *, stale_after: float = 0.0) -> int:
    """Rows left `sending` by a crash (attempt started `stale_after` s or more ago) go back
    to pending now, same id, marked as possible duplicates. Call it when the daemon starts,
    before any dispatch run shares the store with its channel threads."""
    started_before = iso(now - timedelta(seconds=stale_after))
    count = outbox.recover_sending(store, iso(now), started_before)
    if count:
        log.warning(
            "event=alerts_recovered count=%d (will be re-sent as possible duplicates)", count
        )
    return count
