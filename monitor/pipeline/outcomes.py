"""What one fetch result means for its feed: the outcome to record and what to parse.

Pure decisions over values (the clock and the random source come in as arguments, the
parsed body too): 304 and byte-identical bodies need no parsing; failures back off;
Retry-After and cache lifetimes stretch the next poll within the configured cap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from datetime import datetime, timedelta

from monitor.clock import iso
from monitor.config.load import Config
from monitor.errors import FetchError, ParseError
from monitor.fetch.timing import delay_reason, next_poll_delay
from monitor.models import ErrorKind, FeedSpec, FetchResult, ParsedFeed
from monitor.pipeline.workers import ParseJob, ParseOutput
from monitor.store.feeds import FeedState, FetchOutcome


def evaluate_fetch(
    spec: FeedSpec,
    state: FeedState | None,
    result: FetchResult | FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
    output: ParseOutput | None = None,
) -> tuple[FetchOutcome, ParsedFeed | None]:
    """The outcome of a fetch, and the feed to store when its body changed.

    `output` is the changed body parsed (`body_changed` says when one is needed).
    """
    if isinstance(result, FetchError):
        return failure_outcome(spec, state, result, now, config, rng), None
    base = success_outcome(spec, state, result, now, config, rng)
    if result.body is None:
        return dataclasses.replace(base, status="not_modified"), None
    body_hash = hashlib.sha256(result.body).hexdigest()
    if state is not None and state.body_hash == body_hash:
        return dataclasses.replace(base, status="unchanged"), None
    if output is None or output.feed is None:
        error = (output and output.error) or ParseError(ErrorKind.PARSE, "no feed")
        failed = failure_outcome(
            spec, state, FetchError(error.kind, error.message), now, config, rng
        )
        return dataclasses.replace(failed, http_status=result.status), None
    parsed = output.feed
    return dataclasses.replace(base, body_hash=body_hash, warning=parsed.warning), parsed


def body_changed(state: FeedState | None, result: FetchResult | FetchError) -> bool:
    """A body arrived and differs from the one parsed last time (so it is parsed)."""
    if isinstance(result, FetchError) or result.body is None:
        return False
    return state is None or state.body_hash != hashlib.sha256(result.body).hexdigest()


def parse_job_if_changed(
    spec: FeedSpec,
    state: FeedState | None,
    result: FetchResult | FetchError,
    config: Config,
    rules_version: str | None = None,
) -> ParseJob | None:
    """The worker job for a body that changed since the last poll, else None."""
    if isinstance(result, FetchError) or not body_changed(state, result):
        return None
    return job_for(spec, result, config, match=not spec.full_text, rules_version=rules_version)


def job_for(
    spec: FeedSpec,
    result: FetchResult,
    config: Config,
    *,
    match: bool,
    rules_version: str | None = None,
) -> ParseJob:
    """The worker's job for a fetched body (`match`: whether the worker matches too)."""
    return ParseJob(
        body=result.body or b"",
        feed_lang=spec.lang,
        content_type=result.headers.get("content-type"),
        base_url=result.url,
        rules_path=config.signals.rules_path,
        threshold=config.signals.threshold,
        match=match,
        rules_version=rules_version,
    )


def success_outcome(
    spec: FeedSpec,
    state: FeedState | None,
    result: FetchResult,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> FetchOutcome:
    """A successful fetch: polled again after the interval, or later when the server asks."""
    timing = (spec.interval, 0, result.retry_after, result.max_age, config.fetch.max_interval)
    delay = next_poll_delay(*timing, rng)
    return FetchOutcome(
        status="ok",
        started=iso(now),
        finished=iso(now),
        next_due=iso(now + timedelta(seconds=delay)),
        http_status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
        bytes=len(result.body) if result.body is not None else 0,
        schedule_reason=delay_reason(*timing),
    )


def failure_outcome(
    spec: FeedSpec,
    state: FeedState | None,
    error: FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> FetchOutcome:
    """A failed fetch: one more consecutive failure, and a longer wait before the next."""
    failures = state.consecutive_failures + 1 if state is not None else 1
    retry_after = getattr(error, "retry_after", None)
    timing = (spec.interval, failures, retry_after, None, config.fetch.max_interval)
    delay = next_poll_delay(*timing, rng)
    return FetchOutcome(
        status="error",
        started=iso(now),
        finished=iso(now),
        next_due=iso(now + timedelta(seconds=delay)),
        http_status=getattr(error, "status", None),
        error_kind=str(error.kind),
        error=str(error),
        schedule_reason=delay_reason(*timing),
    )
