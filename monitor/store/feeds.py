"""SQL for the feeds table and the fetch log: a feed's state, read as a value and updated
after each poll."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlite_utils import Database

from monitor.models import FeedSpec, Validators
from monitor.store import Store

FetchStatus = Literal["ok", "not_modified", "unchanged", "error"]


def _text(row: Mapping[str, object], name: str) -> str | None:
    value = row.get(name)
    return None if value is None else str(value)


def _count(row: Mapping[str, object], name: str) -> int:
    value = row.get(name)
    return value if isinstance(value, int) else int(str(value or 0))


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as stored: its validators, its last poll and when it is due again."""

    name: str
    url: str = ""
    lang: str = "en"
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 of the last parsed body
    next_due: str | None = None  # None: due now
    last_attempt: str | None = None
    last_success: str | None = None
    last_status: str | None = None  # a FetchStatus; text as stored by older versions too
    last_http_status: int | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    consecutive_failures: int = 0
    polls_ok: int = 0  # 0 until the first successful poll
    warning: str | None = None
    health_alerted: bool = False
    retired: str | None = None
    schedule_reason: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> FeedState:
        """The state in a feeds row (columns a query left out keep their defaults)."""
        status = row.get("last_http_status")
        return cls(
            name=str(row["name"]),
            url=str(row.get("url") or ""),
            lang=str(row.get("lang") or "en"),
            etag=_text(row, "etag"),
            last_modified=_text(row, "last_modified"),
            body_hash=_text(row, "body_hash"),
            next_due=_text(row, "next_due"),
            last_attempt=_text(row, "last_attempt"),
            last_success=_text(row, "last_success"),
            last_status=_text(row, "last_status"),
            last_http_status=None if status is None else _count(row, "last_http_status"),
            last_error=_text(row, "last_error"),
            last_error_kind=_text(row, "last_error_kind"),
            consecutive_failures=_count(row, "consecutive_failures"),
            polls_ok=_count(row, "polls_ok"),
            warning=_text(row, "warning"),
            health_alerted=bool(row.get("health_alerted")),
            retired=_text(row, "retired"),
            schedule_reason=_text(row, "schedule_reason"),
        )

    def validators(self) -> Validators:
        """What the next conditional GET sends back (an empty value is no validator)."""
        return Validators(etag=self.etag or None, last_modified=self.last_modified or None)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What one poll of one feed did, as recorded on the feed row and in the log."""

    status: FetchStatus
    started: str
    finished: str
    next_due: str
    http_status: int | None = None
    error_kind: str | None = None  # a monitor.models.ErrorKind value
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    warning: str | None = None
    new_items: int = 0
    updated_items: int = 0
    bytes: int | None = None
    schedule_reason: str | None = None  # why next_due is when it is


def feed_states(store: Store, names: Sequence[str] | None = None) -> dict[str, FeedState]:
    """Feed states by name: all of them, or those of `names` (a poll of one feed reads one)."""
    if names is None:
        rows = store.query("SELECT * FROM feeds")
    else:
        marks = ", ".join("?" * len(names))
        rows = store.query(f"SELECT * FROM feeds WHERE name IN ({marks})", tuple(names))
    return {str(r["name"]): FeedState.from_row(r) for r in rows}


def sync_feeds(db: Database, feeds: Sequence[FeedSpec], now: str) -> list[tuple[str, str]]:
    """Make the feeds table match the configuration; state is kept across restarts.

    A configured feed with a new name but the URL of a feed that left the configuration
    is that feed renamed: its row, items and log move to the new name, so its items are
    neither stored nor alerted again. Feeds no longer configured are marked retired
    (their items stay). Returns the (old, new) names of renamed feeds.
    """
    known = {str(r[0]): str(r[1]) for r in db.execute("SELECT name, url FROM feeds").fetchall()}
    configured = {spec.name for spec in feeds}
    renamed = []
    for spec in feeds:
        if spec.name in known:
            continue
        old = next((n for n, url in known.items() if url == spec.url and n not in configured), None)
        if old is not None:
            _rename_feed(db, old, spec.name)
            renamed.append((old, spec.name))
            known[spec.name] = known.pop(old)
    for spec in feeds:
        db.execute(
            "INSERT INTO feeds (name, url, lang) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET url = excluded.url, lang = excluded.lang, "
            "retired = NULL, "
            "etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END, "
            "last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END",
            [spec.name, spec.url, spec.lang],
        )
    gone = [name for name in known if name not in configured]
    for name in gone:
        db.execute("UPDATE feeds SET retired = ? WHERE name = ? AND retired IS NULL", [now, name])
    return renamed


def ensure_feed(db: Database, name: str) -> None:
    """A feed row for items that come from elsewhere than a configured feed (an import)."""
    db.execute("INSERT OR IGNORE INTO feeds (name, url, lang) VALUES (?, '', 'en')", [name])


def _rename_feed(db: Database, old: str, new: str) -> None:
    db.execute("UPDATE feeds SET name = ? WHERE name = ?", [new, old])
    db.execute("UPDATE items SET feed = ? WHERE feed = ?", [new, old])
    db.execute("UPDATE fetch_log SET feed = ? WHERE feed = ?", [new, old])


# Counters move relative to the stored row (not to the state the poll read), so a change
# made meanwhile, such as a reload that synced the feeds, is never overwritten.
_RECORD_SQL = (
    "UPDATE feeds SET last_attempt = :finished, next_due = :next_due, last_status = :status, "
    "last_http_status = :http_status, "
    "last_success = CASE WHEN :ok THEN :finished ELSE last_success END, "
    "last_error = CASE WHEN :ok THEN NULL ELSE :error END, "
    "last_error_kind = CASE WHEN :ok THEN NULL ELSE :error_kind END, "
    "consecutive_failures = CASE WHEN :ok THEN 0 ELSE consecutive_failures + 1 END, "
    "polls_ok = polls_ok + :ok, "
    "etag = coalesce(:etag, etag), last_modified = coalesce(:last_modified, last_modified), "
    "body_hash = coalesce(:body_hash, body_hash), "
    "warning = CASE WHEN :parsed THEN :warning ELSE warning END, "
    "schedule_reason = :schedule_reason "
    "WHERE name = :feed"
)
_LOG_SQL = (
    "INSERT INTO fetch_log (feed, started, finished, status, http_status, error_kind, "
    "error, new_items, updated_items, bytes) VALUES (:feed, :started, :finished, :status, "
    ":http_status, :error_kind, :error, :new_items, :updated_items, :bytes)"
)
_OUTCOME_FIELDS = (
    "status",
    "started",
    "finished",
    "next_due",
    "http_status",
    "error_kind",
    "error",
    "etag",
    "last_modified",
    "body_hash",
    "warning",
    "new_items",
    "updated_items",
    "bytes",
    "schedule_reason",
)


def record_outcome(db: Database, feed: str, outcome: FetchOutcome) -> None:
    """Store a poll's result on the feed row and append it to the fetch log."""
    values: dict[str, object] = {name: getattr(outcome, name) for name in _OUTCOME_FIELDS}
    values.update(feed=feed, ok=int(outcome.status != "error"), parsed=outcome.status == "ok")
    db.execute(_RECORD_SQL, values)
    db.execute(_LOG_SQL, values)
