"""The full-text index is brought up to date after the items' commit, in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.models import ParsedItem
from monitor.store import Store, open_store
from monitor.store import items as q
from monitor.store.browse import search_items

NOW = "2026-11-26T12:00:00Z"


def _item(key: str, title: str, body: str) -> ParsedItem:
    digest = hashlib.sha256(f"{title}{body}".encode()).hexdigest()
    return ParsedItem(key, "guid", None, title, None, "", body, "en", digest)


def _store_items(store: Store, *items: ParsedItem) -> None:
    with store.write() as db:
        db.execute("INSERT OR IGNORE INTO feeds (name, url) VALUES ('k', 'https://e.org/f')")
        for item in items:
            q.upsert_item(db, "k", item, NOW, "poll")


def _found(store: Store, text: str) -> list[str]:
    return [str(r["title"]) for r in search_items(store, text, 10)]


def _index_ok(store: Store) -> None:
    with store.write() as db:
        db.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "m.db") as opened:
        yield opened


def test_search_index_new_items_wait_until_the_batch(store: Store) -> None:
    """Stored items are searchable after `index_pending`, which reports how many it took."""
    _store_items(store, _item("a", "Talks in Geneva", "envoys met"), _item("b", "Budget", "roads"))
    assert q.index_backlog(store) == 2
    assert _found(store, "Geneva") == []
    assert q.index_pending(store, batch=1) == 2
    assert q.index_backlog(store) == 0
    assert _found(store, "Geneva") == ["Talks in Geneva"]
    _index_ok(store)


def test_search_index_edit_replaces_the_old_text(store: Store) -> None:
    """An edited item leaves the index with its old words and comes back with its new ones."""
    _store_items(store, _item("a", "Talks in Geneva", "first version"))
    q.index_pending(store)
    _store_items(store, _item("a", "Talks in Riyadh", "second version"))
    assert _found(store, "Geneva") == []
    q.index_pending(store)
    assert _found(store, "Riyadh") == ["Talks in Riyadh"]
    _index_ok(store)


def test_search_index_deleting_unindexed_and_indexed_items_keeps_it_sound(store: Store) -> None:
    """Deleting an item never asks the index to drop what it does not hold."""
    _store_items(store, _item("a", "Indexed item", "x"))
    q.index_pending(store)
    _store_items(store, _item("b", "Pending item", "y"))
    with store.write() as db:
        db.execute("DELETE FROM items")
    assert q.index_backlog(store) == 0
    _index_ok(store)
    assert _found(store, "item") == []


def test_search_cli_indexes_what_is_pending_first(tmp_path: Path) -> None:
    """`monitor search` after a poll that left items unindexed adds them, says so, finds them."""
    from tests.pipeline_env import run_cli, write_config

    config = write_config(tmp_path, [])
    with open_store(tmp_path / "monitor.db") as opened:
        _store_items(opened, _item("a", "Talks in Geneva", "x"))
    result = run_cli("--config", str(config), "search", "--json", "Geneva")
    assert result.returncode == 0, result.stderr
    assert "adding 1 new item(s) to the search index first" in result.stderr
    assert '"Talks in Geneva"' in result.stdout
    again = run_cli("--config", str(config), "search", "Geneva")
    assert "search index" not in again.stderr
