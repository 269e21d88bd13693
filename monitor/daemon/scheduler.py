"""The daemon: a thin APScheduler 3.x shell around the pipeline.

APScheduler 3.x defaults drop a run that is more than 1 s late and skip a run
that overlaps the previous one, silently but for a warning. We want the
opposite for a monitor: a late run happens once (misfire_grace_time=None,
coalesce=True), a feed is never polled twice at once (max_instances=1), and
every skipped or failed run is logged. Each worker thread has its own SQLite
connection; BEGIN IMMEDIATE and the busy timeout order the writers.

One job per feed runs when the feed is due: after each poll the job is moved to the
feed's next due time (interval, backoff, Retry-After). One job per alert channel
delivers that channel's queue, so a slow receiver delays only its own channel.
SIGHUP reloads the configuration and the rules (validated first; on error the
running ones stay). A database file deleted, replaced or overwritten under the
daemon stops it at once, without a checkpoint into a file it did not open.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from wsgiref.simple_server import WSGIServer

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerts.dispatch import dispatch_due, recover_sending
from monitor.app import App
from monitor.clock import parse_iso
from monitor.config.load import Config
from monitor.daemon.instancelock import instance_lock
from monitor.daemon.metrics import Metrics
from monitor.daemon.once import check_outlook, warm_up
from monitor.daemon.service import notify, reloading_message, watchdog_seconds
from monitor.errors import (
    DatabaseReplacedError,
    ForeignDatabaseError,
    MonitorError,
    StorageError,
)
from monitor.fetch.client import Fetcher
from monitor.pipeline.poll import after_poll, poll_feeds, sync_configured_feeds
from monitor.pipeline.workers import ParsePool
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store.feeds import FeedState
from monitor.store.items import index_pending
from monitor.store.retention import cutoffs_at, prune

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0
SIGNAL_CHECK_S = 0.5  # the main thread's longest wait before it handles a pending signal
EXIT_DATABASE_GONE = 3  # the database file is no longer the one the daemon opened
FIRST_POLL_SPREAD_S = 0.25  # feeds due at start begin this far apart (within one interval)
INDEX_DELAY_S = 2.0  # after a poll that stored items: polls due together share one batch
INDEX_INTERVAL_S = 600.0  # and at least this often, for whatever a crash left behind
PRUNE_INTERVAL_S = 3600.0
PRUNE_FIRST_S = 600.0  # the first prune waits until the start-up polls are done


@dataclass(frozen=True, slots=True)
class Settings:
    """What a reload replaces as a whole: polls read one snapshot from start to end."""

    config: Config
    rules: RuleSet
    fetcher: Fetcher


class Daemon:
    """The running daemon: its settings, one store per thread, the scheduler and its jobs."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = Settings(app.config(), app.rules(), app.fetcher())
        self.stop = threading.Event()
        self.wake = threading.Event()  # the main thread's doorbell: stop, reload or failure
        self.reload_requested = threading.Event()
        self.failure: MonitorError | None = None
        self.pool = ParsePool(min(os.cpu_count() or 1, 4), warm_up(self.settings.config))
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_lock = threading.Lock()
        self._retired_fetchers: list[Fetcher] = []
        self.metrics: Metrics | None = None
        self.warned: set[str] = set()  # missing alert secrets already logged
        self._metrics_server: WSGIServer | None = None
        config = self.settings.config
        threads = config.fetch.concurrency + len(config.alerts.channels()) + 2
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            # the watchdog ping has a thread of its own: busy polls must not starve it
            executors={"default": ThreadPoolExecutor(threads), "watchdog": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )

    def store(self) -> Store:
        """This thread's connection (opened on first use)."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self.app.open_store(self.settings.config.storage_path)
            self._local.store = store
            with self._stores_lock:
                self._stores.append(store)
        return store

    # ---- jobs ---------------------------------------------------------------------
    def poll(self, name: str) -> None:
        """Poll one feed if due, then its notices, the outlook and the next due time."""
        if self.stop.is_set():
            return
        settings = self.settings
        with self._fatal_storage(f"poll {name}"):
            store = self.store()
            store.check_file()
            started = time.monotonic()
            reports = poll_feeds(
                store,
                settings.config,
                settings.fetcher,
                settings.rules,
                self.app.now(),
                names=[name],
                only_due=True,
                pool=self.pool,
            )
            if self.metrics is not None:
                for report in reports:
                    seconds = time.monotonic() - started
                    self.metrics.observe_poll(name, report.status, report.error_kind, seconds)
            if not reports:  # not due yet: wait for its stored due time
                at, _reason = _next_poll(self._feed_states([name]).get(name), self.app.now())
                self._move_job(f"poll:{name}", at)
                return
            after_poll(store, settings.config, self.app.now(), [name])
            if any(r.flagged for r in reports):
                check_outlook(store, settings.config, self.app.now())
            self._move_job(f"poll:{name}", parse_iso(reports[0].next_due))
            if any(r.new or r.updated for r in reports):
                self._move_job("index", self.app.now() + timedelta(seconds=INDEX_DELAY_S))
            self.wake_dispatchers()

    def dispatch(self, channel: str) -> None:
        """Deliver the due rows of one alert channel."""
        if self.stop.is_set():
            return
        settings = self.settings
        with self._fatal_storage(f"dispatch {channel}"):
            store = self.store()
            store.check_file()
            dispatch_due(
                store,
                settings.config.alerts,
                settings.fetcher,
                self.app.now(),
                channels=[channel],
                stop=self.stop.is_set,
                warned=self.warned,
            )

    def index(self) -> None:
        """Bring the search index up to date, outside the polls' transactions."""
        if self.stop.is_set():
            return
        with self._fatal_storage("index"):
            index_pending(self.store())

    def prune(self) -> None:
        """Apply the retention policy, a small transaction at a time."""
        if self.stop.is_set():
            return
        config = self.settings.config
        with self._fatal_storage("prune"):
            cutoffs = cutoffs_at(self.app.now(), dataclasses.asdict(config.retention))
            done = prune(self.store(), cutoffs, stop=self.stop.is_set)
            if done.total:
                fields = " ".join(f"{k}={v}" for k, v in dataclasses.asdict(done).items())
                log.info("event=pruned %s", fields)

    @contextmanager
    def _fatal_storage(self, job: str) -> Iterator[None]:
        """A replaced or corrupt database stops the daemon; other storage errors (a full
        disk, a long lock) are logged in one line and the job runs again later."""
        try:
            yield
        except (DatabaseReplacedError, ForeignDatabaseError) as exc:
            self.fail(exc)
        except StorageError as exc:
            log.error(
                "event=storage_failed job=%r error=%r (retried at its next run)", job, str(exc)
            )

    def fail(self, exc: MonitorError) -> None:
        """Stop at once: nothing more may be written, not even a checkpoint at close."""
        if self.failure is None:
            self.failure = exc
            log.critical("event=database_gone error=%r", str(exc))
        self.stop.set()
        self.wake.set()

    def wake_dispatchers(self) -> None:
        """Run every channel's dispatch now (after a poll that may have queued alerts)."""
        if self.stop.is_set():  # the scheduler may be shutting down
            return
        for channel in self.settings.config.alerts.channels():
            self._move_job(f"dispatch:{channel}", self.app.now())

    def _move_job(self, job_id: str, when: datetime) -> None:
        with contextlib.suppress(JobLookupError):  # removed by a reload meanwhile
            self.scheduler.modify_job(job_id, next_run_time=when)

    # ---- scheduling -----------------------------------------------------------------
    def schedule(self) -> None:
        """A job per feed at its next due time (due feeds spread out), a job per channel."""
        now = self.app.now()
        states = self._feed_states()
        config = self.settings.config
        plans = [(spec, *_next_poll(states.get(spec.name), now)) for spec in config.feeds]
        due = sum(1 for _spec, at, _reason in plans if at <= now)
        queued = 0
        for spec, at, reason in plans:
            if at <= now:  # spread over the interval, no wider apart than FIRST_POLL_SPREAD_S
                step = min(FIRST_POLL_SPREAD_S, spec.interval / due)
                at, queued = now + timedelta(seconds=step * queued), queued + 1
            self._add_poll_job(spec.name, spec.interval, at)
            log.info("event=next_poll feed=%s at=%s reason=%r", spec.name, _iso(at), reason)
        for channel in config.alerts.channels():
            self._add_dispatch_job(channel, now)
        self._add_housekeeping_jobs(now)

    def _add_housekeeping_jobs(self, now: datetime) -> None:
        """The search index, the retention policy and systemd's watchdog ping."""
        self.scheduler.add_job(
            self.index,
            IntervalTrigger(seconds=INDEX_INTERVAL_S, timezone="UTC"),
            id="index",
            name="update the search index",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self.prune,
            IntervalTrigger(seconds=PRUNE_INTERVAL_S, timezone="UTC"),
            id="prune",
            name="apply the retention policy",
            next_run_time=now + timedelta(seconds=PRUNE_FIRST_S),
        )
        ping = watchdog_seconds()
        if ping is not None:
            self.scheduler.add_job(
                notify,
                IntervalTrigger(seconds=ping, timezone="UTC"),
                args=["WATCHDOG=1"],
                id="watchdog",
                name="systemd watchdog",
                executor="watchdog",
                next_run_time=now,
            )

    def _feed_states(self, names: Sequence[str] | None = None) -> dict[str, FeedState]:
        from monitor.store.feeds import feed_states

        return feed_states(self.store(), names)

    def _add_poll_job(self, name: str, interval: float, at: datetime) -> None:
        self.scheduler.add_job(
            self.poll,
            IntervalTrigger(seconds=interval, timezone="UTC"),
            args=[name],
            id=f"poll:{name}",
            name=f"poll {name}",
            next_run_time=at,
            replace_existing=True,
        )

    def _add_dispatch_job(self, channel: str, at: datetime) -> None:
        self.scheduler.add_job(
            self.dispatch,
            IntervalTrigger(seconds=self.settings.config.daemon.dispatch_interval, timezone="UTC"),
            args=[channel],
            id=f"dispatch:{channel}",
            name=f"dispatch {channel}",
            next_run_time=at,
            replace_existing=True,
        )

    def serve_metrics(self) -> None:
        """Serve Prometheus metrics when `[metrics] listen` is set (over its own connection)."""
        listen = self.settings.config.metrics
        if not listen.host:
            return
        self.metrics = Metrics(self.app.open_store(self.settings.config.storage_path))
        self._metrics_server = self.metrics.serve(listen.host, listen.port)
        log.info("event=metrics_serving address=%s:%d path=/metrics", listen.host, listen.port)

    # ---- reload -------------------------------------------------------------------
    def reload(self) -> None:
        """Load the configuration and rules again; keep the running ones if either is bad."""
        self.reload_requested.clear()
        notify(reloading_message())
        try:
            self._reload()
        finally:
            notify(f"READY=1\nSTATUS={self.status()}")

    def status(self) -> str:
        """The status line systemd shows."""
        config = self.settings.config
        return f"polling {len(config.feeds)} feed(s), {len(config.alerts.channels())} channel(s)"

    def _reload(self) -> None:
        old = self.settings
        try:
            fresh = self.app.reloaded()
            config, rules = fresh.config(), fresh.rules()
        except MonitorError as exc:
            log.error("event=reload_failed error=%r (the running configuration is kept)", str(exc))
            return
        if config.storage_path != old.config.storage_path:
            log.warning(
                "event=reload_ignored key=storage.path (a restart is needed to change databases)"
            )
            config = dataclasses.replace(config, storage_path=old.config.storage_path)
        if config.metrics != old.config.metrics:
            log.warning("event=reload_ignored key=metrics.listen (a restart is needed)")
            config = dataclasses.replace(config, metrics=old.config.metrics)
        fetcher = old.fetcher
        if config.fetch != old.config.fetch:
            fetcher = Fetcher(config.fetch)
            self._retired_fetchers.append(old.fetcher)  # in-flight polls may still use it
        self.settings = Settings(config, rules, fetcher)
        self.pool.warm = warm_up(config)  # for workers started from now on
        with self._fatal_storage("reload"):
            sync_configured_feeds(self.store(), config, self.app.now())
            self._reschedule(old.config, config)
        log.info(
            "event=reloaded feeds=%d channels=%d rules_version=%s",
            len(config.feeds),
            len(config.alerts.channels()),
            rules.version,
        )

    def _reschedule(self, old: Config, new: Config) -> None:
        wanted = {f"poll:{s.name}" for s in new.feeds} | {
            f"dispatch:{c}" for c in new.alerts.channels()
        }
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        before = {s.name: s.interval for s in old.feeds}
        now = self.app.now()
        states = self._feed_states()
        for spec in new.feeds:
            if before.get(spec.name) != spec.interval:
                at, _reason = _next_poll(states.get(spec.name), now)
                self._add_poll_job(spec.name, spec.interval, max(at, now))
        old_channels = set(old.alerts.channels())
        changed_interval = old.daemon.dispatch_interval != new.daemon.dispatch_interval
        for channel in new.alerts.channels():
            if changed_interval or channel not in old_channels:
                self._add_dispatch_job(channel, now)

    # ---- events and shutdown -------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            log.error("event=job_failed job=%s error=%r", event.job_id, str(event.exception))
        elif event.code == EVENT_JOB_MISSED:
            log.warning("event=job_missed job=%s", event.job_id)
        elif str(event.job_id).startswith("dispatch:"):
            # The run under way claims every due row, those queued meanwhile included.
            log.debug("event=dispatch_already_running job=%s", event.job_id)
        else:
            log.warning("event=job_still_running job=%s (this run skipped)", event.job_id)

    def close(self) -> None:
        """Stop the metrics server and the workers; close the stores and retired clients."""
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        self.pool.close()
        with self._stores_lock:
            for store in self._stores:
                store.close()
        for fetcher in self._retired_fetchers:
            fetcher.close()


