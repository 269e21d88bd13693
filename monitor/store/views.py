"""What the review commands read from the store: flagged items, one item in full, evidence.

Frozen values built from rows; a flag's `signals` stay the decoded JSON they were
stored as (what `--json` and exports print), and `evidence` reads them back as
`models.Signal` values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from monitor.models import Side, Signal
from monitor.store.columns import (
    Row,
    integer,
    json_list,
    optional_text,
    real,
    text,
)

Status = Literal["new", "reviewed", "dismissed", "escalated"]


def signal_of(signal: Mapping[str, object]) -> Signal:
    """One signal of a stored flag, read back from its JSON: what fired, where and why.

    Parts missing from the JSON are empty; `marks` holds one tuple of spans per entry
    the JSON lists (malformed spans left out), so its length is the stored list's."""
    return Signal(
        type=_text(signal.get("type")),
        rule=_text(signal.get("rule")),
        weight=_number(signal.get("weight", 0)),
        terms=tuple(str(t) for t in _items(signal.get("terms"))),
        spans=tuple(_pair(span) for span in _items(signal.get("spans"))),
        sentences=tuple(str(s) for s in _items(signal.get("sentences"))),
        marks=tuple(_marked(m) for m in _items(signal.get("marks"))),
        actors=_strings(signal.get("actors")),
        # the matcher stores only the values of Side
        sides=cast("tuple[Side, ...]", _strings(signal.get("sides"))),
        places=_strings(signal.get("places")),
    )


def evidence(signals: Sequence[object]) -> tuple[Signal, ...]:
    """The evidence of each signal object in a flag's decoded `signals` JSON."""
    return tuple(signal_of(s) for s in signals if isinstance(s, dict))


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in _items(value))


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float | str) else 0.0


def _pair(value: object) -> tuple[int, int]:
    start, end = _items(value)
    return int(str(start)), int(str(end))


def _marked(value: object) -> tuple[tuple[int, int], ...]:
    """[[start, end], ...] from stored JSON, anything malformed left out."""
    return tuple(
        (v[0], v[1])
        for v in _items(value)
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
    )


@dataclass(frozen=True, slots=True)
class FlaggedItem:
    """A flagged item as `monitor flagged`, `export` and the report list it."""

    id: int
    feed: str
    url: str | None
    title: str
    published: str | None
    first_seen: str
    lang: str
    origin: str
    score: float
    signal_types: tuple[str, ...]
    signals: tuple[object, ...]  # the stored JSON, decoded
    status: Status
    status_at: str | None
    status_by: str | None
    first_flagged: str
    matched_at: str
    rules_version: str
    silent: bool
    item_time: str

    @classmethod
    def from_row(cls, row: Row) -> FlaggedItem:
        """An item joined with its flag, with the flag's item time."""
        return cls(
            id=integer(row, "id"),
            feed=text(row, "feed"),
            url=optional_text(row, "url"),
            title=text(row, "title"),
            published=optional_text(row, "published"),
            first_seen=text(row, "first_seen"),
            lang=text(row, "lang"),
            origin=text(row, "origin"),
            score=real(row, "score"),
            signal_types=_types(row),
            signals=json_list(row["signals"]),
            status=_status(row),
            status_at=optional_text(row, "status_at"),
            status_by=optional_text(row, "status_by"),
            first_flagged=text(row, "first_flagged"),
            matched_at=text(row, "matched_at"),
            rules_version=text(row, "rules_version"),
            silent=bool(row["silent"]),
            item_time=text(row, "item_time"),
        )

    @property
    def evidence(self) -> tuple[Signal, ...]:
        """The flag's signals as evidence."""
        return evidence(self.signals)


def _types(row: Row) -> tuple[str, ...]:
    return tuple(str(row["signal_types"] or "").split())


def _status(row: Row) -> Status:
    # the schema's default and `record_review` write only these four
    return cast("Status", text(row, "status"))


