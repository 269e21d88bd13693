"""`monitor health`: ok (0), degraded (1) or down (2), against a real daemon and as a rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.clock import iso
from monitor.daemon.health import assess
from monitor.models import FeedSpec
from monitor.models import HealthSnapshot as Snapshot
from tests.daemon_env import RunningDaemon, signal_feed
from tests.pipeline_env import run_cli, write_config
from tests.servers import TestServer, reply

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FEED = FeedSpec(name="k", url="https://example.org/feed", interval=600.0, lang="en")


def _row(**fields: object) -> dict[str, object]:
    base = {"last_attempt": iso(NOW), "last_success": iso(NOW), "next_due": iso(NOW)}
    return {**base, **fields}


def _health(config: Path) -> tuple[int, dict[str, object]]:
    result = run_cli("--config", str(config), "-q", "health", "--json")
    return result.returncode, json.loads(result.stdout)


def test_health_three_states_against_a_real_daemon(tmp_path: Path, http_server: TestServer) -> None:
    """No daemon: down (2). Daemon with healthy feeds: ok (0). One feed failing: degraded (1)."""
    http_server.route("/ok", reply(signal_feed(http_server.base_url)))
    good = {"name": "good", "url": http_server.url("/ok")}
    config = write_config(tmp_path, [good])
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    code, report = _health(config)
    assert code == 2
    assert report["status"] == "down"
    assert "no monitor is running" in str(report["problems"])
    daemon = RunningDaemon(config)
    try:
        assert daemon.wait_logged("event=started")  # "good" is not due again for 10 minutes
        code, report = _health(config)
        assert (code, report["status"], report["problems"]) == (0, "ok", [])
        assert report["pid"] == daemon.pid
    finally:
        daemon.stop()
    config = write_config(tmp_path, [good, {"name": "gone", "url": http_server.url("/404")}])
    daemon = RunningDaemon(config)
    try:
        assert daemon.wait_logged("event=poll_failed", "feed=gone")
        code, report = _health(config)
        text = run_cli("--config", str(config), "-q", "health")
    finally:
        daemon.stop()
    assert code == 1
    assert report["status"] == "degraded"
    assert any("feed gone: no successful poll ever [http_status]" in p for p in report["problems"])
    assert text.returncode == 1
    assert text.stdout.startswith("degraded")


def test_health_dead_and_waiting_alerts_degrade() -> None:
    """Dead alerts and alerts waiting over an hour are problems, one line per channel."""
    snapshot = Snapshot(
        running_pid=1,
        feeds={"k": _row()},
        dead_alerts={"email": 2},
        waiting_alerts={"webhook:ops": 5},
    )
    health = assess(snapshot, [FEED], NOW)
    assert health.status == "degraded"
    assert health.exit_code == 1
    assert len(health.problems) == 2
    assert "2 alert(s) dead on email" in health.problems[0]
    assert health.problems[1] == "5 alert(s) waiting over 1h on webhook:ops"


def test_health_no_poll_for_intervals_is_down_even_with_a_daemon() -> None:
    """A running daemon whose every feed is overdue (a stuck scheduler) is down."""
    stale = _row(next_due=iso(NOW - timedelta(hours=2)), last_success=iso(NOW - timedelta(hours=3)))
    snapshot = Snapshot(running_pid=1, feeds={"k": stale}, dead_alerts={}, waiting_alerts={})
    health = assess(snapshot, [FEED], NOW)
    assert health.status == "down"
    assert health.exit_code == 2
    assert "no feed was polled on time" in health.problems[0]


def test_health_recent_success_within_three_intervals_is_ok() -> None:
    """A feed whose last success is within three intervals is healthy."""
    row = _row(
        last_success=iso(NOW - timedelta(minutes=25)), next_due=iso(NOW + timedelta(minutes=5))
    )
    snapshot = Snapshot(running_pid=1, feeds={"k": row}, dead_alerts={}, waiting_alerts={})
    assert assess(snapshot, [FEED], NOW).status == "ok"
