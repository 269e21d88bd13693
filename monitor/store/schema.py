"""The database schema as numbered migrations (sqlite-utils Migrations).

Each migration runs inside the opener's BEGIN IMMEDIATE transaction, so a crash
during a migration leaves the previous schema intact. Never edit a migration that
has shipped: add a new one and bump nothing else (the version is their count).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

APPLICATION_ID = 0x4D4F4E31  # "MON1": marks the file as a monitor database
MIGRATION_SET = "monitor"

migrations = Migrations(MIGRATION_SET)

_V1 = """
CREATE TABLE feeds (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'en',
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,                         -- sha256 of the last parsed body
    next_due TEXT,                          -- ISO UTC; NULL means due now
    last_attempt TEXT,
    last_success TEXT,
    last_status TEXT,                       -- ok | not_modified | unchanged | error
    last_http_status INTEGER,
    last_error TEXT,
    last_error_kind TEXT,                   -- monitor.models.ErrorKind
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    polls_ok INTEGER NOT NULL DEFAULT 0,    -- 0 until the first successful poll
    warning TEXT,                           -- e.g. parsed with the loose parser
    health_alerted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    feed TEXT NOT NULL,
    key TEXT NOT NULL,
    key_kind TEXT NOT NULL,                 -- guid | link | hash
    url TEXT,
    title TEXT NOT NULL,
    published TEXT,                         -- the feed's own date, data only
    first_seen TEXT NOT NULL,               -- our clock: decides order and "new"
    updated TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    full_text_status TEXT,                  -- NULL | ok | error text
    origin TEXT NOT NULL DEFAULT 'poll',    -- poll | import
    UNIQUE (feed, key)
);
CREATE INDEX items_first_seen ON items (first_seen);
CREATE INDEX items_feed_hash ON items (feed, content_hash);

CREATE TABLE item_revisions (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX item_revisions_item ON item_revisions (item_id);

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL UNIQUE REFERENCES items (id),
    flagged INTEGER NOT NULL,               -- 1 while the latest match is at/above threshold
    score REAL NOT NULL,
    signal_types TEXT NOT NULL,             -- space-separated types
    signals TEXT NOT NULL,                  -- JSON: type, rule, weight, terms, spans, sentences
    rules_version TEXT NOT NULL,
    content_hash TEXT NOT NULL,             -- the item revision that was matched
    matched_at TEXT NOT NULL,
    first_flagged TEXT NOT NULL,
    silent INTEGER NOT NULL DEFAULT 0,      -- flagged without alerting (backlog, import, rescan)
    status TEXT NOT NULL DEFAULT 'new',     -- new | reviewed | dismissed | escalated
    status_at TEXT,
    status_by TEXT
);
CREATE INDEX flags_first_flagged ON flags (first_flagged);

CREATE TABLE review_events (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items (id),
    action TEXT NOT NULL,                   -- ack | dismiss | escalate | note
    note TEXT,
    user TEXT,
    at TEXT NOT NULL
);
CREATE INDEX review_events_item ON review_events (item_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,                    -- stable idempotency key: webhook-id, Message-ID
    channel TEXT NOT NULL,                  -- email | webhook:<name>
    kind TEXT NOT NULL,                     -- item | digest | health | outlook | test
    item_id INTEGER REFERENCES items (id),
    dedupe_key TEXT NOT NULL,               -- what makes two rows "the same alert"
    payload TEXT NOT NULL,                  -- JSON snapshot used to render the alert
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | held | sending | sent | dead | folded
    attempts INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    next_attempt TEXT NOT NULL,
    last_attempt TEXT,
    sent_at TEXT,
    last_error TEXT,
    possible_duplicate INTEGER NOT NULL DEFAULT 0,
    digest_id TEXT,                         -- the digest row this one was folded into
    UNIQUE (channel, dedupe_key)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt);

CREATE TABLE fetch_log (
    id INTEGER PRIMARY KEY,
    feed TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error_kind TEXT,
    error TEXT,
    new_items INTEGER NOT NULL DEFAULT 0,
    updated_items INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER
);
CREATE INDEX fetch_log_feed ON fetch_log (feed, id);

