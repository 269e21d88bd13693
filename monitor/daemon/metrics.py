"""Prometheus metrics of the daemon, served on an opt-in address (`[metrics] listen`).

Two kinds: counters the daemon keeps as it works (polls by feed and status, errors by
class, poll durations; they start at zero with each process, as Prometheus expects), and
the state in the database read at each scrape (items and flags per feed, the alert queue
by channel and state, each feed's last success and failures in a row). The registry is
the daemon's own, never the library's global one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.clock import parse_iso
from monitor.store import Store

POLL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class StoreCollector(Collector):
    """Gauges read from the database at scrape time, over one connection of their own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()  # scrapes may overlap; the connection is not shared

    def collect(self) -> Iterator[Metric]:
        """The gauges of each feed and of the outbox, read now."""
        with self.lock:
            feeds = self.store.query(
                "SELECT f.name, f.last_success, f.consecutive_failures, "
                "(SELECT count(*) FROM items i WHERE i.feed = f.name) AS items, "
                "(SELECT count(*) FROM items i JOIN flags fl ON fl.item_id = i.id "
                " WHERE i.feed = f.name AND fl.flagged = 1) AS flagged "
                "FROM feeds f WHERE f.retired IS NULL ORDER BY f.name"
            )
            queue = self.store.query(
                "SELECT channel, state, count(*) AS n FROM outbox GROUP BY 1, 2 ORDER BY 1, 2"
            )
        yield from _feed_gauges(feeds)
        alerts = GaugeMetricFamily(
            "monitor_alerts",
            "Alerts in the outbox by channel and state.",
            labels=["channel", "state"],
        )
        for row in queue:
            alerts.add_metric([str(row["channel"]), str(row["state"])], float(str(row["n"])))
        yield alerts


def _feed_gauges(feeds: list[dict[str, object]]) -> Iterator[Metric]:
    items = GaugeMetricFamily("monitor_items_stored", "Items stored per feed.", labels=["feed"])
    flagged = GaugeMetricFamily("monitor_items_flagged", "Flagged items per feed.", labels=["feed"])
    success = GaugeMetricFamily(
        "monitor_feed_last_success_timestamp_seconds",
        "Unix time of the feed's last successful poll.",
        labels=["feed"],
    )
    failures = GaugeMetricFamily(
        "monitor_feed_consecutive_failures", "Failed polls in a row per feed.", labels=["feed"]
    )
    for row in feeds:
        name = [str(row["name"])]
        items.add_metric(name, float(str(row["items"])))
        flagged.add_metric(name, float(str(row["flagged"])))
        failures.add_metric(name, float(str(row["consecutive_failures"] or 0)))
        if row["last_success"]:
            success.add_metric(name, parse_iso(str(row["last_success"])).timestamp())
    yield from (items, flagged, success, failures)


class Metrics:
    """The daemon's registry: its counters, and the database's state at scrape time."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter(
            "monitor_polls",
            "Polls by feed and outcome.",
            ["feed", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "monitor_poll_errors",
            "Failed polls by feed and error class.",
            ["feed", "kind"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "monitor_poll_duration_seconds",
            "Time one poll of one feed took, end to end.",
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.info = Counter(
            "monitor_starts", "Daemon starts (1 per process).", ["version"], registry=self.registry
        )
        self.info.labels(__version__).inc()
        self.registry.register(StoreCollector(store))

    def observe_poll(self, feed: str, status: str, error_kind: str | None, seconds: float) -> None:
        """Count one poll of `feed` and its error class, and time it."""
        self.polls.labels(feed, status).inc()
        if error_kind:
            self.errors.labels(feed, error_kind).inc()
        self.duration.observe(seconds)

    def serve(self, host: str, port: int) -> WSGIServer:
        """Serve /metrics on host:port in a thread; returns the server (shut it down at exit)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
