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
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.enqueue import check_feed_health
from monitor.clock import iso, parse_iso
from monitor.config.load import Config
from monitor.errors import FetchError, ParseError, StorageError
from monitor.fetch.client import Fetcher, InFlight, fetch_each, fetch_many
from monitor.models import ErrorKind, FeedSpec, FetchResult, ParsedFeed, Validators
from monitor.pipeline.ingest import IngestReport, ingest_items
from monitor.pipeline.outcomes import (
    body_changed,
    evaluate_fetch,
    failure_outcome,
    job_for,
    parse_job_if_changed,
)
from monitor.pipeline.workers import ParseOutput, ParsePool, run_job
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store.feeds import (
    FeedState,
    FetchOutcome,
    FetchStatus,
    feed_states,
    record_outcome,
    sync_feeds,
)
from monitor.store.items import stored_hashes

log = logging.getLogger(__name__)

ARTICLE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
ARTICLE_CONCURRENCY = 4  # article pages of one feed fetched at once (same site: be polite)
PARSE_DEADLINE_S = 120.0  # a worker stuck longer than this on one body is replaced
# Feeds whose results are ready share a commit (one fsync instead of one each), at most
# this many; a round commits what it stored before it waits for a worker anyway.
GROUP_FEEDS = 25


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll of one feed did, for the command's output and the metrics."""

    feed: str
    status: FetchStatus
    new: int = 0
    updated: int = 0
    flagged: int = 0
    error_kind: str | None = None
    error: str | None = None
    http_status: int | None = None
    next_due: str = ""


@dataclass(frozen=True, slots=True)
class PollRound:
    """What every feed's poll in one round shares: where to store, how, and when."""

    store: Store
    config: Config
    fetcher: Fetcher
    rules: RuleSet
    now: datetime
    rng: random.Random


def is_due(state: FeedState | None, now: datetime) -> bool:
    """A feed never polled, or whose stored due time has come."""
    due = state.next_due if state is not None else None
    return not due or parse_iso(due) <= now


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
    sent: InFlight[str] | None = None,
) -> list[PollReport]:
    """Poll the configured feeds (the due ones, or all) and store what they hold.

    With a `pool`, bodies are parsed and matched in worker processes while earlier
    feeds are being stored; without one, inline. Each feed is stored in a transaction
    of its own or, when several are ready at once, with the others (one commit).
    `sent`: the requests of a round of every feed, already in flight (`send_requests`).
    """
    run = PollRound(store, config, fetcher, rules, now, rng or random.Random())
    if names is None:  # a full round; the daemon syncs once at start, then polls by name
        sync_configured_feeds(store, config, now)
    states = feed_states(store, names)
    chosen = choose_feeds(config.feeds, states, now, names=names, only_due=only_due)
    results, futures = _fetch_and_submit(run, chosen, states, pool, sent)
    with store.grouped():
        reports, quiet = _store_round(run, chosen, states, results, futures, pool)
    _record_quiet(store, quiet)
    return reports


def _store_round(
    run: PollRound,
    chosen: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    results: Mapping[str, FetchResult | FetchError],
    futures: Mapping[str, Future[ParseOutput]],
    pool: ParsePool | None,
) -> tuple[list[PollReport], list[tuple[str, FetchOutcome]]]:
    """Store each feed's result in order (inside `Store.grouped()`), committing before it
    waits for a worker or fetches articles; the reports, and the outcomes with no item
    to store."""
    reports: list[PollReport] = []
    quiet: list[tuple[str, FetchOutcome]] = []
    for count, spec in enumerate(chosen):
        future = futures.get(spec.name)
        if (future and not future.done()) or spec.full_text or count % GROUP_FEEDS == 0:
            run.store.commit_group()
        parsed = pool.result(future, PARSE_DEADLINE_S) if pool and future else None
        report, outcome = poll_result(run, spec, states.get(spec.name), results[spec.name], parsed)
        reports.append(report)
        if outcome is not None:
            quiet.append((spec.name, outcome))
    return reports, quiet


def send_requests(store: Store, config: Config, fetcher: Fetcher) -> InFlight[str]:
    """Send the requests of a round of every configured feed now, conditional on what
    the store holds, for `poll_feeds(..., sent=)` to take the answers as they arrive.
    Only reads the store: a feed renamed in the configuration is asked for afresh."""
    states = feed_states(store, None)
    jobs = [(spec.name, spec.url, _validators(states.get(spec.name))) for spec in config.feeds]
    return InFlight(fetcher, jobs, config.fetch.concurrency)


