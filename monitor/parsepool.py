"""Parse and match feed bodies in worker processes, beside the fetching and storing.

Two reasons. Speed: feedparser and the matcher are pure Python, so threads cannot
use a second core; on a cold cycle of many feeds, parsing and matching dominate.
Safety: each worker runs under an address-space limit, so a document that slips
past the entity guard and blows up in memory kills a worker, not the daemon;
the feed gets a classified `parse` error and the pool is rebuilt.
Workers are spawned, never forked: the daemon has threads, and forking a process
with threads can copy a held lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import ParseError
from monitor.models import ErrorKind, Match, ParsedFeed
from monitor.parse import parse_feed
from monitor.signals import RuleSet, load_rules, match_document

log = logging.getLogger(__name__)

WORKER_MEMORY_LIMIT = 2 * 1024**3  # bytes of address space per worker


@dataclass(frozen=True, slots=True)
class ParseJob:
    body: bytes
    feed_lang: str
    content_type: str | None
    base_url: str | None
    rules_path: Path
    threshold: float | None
    match: bool = True  # False when the article text will replace the feed's own


@dataclass(frozen=True, slots=True)
class ParseOutput:
    feed: ParsedFeed | None
    error: ParseError | None = None
    matches: dict[tuple[str, str], Match] = field(default_factory=dict)  # (key, hash)


_rules_cache: dict[tuple[Path, float | None], RuleSet] = {}


def _rules(job: ParseJob) -> RuleSet:
    key = (job.rules_path, job.threshold)
    if key not in _rules_cache:
        _rules_cache[key] = load_rules(job.rules_path, job.threshold)
    return _rules_cache[key]


def run_job(job: ParseJob, rules: RuleSet | None = None) -> ParseOutput:
    """Parse one body and match its items (in a worker, or inline)."""
    try:
        parsed = parse_feed(
            job.body, feed_lang=job.feed_lang, content_type=job.content_type, base_url=job.base_url
        )
    except ParseError as exc:
        return ParseOutput(None, ParseError(exc.kind, exc.message))
    if not job.match:
        return ParseOutput(parsed)
    active = rules or _rules(job)
    matches = {
        (item.key, item.content_hash): match_document(
            active, item.title, item.body or item.summary, item.lang
        )
        for item in parsed.items
    }
    return ParseOutput(parsed, matches=matches)


def _limit_memory() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = (
        WORKER_MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_LIMIT)
    )
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class ParsePool:
    """A small pool of parser processes that survives a worker's death."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
            )
        return self._executor

    def submit(self, job: ParseJob) -> Future[ParseOutput]:
        try:
            return self._pool().submit(run_job, job)
        except BrokenProcessPool:
            self._reset()
            return self._pool().submit(run_job, job)

    def result(self, future: Future[ParseOutput], timeout: float) -> ParseOutput:
        """The job's output; a dead or stuck worker becomes a classified parse error."""
        try:
            return future.result(timeout=timeout)
        except BrokenProcessPool:
            self._reset()
            return ParseOutput(
                None,
                ParseError(
                    ErrorKind.PARSE, "the parser ran out of memory or crashed on this document"
                ),
            )
        except TimeoutError:
            self._reset()
            return ParseOutput(
                None, ParseError(ErrorKind.PARSE, f"parsing took longer than {timeout:.0f}s")
            )

    def _reset(self) -> None:
        if self._executor is not None:
            log.warning("event=parser_pool_reset")
            processes = list((getattr(self._executor, "_processes", None) or {}).values())
            self._executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.kill()
            self._executor = None

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for operators and tests)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
