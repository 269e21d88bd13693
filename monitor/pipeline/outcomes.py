"""What one fetch result means for its feed: the outcome to record and what to parse.

Pure decisions over values (the clock and the random source come in as arguments):
304 and byte-identical bodies need no parsing; failures back off; Retry-After and
cache lifetimes stretch the next poll within the configured cap.
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
from monitor.pipeline.workers import ParseJob, ParseOutput, run_job
from monitor.store import items as q


def evaluate_fetch(
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult | FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
    prepared: ParseOutput | None = None,
) -> tuple[q.FetchOutcome, ParsedFeed | None]:
    if isinstance(result, FetchError):
        return failure_outcome(spec, row, result, now, config, rng), None
    base = success_outcome(spec, row, result, now, config, rng)
    if result.body is None:
        return dataclasses.replace(base, status="not_modified"), None
    body_hash = hashlib.sha256(result.body).hexdigest()
    if row and row.get("body_hash") == body_hash:
        return dataclasses.replace(base, status="unchanged"), None
    output = prepared or run_job(job_for(spec, result, config, match=False))
    if output.feed is None:
        error = output.error or ParseError(ErrorKind.PARSE, "no feed")
        failed = failure_outcome(spec, row, FetchError(error.kind, error.message), now, config, rng)
        return dataclasses.replace(failed, http_status=result.status), None
    parsed = output.feed
    return dataclasses.replace(base, body_hash=body_hash, warning=parsed.warning), parsed


def parse_job_if_changed(
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult | FetchError,
    config: Config,
    rules_version: str | None = None,
) -> ParseJob | None:
    """The worker job for a body that changed since the last poll, else None."""
    if isinstance(result, FetchError) or result.body is None:
        return None
    if row and row.get("body_hash") == hashlib.sha256(result.body).hexdigest():
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
    row: dict[str, object] | None,
    result: FetchResult,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> q.FetchOutcome:
    timing = (spec.interval, 0, result.retry_after, result.max_age, config.fetch.max_interval)
    delay = next_poll_delay(*timing, rng)
    return q.FetchOutcome(
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
    row: dict[str, object] | None,
    error: FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> q.FetchOutcome:
    failures = int(str(row.get("consecutive_failures") or 0)) + 1 if row else 1
    retry_after = getattr(error, "retry_after", None)
    timing = (spec.interval, failures, retry_after, None, config.fetch.max_interval)
    delay = next_poll_delay(*timing, rng)
    return q.FetchOutcome(
        status="error",
        started=iso(now),
        finished=iso(now),
        next_due=iso(now + timedelta(seconds=delay)),
        http_status=getattr(error, "status", None),
        error_kind=str(error.kind),
        error=str(error),
        schedule_reason=delay_reason(*timing),
    )
