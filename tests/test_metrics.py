"""Prometheus metrics: a real scrape of a running daemon, parsed by the Prometheus parser."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.daemon_env import RunningDaemon, signal_feed
from tests.pipeline_env import run_cli, write_config
from tests.servers import TestServer, reply
from tests.smtp_server import free_port


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_scrape_of_a_running_daemon(tmp_path: Path, http_server: TestServer) -> None:
    """Polls, errors by class, items, flags, last success and poll durations are scraped."""
    http_server.route("/ok", reply(signal_feed(http_server.base_url)))
    port = free_port()
    config = write_config(
        tmp_path,
        [
            {"name": "good", "url": http_server.url("/ok")},
            {"name": "gone", "url": http_server.url("/404")},
        ],
        extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n',
    )
    daemon = RunningDaemon(config)
    try:
        assert daemon.wait_logged("event=polled", "feed=good")
        assert daemon.wait_logged("event=poll_failed", "feed=gone")
        samples = _scrape(port)
    finally:
        daemon.stop()
    assert samples[("monitor_polls_total", (("feed", "good"), ("status", "ok")))] == 1
    assert samples[("monitor_poll_errors_total", (("feed", "gone"), ("kind", "http_status")))] == 1
    assert samples[("monitor_items_stored", (("feed", "good"),))] == 3
    assert samples[("monitor_items_flagged", (("feed", "good"),))] == 3
    assert samples[("monitor_feed_consecutive_failures", (("feed", "gone"),))] == 1
    assert samples[("monitor_feed_last_success_timestamp_seconds", (("feed", "good"),))] > 0
    assert samples[("monitor_poll_duration_seconds_count", ())] == 2


def test_metrics_listen_must_be_an_address_and_port(tmp_path: Path) -> None:
    """A malformed `[metrics] listen` is a configuration error that names the key."""
    config = write_config(tmp_path, [], extra='[metrics]\nlisten = "localhost"\n')
    result = run_cli("--config", str(config), "config", "check")
    assert result.returncode == 1
    assert "metrics.listen" in result.stderr
    assert "127.0.0.1:9464" in result.stderr
