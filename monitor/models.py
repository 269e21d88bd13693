"""Frozen values passed between the stages of the monitor (stdlib only)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

FeedLang = Literal["en", "ru"]  # the languages the signal rules are written for
FEED_LANGS: tuple[FeedLang, ...] = get_args(FeedLang)
KeyKind = Literal["guid", "link", "hash"]  # what an item's identity in its feed is made of
Side = Literal["ru", "us", "third"]  # who a signal's evidence names: Russia, the US, others
# A JSON document as json.loads returns it: what a stored alert payload really is.
JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None
JSONObject: TypeAlias = dict[str, JSONValue]


class ErrorKind(enum.StrEnum):
    """Class of a failed poll, stored on the feed and shown by `monitor feeds`."""

    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"  # refused by the network policy or the scheme allowlist
    PROTOCOL = "protocol"  # truncated body, bad chunking, undecodable content-encoding
    NOT_A_FEED = "not_a_feed"  # HTML page, empty body, unknown format
    PARSE = "parse"  # a feed, but refused (entity declarations) or unusable
    STORAGE = "storage"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How every feed is fetched: deadlines, size cap, network policy, concurrency."""

    timeout: float = 30.0  # total deadline for one request, body included
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000  # cap on the decoded body
    allow_private_networks: bool = False
    proxy: str = ""
    user_agent: str = "diplomatic-signal-monitor/0.1 (+https://example.invalid/monitor)"
    max_redirects: int = 5
    concurrency: int = 16  # feeds fetched at once
    max_interval: float = 24 * 3600.0  # never longer than this between polls


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One configured feed: its name, address, polling interval and language."""

    name: str
    url: str
    interval: float  # seconds
    lang: FeedLang = "en"
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends back to the server."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful exchange. `body` is None for 304 Not Modified."""

    url: str  # the final URL after redirects
    status: int
    body: bytes | None
    headers: Mapping[str, str]  # lowercase names
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # seconds, already capped
    max_age: float | None = None  # seconds from Cache-Control, already capped
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer: the feed has not changed since the validators."""
        return self.body is None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One feed entry as clean, capped text with its identity inside the feed."""

    key: str  # identity inside its feed: guid, else normalised link, else hash
    key_kind: KeyKind
    url: str | None  # http/https only, else None
    title: str
    published: str | None  # the feed's own date, ISO 8601 UTC, as data only
    summary: str  # clean text
    body: str  # clean text (content, content:encoded, else description)
    lang: str
    content_hash: str  # over title, summary and body


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed document: its title, its items in document order, and any warning."""

    title: str
    items: tuple[ParsedItem, ...]
    warning: str | None = None  # e.g. the bozo reason when the loose parser was used
    truncated: bool = False  # more entries than the per-poll cap


@dataclass(frozen=True, slots=True)
class Signal:
    """One rule that fired on an item, with its evidence."""

    type: str
    rule: str
    weight: float
    terms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # character offsets into the matched document
    sentences: tuple[str, ...] = ()  # each evidence sentence once (whitespace collapsed)
    # per sentence, the matched spans as offsets into that sentence string
    marks: tuple[tuple[tuple[int, int], ...], ...] = ()
    actors: tuple[str, ...] = ()  # canonical names of the US and Russian actors named
    places: tuple[str, ...] = ()  # canonical names of the places named
    sides: tuple[Side, ...] = ()  # "third" when a third party is named too

    def as_json(self) -> dict[str, object]:
        """The stored form (flags.signals), also printed by `score --json`."""
        return {
            "type": self.type,
            "rule": self.rule,
            "weight": self.weight,
            "terms": list(self.terms),
            "spans": [list(span) for span in self.spans],
            "sentences": list(self.sentences),
            "marks": [[list(mark) for mark in marks] for marks in self.marks],
            "actors": list(self.actors),
            "places": list(self.places),
            "sides": list(self.sides),
        }


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's verdict on one item: score, whether it is flagged, and why."""

    score: float
    flagged: bool
    signals: tuple[Signal, ...] = field(default_factory=tuple)
    rules_version: str = ""


OUTLOOK_WINDOW_DAYS = 60


@dataclass(frozen=True, slots=True)
class OutlookSettings:
    """How long each level holds after the last report that set it, and how far back
    events are read (see the README's `[outlook]` table for the reasons)."""

    high_days: int = 14
    elevated_days: int = 21
    watch_days: int = 14
    window_days: int = OUTLOOK_WINDOW_DAYS


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the database and the lock file say right now."""

    running_pid: int | None
    feeds: Mapping[str, Mapping[str, object]]  # feed rows by name
    dead_alerts: Mapping[str, int]  # channel -> rows
    waiting_alerts: Mapping[str, int]  # channel -> pending rows older than ALERT_WAIT
    disk_full: bool = False
