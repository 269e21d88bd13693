"""Re-run the rules over stored items after a rule change, recording the rules version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.clock import iso
from monitor.signals import RuleSet, match_document
from monitor.store import Store
from monitor.store.browse import items_for_rescan
from monitor.store.items import save_match

BATCH = 1000


@dataclass(frozen=True, slots=True)
class RescanReport:
    scanned: int
    flagged: int
    newly_flagged: int
    unflagged: int


def rescan_items(
    store: Store, rules: RuleSet, now: datetime, *, since: str | None, until: str | None = None
) -> RescanReport:
    """Match every item (dated within [since, until) when given) again; new flags are
    silent, so old items never alert."""
    before = {
        int(str(r["item_id"])) for r in store.query("SELECT item_id FROM flags WHERE flagged = 1")
    }
    stamp = iso(now)
    scanned = flagged = newly = unflagged = 0
    last_id = 0
    while rows := items_for_rescan(store, since, last_id, BATCH, until):
        last_id = int(str(rows[-1]["id"]))
        with store.write() as db:
            for row in rows:
                item_id = int(str(row["id"]))
                match = match_document(
                    rules, str(row["title"]), str(row["body"] or row["summary"]), str(row["lang"])
                )
                save_match(db, item_id, match, str(row["content_hash"]), stamp, silent=True)
                flagged += int(match.flagged)
                newly += int(match.flagged and item_id not in before)
                unflagged += int(not match.flagged and item_id in before)
        scanned += len(rows)
    return RescanReport(scanned, flagged, newly, unflagged)
