"""The one composer: poll feeds end to end (fetch, parse, match, store + outbox).

Flow per feed: fetch (concurrently, bounded) -> parse (skipped when the body is
byte-identical to the last one) -> optional article fetch -> one write
transaction holding the items, their revisions, their flags, their outbox rows
and the feed's new state -> dispatch of due alerts. Errors are values stored on
the feed; one feed's failure never stops another.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.enqueue import check_feed_health
from monitor.clock import iso, parse_iso
from monitor.config.load import Config
from monitor.errors import FetchError, ParseError, StorageError
from monitor.fetch.client import Fetcher, fetch_many
from monitor.models import ErrorKind, FeedSpec, FetchResult, ParsedFeed
from monitor.parse.article import extract_article
from monitor.pipeline.ingest import IngestReport, ingest_items
from monitor.pipeline.outcomes import evaluate_fetch, failure_outcome, parse_job_if_changed
from monitor.pipeline.workers import ParseOutput, ParsePool
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store import items as q

log = logging.getLogger(__name__)

ARTICLE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
ARTICLE_CONCURRENCY = 4  # article pages of one feed fetched at once (same site: be polite)
PARSE_DEADLINE_S = 120.0  # a worker stuck longer than this on one body is replaced


@dataclass(frozen=True, slots=True)
class PollReport:
    feed: str
    status: str  # ok | not_modified | unchanged | error
    new: int = 0
    updated: int = 0
    flagged: int = 0
    error_kind: str | None = None
    error: str | None = None
    http_status: int | None = None
    next_due: str = ""


def is_due(row: dict[str, object] | None, now: datetime) -> bool:
    due = row.get("next_due") if row else None
    return not due or parse_iso(str(due)) <= now


def poll_feeds(
    store: Store,
    config: Config,
    fetcher: Fetcher,
    rules: RuleSet,
    now: datetime,
    *,
    only_due: bool = True,
    names: Sequence[str] | None = None,
    rng: random.Random | None = None,
    pool: ParsePool | None = None,
) -> list[PollReport]:
    """Poll the configured feeds (the due ones, or all) and store what they hold.

    With a `pool`, bodies are parsed and matched in worker processes while earlier
    feeds are being stored; without one, inline.
    """
    rng = rng or random.Random()
    if names is None:  # a full round; the daemon syncs once at start, then polls by name
        sync_configured_feeds(store, config, now)
    rows = q.feed_rows(store, names)
    chosen = [
        spec
        for spec in config.feeds
        if (names is None or spec.name in names)
        and (not only_due or is_due(rows.get(spec.name), now))
    ]
    jobs = [(spec.name, spec.url, q.validators_of(rows.get(spec.name))) for spec in chosen]
    results = fetch_many(fetcher, jobs, config.fetch.concurrency)
    futures = {
        spec.name: pool.submit(job)
        for spec in chosen
        if pool is not None
        and (
            job := parse_job_if_changed(
                spec, rows.get(spec.name), results[spec.name], config, rules.version
            )
        )
    }
    reports: list[PollReport] = []
    quiet: list[tuple[str, q.FetchOutcome]] = []  # outcomes with no item to store
    for spec in chosen:
        future = futures.get(spec.name)
        parsed = pool.result(future, PARSE_DEADLINE_S) if pool and future else None
        report, outcome = poll_result(
            store,
            config,
            fetcher,
            rules,
            spec,
            rows.get(spec.name),
            results[spec.name],
            now,
            rng,
            parsed,
        )
        reports.append(report)
        if outcome is not None:
            quiet.append((spec.name, outcome))
    if quiet:  # one commit (one fsync) for every 304, unchanged body and failure
        with store.write() as db:
            for feed, outcome in quiet:
                q.record_outcome(db, feed, outcome)
    return reports


def sync_configured_feeds(store: Store, config: Config, now: datetime) -> None:
    """Bring the feeds table in line with the configuration, saying what was renamed."""
    with store.write() as db:
        renamed = q.sync_feeds(db, config.feeds, iso(now))
    for old, new in renamed:
        log.info("event=feed_renamed old=%s new=%s (same URL: its items and state moved)", old, new)


def poll_result(
    store: Store,
    config: Config,
    fetcher: Fetcher,
    rules: RuleSet,
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult | FetchError,
    now: datetime,
    rng: random.Random,
    prepared: ParseOutput | None = None,
) -> tuple[PollReport, q.FetchOutcome | None]:
    """Turn one feed's fetch result into stored items and an outcome.

    The outcome is recorded with the items; when there is no item to store, it is
    returned for the caller to record together with the other quiet outcomes.
    """
    pending: q.FetchOutcome | None = None
    report = IngestReport()
    try:
        outcome, parsed = evaluate_fetch(spec, row, result, now, config, rng, prepared)
        matches = prepared.matches if prepared is not None else {}
        if parsed is not None and spec.full_text:
            parsed = _with_articles(store, fetcher, spec, parsed)
        first_poll = not row or not row.get("polls_ok")
        if parsed is None or not parsed.items:
            pending = outcome
        else:
            report = ingest_items(
                store,
                rules,
                spec.name,
                parsed.items,
                now,
                alerts=config.alerts,
                first_poll=first_poll,
                outcome=outcome,
                matches=matches,
            )
    except StorageError:
        raise
    except Exception as exc:  # one feed's unexpected failure must not stop the others
        log.exception("event=poll_internal_error feed=%s", spec.name)
        outcome = failure_outcome(
            spec, row, FetchError(ErrorKind.INTERNAL, f"internal error: {exc}"), now, config, rng
        )
        pending, report = outcome, IngestReport()
    _log_outcome(spec.name, outcome, report)
    return PollReport(
        feed=spec.name,
        status=outcome.status,
        new=report.new,
        updated=report.updated,
        flagged=report.flagged,
        error_kind=outcome.error_kind,
        error=outcome.error,
        http_status=outcome.http_status,
        next_due=outcome.next_due,
    ), pending


def _with_articles(
    store: Store, fetcher: Fetcher, spec: FeedSpec, parsed: ParsedFeed
) -> ParsedFeed:
    """Replace the body of new or edited items with the article page's text."""
    known = q.stored_hashes(store, spec.name, [i.key for i in parsed.items])
    wanted = [i for i in parsed.items if i.url and known.get(i.key) != i.content_hash]
    if not wanted:
        return parsed
    jobs = [(i.key, str(i.url), None) for i in wanted]
    results = fetch_many(fetcher, jobs, ARTICLE_CONCURRENCY, accept=ARTICLE_ACCEPT)
    texts: dict[str, str] = {}
    for key, result in results.items():
        texts[key] = _article_text(spec.name, key, result)
    items = tuple(
        dataclasses.replace(i, body=texts[i.key]) if texts.get(i.key) else i for i in parsed.items
    )
    return dataclasses.replace(parsed, items=items)


def _article_text(feed: str, key: str, result: FetchResult | FetchError) -> str:
    try:
        if isinstance(result, FetchError):
            raise result
        if result.body is None:
            return ""
        return extract_article(
            result.body, url=result.url, content_type=result.headers.get("content-type")
        )
    except (FetchError, ParseError) as exc:
        log.warning(
            "event=article_unavailable feed=%s key=%s error=%r", feed, key[:120], str(exc)[:200]
        )
        return ""


def after_poll(
    store: Store, config: Config, now: datetime, names: Sequence[str] | None = None
) -> None:
    """Feed-health notices after a poll round, for the feeds polled (default: all)."""
    if not config.alerts.channels():
        return
    with store.write() as db:
        check_feed_health(db, config.alerts, now, names)


def _log_outcome(feed: str, outcome: q.FetchOutcome, report: IngestReport) -> None:
    if outcome.status == "error":
        log.warning(
            "event=poll_failed feed=%s kind=%s error=%r next_due=%s",
            feed,
            outcome.error_kind,
            outcome.error,
            outcome.next_due,
        )
    else:
        log.info(
            "event=polled feed=%s status=%s new=%d updated=%d flagged=%d next_due=%s",
            feed,
            outcome.status,
            report.new,
            report.updated,
            report.flagged,
            outcome.next_due,
        )
