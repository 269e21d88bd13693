"""Archived items into the store in batches, matched like polled items.

`import_items` is what `monitor import` runs once the file is read: one transaction
per batch, so a long archive never holds the write lock for long, then the new items
join the search index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.config.alerts import AlertsConfig
from monitor.models import ParsedItem
from monitor.pipeline.ingest import ingest_items
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store.items import index_pending

DEFAULT_BATCH = 200  # items per transaction


@dataclass(frozen=True, slots=True)
class ImportTotals:
    """How many imported items were new, updated and flagged."""

    new: int = 0
    updated: int = 0
    flagged: int = 0


def import_items(
    store: Store,
    rules: RuleSet,
    feed: str,
    items: Sequence[ParsedItem],
    now: datetime,
    *,
    alert: bool = False,
    alerts: AlertsConfig | None = None,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportTotals:
    """Store and match `items` under `feed`, `batch` at a time; alerts only when `alert`.

    `progress` is told how many items each finished batch held.
    """
    new = updated = flagged = 0
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        report = ingest_items(
            store, rules, feed, chunk, now, origin="import", alert=alert, alerts=alerts
        )
        new, updated, flagged = (
            new + report.new,
            updated + report.updated,
            flagged + report.flagged,
        )
        if progress is not None:
            progress(len(chunk))
    index_pending(store)
    return ImportTotals(new, updated, flagged)