@dataclass(frozen=True, slots=True)
class Flag:
    """An item's flag as stored (every column of `flags`, in the table's order)."""

    id: int
    item_id: int
    flagged: int
    score: float
    signal_types: tuple[str, ...]
    signals: tuple[object, ...]  # the stored JSON, decoded
    rules_version: str
    content_hash: str  # the item revision that was matched
    matched_at: str
    first_flagged: str
    silent: bool
    status: Status
    status_at: str | None
    status_by: str | None

    @classmethod
    def from_row(cls, row: Row) -> Flag:
        """A row of `flags`."""
        return cls(
            id=integer(row, "id"),
            item_id=integer(row, "item_id"),
            flagged=integer(row, "flagged"),
            score=real(row, "score"),
            signal_types=_types(row),
            signals=json_list(row["signals"]),
            rules_version=text(row, "rules_version"),
            content_hash=text(row, "content_hash"),
            matched_at=text(row, "matched_at"),
            first_flagged=text(row, "first_flagged"),
            silent=bool(row["silent"]),
            status=_status(row),
            status_at=optional_text(row, "status_at"),
            status_by=optional_text(row, "status_by"),
        )

    @property
    def evidence(self) -> tuple[Signal, ...]:
        """The flag's signals as evidence."""
        return evidence(self.signals)


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier text of an item, kept when the feed edited it."""

    id: int
    title: str
    summary: str
    body: str
    content_hash: str
    replaced_at: str

    @classmethod
    def from_row(cls, row: Row) -> Revision:
        """A row of `item_revisions` (without its item id)."""
        return cls(
            id=integer(row, "id"),
            title=text(row, "title"),
            summary=text(row, "summary"),
            body=text(row, "body"),
            content_hash=text(row, "content_hash"),
            replaced_at=text(row, "replaced_at"),
        )


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One review action on an item: who did what, when, with what note."""

    action: str
    note: str | None
    user: str | None
    at: str

    @classmethod
    def from_row(cls, row: Row) -> ReviewEvent:
        """A row of `review_events` (without its ids)."""
        return cls(
            action=text(row, "action"),
            note=optional_text(row, "note"),
            user=optional_text(row, "user"),
            at=text(row, "at"),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbox row of an item, as `monitor show` lists it."""

    id: str
    channel: str
    kind: str
    state: str
    attempts: int
    created: str
    sent_at: str | None
    last_error: str | None
    possible_duplicate: int  # 0 or 1, as stored

    @classmethod
    def from_row(cls, row: Row) -> Delivery:
        """The outbox columns `monitor show` selects."""
        return cls(
            id=text(row, "id"),
            channel=text(row, "channel"),
            kind=text(row, "kind"),
            state=text(row, "state"),
            attempts=integer(row, "attempts"),
            created=text(row, "created"),
            sent_at=optional_text(row, "sent_at"),
            last_error=optional_text(row, "last_error"),
            possible_duplicate=integer(row, "possible_duplicate"),
        )


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item in full: every column of `items` in the table's order, its flag, earlier
    revisions, review history and alert deliveries (`monitor show`)."""

    id: int
    feed: str
    key: str
    key_kind: str
    url: str | None
    title: str
    published: str | None
    first_seen: str
    updated: str
    summary: str
    body: str
    lang: str
    content_hash: str
    full_text_status: str | None
    origin: str
    loose_hash: str | None
    flag: Flag | None
    revisions: tuple[Revision, ...]
    history: tuple[ReviewEvent, ...]
    deliveries: tuple[Delivery, ...]

    @classmethod
    def from_rows(
        cls,
        item: Row,
        flag: Flag | None,
        revisions: tuple[Revision, ...],
        history: tuple[ReviewEvent, ...],
        deliveries: tuple[Delivery, ...],
    ) -> ItemView:
        """The item's row with what was read for it."""
        return cls(
            id=integer(item, "id"),
            feed=text(item, "feed"),
            key=text(item, "key"),
            key_kind=text(item, "key_kind"),
            url=optional_text(item, "url"),
            title=text(item, "title"),
            published=optional_text(item, "published"),
            first_seen=text(item, "first_seen"),
            updated=text(item, "updated"),
            summary=text(item, "summary"),
            body=text(item, "body"),
            lang=text(item, "lang"),
            content_hash=text(item, "content_hash"),
            full_text_status=optional_text(item, "full_text_status"),
            origin=text(item, "origin"),
            loose_hash=optional_text(item, "loose_hash"),
            flag=flag,
            revisions=revisions,
            history=history,
            deliveries=deliveries,
        )
