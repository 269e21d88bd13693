"""Parse and match feed bodies in worker processes, beside the fetching and storing.

Two reasons. Speed: feedparser and the matcher are pure Python, so threads cannot
use a second core; on a cold cycle of many feeds, parsing and matching dominate.
Safety: each worker runs under an address-space limit, so a document that slips
past the entity guard and blows up in memory kills a worker, not the daemon;
the feed gets a classified `parse` error and the pool is rebuilt.
Workers are spawned, never forked: the daemon has threads, and forking a process
with threads can copy a held lock. Workers end with their parent however it ends
(`kill -9` included): the kernel signals them when it dies (PR_SET_PDEATHSIG, Linux)
and a watchdog thread in each worker notices when its parent is gone (everywhere).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from monitor.errors import ParseError
from monitor.models import ErrorKind, Match, ParsedFeed
from monitor.pipeline.matching import MatchKey, by_key, match_items
from monitor.signals import RuleSet, load_rules

log = logging.getLogger(__name__)

WORKER_MEMORY_LIMIT = 2 * 1024**3  # bytes of address space per worker


@dataclass(frozen=True, slots=True)
class ParseJob:
    """A body to parse in a worker, with what matching its items needs."""

    body: bytes
    feed_lang: str
    content_type: str | None
    base_url: str | None
    rules_path: Path
    threshold: float | None
    match: bool = True  # False when the article text will replace the feed's own
    rules_version: str | None = None  # match only with exactly these rules (None: the file's)


@dataclass(frozen=True, slots=True)
class ParseOutput:
    """A parsed body (or why it could not be parsed), and its items' matches by key."""

    feed: ParsedFeed | None
    error: ParseError | None = None
    matches: dict[MatchKey, Match] = field(default_factory=dict)


PARENT_CHECK_S = 0.5


@dataclass(frozen=True, slots=True)
class WarmUp:
    """What a new worker prepares before its first job: the rules it will match with,
    loaded, and the parsers and automata the feeds' languages need, built."""

    rules_path: Path
    threshold: float | None
    langs: tuple[str, ...]


# A document of our own that takes the parser's fast path and, per language, the
# folding and scanning that real items take (an entity makes the folding build its
# table of irregular characters).
_WARM_TEXT = MappingProxyType(
    {
        "en": (
            "Presidents talk",
            "The President of Russia &amp; the President of the United States",
        ),
        "ru": (
            "Разговор президентов",
            "Президент России и Президент Соединённых Штатов &amp; послы",
        ),
    }
)


def _warm_document(lang: str) -> bytes:
    title, text = _WARM_TEXT.get(lang, _WARM_TEXT["en"])
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>warm</title>'
        f"<item><title>{title}</title><guid>warm</guid><description>{text}</description>"
        "</item></channel></rss>"
    ).encode()


