"""Feeds as the configuration changes: removed, renamed, never polled, overdue."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.daemon_env import rss, signal_feed
from tests.pipeline_env import db_count, run_cli, write_config
from tests.servers import TestServer, reply


def _feeds(config: Path, *args: str) -> list[dict[str, object]]:
    result = run_cli("--config", str(config), "-q", "feeds", "--json", *args)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_feeds_removed_feed_is_hidden_and_listed_with_all(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A feed dropped from the configuration leaves `feeds`, and `--all` shows it as removed."""
    http_server.route("/a", reply(signal_feed(http_server.base_url, "a")))
    http_server.route("/b", reply(signal_feed(http_server.base_url, "b")))
    both = [{"name": n, "url": http_server.url(f"/{n}")} for n in ("a", "b")]
    config = write_config(tmp_path, both)
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    config = write_config(tmp_path, both[:1])
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    assert [f["name"] for f in _feeds(config)] == ["a"]
    listed = {f["name"]: f["state"] for f in _feeds(config, "--all")}
    assert listed == {"a": "unchanged", "b": "removed"}
    text = run_cli("--config", str(config), "feeds").stdout
    assert "1 feed(s) no longer configured" in text


def test_feeds_renamed_feed_keeps_its_items_and_stores_nothing_again(
    tmp_path: Path, http_server: TestServer
) -> None:
    """Renaming a feed (same URL) moves its items to the new name; none is stored twice."""
    body = {"feed": signal_feed(http_server.base_url)}
    http_server.route("/a", lambda ex: reply(body["feed"])(ex))
    config = write_config(tmp_path, [{"name": "old", "url": http_server.url("/a")}])
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    config = write_config(tmp_path, [{"name": "new", "url": http_server.url("/a")}])
    body["feed"] = signal_feed(http_server.base_url).replace(b"<item>", b"<item>", 1) + b" "
    second = run_cli("--config", str(config), "run", "--once")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("new: ok new=0 updated=0")
    assert "event=feed_renamed old=old new=new" in second.stderr
    db = tmp_path / "monitor.db"
    assert db_count(db, "SELECT count(*) FROM items") == 3
    assert db_count(db, "SELECT count(*) FROM items WHERE feed = 'new'") == 3
    assert [f["name"] for f in _feeds(config, "--all")] == ["new"]


def test_feeds_without_a_database_says_so_and_creates_none(tmp_path: Path) -> None:
    """A read-only command before the first poll explains, exits 1, and creates no file."""
    config = write_config(tmp_path, [{"name": "a", "url": "http://127.0.0.1:9/feed"}])
    for command in (("feeds",), ("items",), ("flagged",), ("outlook",), ("search", "x")):
        result = run_cli("--config", str(config), *command)
        assert result.returncode == 1, (command, result.stdout)
        assert "there is no database" in result.stderr, command
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "monitor.db").exists()


def test_feeds_overdue_when_next_poll_is_an_interval_in_the_past(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A feed whose next poll passed more than an interval ago shows as overdue."""
    http_server.route("/a", reply(signal_feed(http_server.base_url)))
    config = write_config(
        tmp_path, [{"name": "a", "url": http_server.url("/a"), "interval": "10m"}]
    )
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    assert _feeds(config)[0]["state"] == "ok"
    conn = sqlite3.connect(tmp_path / "monitor.db")
    with conn:
        conn.execute("UPDATE feeds SET next_due = '2020-01-01T00:00:00Z'")
    conn.close()
    assert _feeds(config)[0]["state"] == "overdue"


def test_feeds_duplicate_guid_swapped_between_polls_makes_no_revision(
    tmp_path: Path, http_server: TestServer
) -> None:
    """A feed listing one guid twice, in swapped order on the next poll: no new revision."""
    a = ("dup", "Telephone conversation with US President Donald Trump", "Version A.")
    b = ("dup", "Telephone conversation with US President Donald Trump", "Version B.")
    body = {"feed": rss(http_server.base_url, [a, b])}
    http_server.route("/f", lambda ex: reply(body["feed"])(ex))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/f")}])
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    body["feed"] = rss(http_server.base_url, [b, a])
    assert run_cli("--config", str(config), "-q", "run", "--once").returncode == 0
    db = tmp_path / "monitor.db"
    assert db_count(db, "SELECT count(*) FROM items") == 1
    assert db_count(db, "SELECT count(*) FROM item_revisions") == 0