CREATE TABLE state (
    key TEXT PRIMARY KEY,                   -- small named values, e.g. outlook.level
    value TEXT NOT NULL
);
"""


@migrations()
def m001_initial(db: Database) -> None:
    """The first schema."""
    for statement in _split(_V1):
        db.execute(statement)
    db.table("items").enable_fts(["title", "body"], create_triggers=True, tokenize="unicode61")


@migrations()
def m002_feed_lifecycle(db: Database) -> None:
    """Feeds that left the configuration, and why each feed's next poll is when it is."""
    # ISO time the feed left the configuration; NULL while it is configured
    db.execute("ALTER TABLE feeds ADD COLUMN retired TEXT")
    # why next_due is when it is, e.g. "backoff after 3 failures"
    db.execute("ALTER TABLE feeds ADD COLUMN schedule_reason TEXT")
    # sha256 of the item's text without digits and spaces: the same release re-published
    # under a new key with a fresh timestamp in its text (see store.items.loose_hash)
    db.execute("ALTER TABLE items ADD COLUMN loose_hash TEXT")
    db.execute("CREATE INDEX items_feed_loose ON items (feed, loose_hash)")


_DELETE_IF_INDEXED = """
  INSERT INTO items_fts (items_fts, rowid, title, body)
    SELECT 'delete', old.id, old.title, old.body
    WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE item_id = old.id);"""
_V3 = (
    "CREATE TABLE fts_pending (item_id INTEGER PRIMARY KEY)",
    "DROP TRIGGER items_ai",
    "DROP TRIGGER items_ad",
    "DROP TRIGGER items_au",
    "CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN"
    " INSERT INTO fts_pending (item_id) VALUES (new.id); END",
    f"CREATE TRIGGER items_ad AFTER DELETE ON items BEGIN {_DELETE_IF_INDEXED}"
    " DELETE FROM fts_pending WHERE item_id = old.id; END",
    f"CREATE TRIGGER items_au AFTER UPDATE OF title, body ON items BEGIN {_DELETE_IF_INDEXED}"
    " INSERT OR IGNORE INTO fts_pending (item_id) VALUES (new.id); END",
)


@migrations()
def m003_index_after_commit(db: Database) -> None:
    """New and edited items wait in fts_pending; the full-text index takes them in a batch
    after the polls' commits (store.items.index_pending: the daemon's index job, an
    import, or a search), not inside them. A deleted or edited
    item leaves the index at once, and only if it was in it (an external-content FTS5
    table must never be told to delete what it does not hold)."""
    for statement in _V3:
        db.execute(statement)


def _split(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


_EVENTS = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    reviewed_by TEXT,                       -- the reviewer who last split or merged it
    reviewed_at TEXT
);

CREATE TABLE event_items (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    event_id INTEGER NOT NULL REFERENCES events (id),
    day TEXT NOT NULL,                      -- the day the item counts for (YYYY-MM-DD)
    reason TEXT NOT NULL,                   -- why it is in this event, in words
    placed_by TEXT,                         -- NULL: grouped automatically; else the reviewer
    placed_at TEXT NOT NULL
);
CREATE INDEX event_items_event ON event_items (event_id);
CREATE INDEX event_items_day ON event_items (day);
"""


@migrations()
def m004_events(db: Database) -> None:
    """Events: flagged items grouped by the contact they report (monitor.outlook.events)."""
    for statement in _split(_EVENTS):
        db.execute(statement)


def item_time(alias: str = "") -> str:
    """SQL for an item's own time: its publication time, else when it was first seen.

    Both are ISO UTC strings of one form ("YYYY-MM-DDTHH:MM:SSZ"), so they compare as
    text; `published` may be NULL. A feed date after our first sighting is a lie, and
    our clock wins (as in store.review.record_day). Spelled exactly as in the index
    items_time, which SQLite uses only for this same expression.
    """
    p = f"{alias}." if alias else ""
    return f"min(coalesce({p}published, {p}first_seen), {p}first_seen)"


@migrations()
def m005_items_by_time(db: Database) -> None:
    """`--since` and `--until` select items by their own time (monitor.cli.period)."""
    db.execute(
        "CREATE INDEX items_time ON items (min(coalesce(published, first_seen), first_seen))"
    )


SCHEMA_VERSION = len(migrations._migrations)
