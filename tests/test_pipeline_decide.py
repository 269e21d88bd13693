"""What a batch of one feed's items writes, decided from values alone (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.clock import iso
from monitor.config.alerts import AlertsConfig
from monitor.models import Match, ParsedItem
from monitor.pipeline.decide import CHURN_NOTICE_MIN, Batch, decide
from monitor.store.items import loose_hash
from monitor.store.update import ItemsState, KnownItem, Lookalike

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FLAGGED = Match(score=3.0, flagged=True)
QUIET = Match(score=0.0, flagged=False)
ALERTS = AlertsConfig()


def _item(key: str, text: str, published: str | None = "2026-11-26T11:00:00Z") -> ParsedItem:
    return ParsedItem(
        key=key,
        key_kind="guid",
        url=None,
        title=f"title {text}",
        published=published,
        summary="",
        body=text,
        lang="en",
        content_hash=f"hash:{text}",
    )


def _empty() -> ItemsState:
    return ItemsState(by_key={})


def test_decide_new_flagged_item_alerts_and_is_counted_in_the_outcome() -> None:
    """A new flagged item gets a first flag row and alerts when alerts are configured."""
    batch = Batch("feed", (_item("a", "talks"),), alerts=ALERTS)
    intent = decide(_empty(), batch, [FLAGGED], NOW)
    (write,) = intent.items
    assert (write.change, write.alert) == ("new", True)
    assert write.flag is not None
    assert (write.flag.action, write.flag.silent) == ("insert", False)
    assert intent.stamp == iso(NOW)


def test_decide_unchanged_item_writes_nothing() -> None:
    """An item stored with the same content hash is neither written nor matched."""
    item = _item("a", "talks")
    state = ItemsState({"a": KnownItem(7, item.content_hash, "2026-11-20T00:00:00Z", True)})
    intent = decide(state, Batch("feed", (item,), alerts=ALERTS), [None], NOW)
    assert intent.items == ()


def test_decide_edit_of_a_flagged_item_updates_its_flag_without_alerting() -> None:
    """An edited item that was already flagged revises its row and does not alert again."""
    item = _item("a", "talks, edited")
    state = ItemsState({"a": KnownItem(7, "hash:talks", "2026-11-20T00:00:00Z", True)})
    (write,) = decide(state, Batch("feed", (item,), alerts=ALERTS), [FLAGGED], NOW).items
    assert (write.change, write.item_id, write.alert) == ("updated", 7, False)
    assert write.flag is not None
    assert write.flag.action == "update"


def test_decide_never_flagged_unmatched_item_has_no_flag_row() -> None:
    """A new item below the threshold is stored without a flag row."""
    (write,) = decide(_empty(), Batch("feed", (_item("a", "budget"),)), [QUIET], NOW).items
    assert write.flag is None
    assert not write.alert


def test_decide_rekeyed_items_are_silent_and_enough_of_them_make_a_notice() -> None:
    """Content already stored under another key is stored silently; CHURN_NOTICE_MIN of
    them in one batch make one churn notice."""
    items = tuple(_item(f"new-{n}", f"text {n}") for n in range(CHURN_NOTICE_MIN))
    old = tuple(
        Lookalike(f"old-{n}", i.content_hash, loose_hash(i), "2026-11-01T00:00:00Z")
        for n, i in enumerate(items)
    )
    intent = decide(
        ItemsState({}, old), Batch("feed", items, alerts=ALERTS), [FLAGGED] * len(items), NOW
    )
    assert not any(w.alert for w in intent.items)
    assert all(w.flag is not None and w.flag.silent for w in intent.items)
    assert (intent.rekeyed, intent.churn) == (CHURN_NOTICE_MIN, CHURN_NOTICE_MIN)


def test_decide_same_text_but_for_digits_counts_only_from_an_earlier_poll() -> None:
    """A loose look-alike counts when first seen within the window before now, never
    when it came in this same poll."""
    item = _item("new", "text")
    earlier = Lookalike("old", "other", loose_hash(item), iso(NOW - timedelta(days=1)))
    same_poll = Lookalike("old", "other", loose_hash(item), iso(NOW))
    for alike, silent in ((earlier, True), (same_poll, False)):
        state = ItemsState({}, (alike,))
        (write,) = decide(state, Batch("feed", (item,), alerts=ALERTS), [FLAGGED], NOW).items
        assert write.alert is not silent


def test_decide_first_poll_backlog_is_flagged_silently() -> None:
    """On a feed's first poll, items older than the backlog window or undated do not alert."""
    old = _item("old", "a", published=iso(NOW - timedelta(hours=ALERTS.backlog_hours + 1)))
    undated = _item("undated", "b", published=None)
    fresh = _item("fresh", "c")
    batch = Batch("feed", (old, undated, fresh), alerts=ALERTS, first_poll=True)
    intent = decide(_empty(), batch, [FLAGGED] * 3, NOW)
    assert [w.alert for w in intent.items] == [False, False, True]


def test_decide_same_key_twice_in_a_batch_revises_the_row_made_by_the_first() -> None:
    """An item edited within one batch is one new row and one revision of it."""
    batch = Batch("feed", (_item("a", "one"), _item("a", "two")), alerts=ALERTS)
    first, second = decide(_empty(), batch, [FLAGGED, FLAGGED], NOW).items
    assert (first.change, second.change, second.item_id) == ("new", "updated", None)
    assert second.flag is not None
    assert second.flag.action == "update"
    assert not second.alert
