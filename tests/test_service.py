"""Running under systemd: the unit verifies, and the daemon speaks the notify protocol."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon.service import UNIT_NAME, notify, watchdog_seconds
from tests.daemon_env import RunningDaemon, signal_feed
from tests.pipeline_env import run_cli, write_config
from tests.servers import TestServer, reply

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def _messages(sock: socket.socket, until: str, timeout: float = 30.0) -> list[str]:
    """Datagrams received until one contains `until` (or the timeout)."""
    found: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if until in found[-1]:
            break
    return found


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_service_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    """`monitor service print-unit` gives a unit `systemd-analyze verify` accepts silently."""
    printed = run_cli("service", "print-unit")
    assert printed.returncode == 0, printed.stderr
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "StateDirectory=diplomatic-signal-monitor",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert line in printed.stdout
    unit = tmp_path / UNIT_NAME
    unit.write_text(printed.stdout)
    assert SYSTEMD_ANALYZE is not None
    verified = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr


def test_service_notify_sends_a_datagram_and_knows_abstract_addresses(
    notify_socket: socket.socket,
) -> None:
    """notify() writes one datagram to $NOTIFY_SOCKET; without it, it does nothing."""
    path = notify_socket.getsockname()
    assert notify("READY=1", {"NOTIFY_SOCKET": path})
    assert notify_socket.recv(100) == b"READY=1"
    assert not notify("READY=1", {})
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as abstract:
        name = f"monitor-test-{os.getpid()}"
        abstract.bind("\0" + name)
        assert notify("STATUS=x", {"NOTIFY_SOCKET": "@" + name})
        assert abstract.recv(100) == b"STATUS=x"


def test_service_watchdog_interval_is_half_of_watchdog_usec() -> None:
    """WATCHDOG_USEC=10 s gives a ping every 5 s; another process's WATCHDOG_PID gives none."""
    assert watchdog_seconds({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_seconds({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({}) is None


def test_service_daemon_notifies_ready_watchdog_reloading_and_stopping(
    tmp_path: Path, http_server: TestServer, notify_socket: socket.socket
) -> None:
    """The daemon says READY once it polls, pings the watchdog, reports a reload, and
    says STOPPING on SIGTERM."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/f")}])
    env = {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "1000000"}
    daemon = RunningDaemon(config, env=env)
    try:
        started = _messages(notify_socket, "READY=1")
        assert any("READY=1" in m and "STATUS=polling 1 feed(s)" in m for m in started), started
        assert "WATCHDOG=1" in _messages(notify_socket, "WATCHDOG=1", timeout=5)
        daemon.proc.send_signal(signal.SIGHUP)
        reload = _messages(notify_socket, "READY=1")
        assert any(m.startswith("RELOADING=1\nMONOTONIC_USEC=") for m in reload), reload
        daemon.proc.send_signal(signal.SIGTERM)
        assert any("STOPPING=1" in m for m in _messages(notify_socket, "STOPPING=1"))
    finally:
        log = daemon.stop()
    assert daemon.returncode == 0, log
