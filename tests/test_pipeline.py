"""Polling end to end: real local servers, the real parser and matcher, a real database."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.clock import parse_iso
from monitor.pipeline.poll import poll_feeds
from monitor.store.browse import list_items
from tests.pipeline_env import ARTICLE_PAGE, app_for, kremlin_feed_for, write_config
from tests.servers import TestServer, reply, sequence

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"


def _poll(config: Path, now: datetime = NOW, only_due: bool = False) -> dict[str, object]:
    app = app_for(config)
    try:
        reports = poll_feeds(
            app.store(create=True),
            app.config(),
            app.fetcher(),
            app.rules(),
            now,
            only_due=only_due,
            rng=random.Random(7),
        )
        return {r.feed: r for r in reports}
    finally:
        app.close()


def _items(config: Path) -> list[dict[str, object]]:
    app = app_for(config)
    try:
        return list_items(app.store(), feed=None, since=None, limit=1000)
    finally:
        app.close()


def test_pipeline_kremlin_feed_stored_with_full_text(
    tmp_path: Path, http_server: TestServer
) -> None:
    """The real Kremlin feed gives 20 items, each body taken from its article page."""
    feed = kremlin_feed_for(http_server.base_url)
    http_server.route("/feed", reply(feed, etag='"v1"', content_type="application/atom+xml"))
    article_paths = set(
        re.findall(rb'href="' + http_server.base_url.encode() + rb'(/[^"]+)"', feed)
    )
    for path in article_paths:
        http_server.route(path.decode(), reply(ARTICLE_PAGE.read_bytes(), content_type=HTML))
    config = write_config(
        tmp_path,
        [
            {
                "name": "kremlin-en",
                "url": http_server.url("/feed"),
                "interval": "10m",
                "full_text": True,
            }
        ],
    )
    report = _poll(config)["kremlin-en"]
    assert (report.status, report.new) == ("ok", 20)  # type: ignore[attr-defined]
    assert sum(http_server.hits(p.decode()) for p in article_paths) == 20
    app = app_for(config)
    bodies = [str(r["body"]) for r in app.store().query("SELECT body FROM items")]
    app.close()
    assert len(bodies) == 20
    assert all("preparations for a possible meeting" in b for b in bodies)
    assert not any("shareButtons" in b or "Publication status" in b for b in bodies)


def test_pipeline_second_poll_is_conditional_and_stores_nothing_twice(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A second poll sends If-None-Match, gets 304, and adds no item."""
    http_server.route(
        "/feed",
        reply(
            kremlin_feed_for(http_server.base_url), etag='"v1"', content_type="application/atom+xml"
        ),
    )
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    assert _poll(config)["k"].new == 20  # type: ignore[attr-defined]
    second = _poll(config, NOW + timedelta(minutes=11))["k"]
    assert second.status == "not_modified"  # type: ignore[attr-defined]
    assert http_server.requests[-1].headers["if-none-match"] == '"v1"'
    assert len(_items(config)) == 20


def test_pipeline_identical_body_not_parsed_again(tmp_path: Path, http_server: TestServer) -> None:
    """A server ignoring validators but sending the same bytes gives 'unchanged'."""
    http_server.route(
        "/feed", reply(kremlin_feed_for(http_server.base_url), content_type="application/atom+xml")
    )
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    _poll(config)
    assert _poll(config, NOW + timedelta(minutes=11))["k"].status == "unchanged"  # type: ignore[attr-defined]
    assert len(_items(config)) == 20


