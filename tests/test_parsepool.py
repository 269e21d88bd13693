"""Parsing and matching in worker processes: same results, and a dead worker is survived."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from monitor.models import ErrorKind
from monitor.pipeline.workers import ParseJob, ParsePool, ParseWorker, WarmUp, run_job
from tests.conftest import REPO
from tests.daemon_env import alive, wait_for
from tests.pipeline_env import KREMLIN_FEED

RULES = REPO / "config" / "rules.toml"
T = TypeVar("T")


def _job(body: bytes) -> ParseJob:
    return ParseJob(
        body=body,
        feed_lang="en",
        content_type="application/atom+xml",
        base_url="http://en.kremlin.ru/",
        rules_path=RULES,
        threshold=None,
    )


def test_parsepool_worker_gives_the_inline_result() -> None:
    """A worker process parses and matches exactly as the inline path does."""
    body = KREMLIN_FEED.read_bytes()
    inline = run_job(_job(body))
    with ParsePool(2) as pool:
        pooled = pool.result(pool.submit(_job(body)), timeout=60)
    assert pooled.feed == inline.feed
    assert pooled.matches == inline.matches
    assert inline.feed is not None
    assert len(inline.feed.items) == 20
    assert len(inline.matches) == 20


def test_parsepool_refused_document_is_a_classified_error() -> None:
    """A body declaring entities comes back as a `parse` error value, not an exception."""
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><rss><channel/></rss>'
    with ParsePool(1) as pool:
        output = pool.result(pool.submit(_job(body)), timeout=60)
    assert output.feed is None
    assert output.error is not None
    assert output.error.kind == ErrorKind.PARSE


def test_parsepool_killed_worker_becomes_a_parse_error_and_the_pool_recovers() -> None:
    """SIGKILL of a worker mid-job gives that feed a parse error; the next job still runs."""
    body = KREMLIN_FEED.read_bytes()
    with ParsePool(1) as pool:
        warm = pool.result(pool.submit(_job(body)), timeout=60)  # starts the worker
        assert warm.feed is not None
        future = pool.submit(_job(body))
        pids = pool.worker_pids()
        assert pids
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        output = pool.result(future, timeout=60)
        if output.feed is None:  # the kill landed before the job finished
            assert output.error is not None
            assert output.error.kind == ErrorKind.PARSE
            after = pool.result(pool.submit(_job(body)), timeout=60)
    assert after.feed is not None
    assert len(after.feed.items) == 20


def test_parsepool_concurrent_first_submits_start_one_pool() -> None:
    """Sixteen threads submitting at once to a new pool of two start two workers, not more."""
    body = KREMLIN_FEED.read_bytes()
    with ParsePool(2) as pool:
        start = threading.Barrier(16)

        def submit() -> object:
            start.wait()
            return pool.result(pool.submit(_job(body)), timeout=120)

        with ThreadPoolExecutor(16) as threads:
            outputs = list(threads.map(lambda _n: submit(), range(16)))
            # counted while the threads live: a worker ends with the thread that started it
            started = multiprocessing.active_children()  # every worker of every executor made
    assert all(getattr(o, "feed", None) is not None for o in outputs)
    assert 1 <= len(started) <= 2, started


def _loaded_rules() -> list[tuple[object, object]]:
    """In a worker: the rules it has loaded."""
    worker = ParseWorker.this_process
    assert worker is not None
    return [(str(path), threshold) for path, threshold in worker.rules.loaded()]


def _in_worker(pool: ParsePool, call: Callable[[], T]) -> T:
    """Run `call` in one of the pool's workers (its jobs are all feed bodies)."""
    return pool._pool().submit(call).result(timeout=60)


def test_parsepool_started_workers_warm_up_before_the_first_job() -> None:
    """`start()` starts every worker at once, and each loads the warm-up's rules before
    any job: the first job then finds them loaded, and gives the inline result."""
    body = KREMLIN_FEED.read_bytes()
    with ParsePool(2, WarmUp(RULES, 0.4, ("en", "ru"))).start() as pool:
        assert len(pool.worker_pids()) == 2  # before any job was submitted
        loaded = [_in_worker(pool, _loaded_rules) for _ in range(4)]
        pooled = pool.result(pool.submit(_job(body)), timeout=60)
    assert all(found[0] == (str(RULES), 0.4) for found in loaded), loaded
    assert pooled.feed == run_job(_job(body)).feed


def test_parsepool_warm_up_that_fails_leaves_the_jobs_to_report_it(tmp_path: Path) -> None:
    """Rules that do not load make the warm-up stop quietly: the pool works, and a job
    that matches meets the error itself."""
    body = KREMLIN_FEED.read_bytes()
    missing = tmp_path / "missing.toml"
    with ParsePool(1, WarmUp(missing, None, ("en",))).start() as pool:
        parsed = pool.result(pool.submit(dataclasses.replace(_job(body), match=False)), 60)
        assert _in_worker(pool, _loaded_rules) == []
    assert parsed.feed is not None
    assert len(parsed.feed.items) == 20


def test_parsepool_close_without_waiting_leaves_no_worker_behind() -> None:
    """`close(wait=False)` returns before the workers have exited, and they then end on
    their own: no process is left behind."""
    body = KREMLIN_FEED.read_bytes()
    pool = ParsePool(2).start()
    assert pool.result(pool.submit(_job(body)), timeout=60).feed is not None
    pids = pool.worker_pids()
    assert len(pids) == 2
    pool.close(wait=False)
    wait_for(lambda: not any(alive(pid) for pid in pids))
    assert not [pid for pid in pids if alive(pid)]
