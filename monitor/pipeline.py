"""The one composer: poll feeds end to end (fetch, parse, match, store + outbox, dispatch).

Flow per feed: fetch (concurrently, bounded) -> parse (skipped when the body is
byte-identical to the last one) -> optional article fetch -> one write
transaction holding the items, their revisions, their flags, their outbox rows
and the feed's new state -> dispatch of due alerts. Errors are values stored on
the feed; one feed's failure never stops another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.alerts.config import AlertsConfig
from monitor.alerts.enqueue import check_feed_health, enqueue_item_alerts, enqueue_notice
from monitor.alerts.payload import build_churn_payload, build_item_payload
from monitor.clock import iso, parse_iso
from monitor.config import Config
from monitor.errors import FetchError, ParseError, StorageError
from monitor.extract import extract_article
from monitor.fetch import Fetcher, fetch_many
from monitor.models import ErrorKind, FeedSpec, FetchResult, Match, ParsedFeed, ParsedItem
from monitor.parsepool import ParseJob, ParseOutput, ParsePool, run_job
from monitor.polltiming import next_poll_delay
from monitor.signals import RuleSet, match_document
from monitor.store import Store
from monitor.store import items as q

log = logging.getLogger(__name__)

CHURN_NOTICE_MIN = 5  # re-keyed items in one poll before the operator is told
PARSE_DEADLINE_S = 120.0  # a worker stuck longer than this on one body is replaced


@dataclass(frozen=True, slots=True)
class IngestReport:
    new: int = 0
    updated: int = 0
    flagged: int = 0
    alerted: int = 0
    rekeyed: int = 0
    item_ids: tuple[int, ...] = ()


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
        with store.write() as db:
            q.sync_feeds(db, config.feeds)
    rows = q.feed_rows(store)
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
        and (job := _parse_job(spec, rows.get(spec.name), results[spec.name], config))
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
        outcome, parsed = _evaluate(spec, row, result, now, config, rng, prepared)
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
        outcome = _failure(
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


def _evaluate(
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult | FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
    prepared: ParseOutput | None = None,
) -> tuple[q.FetchOutcome, ParsedFeed | None]:
    if isinstance(result, FetchError):
        return _failure(spec, row, result, now, config, rng), None
    base = _success(spec, row, result, now, config, rng)
    if result.body is None:
        return dataclasses.replace(base, status="not_modified"), None
    body_hash = hashlib.sha256(result.body).hexdigest()
    if row and row.get("body_hash") == body_hash:
        return dataclasses.replace(base, status="unchanged"), None
    output = prepared or run_job(_job_for(spec, result, config, match=False))
    if output.feed is None:
        error = output.error or ParseError(ErrorKind.PARSE, "no feed")
        failed = _failure(spec, row, FetchError(error.kind, error.message), now, config, rng)
        return dataclasses.replace(failed, http_status=result.status), None
    parsed = output.feed
    return dataclasses.replace(base, body_hash=body_hash, warning=parsed.warning), parsed


def _parse_job(
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult | FetchError,
    config: Config,
) -> ParseJob | None:
    """The worker job for a body that changed since the last poll, else None."""
    if isinstance(result, FetchError) or result.body is None:
        return None
    if row and row.get("body_hash") == hashlib.sha256(result.body).hexdigest():
        return None
    return _job_for(spec, result, config, match=not spec.full_text)


def _job_for(spec: FeedSpec, result: FetchResult, config: Config, *, match: bool) -> ParseJob:
    return ParseJob(
        body=result.body or b"",
        feed_lang=spec.lang,
        content_type=result.headers.get("content-type"),
        base_url=result.url,
        rules_path=config.signals.rules_path,
        threshold=config.signals.threshold,
        match=match,
    )


def _success(
    spec: FeedSpec,
    row: dict[str, object] | None,
    result: FetchResult,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> q.FetchOutcome:
    delay = next_poll_delay(
        spec.interval, 0, result.retry_after, result.max_age, config.fetch.max_interval, rng
    )
    return q.FetchOutcome(
        status="ok",
        started=iso(now),
        finished=iso(now),
        next_due=iso(now + timedelta(seconds=delay)),
        http_status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
        bytes=len(result.body) if result.body is not None else 0,
    )


def _failure(
    spec: FeedSpec,
    row: dict[str, object] | None,
    error: FetchError,
    now: datetime,
    config: Config,
    rng: random.Random,
) -> q.FetchOutcome:
    failures = int(str(row.get("consecutive_failures") or 0)) + 1 if row else 1
    retry_after = getattr(error, "retry_after", None)
    delay = next_poll_delay(
        spec.interval, failures, retry_after, None, config.fetch.max_interval, rng
    )
    return q.FetchOutcome(
        status="error",
        started=iso(now),
        finished=iso(now),
        next_due=iso(now + timedelta(seconds=delay)),
        http_status=getattr(error, "status", None),
        error_kind=str(error.kind),
        error=str(error),
    )


def _with_articles(
    store: Store, fetcher: Fetcher, spec: FeedSpec, parsed: ParsedFeed
) -> ParsedFeed:
    """Replace the body of new or edited items with the article page's text."""
    known = q.stored_hashes(store, spec.name, [i.key for i in parsed.items])
    wanted = [i for i in parsed.items if i.url and known.get(i.key) != i.content_hash]
    if not wanted:
        return parsed
    jobs = [(i.key, str(i.url), None) for i in wanted]
    results = fetch_many(fetcher, jobs, 4)
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


