"""Network policy at all three entry points: feed URLs, article links, webhook URLs.

The table lives in tests/ssrf_cases.py (shared with test_fetch_policy.py, which covers
the fetcher itself). Here each spelling goes through the real pipeline: `run --once`
as a subprocess for feed and webhook URLs, `poll_feeds` in-process for article links
and redirects (a loopback server plays the public origin through `allowed_endpoints`,
which only the in-process fetcher can be given). A raw TCP listener counts every
connection made to it: a refusal must happen before connecting, not after.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.app import App
from monitor.fetch.client import Fetcher
from monitor.fetch.netpolicy import IPAddress, system_resolver
from monitor.pipeline.poll import PollReport, poll_feeds
from tests.security_env import (
    FLAGGED_BODY,
    FLAGGED_TITLE,
    FeedEntry,
    jsonl,
    monitor,
    rows,
    rss,
    security_config,
)
from tests.servers import RawServer, TestServer, raw_close, redirect, reply
from tests.ssrf_cases import SPELLINGS, loopback_redirects, loopback_spellings

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SECRET_ENV = {"TEST_WEBHOOK_SECRET": "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"}
RSS_TYPE = "application/rss+xml; charset=utf-8"


@pytest.fixture
def listener(raw_server_factory: Callable[..., RawServer]) -> RawServer:
    """A loopback TCP listener that counts connections; it must see none."""
    return raw_server_factory(raw_close)


def _feeds(urls: list[str]) -> list[dict[str, object]]:
    return [{"name": f"f{i:02d}", "url": url} for i, url in enumerate(urls)]


def _poll(
    config: Path, public: TestServer, resolver: Callable[..., list[IPAddress]] | None = None
) -> dict[str, PollReport]:
    """The real pipeline, with only `public` standing in for a public origin."""
    app = App(str(config))
    try:
        settings = app.config().fetch
        allowed = [("127.0.0.1", public.port)] if not settings.allow_private_networks else []
        with Fetcher(settings, allowed_endpoints=allowed, resolver=resolver) as fetcher:
            reports = poll_feeds(
                app.store(create=True), app.config(), fetcher, app.rules(), NOW,
                only_due=False, rng=random.Random(3),
            )  # fmt: skip
        return {r.feed: r for r in reports}
    finally:
        app.close()


def test_security_ssrf_feed_urls_refused_at_load_or_blocked(
    tmp_path: Path, listener: RawServer
) -> None:
    """Every feed URL spelling is refused by `config check` or recorded `blocked` by a poll."""
    urls = SPELLINGS + loopback_spellings(listener.port)
    assert len(urls) >= 30
    config = security_config(tmp_path, _feeds(urls))
    check = monitor(config, "config", "check")
    refused = {int(n) for n in re.findall(rb"feeds\[(\d+)\]\.url", check.stderr)}
    assert check.returncode == (1 if refused else 0), check.stderr
    assert {i for i, u in enumerate(urls) if not u.startswith(("http:", "https:"))} <= refused
    kept = [f for i, f in enumerate(_feeds(urls)) if i not in refused]
    config = security_config(tmp_path, kept)
    run = monitor(config, "run", "--once")
    assert run.returncode == 0, run.stderr
    found = rows(tmp_path / "monitor.db", "SELECT name, last_error_kind, last_error FROM feeds")
    assert len(found) == len(kept)
    assert len(kept) + len(refused) == len(urls)
    assert [r for r in found if r["last_error_kind"] != "blocked"] == []
    assert rows(tmp_path / "monitor.db", "SELECT count(*) AS n FROM items")[0]["n"] == 0
    assert listener.accepted == 0


def test_security_ssrf_feed_urls_reach_listener_when_private_allowed(
    tmp_path: Path, listener: RawServer
) -> None:
    """Control: with allow_private_networks = true the same spellings do connect."""
    urls = loopback_spellings(listener.port)[:3]
    config = security_config(tmp_path, _feeds(urls), allow_private=True)
    assert monitor(config, "run", "--once").returncode == 0
    assert listener.accepted >= 3


def test_security_ssrf_feed_redirects_blocked(
    tmp_path: Path, http_server: TestServer, listener: RawServer
) -> None:
    """A public feed redirecting to loopback, link-local, metadata or file: is `blocked`."""
    targets = loopback_redirects(listener.port)
    urls = [http_server.route(f"/r{i}", redirect(t)) for i, t in enumerate(targets)]
    urls.append(http_server.route("/chain", redirect("/r0")))
    config = security_config(tmp_path, _feeds(urls))
    reports = _poll(config, http_server)
    assert {r.feed: r.error_kind for r in reports.values()} == {
        f"f{i:02d}": "blocked" for i in range(len(urls))
    }
    assert all("redirect" in str(r.error) for r in reports.values())
    assert listener.accepted == 0


def _resolver(names: dict[str, str]) -> Callable[[str, int, float | None], list[IPAddress]]:
    def resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
        if host in names:
            return [ipaddress.ip_address(names[host])]
        return system_resolver(host, port, timeout)

    return resolve


def _article_links(public: TestServer, listener: RawServer) -> list[str]:
    """Links a hostile feed may carry: the table, the listener, redirects, hostile names."""
    redirects = [
        public.route(f"/a{i}", redirect(target))
        for i, target in enumerate(loopback_redirects(listener.port))
    ]
    names = [
        f"http://news.example:{listener.port}/x",  # resolves to loopback, wrong port
        f"http://rebind.example:{public.port}/x",  # resolves to 127.0.0.2
    ]
    return [*SPELLINGS, *loopback_spellings(listener.port), *redirects, *names]


def test_security_ssrf_article_links_never_fetched(
    tmp_path: Path, http_server: TestServer, listener: RawServer
) -> None:
    """Items whose links are private spellings are stored with the feed's text, unfetched."""
    links = _article_links(http_server, listener)
    entries = [
        FeedEntry(f"urn:ssrf:{i}", f"Item {i}", f"Feed text number {i}.", link)
        for i, link in enumerate(links)
    ]
    http_server.route("/feed", reply(rss(entries), content_type=RSS_TYPE))
    feed = {"name": "hostile", "url": http_server.url("/feed"), "full_text": True}
    config = security_config(tmp_path, [feed])
    resolver = _resolver({"news.example": "127.0.0.1", "rebind.example": "127.0.0.2"})
    report = _poll(config, http_server, resolver)["hostile"]
    assert report.status == "ok"
    assert report.new == len(entries)
    stored = rows(tmp_path / "monitor.db", "SELECT title, body FROM items ORDER BY id")
    assert {(r["title"], r["body"]) for r in stored} == {(e.title, e.body) for e in entries}
    assert listener.accepted == 0
    assert len(links) >= 60


