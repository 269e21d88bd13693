"""What the HTML report shows, read from the store: the outlook, its days, events, items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from monitor.models import OutlookSettings
from monitor.outlook import levels as ol
from monitor.outlook.events import Event
from monitor.outlook.report import ReportData, ReportItem
from monitor.store import Store
from monitor.store import review as rq
from monitor.store.views import FlaggedItem, ItemView


def report_data(
    store: Store,
    now: datetime,
    start: date,
    end: date,
    events: Sequence[Event],
    settings: OutlookSettings,
    limit: int,
) -> ReportData:
    """The report of [start, end] as it reads at the end of `end`: the outlook of that day.

    Items count on their own day (the feed's date), so a report over imported history
    shows that history; events are those reported in the period, newest first."""
    series = ol.replay(events, start, end, settings)
    outlook = ol.compute_outlook(events, end, settings)
    in_period = sorted(
        (e for e in events if e.last_day >= start and e.first_day <= end),
        key=lambda e: (e.last_day, e.id),
        reverse=True,
    )
    items = sorted(
        (i for e in in_period for i in e.items if start <= i.day <= end),
        key=lambda i: (i.day, i.item_id),
        reverse=True,
    )[:limit]
    rows = rq.flag_rows(store, [i.item_id for i in items])
    return ReportData(
        now, start, end, outlook, series, [_report_item(store, r) for r in rows], in_period
    )


def document_of(item: ItemView) -> tuple[str, str, str] | None:
    """(title, body, which) of the revision the flag's spans point into, if still stored."""
    flag = item.flag
    if not flag:
        return None
    if flag.content_hash == item.content_hash:
        return item.title, item.body, "current text"
    for revision in reversed(item.revisions):
        if revision.content_hash == flag.content_hash:
            which = f"revision replaced {revision.replaced_at}"
            return revision.title, revision.body, which
    return None


def _report_item(store: Store, row: FlaggedItem) -> ReportItem:
    item = rq.get_item(store, row.id)
    matched = document_of(item) if item else None
    return ReportItem(
        item_id=row.id,
        feed=row.feed,
        url=row.url,
        title=row.title,
        published=row.published,
        first_seen=row.first_seen,
        score=row.score,
        status=row.status,
        signal_types=row.signal_types,
        document=f"{matched[0]}\n\n{matched[1]}" if matched else None,
        signals=row.evidence,
    )