def _next_poll(state: FeedState | None, now: datetime) -> tuple[datetime, str]:
    """When a feed is due by its stored state, and why (for the start-up log)."""
    if state is None or not state.last_attempt:
        return now, "first poll"
    due = state.next_due
    if not due or parse_iso(due) <= now:
        return now, "due"
    reason = state.schedule_reason or "interval"
    if state.last_error_kind:
        reason += f"; last error: {state.last_error_kind}"
    return parse_iso(due), reason


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_forever(app: App) -> None:
    """Run until SIGTERM or SIGINT; SIGHUP reloads. In-flight polls get a grace period."""
    daemon = Daemon(app)
    _install_signal_handlers(daemon)
    warn_if_unpatched_python(daemon.settings.config)
    store = daemon.store()
    with instance_lock(store.path):
        store.verify()
        sync_configured_feeds(store, daemon.settings.config, app.now())
        recover_sending(store, app.now())
        daemon.serve_metrics()
        daemon.schedule()
        daemon.scheduler.start()
        log.info(
            "event=started pid=%d feeds=%d db=%s",
            os.getpid(),
            len(daemon.settings.config.feeds),
            store.path,
        )
        notify(f"READY=1\nSTATUS={daemon.status()}\nMAINPID={os.getpid()}")
        _serve(daemon)
        if daemon.failure is not None:
            notify(f"STOPPING=1\nSTATUS=stopped: {daemon.failure.message}")
            logging.shutdown()
            os._exit(EXIT_DATABASE_GONE)  # no close: SQLite would checkpoint into the wrong file
        notify("STOPPING=1\nSTATUS=stopping")
        log.info("event=stopping")
        _wait_for_jobs(daemon)
        daemon.close()
        log.info("event=stopped")


