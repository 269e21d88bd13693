"""When to poll a feed next: intervals, backoff, and the server's caching hints (pure)."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

JITTER = 0.1  # polls are spread over the last 10 % of the delay so feeds do not align
MAX_BACKOFF_DOUBLINGS = 60

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?=,|$)")


def next_poll_delay(
    interval: float,
    consecutive_failures: int,
    retry_after: float | None,
    max_age: float | None,
    max_interval: float,
    rng: random.Random,
) -> float:
    """Seconds until the next poll of a feed.

    After a success: the longest of the interval, the server's max-age and its
    Retry-After. After failures: the interval doubled per extra failure. Either way
    capped by `max_interval`, jittered downwards, and never earlier than Retry-After
    (itself capped, so a hostile header cannot silence a feed for longer).
    """
    if interval <= 0 or max_interval <= 0:
        raise ValueError("interval and max_interval must be positive")
    if consecutive_failures <= 0:
        base = max(interval, max_age or 0.0, retry_after or 0.0)
    else:
        doublings = min(consecutive_failures - 1, MAX_BACKOFF_DOUBLINGS)
        base = interval * 2.0**doublings
    delay = min(base, max_interval) * rng.uniform(1.0 - JITTER, 1.0)
    floor = min(retry_after or 0.0, max_interval)
    return max(delay, floor)


def delay_reason(
    interval: float,
    consecutive_failures: int,
    retry_after: float | None,
    max_age: float | None,
    max_interval: float,
) -> str:
    """Why `next_poll_delay` chose its delay, in words for the log and `feeds`."""
    if consecutive_failures > 0:
        reason = f"backoff after {consecutive_failures} failure(s)"
        longest = interval * 2.0 ** min(consecutive_failures - 1, MAX_BACKOFF_DOUBLINGS)
    elif (retry_after or 0.0) > max(interval, max_age or 0.0):
        reason, longest = "Retry-After from the server", retry_after or 0.0
    elif (max_age or 0.0) > interval:
        reason, longest = "cache lifetime from the server", max_age or 0.0
    else:
        reason, longest = "interval", interval
    if consecutive_failures > 0 and (retry_after or 0.0) > min(longest, max_interval):
        reason += ", Retry-After from the server"
    if longest > max_interval:
        reason += ", capped by max_interval"
    return reason


def parse_retry_after(value: str | None, now: float, cap: float) -> float | None:
    """Retry-After (delay in seconds or an HTTP date) as seconds from `now`, capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    when = _http_date(value)
    if when is None:
        return None
    return min(max(when - now, 0.0), cap)


def parse_max_age(headers: Mapping[str, str], now: float, cap: float) -> float | None:
    """How long the response may be cached, in seconds, or None for "no hint".

    `no-cache`, `no-store` and an unusable `Expires` (such as `Expires: 0`) give no
    hint; then the feed is simply polled at its own interval.
    """
    control = headers.get("cache-control", "").lower()
    if "no-cache" in control or "no-store" in control:
        return None
    found = _MAX_AGE.search(control)
    if found:
        return min(float(found.group(1)), cap)
    expires = _http_date(headers.get("expires", ""))
    if expires is None or expires <= now:
        return None
    return min(expires - now, cap)


def _http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()
