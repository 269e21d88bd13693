"""Poll timing: intervals, backoff, Retry-After and cache hints, durations."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from monitor.config.durations import parse_duration
from monitor.fetch.timing import (
    JITTER,
    next_poll_delay,
    parse_max_age,
    parse_retry_after,
)

DAY = 86400.0
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()


def _http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + offset, UTC), usegmt=True)


def test_polltiming_success_polls_at_interval_with_small_jitter() -> None:
    """After a success the delay is the interval, jittered by at most 10 % downwards."""
    rng = random.Random(1)
    delays = [next_poll_delay(600, 0, None, None, DAY, rng) for _ in range(200)]
    assert all(600 * (1 - JITTER) <= d <= 600 for d in delays)
    assert len(set(delays)) > 100


def test_polltiming_success_honours_longer_max_age() -> None:
    """A max-age longer than the interval stretches the delay."""
    delay = next_poll_delay(600, 0, None, 3600, DAY, random.Random(2))
    assert 3600 * (1 - JITTER) <= delay <= 3600


def test_polltiming_retry_after_is_a_floor() -> None:
    """The next poll is never earlier than Retry-After, jitter or not."""
    for seed in range(50):
        assert next_poll_delay(60, 0, 120, None, DAY, random.Random(seed)) >= 120
        assert next_poll_delay(60, 3, 1000, None, DAY, random.Random(seed)) >= 1000


def test_polltiming_hostile_retry_after_is_capped() -> None:
    """A Retry-After of a year cannot push the next poll beyond max_interval."""
    delay = next_poll_delay(600, 0, 365 * DAY, 365 * DAY, DAY, random.Random(3))
    assert delay <= DAY


def test_polltiming_failures_back_off_exponentially_to_the_cap() -> None:
    """Each extra failure doubles the delay until max_interval, which is never exceeded."""
    delays = [next_poll_delay(60, n, None, None, 3600, random.Random(5)) for n in range(1, 12)]
    assert 54 <= delays[0] <= 60
    assert 108 <= delays[1] <= 120
    assert 216 <= delays[2] <= 240
    assert delays == sorted(delays)  # same seed, so the same jitter factor each time
    assert all(d <= 3600 for d in delays)
    assert delays[-1] >= 3600 * (1 - JITTER)


def test_polltiming_huge_failure_count_does_not_overflow() -> None:
    """A feed failing for years still gets a finite, capped delay."""
    assert next_poll_delay(60, 10**9, None, None, DAY, random.Random(6)) <= DAY


def test_polltiming_rejects_non_positive_interval() -> None:
    """A zero interval is a programming error, not a busy loop."""
    with pytest.raises(ValueError, match="must be positive"):
        next_poll_delay(0, 0, None, None, DAY, random.Random(7))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        (" 10M ", 600),
        ("1.5h", 5400),
    ],
)
def test_polltiming_parse_duration_reads_units(text: str, seconds: float) -> None:
    """Durations are a number with s, m, h or d, optionally combined."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "10 minutes", "m", "-5m", "0s", "5w", "1h 30", "1e3s"])
def test_polltiming_parse_duration_rejects_with_clear_message(text: str) -> None:
    """Anything else is a ValueError that says how to write a duration."""
    with pytest.raises(ValueError, match=r"duration .*(for example|longer than zero)"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 30 ", 30.0),
        (_http_date(60), 60.0),
        (_http_date(-60), 0.0),
        (_http_date(365 * DAY), DAY),
        ("999999999999", DAY),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_polltiming_parse_retry_after_both_forms(value: str | None, expected: float | None) -> None:
    """Retry-After in seconds or as an HTTP date becomes capped seconds from now."""
    assert parse_retry_after(value, NOW, DAY) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=600"}, 600.0),
        ({"cache-control": "max-age=99999999"}, DAY),
        ({"cache-control": "no-cache, max-age=600"}, None),
        ({"cache-control": "no-store"}, None),
        ({"expires": "0"}, None),
        ({"expires": _http_date(-10)}, None),
        ({"expires": _http_date(300)}, 300.0),
        ({"cache-control": "s-maxage=100"}, None),
        ({}, None),
    ],
)
def test_polltiming_parse_max_age_handles_cache_headers(
    headers: dict[str, str], expected: float | None
) -> None:
    """max-age counts, capped; no-cache, no-store and Expires: 0 give no hint."""
    assert parse_max_age(headers, NOW, DAY) == expected