def _serve(daemon: Daemon) -> None:
    """The main thread waits for signals: stop, or reload and go on waiting."""
    while not daemon.stop.is_set():
        # Python runs signal handlers in the main thread, when it next runs bytecode: a
        # signal the kernel hands to another thread does not interrupt this wait, so it
        # wakes up now and then to let a pending SIGHUP or SIGTERM be handled.
        daemon.wake.wait(timeout=SIGNAL_CHECK_S)
        daemon.wake.clear()
        if daemon.reload_requested.is_set() and not daemon.stop.is_set():
            daemon.reload()


def warn_if_unpatched_python(config: Config) -> None:
    """Our own header sanitising protects email alerts; say when the interpreter's fix is
    missing, if there is an email channel at all."""
    from monitor.alerts.render import has_header_fix

    if config.alerts.email is not None and not has_header_fix():
        log.warning(
            "event=python_lacks_email_header_fix cve=CVE-2024-6923 "
            "detail='alert headers are sanitised by the monitor itself'"
        )


def _install_signal_handlers(daemon: Daemon) -> None:
    def stop(signum: int, _frame: object) -> None:
        daemon.stop.set()
        daemon.wake.set()

    def reload(signum: int, _frame: object) -> None:
        daemon.reload_requested.set()
        daemon.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)


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
