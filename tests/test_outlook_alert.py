"""The outlook-change notice: a rise always, a fall only when a refusal caused it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.outlook import alert_on_outlook_change
from monitor.config.load import Config, load_config
from monitor.store import Store, open_store
from tests.conftest import REPO
from tests.review_fixtures import Row, Sig, add_item

NOW = datetime(2025, 8, 9, 12, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "monitor.toml"
    rules = (REPO / "config" / "rules.toml").as_posix()
    path.write_text(
        f'[signals]\nrules = "{rules}"\n[outlook]\nhigh_hold = "10d"\n'
        '[[alerts.webhooks]]\nname = "desk"\nurl = "https://hooks.example.org/desk"\n'
        'format = "slack"\n',
        encoding="utf-8",
    )
    return load_config(path)


def notices(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT payload FROM outbox WHERE kind = 'outlook' ORDER BY created, id")
    return [json.loads(str(r["payload"])) for r in rows]


def announce(store: Store, seen: str) -> None:
    add_item(
        store,
        Row(
            "Putin and Trump will meet in Alaska on 15 August",
            "The leaders will meet in Anchorage.",
            first_seen=seen,
            feed="news",
            signals=[Sig("summit_planning", ("will meet in Alaska",))],
        ),
    )


def test_outlook_alert_on_rise_names_events_and_since(tmp_path: Path, config: Config) -> None:
    """A dated meeting raises quiet to high: one notice with since, reasons and the event."""
    with open_store(tmp_path / "m.db") as store:
        announce(store, "2025-08-09T08:00:00Z")
        assert alert_on_outlook_change(store, config, NOW) == "high"
        assert alert_on_outlook_change(store, config, NOW + timedelta(hours=1)) is None
        (notice,) = notices(store)
    assert (notice["level"], notice["previous"], notice["since"]) == ("high", "quiet", "2025-08-09")
    assert notice["reasons"][0].startswith("high since 2025-08-09: leaders' meeting announced")
    assert notice["events"][0]["items"] == [1]
    assert notice["events"][0]["grade"] == "placed"


def test_outlook_alert_not_on_decay(tmp_path: Path, config: Config) -> None:
    """When the meeting's day has passed and the level steps down, nobody is alerted."""
    with open_store(tmp_path / "m.db") as store:
        announce(store, "2025-08-09T08:00:00Z")
        alert_on_outlook_change(store, config, NOW)
        assert alert_on_outlook_change(store, config, NOW + timedelta(days=8)) is None
        assert len(notices(store)) == 1


def test_outlook_alert_on_fall_caused_by_a_cancellation(tmp_path: Path, config: Config) -> None:
    """A cancellation reported today lowers the level and is announced the same day."""
    with open_store(tmp_path / "m.db") as store:
        announce(store, "2025-08-09T08:00:00Z")
        alert_on_outlook_change(store, config, NOW)
        add_item(
            store,
            Row(
                "Trump cancels the summit with Putin in Alaska",
                "The meeting of the two presidents has been cancelled.",
                first_seen="2025-08-11T08:00:00Z",
                feed="news",
                signals=[Sig("refusal", ("cancelled",))],
            ),
        )
        assert alert_on_outlook_change(store, config, NOW + timedelta(days=2)) == "watch"
        fall = notices(store)[-1]
    assert (fall["level"], fall["previous"]) == ("watch", "high")
    assert any("no longer count" in r for r in fall["reasons"])
