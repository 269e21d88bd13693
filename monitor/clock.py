"""Time as values: ISO 8601 UTC strings in storage and JSON, aware datetimes in code.

The pure core takes `now` as an argument; only the edges call `utcnow()`. The CLI
honours MONITOR_NOW (an ISO time) so that tests can fix the clock of a subprocess.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC to the second, or the fixed time in MONITOR_NOW when it is set."""
    fixed = os.environ.get("MONITOR_NOW")
    if fixed:
        return parse_iso(fixed)
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """The storage form: second precision, UTC, with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse what `iso` writes (and other ISO forms); naive times are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
