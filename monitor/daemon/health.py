"""Is the monitor doing its job? ok, degraded or down, with one line per problem (pure).

Supervisors and container runtimes read the exit code: 0 ok, 1 degraded (some feeds
failing or overdue, alerts dead or waiting too long, the disk nearly full), 2 down (no
monitor running on the database, or no feed polled for several intervals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal

from monitor.clock import parse_iso
from monitor.models import FeedSpec, HealthSnapshot

Status = Literal["ok", "degraded", "down"]
EXIT_CODES: Final[Mapping[Status, int]] = MappingProxyType({"ok": 0, "degraded": 1, "down": 2})
SUCCESS_WINDOW_INTERVALS = 3  # a feed without a success for this many intervals is failing
MIN_SUCCESS_WINDOW = timedelta(minutes=30)
OVERDUE_GRACE = timedelta(minutes=1)
ALERT_WAIT = timedelta(hours=1)  # a pending alert older than this: its channel is stuck


@dataclass(frozen=True, slots=True)
class Health:
    """The monitor's status (ok, degraded, down) and what is wrong."""

    status: Status
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """The exit code `monitor health` ends with: 0, 1 or 2."""
        return EXIT_CODES[self.status]


def assess(snapshot: HealthSnapshot, feeds: Sequence[FeedSpec], now: datetime) -> Health:
    """The monitor's health from a snapshot of its state and the configured feeds."""
    down: list[str] = []
    problems: list[str] = []
    if snapshot.running_pid is None:
        down.append("no monitor is running on this database (start it: monitor run)")
    overdue = [spec.name for spec in feeds if _overdue(spec, snapshot.feeds.get(spec.name), now)]
    if feeds and len(overdue) == len(feeds):
        down.append(f"no feed was polled on time: all {len(feeds)} are overdue")
    elif overdue:
        problems.append(f"overdue (not polled on time): {', '.join(overdue)}")
    problems += [
        line for spec in feeds if (line := _failing(spec, snapshot.feeds.get(spec.name), now))
    ]
    problems += [
        f"{count} alert(s) dead on {channel} (see `monitor alerts --status dead`; "
        "`monitor alerts retry --dead` sends them again)"
        for channel, count in sorted(snapshot.dead_alerts.items())
    ]
    problems += [
        f"{count} alert(s) waiting over {ALERT_WAIT.seconds // 3600}h on {channel}"
        for channel, count in sorted(snapshot.waiting_alerts.items())
    ]
    if snapshot.disk_full:
        problems.append("the disk holding the database is full: polls cannot be stored")
    if down:
        return Health("down", tuple(down + problems))
    return Health("degraded" if problems else "ok", tuple(problems))


def _overdue(spec: FeedSpec, row: Mapping[str, object] | None, now: datetime) -> bool:
    due = row.get("next_due") if row else None
    if not due:
        return False  # never polled yet: due now, counted once a poll should have run
    return now - parse_iso(str(due)) > timedelta(seconds=spec.interval) + OVERDUE_GRACE


def _failing(spec: FeedSpec, row: Mapping[str, object] | None, now: datetime) -> str | None:
    if not row or not row.get("last_attempt"):
        return None
    window = max(timedelta(seconds=spec.interval * SUCCESS_WINDOW_INTERVALS), MIN_SUCCESS_WINDOW)
    success = row.get("last_success")
    if success and now - parse_iso(str(success)) <= window:
        return None
    since = f"since {success}" if success else "ever"
    error = row.get("last_error")
    kind = row.get("last_error_kind")
    return f"feed {spec.name}: no successful poll {since}" + (f" [{kind}] {error}" if error else "")
