"""What an alert says, as neutral lines that each renderer escapes in its own way (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from monitor.alerts.payload import JSONValue, Payload, json_list, json_number, json_object

MAX_SIGNALS = 20
MAX_SENTENCES = 3
MAX_DIGEST_ITEMS = 200
SENTENCE_LIMIT = 400


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an alert's body, with how a channel should show it."""

    text: str
    link: str | None = None
    heading: bool = False
    quote: bool = False
    warning: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """An alert as subject and lines, the same for email and chat."""

    subject: str
    lines: list[Line]


def summarize(document: Payload) -> Summary:
    """Subject and body lines for one alert document (see `payload` for its schema)."""
    kind = str(document.get("kind", ""))
    if kind == "health" and document.get("event") == "churn":
        kind = "churn"
    build = _BUILDERS.get(kind, _unknown)
    subject, lines = build(document)
    head: list[Line] = []
    if document.get("possible_duplicate"):
        head.append(
            Line(
                "POSSIBLE DUPLICATE: an earlier attempt of this alert may have been "
                "delivered (same alert id).",
                warning=True,
            )
        )
        subject = f"[possible duplicate] {subject}"
    tail = [Line(""), Line(f"Alert id {document.get('id')}, attempt {document.get('attempt')}.")]
    return Summary(f"[monitor] {subject}", head + lines + tail)


def _item(doc: Payload) -> tuple[str, list[Line]]:
    item, feed = json_object(doc.get("item")), json_object(doc.get("feed"))
    score = json_number(doc.get("score"))
    title = str(item.get("title") or "(untitled)")
    lines = [
        Line(f"Possible summit signal, score {score:.1f}, from feed {feed.get('name')}."),
        Line(title, heading=True),
        Line("Link:", link=_link(item.get("url"))) if item.get("url") else Line("(no link)"),
        Line(
            f"Published {item.get('published') or 'unknown'}; first seen {item.get('first_seen')}."
        ),
    ]
    outlook = json_object(doc.get("outlook"))
    if outlook.get("level"):
        lines.append(Line(f"Summit outlook: {outlook['level']}."))
    event = json_object(doc.get("event"))
    if event.get("update_of"):
        lines.insert(
            0,
            Line(
                f"A further report of event #{event.get('id')}, first alerted as "
                f"{event['update_of']}."
            ),
        )
    elif event.get("id") is not None:
        lines.append(Line(f"Event #{event['id']}: further reports of it are marked as updates."))
    lines.append(Line("Why it was flagged:", heading=True))
    for signal in json_list(doc.get("signals"))[:MAX_SIGNALS]:
        lines.extend(_signal_lines(json_object(signal)))
    update = f"update of event #{event.get('id')}: " if event.get("update_of") else ""
    return f"{update}{score:.1f} {feed.get('name')}: {title}", lines


def _link(value: JSONValue) -> str | None:
    return value if isinstance(value, str) else None


def _signal_lines(signal: Payload) -> list[Line]:
    terms = ", ".join(str(t) for t in json_list(signal.get("terms")))
    lines = [
        Line(
            f"- {signal.get('type')} (rule {signal.get('rule')}, weight "
            f"{json_number(signal.get('weight')):.1f}): {terms}"
        )
    ]
    sentences = list(dict.fromkeys(str(t) for t in json_list(signal.get("sentences"))))
    for sentence in sentences[:MAX_SENTENCES]:
        lines.append(Line(str(sentence)[:SENTENCE_LIMIT], quote=True))
    return lines


def _digest(doc: Payload) -> tuple[str, list[Line]]:
    period = json_object(doc.get("period"))
    count = int(json_number(doc.get("count")))
    why = {
        "budget": "alert budget exceeded",
        "update": "further reports of events already alerted",
    }.get(str(doc.get("reason")), "digest")
    lines = [
        Line(
            f"{count} alert(s) gathered from {period.get('start')} to {period.get('end')} ({why})."
        )
    ]
    for value in json_list(doc.get("items"))[:MAX_DIGEST_ITEMS]:
        entry = json_object(value)
        item, feed = json_object(entry.get("item")), json_object(entry.get("feed"))
        score = json_number(entry.get("score"))
        types = " ".join(str(t) for t in json_list(entry.get("signal_types")))
        event = json_object(entry.get("event"))
        update = (
            f" (update of event #{event.get('id')}, alert {event.get('update_of')})"
            if event.get("update_of")
            else ""
        )
        lines.append(
            Line(
                f"- {score:.1f} {feed.get('name')}: {item.get('title')} [{types}]{update}",
                link=_link(item.get("url")),
            )
        )
    if count > MAX_DIGEST_ITEMS:
        lines.append(Line(f"... and {count - MAX_DIGEST_ITEMS} more (see `monitor flags`)."))
    return f"digest: {count} alert(s)", lines


def _feed_name(doc: Payload) -> str:
    feed = doc.get("feed")
    return str(feed.get("name") if isinstance(feed, dict) else feed)


def _health(doc: Payload) -> tuple[str, list[Line]]:
    name = _feed_name(doc)
    if doc.get("state") == "recovered":
        return f"feed {name} recovered", [Line(f"Feed {name} is being polled successfully again.")]
    lines = [
        Line(
            f"Feed {name} is failing: {doc.get('consecutive_failures')} consecutive failure(s); "
            f"last success {doc.get('last_success') or 'never'}; last error "
            f"{doc.get('last_error_kind') or 'unknown'}."
        ),
        Line("Run `monitor feeds` for details. Polling continues at a capped rate."),
    ]
    return f"feed {name} is failing", lines


def _outlook(doc: Payload) -> tuple[str, list[Line]]:
    level, previous = doc.get("level"), doc.get("previous")
    since = f" since {doc['since']}" if doc.get("since") else ""
    lines = [Line(f"Summit outlook is now {level}{since} (was {previous or 'none'}).")]
    lines += [Line(f"- {reason}") for reason in json_list(doc.get("reasons"))]
    return f"outlook: {level}", lines


def _churn(doc: Payload) -> tuple[str, list[Line]]:
    name = _feed_name(doc)
    lines = [
        Line(f"Feed {name}: {doc.get('detail') or doc.get('message')}"),
        Line("Its items were stored without alerting; review them with `monitor flags`."),
    ]
    return f"feed {name} re-published its items", lines


def _test(doc: Payload) -> tuple[str, list[Line]]:
    return "test message", [Line(str(doc.get("text") or ""))]


def _unknown(doc: Payload) -> tuple[str, list[Line]]:
    return f"alert ({doc.get('kind')})", [Line("An alert of an unknown kind.")]


_Builder = Callable[[Payload], tuple[str, list[Line]]]
_BUILDERS: Final[Mapping[str, _Builder]] = MappingProxyType(
    {
        "item": _item,
        "digest": _digest,
        "health": _health,
        "outlook": _outlook,
        "churn": _churn,
        "test": _test,
    }
)