class RulesCache:
    """Rules loaded once and again when their file changed, by path and threshold."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[Path, float | None], RuleSet] = {}

    def rules(self, job: ParseJob) -> RuleSet | None:
        """The job's rules; None when the file no longer holds the version the job asks
        for (the caller then matches with its own)."""
        key = (job.rules_path, job.threshold)
        cached = self._loaded.get(key)
        if cached is None or (job.rules_version and cached.version != job.rules_version):
            cached = self._loaded[key] = load_rules(job.rules_path, job.threshold)
        if job.rules_version and cached.version != job.rules_version:
            return None
        return cached

    def loaded(self) -> list[tuple[Path, float | None]]:
        """The rules files (and thresholds) loaded so far."""
        return list(self._loaded)

    def warm(self, warm: WarmUp) -> None:
        """Load the rules and run one small job per language, so that the first real
        job finds everything built. A failure is left for the real jobs to meet and
        report: the warm-up only saves time."""
        for lang in warm.langs:
            job = ParseJob(_warm_document(lang), lang, None, None, warm.rules_path, warm.threshold)
            try:
                run_job(job, self)
            except Exception:  # the jobs meet it again and report it, with the feed named
                return


def run_job(job: ParseJob, rules: RuleSet | RulesCache | None = None) -> ParseOutput:
    """Parse one body and match its items (in a worker, or inline).

    `rules` are the rules to match with, or a cache to take them from (default: the
    job's rules file, read now).
    """
    # imported here: the process that hands out jobs need not load the parsers, and
    # a round in which every feed is unchanged parses nothing
    from monitor.parse.feed import parse_feed

    try:
        parsed = parse_feed(
            job.body, feed_lang=job.feed_lang, content_type=job.content_type, base_url=job.base_url
        )
    except ParseError as exc:
        return ParseOutput(None, ParseError(exc.kind, exc.message))
    if not job.match:
        return ParseOutput(parsed)
    active = rules if isinstance(rules, RuleSet) else (rules or RulesCache()).rules(job)
    if active is None:
        return ParseOutput(parsed)
    return ParseOutput(parsed, matches=by_key(parsed.items, match_items(active, parsed.items)))


class ParseWorker:
    """A worker process's state: the rules it loaded, kept from one job to the next.

    The pool's initializer creates it in each worker process; the pool hands jobs to
    `ParseWorker.run`, which finds it there.
    """

    this_process: ClassVar[ParseWorker | None] = None

    def __init__(self) -> None:
        self.rules = RulesCache()

    @classmethod
    def start(cls, parent: int, warm: WarmUp | None = None) -> None:
        """Initialise a worker process: bounded memory, an end that follows its parent's,
        and its state, warmed up when the pool says how."""
        _start_worker(parent)
        cls.this_process = cls()
        if warm is not None:
            cls.this_process.rules.warm(warm)

    @staticmethod
    def ready() -> bool:
        """A job that does nothing: submitting one starts a worker."""
        return True

    @classmethod
    def run(cls, job: ParseJob) -> ParseOutput:
        """Run one job with this process's rules."""
        worker = cls.this_process or cls()
        return run_job(job, worker.rules)


def _start_worker(parent: int) -> None:
    """Initialise a worker: bounded memory, and an end that follows its parent's."""
    _die_with_parent(parent)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = (
        WORKER_MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_LIMIT)
    )
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _die_with_parent(parent: int) -> None:
    """SIGKILL from the kernel when the parent dies (Linux), and a watchdog everywhere.

    The kernel's signal follows the parent *thread* that started the worker, and the
    daemon's threads live as long as it does; the watchdog also covers other systems
    and a parent that died before the signal was asked for.
    """
    libc_name = ctypes.util.find_library("c")
    if libc_name and hasattr(signal, "SIGKILL"):
        libc = ctypes.CDLL(libc_name, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


class ParsePool:
    """A small pool of parser processes that survives a worker's death.

    With a `warm` up, each worker loads the rules and builds what the feeds' languages
    need as it starts, and `start()` starts them all at once (the workers are otherwise
    started by the first jobs, which then wait for it)."""

    def __init__(self, workers: int, warm: WarmUp | None = None) -> None:
        self.workers = max(1, workers)
        self.warm = warm
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # polls of several feeds submit from several threads

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=ParseWorker.start,
                    initargs=(os.getpid(), self.warm),
                )
                log.debug("event=parse_workers_start workers=%d", self.workers)
            return self._executor

    def start(self) -> ParsePool:
        """Start every worker now, so that they warm up while the caller does other work
        (the first feeds' answers are awaited). Call it from a thread that lives as long
        as the pool: a worker ends with the thread that started it (see the module)."""
        executor = self._pool()
        for _ in range(self.workers):  # a job finding no idle worker starts one
            executor.submit(ParseWorker.ready)
        return self

    def submit(self, job: ParseJob) -> Future[ParseOutput]:
        """Hand a job to a worker (a broken pool is rebuilt first)."""
        try:
            return self._pool().submit(ParseWorker.run, job)
        except BrokenProcessPool:
            self._reset()
            return self._pool().submit(ParseWorker.run, job)

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
        with self._lock:
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

    def close(self, wait: bool = True) -> None:
        """Stop the workers once their jobs are done; with `wait=False`, without waiting
        for their processes to exit (with no job left, they end on their own)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        """The pool, closed when the block ends."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the pool."""
        self.close()