def test_pipeline_edit_keeps_old_revision(tmp_path: Path, http_server: TestServer) -> None:
    """An edited release is stored as an update; its previous text is kept as a revision."""
    original = kremlin_feed_for(http_server.base_url)
    old_title = "<title>Amendments to\u00a0Tax Code and\u00a0legislative regulations".encode()
    edited = original.replace(old_title, b"<title>Amendments to the Tax Code, revised", 1)
    assert edited != original
    http_server.route("/feed", sequence(reply(original), reply(edited)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    _poll(config)
    report = _poll(config, NOW + timedelta(minutes=11))["k"]
    assert (report.new, report.updated) == (0, 1)  # type: ignore[attr-defined]
    app = app_for(config)
    revisions = app.store().query("SELECT title FROM item_revisions")
    app.close()
    assert [r["title"].replace("\u00a0", " ") for r in revisions] == [
        "Amendments to Tax Code and legislative regulations"
    ]


def test_pipeline_failing_feed_never_stops_a_healthy_one(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A 500, an HTML page and a refused port are recorded per feed; the healthy feed stores."""
    http_server.route("/good", reply(kremlin_feed_for(http_server.base_url)))
    http_server.route("/broken", reply(b"oops", status=500))
    http_server.route(
        "/portal", reply(b"<html><body><form>login</form></body></html>", content_type=HTML)
    )
    config = write_config(
        tmp_path,
        [
            {"name": "good", "url": http_server.url("/good")},
            {"name": "broken", "url": http_server.url("/broken")},
            {"name": "portal", "url": http_server.url("/portal")},
            {"name": "refused", "url": "http://127.0.0.1:9/feed"},
        ],
    )
    reports = _poll(config)
    assert reports["good"].new == 20  # type: ignore[attr-defined]
    kinds = {name: reports[name].error_kind for name in ("broken", "portal", "refused")}  # type: ignore[attr-defined]
    assert kinds == {"broken": "http_status", "portal": "not_a_feed", "refused": "connect"}
    app = app_for(config)
    rows = {r["name"]: r for r in app.store().query("SELECT * FROM feeds")}
    app.close()
    assert rows["broken"]["consecutive_failures"] == 1
    assert rows["broken"]["last_http_status"] == 500


def test_pipeline_html_page_never_removes_items(tmp_path: Path, http_server: TestServer) -> None:
    """A feed that turns into an HTML page keeps every stored item."""
    feed = reply(kremlin_feed_for(http_server.base_url))
    page = reply(b"<!doctype html><html><title>Maintenance</title></html>", content_type=HTML)
    http_server.route("/feed", sequence(feed, page))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    _poll(config)
    assert _poll(config, NOW + timedelta(minutes=11))["k"].error_kind == "not_a_feed"  # type: ignore[attr-defined]
    assert len(_items(config)) == 20


def test_pipeline_retry_after_delays_next_poll(tmp_path: Path, http_server: TestServer) -> None:
    """429 with Retry-After: 7200 puts the next poll at least two hours away."""
    http_server.route("/feed", reply(b"slow down", status=429, headers={"Retry-After": "7200"}))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    report = _poll(config)["k"]
    assert parse_iso(report.next_due) >= NOW + timedelta(seconds=7200)  # type: ignore[attr-defined]
    assert _poll(config, NOW + timedelta(minutes=30), only_due=True) == {}


def test_pipeline_rekeyed_items_are_stored_silently(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Known content under new keys is stored but not flagged as new alerts."""
    original = kremlin_feed_for(http_server.base_url)
    rekeyed = original.replace(b"<id>", b"<id>urn:churn:")
    http_server.route("/feed", sequence(reply(original), reply(rekeyed)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/feed")}])
    _poll(config)
    _poll(config, NOW + timedelta(minutes=11))
    app = app_for(config)
    silent = app.store().query(
        "SELECT count(*) AS n FROM flags f JOIN items i ON i.id = f.item_id "
        "WHERE i.key LIKE 'urn:churn:%' AND f.silent = 0"
    )
    total = app.store().query("SELECT count(*) AS n FROM items")
    app.close()
    assert total == [{"n": 40}]
    assert silent == [{"n": 0}]


def test_pipeline_feeds_ready_together_share_a_commit(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Feeds whose results are ready at once are stored in a few transactions, not one
    each (every commit is an fsync), and every one of them is stored whole."""
    feeds = 30
    for n in range(feeds):
        body = kremlin_feed_for(f"{http_server.base_url}/{n}")
        http_server.route(f"/feed{n}", reply(body, etag=f'"v{n}"'))
    config = write_config(
        tmp_path, [{"name": f"f{n}", "url": http_server.url(f"/feed{n}")} for n in range(feeds)]
    )
    app = app_for(config)
    try:
        store = app.store(create=True)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        reports = poll_feeds(
            store, app.config(), app.fetcher(), app.rules(), NOW, only_due=False, pool=None
        )
        store.conn.set_trace_callback(None)
        assert [r.new for r in reports] == [20] * feeds
        assert 2 <= statements.count("COMMIT") <= 4  # the feeds' sync, then 25 + 5 feeds
        rows = store.query("SELECT count(*) AS n, count(etag) AS tagged FROM feeds")
        assert rows == [{"n": feeds, "tagged": feeds}]
        assert store.query("SELECT count(*) AS n FROM items") == [{"n": 20 * feeds}]
    finally:
        app.close()
