"""Alerts follow events: a second report of an alerted event is an update in the next digest.

Items go through the real ingest (matcher, store, event placement, outbox) and alerts
through the real dispatcher to a local webhook receiver that verifies signatures.
"""

from __future__ import annotations

import json
import random
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.digest import fold_due_digests
from monitor.alerts.dispatch import dispatch_due
from monitor.alerts.summary import summarize
from monitor.config.alerts import parse_alerts
from monitor.errors import Problems
from monitor.fetch.client import Fetcher
from monitor.pipeline.importer import item_from_json
from monitor.pipeline.ingest import ingest_items
from monitor.signals import load_rules
from monitor.store import Store
from tests.alerts_fixtures import NOW, alerts_config, outbox_rows, webhook_toml
from tests.conftest import REPO
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.usefixtures("alert_env")

# Paraphrased readouts of one call, as each capital might publish it.
KREMLIN = {
    "id": "k-1", "url": "http://en.kremlin.ru/events/president/news/90001",
    "title": "Telephone conversation with President of the United States Donald Trump",
    "text": "Vladimir Putin had a telephone conversation with President of the United States "
            "Donald Trump. The presidents agreed to continue their contacts.",
    "published": "2026-11-26", "lang": "en",
}  # fmt: skip
WHITE_HOUSE = {
    "id": "w-1", "url": "https://www.whitehouse.gov/briefings-statements/2026/11/call/",
    "title": "Readout of President Trump's call with President Putin of Russia",
    "text": "President Trump spoke by phone with President Vladimir Putin of Russia today. "
            "The two leaders discussed the next steps in their dialogue.",
    "published": "2026-11-26", "lang": "en",
}  # fmt: skip
OTHER_CONTACT = {
    "id": "k-2", "url": "http://en.kremlin.ru/events/president/news/90002",
    "title": "Meeting with US Special Envoy Steven Witkoff in Moscow",
    "text": "Vladimir Putin received US Special Envoy Steven Witkoff in the Kremlin. "
            "Witkoff arrived in Moscow for talks with the Russian side.",
    "published": "2026-11-20", "lang": "en",
}  # fmt: skip


def ingest(store: Store, config: Any, feed: str, *rows: dict[str, str], hours: float = 0) -> None:
    rules = load_rules(REPO / "config" / "rules.toml")
    items = [item_from_json(r) for r in rows]
    report = ingest_items(store, rules, feed, items, NOW + timedelta(hours=hours), alerts=config)
    assert report.flagged == len(rows), "the paraphrased readouts must be flagged"


def bodies(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_alerts_second_report_of_an_event_is_an_update_in_the_digest(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """The White House readout of a call the Kremlin reported first is no new alert: it is
    held, folded into the next digest, and carries the event id and the first alert's id."""
    config = alerts_config(webhook_toml(receiver.url))
    ingest(store, config, "kremlin-en", KREMLIN)
    ingest(store, config, "whitehouse", WHITE_HOUSE, hours=0.1)
    rows = outbox_rows(store)
    assert [(r["kind"], r["state"]) for r in rows] == [("item", "pending"), ("item", "held")]
    dispatch_due(store, config, fetcher, NOW + timedelta(hours=0.2), rng=random.Random(1))
    (first,) = bodies(receiver)
    assert first["kind"] == "item"
    assert first["event"]["update_of"] is None
    later = NOW + timedelta(hours=2)
    assert len(fold_due_digests(store, config, later)) == 1
    dispatch_due(store, config, fetcher, later, rng=random.Random(1))
    digest = bodies(receiver)[1]
    assert digest["kind"] == "digest"
    assert digest["reason"] == "update"
    (entry,) = digest["items"]
    assert entry["event"] == {"id": first["event"]["id"], "update_of": first["id"]}
    assert entry["item"]["title"] == WHITE_HOUSE["title"]
    assert len(receiver.requests) == 2
    assert all(r.verified for r in receiver.requests)


def test_alerts_same_release_in_two_feeds_alerts_once(store: Store) -> None:
    """One release seen in two feeds is one event: one alert, the other copy an update."""
    config = alerts_config(webhook_toml("https://hooks.example.org/x"))
    ingest(store, config, "kremlin-en", KREMLIN)
    ingest(store, config, "kremlin-mirror", {**KREMLIN, "id": "mirror-1"}, hours=0.5)
    rows = outbox_rows(store)
    assert [r["state"] for r in rows] == ["pending", "held"]
    payloads = [json.loads(r["payload"]) for r in rows]
    assert payloads[0]["event"]["id"] == payloads[1]["event"]["id"]
    assert payloads[1]["event"]["update_of"] == rows[0]["id"]


def test_alerts_different_events_alert_separately(store: Store) -> None:
    """A call and an envoy visit six days earlier are two events: two alerts, none held."""
    config = alerts_config(webhook_toml("https://hooks.example.org/x"))
    ingest(store, config, "kremlin-en", OTHER_CONTACT, KREMLIN)
    rows = outbox_rows(store)
    assert [r["state"] for r in rows] == ["pending", "pending"]
    events = {json.loads(r["payload"])["event"]["id"] for r in rows}
    assert len(events) == 2


def test_alerts_updates_send_goes_out_at_once_marked(
    store: Store, fetcher: Fetcher, receiver: WebhookReceiver
) -> None:
    """With updates = "send", the second report is delivered at once, as an update of the
    event's first alert, with an id of its own."""
    config = alerts_config(webhook_toml(receiver.url, extra='updates = "send"\n'))
    ingest(store, config, "kremlin-en", KREMLIN)
    ingest(store, config, "whitehouse", WHITE_HOUSE, hours=0.1)
    assert [r["state"] for r in outbox_rows(store)] == ["pending", "pending"]
    dispatch_due(store, config, fetcher, NOW + timedelta(hours=0.2), rng=random.Random(1))
    first, update = bodies(receiver)
    assert update["event"] == {"id": first["event"]["id"], "update_of": first["id"]}
    assert update["id"] != first["id"]
    assert update["kind"] == "item"


def test_alerts_update_summary_says_update() -> None:
    """Email and Slack text of an update name the event and the alert it updates."""
    document = {
        "kind": "item",
        "id": "b2",
        "attempt": 1,
        "score": 2.0,
        "item": {"title": "Readout"},
        "feed": {"name": "whitehouse"},
        "signals": [],
        "event": {"id": 7, "update_of": "a1"},
    }
    summary = summarize(document)
    assert summary.subject.startswith("[monitor] update of event #7: 2.0 whitehouse: Readout")
    assert summary.lines[0].text == "A further report of event #7, first alerted as a1."


def test_alerts_updates_setting_is_validated() -> None:
    """Only "digest" and "send" are accepted, with the key path and a fix."""
    problems = Problems("test.toml")
    text = webhook_toml("https://hooks.example.org/x", extra='updates = "never"\n')
    parse_alerts(tomllib.loads(text)["alerts"], problems, Path("."))
    (problem,) = [str(p) for p in problems.items]
    assert problem.startswith("test.toml: alerts.webhooks[0].updates: must be one of digest, send")
    assert 'fix: set updates = "digest"' in problem
