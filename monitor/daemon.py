"""The daemon: a thin APScheduler 3.x shell around the pipeline.

APScheduler 3.x defaults drop a run that is more than 1 s late and skip a run
that overlaps the previous one, silently but for a warning. We want the
opposite for a monitor: a late run happens once (misfire_grace_time=None,
coalesce=True), a feed is never polled twice at once (max_instances=1), and
every skipped or failed run is logged. Each worker thread has its own SQLite
connection; BEGIN IMMEDIATE and the busy timeout order the writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerts.dispatch import dispatch_due, recover_sending
from monitor.app import App
from monitor.clock import utcnow
from monitor.config import Config
from monitor.errors import AlreadyRunningError
from monitor.parsepool import ParsePool
from monitor.pipeline import PollReport, after_poll, poll_feeds, sync_configured_feeds
from monitor.store import Store, open_store

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0


@contextmanager
def instance_lock(db_path: Path) -> Iterator[None]:
    """One daemon per database: an exclusive lock on a file beside it."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunningError(
            f"another monitor (pid {holder}) is already running on {db_path}",
            "stop it first, or give this one another [storage] path",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def run_once(app: App) -> list[PollReport]:
    """Poll every feed now, store, alert, and return one report per feed."""
    config, rules = app.config(), app.rules()  # rules checked before the database is touched
    store, fetcher = app.store(create=True), app.fetcher()
    with instance_lock(store.path), parse_pool(len(config.feeds)) as pool:
        store.verify()
        recover_sending(store, app.now())
        reports = poll_feeds(store, config, fetcher, rules, app.now(), only_due=False, pool=pool)
        _after_round(store, config, app)
    return reports


def parse_pool(feeds: int) -> ParsePool | contextlib.nullcontext[None]:
    """Worker processes for parsing when there is more than a handful of feeds."""
    workers = min(os.cpu_count() or 1, 4)
    return ParsePool(workers) if feeds > 4 and workers > 1 else contextlib.nullcontext()


def _after_round(store: Store, config: Config, app: App) -> None:
    after_poll(store, config, app.now())
    check_outlook(store, config, app)
    dispatch_due(store, config.alerts, app.fetcher(), app.now())


def check_outlook(store: Store, config: Config, app: App) -> None:
    """Raise an alert when the summit outlook goes up a level."""
    from monitor.outlook_alert import alert_on_outlook_change

    alert_on_outlook_change(store, config, app.now())


class Daemon:
    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config()
        self.rules = app.rules()
        self.fetcher = app.fetcher()
        self.stop = threading.Event()
        self.pool = ParsePool(min(os.cpu_count() or 1, 4))
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(self.config.fetch.concurrency + 2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )

    def store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.config.storage_path)
            self._local.store = store
            with self._stores_lock:
                self._stores.append(store)
        return store

    def poll(self, name: str) -> None:
        if self.stop.is_set():
            return
        store = self.store()
        reports = poll_feeds(
            store,
            self.config,
            self.fetcher,
            self.rules,
            utcnow(),
            names=[name],
            only_due=True,
            pool=self.pool,
        )
        if reports:
            after_poll(store, self.config, utcnow())
            if any(r.flagged for r in reports):
                check_outlook(store, self.config, self.app)
            if not self.stop.is_set():  # the scheduler may be shutting down
                self.scheduler.modify_job("dispatch", next_run_time=utcnow())

    def dispatch(self) -> None:
        if not self.stop.is_set():
            dispatch_due(
                self.store(), self.config.alerts, self.fetcher, utcnow(), stop=self.stop.is_set
            )

    def schedule(self) -> None:
        now = utcnow()
        for spec in self.config.feeds:
            jitter = min(30.0, spec.interval * 0.1)
            self.scheduler.add_job(
                self.poll,
                IntervalTrigger(seconds=spec.interval, jitter=jitter, timezone="UTC"),
                args=[spec.name],
                id=f"poll:{spec.name}",
                name=f"poll {spec.name}",
                next_run_time=now + timedelta(seconds=random.uniform(0, 2)),
            )
        self.scheduler.add_job(
            self.dispatch,
            IntervalTrigger(seconds=self.config.daemon.dispatch_interval, timezone="UTC"),
            id="dispatch",
            name="dispatch alerts",
            next_run_time=now,
        )

    def _on_event(self, event: Any) -> None:
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error("event=job_failed job=%s error=%r", event.job_id, str(event.exception))
        elif event.code == EVENT_JOB_MISSED:
            log.warning("event=job_missed job=%s", event.job_id)
        else:
            log.warning("event=job_still_running job=%s (this run skipped)", event.job_id)

    def close(self) -> None:
        self.pool.close()
        with self._stores_lock:
            for store in self._stores:
                store.close()


def run_forever(app: App) -> None:
    """Run until SIGTERM or SIGINT; in-flight polls get a bounded grace period."""
    daemon = Daemon(app)
    _install_signal_handlers(daemon.stop)
    warn_if_unpatched_python()
    store = app.store(create=True)
    with instance_lock(store.path):
        store.verify()
        sync_configured_feeds(store, daemon.config, app.now())
        recover_sending(store, app.now())
        daemon.schedule()
        daemon.scheduler.start()
        log.info("event=started feeds=%d db=%s", len(daemon.config.feeds), store.path)
        daemon.stop.wait()
        log.info("event=stopping")
        _wait_for_jobs(daemon)
        daemon.close()
        log.info("event=stopped")


def warn_if_unpatched_python() -> None:
    """Our own header sanitising protects alerts; say when the interpreter's fix is missing."""
    from monitor.alerts.render import has_header_fix

    if not has_header_fix():
        log.warning(
            "event=python_lacks_email_header_fix cve=CVE-2024-6923 "
            "detail='alert headers are sanitised by the monitor itself'"
        )


def _install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _wait_for_jobs(daemon: Daemon) -> None:
    """Let running jobs end; past the grace period, leave (every write is transactional).

    The job threads are created by the scheduler's own (daemon) thread and inherit its
    daemon flag, so they are waited for through the scheduler, never by listing threads:
    a dispatch still waiting for a receiver's answer must record it before the store
    and the HTTP client are closed under it.
    """
    stopper = threading.Thread(
        target=daemon.scheduler.shutdown, kwargs={"wait": True}, name="shutdown", daemon=True
    )
    stopper.start()
    stopper.join(SHUTDOWN_GRACE_S)
    if stopper.is_alive():
        log.warning("event=shutdown_forced grace_s=%.0f", SHUTDOWN_GRACE_S)
        logging.shutdown()
        os._exit(0)
