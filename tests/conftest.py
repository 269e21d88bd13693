"""Shared test setup: where ../shared is, and a guard that keeps tests on loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("tests.servers", "tests.alerts_plugin")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"../shared is not present at {SHARED}; CI provides it"
)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost") or host == ""):
            raise AssertionError(f"test tried to reach {host}: only loopback is allowed")


@pytest.fixture(autouse=True)
def _block_non_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every socket in the test process may connect to loopback only."""

    def connect(self: socket.socket, address: object) -> None:
        _loopback_only(address)
        _real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        _loopback_only(address)
        return _real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield
