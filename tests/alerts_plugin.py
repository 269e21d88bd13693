"""Fixtures shared by the alert tests (loaded as a pytest plugin from conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.fetch.client import Fetcher
from monitor.store import Store
from tests.alerts_fixtures import SECRET, SMTP_PASSWORD, loopback_fetcher, make_store
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def alert_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets the alert test configurations name, in the environment."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TEST_SMTP_USER", "monitor")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with make_store(tmp_path) as opened:
        yield opened


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with loopback_fetcher() as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as server:
        yield server