def _fetch_and_submit(
    run: PollRound,
    chosen: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    pool: ParsePool | None,
    sent: InFlight[str] | None,
) -> tuple[dict[str, FetchResult | FetchError], dict[str, Future[ParseOutput]]]:
    """Fetch the chosen feeds (or take the answers of the requests already `sent`); with
    a pool, hand each changed body to it as soon as it arrives, so the workers parse and
    match while the other feeds are still fetched. Jobs are submitted from this thread:
    a worker started by a short-lived fetch thread would be killed when that thread ends
    (see workers.py)."""
    specs = {spec.name: spec for spec in chosen}
    answers: Iterable[tuple[str, FetchResult | FetchError]] | None = sent
    if answers is None:
        jobs = [(spec.name, spec.url, _validators(states.get(spec.name))) for spec in chosen]
        answers = fetch_each(run.fetcher, jobs, run.config.fetch.concurrency)
    results: dict[str, FetchResult | FetchError] = {}
    futures: dict[str, Future[ParseOutput]] = {}
    for name, result in answers:
        results[name] = result
        if pool is not None and (
            job := parse_job_if_changed(
                specs[name], states.get(name), result, run.config, run.rules.version
            )
        ):
            futures[name] = pool.submit(job)
    return results, futures


def choose_feeds(
    feeds: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    now: datetime,
    *,
    names: Sequence[str] | None,
    only_due: bool,
) -> list[FeedSpec]:
    """The configured feeds to poll: those named (default: all), and only the due ones."""
    return [
        spec
        for spec in feeds
        if (names is None or spec.name in names)
        and (not only_due or is_due(states.get(spec.name), now))
    ]


def _validators(state: FeedState | None) -> Validators:
    return state.validators() if state is not None else Validators()


def _record_quiet(store: Store, quiet: Sequence[tuple[str, FetchOutcome]]) -> None:
    """One commit (one fsync) for every 304, unchanged body and failure of a round."""
    if not quiet:
        return
    with store.write() as db:
        for feed, outcome in quiet:
            record_outcome(db, feed, outcome)


def sync_configured_feeds(store: Store, config: Config, now: datetime) -> None:
    """Bring the feeds table in line with the configuration, saying what was renamed."""
    with store.write() as db:
        renamed = sync_feeds(db, config.feeds, iso(now))
    for old, new in renamed:
        log.info("event=feed_renamed old=%s new=%s (same URL: its items and state moved)", old, new)


def poll_result(
    run: PollRound,
    spec: FeedSpec,
    state: FeedState | None,
    result: FetchResult | FetchError,
    prepared: ParseOutput | None = None,
) -> tuple[PollReport, FetchOutcome | None]:
    """Turn one feed's fetch result into stored items and an outcome.

    The outcome is recorded with the items; when there is no item to store, it is
    returned for the caller to record together with the other quiet outcomes.
    """
    try:
        outcome, report, stored = _store_result(run, spec, state, result, prepared)
    except StorageError:
        raise
    except Exception as exc:  # one feed's unexpected failure must not stop the others
        log.exception("event=poll_internal_error feed=%s", spec.name)
        error = FetchError(ErrorKind.INTERNAL, f"internal error: {exc}")
        outcome = failure_outcome(spec, state, error, run.now, run.config, run.rng)
        report, stored = IngestReport(), False
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
    ), (None if stored else outcome)


def _store_result(
    run: PollRound,
    spec: FeedSpec,
    state: FeedState | None,
    result: FetchResult | FetchError,
    prepared: ParseOutput | None,
) -> tuple[FetchOutcome, IngestReport, bool]:
    """The outcome, what storing the items did, and whether the outcome is stored."""
    output = prepared
    if output is None and isinstance(result, FetchResult) and body_changed(state, result):
        output = run_job(job_for(spec, result, run.config, match=False))
    outcome, parsed = evaluate_fetch(spec, state, result, run.now, run.config, run.rng, output)
    if parsed is not None and spec.full_text:
        parsed = _with_articles(run.store, run.fetcher, spec, parsed)
    if parsed is None or not parsed.items:
        return outcome, IngestReport(), False
    report = ingest_items(
        run.store,
        run.rules,
        spec.name,
        parsed.items,
        run.now,
        alerts=run.config.alerts,
        first_poll=state is None or not state.polls_ok,
        outcome=outcome,
        matches=output.matches if output is not None else {},
    )
    return outcome, report, True


def _with_articles(
    store: Store, fetcher: Fetcher, spec: FeedSpec, parsed: ParsedFeed
) -> ParsedFeed:
    """Replace the body of new or edited items with the article page's text."""
    known = stored_hashes(store, spec.name, [i.key for i in parsed.items])
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
    # imported here: a round that fetches no article needs no HTML parser (a warm
    # cycle starts about 0.05 s sooner without it)
    from monitor.parse.article import extract_article

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


def _log_outcome(feed: str, outcome: FetchOutcome, report: IngestReport) -> None:
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