def test_security_ssrf_article_links_fetched_when_private_allowed(
    tmp_path: Path, http_server: TestServer, listener: RawServer
) -> None:
    """Control: with private networks allowed, the same article links are fetched."""
    links = loopback_spellings(listener.port)[:2]
    entries = [FeedEntry(f"urn:ok:{i}", f"Item {i}", "Feed text.", u) for i, u in enumerate(links)]
    http_server.route("/feed", reply(rss(entries), content_type=RSS_TYPE))
    feed = {"name": "hostile", "url": http_server.url("/feed"), "full_text": True}
    config = security_config(tmp_path, [feed], allow_private=True)
    _poll(config, http_server)
    assert listener.accepted >= 2


def _webhook_toml(targets: list[str], direct: list[str]) -> str:
    text = '\n[alerts]\nbacklog_hours = 48\ngive_up_after = "1h"\n'
    for i in range(len(targets)):
        text += (
            f'[[alerts.webhooks]]\nname = "e{i:02d}"\nurl_env = "HOOK_{i}"\n'
            'secret_env = "TEST_WEBHOOK_SECRET"\ntimeout = "2s"\n'
        )
    for i, url in enumerate(direct):
        text += (
            f'[[alerts.webhooks]]\nname = "d{i:02d}"\nurl = "{url}"\n'
            'secret_env = "TEST_WEBHOOK_SECRET"\ntimeout = "2s"\n'
        )
    return text


def _direct_webhooks(port: int) -> list[str]:
    """Spellings the config accepts as a webhook `url` (https anywhere, http on loopback)."""
    return [
        f"http://127.0.0.1:{port}/hook",
        f"http://localhost:{port}/hook",
        f"https://2130706433:{port}/hook",
        f"https://0x7f000001:{port}/hook",
        f"https://[::ffff:127.0.0.1]:{port}/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/hook",
    ]


def _import_flagged(tmp_path: Path, config: Path, env: dict[str, str]) -> None:
    item = {"id": "urn:ssrf:alert", "title": FLAGGED_TITLE, "text": FLAGGED_BODY,
            "published": "2026-11-26T11:00:00Z", "lang": "en"}  # fmt: skip
    source = tmp_path / "items.jsonl"
    source.write_text(jsonl([item]))
    done = monitor(config, "import", "--alert", "--feed", "news", str(source), env=env)
    assert done.returncode == 0, done.stderr
    assert b"flagged=1" in done.stdout, done.stderr


def test_security_ssrf_webhook_urls_blocked(tmp_path: Path, listener: RawServer) -> None:
    """An alert is never sent to a private webhook URL: rows dead with a policy error."""
    targets = SPELLINGS + loopback_spellings(listener.port)
    direct = _direct_webhooks(listener.port)
    env = {**SECRET_ENV, **{f"HOOK_{i}": url for i, url in enumerate(targets)}}
    feed = {"name": "news", "url": "http://127.0.0.1:9/feed"}
    config = security_config(tmp_path, [feed], _webhook_toml(targets, direct))
    _import_flagged(tmp_path, config, env)
    run = monitor(config, "run", "--once", env=env)
    assert run.returncode == 0, run.stderr
    found = rows(tmp_path / "monitor.db", "SELECT kind, state, last_error FROM outbox")
    assert len([r for r in found if r["kind"] == "item"]) == len(targets) + len(direct)
    assert [r for r in found if r["state"] != "dead"] == []
    assert all("refused by the network policy" in r["last_error"] for r in found)
    tested = monitor(config, "alerts", "test", "webhook:d00", env=env)
    assert tested.returncode == 1
    assert b"refused by the network policy" in tested.stdout
    assert listener.accepted == 0


def test_security_ssrf_webhook_delivered_when_private_allowed(
    tmp_path: Path, listener: RawServer
) -> None:
    """Control: with private networks allowed, the webhook does connect."""
    feed = {"name": "news", "url": "http://127.0.0.1:9/feed"}
    extra = _webhook_toml([], _direct_webhooks(listener.port)[:1])
    config = security_config(tmp_path, [feed], extra, allow_private=True)
    monitor(config, "alerts", "test", "webhook:d00", env=SECRET_ENV)
    assert listener.accepted == 1