def ingest_items(
    store: Store,
    rules: RuleSet,
    feed: str,
    items: Sequence[ParsedItem],
    now: datetime,
    *,
    origin: str = "poll",
    alert: bool = True,
    alerts: AlertsConfig | None = None,
    first_poll: bool = False,
    outcome: q.FetchOutcome | None = None,
    matches: Mapping[tuple[str, str], Match] | None = None,
) -> IngestReport:
    """Store items, match the new and edited ones, and write flags and outbox rows.

    Everything happens in one transaction, so an item is never stored without its
    flag and its outbox rows: a crash before the commit leaves the item "new" for
    the next poll.
    """
    stamp = iso(now)
    cutoff = now - timedelta(hours=alerts.backlog_hours) if alerts and first_poll else None
    counts = {"new": 0, "updated": 0, "flagged": 0, "alerted": 0, "rekeyed": 0}
    ids: list[int] = []
    with store.write() as db:
        if origin == "import":
            db.execute("INSERT OR IGNORE INTO feeds (name, url, lang) VALUES (?, '', 'en')", [feed])
        for item in items:
            rekeyed = q.seen_under_other_key(db, feed, item.key, item.content_hash)
            stored = q.upsert_item(db, feed, item, stamp, origin)
            if stored.change == "same":
                continue
            counts[stored.change] += 1
            counts["rekeyed"] += int(rekeyed and stored.change == "new")
            ids.append(stored.id)
            silent = not alert or rekeyed or _is_backlog(item, cutoff)
            match = (matches or {}).get((item.key, item.content_hash)) or match_document(
                rules, item.title, item.body or item.summary, item.lang
            )
            _match_and_alert(match, db, feed, stored.id, item, stamp, now, silent, alerts, counts)
        if outcome is not None:
            q.record_outcome(
                db,
                feed,
                dataclasses.replace(
                    outcome, new_items=counts["new"], updated_items=counts["updated"]
                ),
            )
        if alerts is not None and counts["rekeyed"] >= CHURN_NOTICE_MIN:
            _churn_notice(db, alerts, feed, counts["rekeyed"], now)
    return IngestReport(
        counts["new"],
        counts["updated"],
        counts["flagged"],
        counts["alerted"],
        counts["rekeyed"],
        tuple(ids),
    )


def _is_backlog(item: ParsedItem, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return False
    if not item.published:
        return True
    try:
        return parse_iso(item.published) < cutoff
    except ValueError:
        return True


def _match_and_alert(
    match: Match,
    db: Database,
    feed: str,
    item_id: int,
    item: ParsedItem,
    stamp: str,
    now: datetime,
    silent: bool,
    alerts: AlertsConfig | None,
    counts: dict[str, int],
) -> None:
    newly = q.save_match(db, item_id, match, item.content_hash, stamp, silent=silent)
    counts["flagged"] += int(match.flagged)
    if not (newly and not silent and alerts is not None):
        return
    flag = q.one_row(db, "SELECT * FROM flags WHERE item_id = ?", [item_id])
    feed_row = q.one_row(db, "SELECT name, url, lang FROM feeds WHERE name = ?", [feed])
    payload = build_item_payload(q.item_row(db, item_id), feed_row, flag, None)
    ids = enqueue_item_alerts(
        db,
        alerts,
        item_id=item_id,
        payload=payload,
        score=match.score,
        content_hash=item.content_hash,
        now=now,
    )
    counts["alerted"] += len(ids)


def _churn_notice(db: Database, alerts: AlertsConfig, feed: str, count: int, now: datetime) -> None:
    detail = (
        f"feed {feed} re-published {count} known items under new keys; "
        "they were stored without alerts"
    )
    enqueue_notice(
        db,
        alerts,
        kind="churn",
        dedupe_key=f"{feed}:{now.date().isoformat()}",
        payload=build_churn_payload(feed, detail),
        now=now,
    )


def after_poll(store: Store, config: Config, now: datetime) -> None:
    """Feed-health notices once per poll round (thresholds from [alerts])."""
    with store.write() as db:
        check_feed_health(db, config.alerts, now)


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
