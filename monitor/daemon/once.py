"""One round of every feed, then exit (`monitor run --once`, for cron and timers).

Kept apart from the scheduler so that a round loads neither APScheduler nor the
metrics server: a cycle in which every feed answers 304 is mostly start-up.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

from monitor.alerts.dispatch import dispatch_due, recover_sending
from monitor.app import App
from monitor.config.load import Config
from monitor.daemon.instancelock import instance_lock
from monitor.fetch.client import Fetcher
from monitor.pipeline.poll import PollReport, after_poll, poll_feeds, send_requests
from monitor.pipeline.workers import ParsePool, WarmUp
from monitor.store import Store


def run_once(app: App) -> list[PollReport]:
    """Poll every feed now, store, alert, and return one report per feed.

    The requests go out first and the rules are checked while the answers come in
    (a round of unchanged feeds is mostly waiting for them); nothing is written before
    the rules have loaded, and a new database is created only once they have.
    """
    config = app.config()
    new = not config.storage_path.exists()  # then every feed answers in full
    with parse_pool(config, start=new) as pool:
        if new:
            app.rules()  # a new database is made only for rules that load
        store, fetcher = app.store(create=True), app.fetcher()
        with instance_lock(store.path), send_requests(store, config, fetcher) as sent:
            rules = app.rules()
            store.verify()
            recover_sending(store, app.now())
            reports = poll_feeds(
                store, config, fetcher, rules, app.now(), only_due=False, pool=pool, sent=sent
            )
            after_round(store, config, fetcher, app.now())
        if pool is not None:  # nothing is left for the workers: the command need not wait
            pool.close(wait=False)  # for them to exit (0.07 s); on an error the block waits
    return reports


def after_round(store: Store, config: Config, fetcher: Fetcher, now: datetime) -> None:
    """After a round of every feed: feed-health notices, the outlook, then alerts."""
    after_poll(store, config, now)
    check_outlook(store, config, now)
    dispatch_due(store, config.alerts, fetcher, now)


def parse_pool(config: Config, start: bool) -> ParsePool | contextlib.nullcontext[None]:
    """Worker processes for parsing when there is more than a handful of feeds, warmed
    up for the configured rules and languages. With `start`, when the round will surely
    have bodies to parse, they start now and warm up while the answers are awaited;
    otherwise the first body starts them (a round of unchanged feeds needs none)."""
    workers = min(os.cpu_count() or 1, 4)
    if len(config.feeds) <= 4 or workers < 2:
        return contextlib.nullcontext()
    pool = ParsePool(workers, warm_up(config))
    return pool.start() if start else pool


def warm_up(config: Config) -> WarmUp:
    """What the workers prepare for this configuration."""
    langs = tuple(sorted({spec.lang for spec in config.feeds}))
    return WarmUp(config.signals.rules_path, config.signals.threshold, langs)


def check_outlook(store: Store, config: Config, now: datetime) -> None:
    """Raise an alert when the summit outlook changes as `outlook_alert` says (only when
    there is a channel to tell: the outlook itself is computed whenever it is read)."""
    from monitor.alerts.outlook import alert_on_outlook_change

    if config.alerts.channels():
        alert_on_outlook_change(store, config, now)
