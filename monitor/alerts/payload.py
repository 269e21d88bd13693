"""The versioned JSON documents that describe an alert (pure).

A payload is built when the alert is queued and stored on the outbox row; it is a
snapshot, so a later edit of the item does not change what is sent. At send time
`envelope()` adds the delivery fields. Webhook receivers get exactly this document
as the body (format "json"); email and Slack bodies are rendered from it.

Schema "monitor.alert/1" (fields are only ever added within a version):

    schema             "monitor.alert/1"
    kind               "item" | "digest" | "health" | "outlook" | "churn" | "test"
    id                 the outbox id, equal to the webhook-id header and the Message-ID
    attempt            1 on the first attempt, then 2, 3 ...
    possible_duplicate true when an earlier attempt may have been delivered (crash
                       between the receiver's answer and our record of it)
    created            when the alert was queued (ISO 8601 UTC)

    kind "item":
      item     {id, title, url, published, first_seen, lang, content_hash}
      feed     {name, url}
      score    number
      outlook  {level} or null
      signals  [{type, rule, weight, terms: [str], spans: [[start, end]], sentences: [str]}]
               spans are character offsets into title + "\\n\\n" + body of the
               revision with that content_hash
      event    {id, update_of}: the event the item reports; update_of is null for
               the event's first alert on the channel, else that alert's id (such
               updates are sent in a digest, never alone)
    kind "digest":  period {start, end}, reason ("digest" | "budget"), count,
                    items [{alert_id, item, feed, score, signal_types, event}]
    kind "health":  feed {name, url}, state ("failing" | "recovered"),
                    consecutive_failures, last_success, last_error_kind
    kind "outlook": level, previous, since (date or null), reasons [str],
                    events [{id, level, label, grade, first_day, last_day, sources, items}]
    kind "churn":   feed {name}, detail (text)
    kind "test":    channel, text
Text fields are the feed's text as stored (untrusted: escape before display).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from monitor.models import JSONObject
from monitor.models import JSONValue as JSONValue  # the documents of this module are JSON

Payload: TypeAlias = JSONObject

SCHEMA = "monitor.alert/1"
KINDS = ("item", "digest", "health", "outlook", "churn", "test")
_ITEM_FIELDS = ("id", "title", "url", "published", "first_seen", "lang", "content_hash")


def json_object(value: JSONValue) -> Payload:
    """A nested object of a document; absent, null or another type reads as empty."""
    return value if isinstance(value, dict) else {}


def json_list(value: JSONValue) -> list[JSONValue]:
    """A nested array of a document; absent, null or another type reads as empty."""
    return value if isinstance(value, list) else []


def json_number(value: JSONValue) -> float:
    """A number of a document (a numeric string too); absent, null or empty as 0."""
    return float(value or 0.0) if isinstance(value, str | int | float) else 0.0


Row: TypeAlias = Mapping[str, object]  # a stored row: its column values


def build_item_payload(item: Row, feed: Row, flag: Row, outlook_level: str | None) -> Payload:
    """The payload of one flagged item; `flag["signals"]` may be JSON text or a list."""
    signals = flag.get("signals") or []
    if isinstance(signals, str):
        signals = json.loads(signals)
    return {
        "schema": SCHEMA,
        "kind": "item",
        "item": {key: _column(item.get(key)) for key in _ITEM_FIELDS},
        "feed": {
            "name": _column(feed.get("name") or item.get("feed")),
            "url": _column(feed.get("url")),
        },
        "score": _number(flag.get("score")),
        "outlook": {"level": outlook_level} if outlook_level else None,
        "signals": [_signal(s) for s in _objects(signals)],
    }


def _column(value: object) -> JSONValue:
    """A stored column value (text, number or NULL) as it goes into a document."""
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"not a column value: {type(value).__name__}")


def _number(value: object) -> float:
    return float(value or 0.0) if isinstance(value, str | int | float) else 0.0


def _offset(value: object) -> int:
    if isinstance(value, str | int | float):
        return int(value)
    raise TypeError(f"not an offset: {type(value).__name__}")


def _objects(value: object) -> list[Row]:
    return [v for v in _values(value) if isinstance(v, dict)]


def _values(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _signal(signal: Row) -> Payload:
    return {
        "type": str(signal.get("type", "")),
        "rule": str(signal.get("rule", "")),
        "weight": _number(signal.get("weight")),
        "terms": [str(t) for t in _values(signal.get("terms"))],
        "spans": [[_offset(a), _offset(b)] for a, b in map(_values, _values(signal.get("spans")))],
        "sentences": [str(t) for t in _values(signal.get("sentences"))],
    }


def build_digest_payload(
    entries: Sequence[tuple[str, Payload]], start: str, end: str, reason: str
) -> Payload:
    """One message for many item alerts: `entries` are (alert id, item payload) pairs."""
    return {
        "schema": SCHEMA,
        "kind": "digest",
        "period": {"start": start, "end": end},
        "reason": reason,
        "count": len(entries),
        "items": [_digest_entry(alert_id, p) for alert_id, p in entries],
    }


def _digest_entry(alert_id: str, payload: Payload) -> Payload:
    types: list[JSONValue] = list(
        sorted({str(json_object(s).get("type", "")) for s in json_list(payload.get("signals"))})
    )
    return {
        "alert_id": alert_id,
        "item": payload.get("item") or {},
        "feed": payload.get("feed") or {},
        "score": payload.get("score"),
        "signal_types": types,
        "event": payload.get("event"),
    }


def build_health_payload(feed: Row, state: str) -> Payload:
    """A feed started failing ("failing") or works again ("recovered")."""
    return {
        "schema": SCHEMA,
        "kind": "health",
        "feed": {"name": _column(feed.get("name")), "url": _column(feed.get("url"))},
        "state": state,
        "consecutive_failures": int(_number(feed.get("consecutive_failures"))),
        "last_success": _column(feed.get("last_success")),
        "last_error_kind": _column(feed.get("last_error_kind")),
    }


def build_outlook_payload(
    level: str,
    previous: str | None,
    reasons: Sequence[str],
    *,
    since: str | None = None,
    events: Sequence[JSONValue] = (),
) -> Payload:
    """A change of the summit outlook: the level, since when, why, and the events."""
    return {
        "schema": SCHEMA,
        "kind": "outlook",
        "level": level,
        "previous": previous,
        "since": since,
        "reasons": [str(r) for r in reasons],
        "events": list(events),
    }


def build_churn_payload(feed_name: str, detail: str) -> Payload:
    """A feed whose item keys all changed at once: items were stored without alerting."""
    return {"schema": SCHEMA, "kind": "churn", "feed": {"name": feed_name}, "detail": detail}


def build_test_payload(channel: str) -> Payload:
    """The payload of `monitor alerts test` for `channel`."""
    return {
        "schema": SCHEMA,
        "kind": "test",
        "channel": channel,
        "text": "Test message from the diplomatic-signal monitor: this channel works.",
    }


def envelope(
    payload: Payload, alert_id: str, attempt: int, possible_duplicate: bool, created: str
) -> Payload:
    """The payload with its delivery fields, as sent; private keys (`_...`) left out."""
    public = {k: v for k, v in payload.items() if not k.startswith("_")}
    head = {
        "schema": public.pop("schema", SCHEMA),
        "kind": public.pop("kind", "item"),
        "id": alert_id,
        "attempt": attempt,
        "possible_duplicate": possible_duplicate,
        "created": created,
    }
    return {**head, **public}


def webhook_body(document: Payload) -> bytes:
    """The exact bytes signed and sent: compact, UTF-8, key order as built."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
