"""Deleting what the retention policy no longer keeps, in small transactions.

Each batch is one short write transaction, so a poll never waits long behind a prune.
Items are deleted only when asked (`keep_unflagged_items`), and never one that was
flagged, reviewed or alerted: its review history and evidence stay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from monitor.clock import iso
from monitor.store import Store

BATCH = 500


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """ISO times before which rows go; None keeps that kind for ever."""

    fetch_log: str | None
    revisions: str | None
    delivered_alerts: str | None
    unflagged_items: str | None


def cutoffs_at(now: datetime, kept: Mapping[str, float | None]) -> Cutoffs:
    """Cutoff times from how long each kind is kept (seconds, or None for ever)."""
    names = [f.name for f in fields(Cutoffs)]
    return Cutoffs(
        *(
            None if kept.get(name) is None else iso(now - timedelta(seconds=float(kept[name] or 0)))
            for name in names
        )
    )


@dataclass(frozen=True, slots=True)
class PruneCounts:
    """Rows a retention pass removed, by kind."""

    fetch_log: int = 0
    revisions: int = 0
    delivered_alerts: int = 0
    unflagged_items: int = 0

    def __add__(self, other: PruneCounts) -> PruneCounts:
        """The counts of two passes together."""
        return PruneCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(PruneCounts))
        )

    @property
    def total(self) -> int:
        """All rows removed."""
        return sum(getattr(self, f.name) for f in fields(PruneCounts))


_OLD_ITEMS = (
    "SELECT i.id FROM items i WHERE i.first_seen < :cutoff"
    " AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.item_id = i.id AND f.flagged = 1)"
    " AND NOT EXISTS (SELECT 1 FROM review_events r WHERE r.item_id = i.id)"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.item_id = i.id)"
    " AND NOT EXISTS (SELECT 1 FROM event_items e WHERE e.item_id = i.id)"
)
_SELECT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "fetch_log": "SELECT id FROM fetch_log WHERE finished < :cutoff",
        "revisions": "SELECT id FROM item_revisions WHERE replaced_at < :cutoff",
        "delivered_alerts": (
            "SELECT id FROM outbox WHERE state IN ('sent', 'folded')"
            " AND coalesce(sent_at, created) < :cutoff"
        ),
        "unflagged_items": _OLD_ITEMS,
    }
)
_DELETE: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "fetch_log": ("DELETE FROM fetch_log WHERE id IN ({ids})",),
        "revisions": ("DELETE FROM item_revisions WHERE id IN ({ids})",),
        "delivered_alerts": ("DELETE FROM outbox WHERE id IN ({ids})",),
        "unflagged_items": (
            "DELETE FROM item_revisions WHERE item_id IN ({ids})",
            "DELETE FROM flags WHERE item_id IN ({ids})",
            "DELETE FROM items WHERE id IN ({ids})",
        ),
    }
)


def count_prunable(store: Store, cutoffs: Cutoffs) -> PruneCounts:
    """How many rows of each kind a prune would delete now (for --dry-run)."""
    counts = {}
    for name, select in _SELECT.items():
        cutoff = getattr(cutoffs, name)
        rows = store.query(f"SELECT count(*) AS n FROM ({select})", {"cutoff": cutoff})
        counts[name] = int(str(rows[0]["n"])) if cutoff else 0
    return PruneCounts(**counts)


def prune(
    store: Store, cutoffs: Cutoffs, *, batch: int = BATCH, stop: Callable[[], bool] = lambda: False
) -> PruneCounts:
    """Delete every prunable row, `batch` rows per transaction, until none is left."""
    total = PruneCounts()
    while not stop():
        done = _one_batch(store, cutoffs, batch)
        total += done
        if done.total == 0:
            break
    return total


def _one_batch(store: Store, cutoffs: Cutoffs, batch: int) -> PruneCounts:
    counts = {}
    for name, select in _SELECT.items():
        cutoff = getattr(cutoffs, name)
        if cutoff is None:
            counts[name] = 0
            continue
        with store.write() as db:
            ids = [row[0] for row in db.execute(f"{select} LIMIT {int(batch)}", {"cutoff": cutoff})]
            if ids:
                marks = ", ".join("?" * len(ids))
                for statement in _DELETE[name]:
                    db.execute(statement.format(ids=marks), ids)
        counts[name] = len(ids)
    return PruneCounts(**counts)
