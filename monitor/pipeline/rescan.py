"""Re-run the rules over stored items after a rule change, recording the rules version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import iso
from monitor.models import Match
from monitor.pipeline.decide import flag_write
from monitor.pipeline.matching import match_items
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store.items import FlagWrite, StoredText, flag_states, texts_for_rescan
from monitor.store.update import apply_flags

BATCH = 1000


@dataclass(frozen=True, slots=True)
class RescanReport:
    """How many items were matched again, are flagged, became flagged, lost their flag."""

    scanned: int
    flagged: int
    newly_flagged: int
    unflagged: int


def rescan_items(
    store: Store, rules: RuleSet, now: datetime, *, since: str | None, until: str | None = None
) -> RescanReport:
    """Match every item (dated within [since, until) when given) again; new flags are
    silent, so old items never alert."""
    stamp = iso(now)
    counts = RescanReport(0, 0, 0, 0)
    last_id = 0
    while texts := texts_for_rescan(store, since, until, last_id, BATCH):
        last_id = texts[-1].id
        matches = match_items(rules, texts)
        with store.write() as db:
            before = flag_states(db, [text.id for text in texts])
            apply_flags(db, rescan_flags(texts, matches, before), stamp)
        counts = _counted(counts, texts, matches, before)
    return counts


def rescan_flags(
    texts: Sequence[StoredText], matches: Sequence[Match | None], before: dict[int, bool]
) -> list[tuple[int, FlagWrite]]:
    """The flag rows to write: every item's new match, silent where it is a first flag."""
    writes: list[tuple[int, FlagWrite]] = []
    for text, match in zip(texts, matches, strict=True):
        if match is None:
            continue
        flag = flag_write(before.get(text.id), match, text.content_hash, silent=True)
        if flag is not None:
            writes.append((text.id, flag))
    return writes


def _counted(
    counts: RescanReport,
    texts: Sequence[StoredText],
    matches: Sequence[Match | None],
    before: dict[int, bool],
) -> RescanReport:
    flagged = [t.id for t, m in zip(texts, matches, strict=True) if m is not None and m.flagged]
    was = {item_id for item_id, state in before.items() if state}
    return RescanReport(
        counts.scanned + len(texts),
        counts.flagged + len(flagged),
        counts.newly_flagged + len(set(flagged) - was),
        counts.unflagged + len(was - set(flagged)),
    )
