"""Events: the items that report one contact, grouped, with the reason each joined (pure).

A news wire writes twenty items about one envoy visit and both capitals report the
same call: those items are one **event**. An item joins an event when, for some item
already in it:

- they are at most `GROUP_DAYS` days apart, and the event would span at most
  `MAX_EVENT_DAYS` days with it;
- their kinds agree (a leaders' call and a leaders' meeting agree when both name the
  two leaders: a call in which a meeting was agreed is one contact);
- and they share something concrete: titles alike (word-pair shingles, at least
  `TITLE_LIKENESS`), a place, an envoy or minister, or, for calls and meetings, both
  leaders.

The reason is recorded in words ("call, 1 day apart; same leaders"), and a reviewer
can split or merge events (`monitor events`); grouping never moves an item a
reviewer placed. An item's kind, actors and places come from its evidence: the
matcher's `actors` and `places` when it records them, else the lexicon applied to its
terms, sentences and title.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Final

from monitor.outlook import lexicon as lx
from monitor.outlook.grading import GRADE_NAMES, Grade, ItemGrade, grade_item

GROUP_DAYS = 3  # reports of one contact come within days of each other
MAX_EVENT_DAYS = 7  # a longer run of reports is a series of contacts, not one
TITLE_LIKENESS = 0.5
KINDS = ("meeting", "call", "visit", "talks", "stability", "refusal")
TYPE_KIND: Final = MappingProxyType(
    {
        "summit_planning": "meeting",
        "leader_call": "call",
        "envoy_visit": "visit",
        "neutral_venue_meeting": "talks",
        "strategic_stability": "stability",
        "arms_control": "stability",
        "refusal": "refusal",
    }
)
_KIND_ORDER = ("call", "visit", "talks", "stability", "meeting")
_KIND_WORDS: Final = MappingProxyType(
    {
        "meeting": "leaders' meeting discussed",
        "call": "leaders' or ministers' call",
        "visit": "envoy visit",
        "talks": "delegation talks",
        "stability": "strategic stability / arms control",
        "refusal": "refusal",
    }
)
_SHINGLE_WORD = re.compile(r"\w+")
_STOP = frozenset("a an the of in on at to for and with by from - и в на с о по к".split())


@dataclass(frozen=True, slots=True)
class ItemEvidence:
    """One flagged item as events and the outlook see it."""

    item_id: int
    feed: str
    side: str  # "ru" | "us" | ""
    title: str
    day: date
    types: tuple[str, ...]
    grade: ItemGrade
    kind: str
    actors: frozenset[str]
    places: frozenset[str]
    shingles: frozenset[str] = field(default_factory=frozenset)
    event_id: int | None = None
    why: str = ""  # why it is in its event


def evidence_of(
    item_id: int, feed: str, side: str, title: str, day: date, signals: Sequence[object]
) -> ItemEvidence:
    """An item's evidence from its flag's signals (dicts as stored in `flags.signals`)."""
    found: list[dict[str, object]] = [s for s in signals if isinstance(s, dict) and s.get("type")]
    types = tuple(sorted({str(s["type"]) for s in found}))
    sentences = [str(t) for s in found for t in _each(s.get("sentences"))]
    grade = grade_item(title, sentences, types, day, side)
    texts = [title, *sentences, *(str(t) for s in found for t in _each(s.get("terms")))]
    actors = _recorded(found, "actors", texts)
    if side and "leader_call" in types:  # a capital's call readout: its own leader spoke
        actors |= {f"leader:{side}"}
    return ItemEvidence(
        item_id=item_id, feed=feed, side=side, title=title, day=day, types=types,
        grade=grade, kind=kind_of(grade, types), actors=actors,
        places=_recorded(found, "places", texts) | grade.places, shingles=shingles(title),
    )  # fmt: skip


def _each(value: object) -> list[object]:
    """The entries of a stored list ([] for none)."""
    return list(value) if value and isinstance(value, Iterable) else []


def _recorded(signals: Sequence[dict[str, object]], key: str, texts: list[str]) -> frozenset[str]:
    """The matcher's own `actors` / `places` when it records them, else the lexicon's."""
    given = {str(v).lower() for s in signals for v in _each(s.get(key))}
    if key == "actors":
        given |= lx.actors_in(texts) if not given else _roles(given, texts)
    elif not given:
        given = set().union(*(lx.places_in(lx.fold(t)) for t in dict.fromkeys(texts)))
    return frozenset(given)


def _roles(actors: set[str], texts: list[str]) -> set[str]:
    roles = {f"leader:{lx.LEADERS[a][0]}" for a in actors if a in lx.LEADERS}
    return roles | {a for a in lx.actors_in(texts) if a.startswith("leader:")}


def kind_of(grade: ItemGrade, types: Iterable[str]) -> str:
    """What kind of contact an item reports: a refusal, a leaders' meeting, or the most
    specific of its signal types."""
    if grade.refusal:
        return "refusal"
    if grade.meeting or grade.grade >= Grade.AGREED:
        return "meeting"
    kinds = {TYPE_KIND.get(t, "talks") for t in types} - {"refusal"}
    return next((k for k in _KIND_ORDER if k in kinds), "talks")


def shingles(title: str) -> frozenset[str]:
    """The pairs of neighbouring words of a title, stop words left out."""
    words = [w for w in _SHINGLE_WORD.findall(lx.fold(title)) if w not in _STOP]
    return frozenset(" ".join(pair) for pair in itertools.pairwise(words))


def likeness(a: frozenset[str], b: frozenset[str]) -> float:
    """How alike two titles' shingles are (Jaccard, 0 when either is empty)."""
    return len(a & b) / len(a | b) if a and b else 0.0


def why_together(item: ItemEvidence, other: ItemEvidence) -> str | None:
    """Why two items report the same contact, in words; None when they do not."""
    gap = abs((item.day - other.day).days)
    if gap > GROUP_DAYS or not _kinds_agree(item, other):
        return None
    head = f"{item.kind}, {gap} day(s) apart"
    alike = likeness(item.shingles, other.shingles)
    if alike >= TITLE_LIKENESS:
        return f"{head}; titles {alike:.0%} alike"
    shared = _shared(item, other)
    return f"{head}; {shared}" if shared else None


def _kinds_agree(a: ItemEvidence, b: ItemEvidence) -> bool:
    if a.kind == b.kind:
        return True
    leaders = {"leader:ru", "leader:us"}
    return {a.kind, b.kind} == {"call", "meeting"} and leaders <= a.actors & b.actors


def _shared(a: ItemEvidence, b: ItemEvidence) -> str:
    places = sorted(a.places & b.places - {"third country"})
    people = sorted(x for x in a.actors & b.actors if ":" not in x and x not in lx.LEADERS)
    parts = [f"same place: {', '.join(places)}"] if places else []
    if people:
        parts.append(f"same people: {', '.join(people)}")
    if (
        not parts
        and a.kind in ("call", "meeting")
        and {"leader:ru", "leader:us"} <= (a.actors & b.actors)
    ):
        parts.append("same leaders")
    return "; ".join(parts)


def choose_event(
    item: ItemEvidence,
    events: Mapping[int, Sequence[ItemEvidence]],
    spans: Mapping[int, tuple[date, date]] | None = None,
) -> tuple[int, str] | None:
    """The event `item` belongs to among `events` (id -> items to compare with), with the
    reason; the nearest in time wins, then the most recent id. `spans` gives an event's
    first and last day when `events` holds only some of its items."""
    best: tuple[int, int, str] | None = None
    for event_id, members in events.items():
        days = [*(spans or {}).get(event_id, ()), *(m.day for m in members), item.day]
        if (max(days) - min(days)).days > MAX_EVENT_DAYS - 1:
            continue
        for member in members:
            if member.item_id == item.item_id:
                continue
            reason = why_together(item, member)
            gap = abs((item.day - member.day).days)
            if reason and (best is None or (gap, -event_id) < (best[0], -best[1])):
                best = (gap, event_id, f"with #{member.item_id}: {reason}")
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True, slots=True)
class Event:
    """Items that report one contact, and what they say together."""

    id: int
    items: tuple[ItemEvidence, ...]

    @property
    def first_day(self) -> date:
        """The day of the event's first item."""
        return min(i.day for i in self.items)

    @property
    def last_day(self) -> date:
        """The day of the event's last item."""
        return max(i.day for i in self.items)

    @property
    def lead(self) -> ItemEvidence:
        """The item that says the most: highest grade, then the earliest."""
        return max(self.items, key=lambda i: (i.grade.grade, bool(i.grade.refusal), -i.item_id))

    @property
    def kind(self) -> str:
        """The kind of contact, as its lead item reports it."""
        return self.lead.kind

    @property
    def grade(self) -> Grade:
        """The highest grade of the event's items."""
        return max(i.grade.grade for i in self.items)

    @property
    def sources(self) -> tuple[str, ...]:
        """The feeds that reported the event, each once."""
        return tuple(sorted({i.feed for i in self.items}))

    @property
    def label(self) -> str:
        """A short name for what the event reports (see `describe`)."""
        return describe(self.lead, self.items)


def describe(lead: ItemEvidence, items: Sequence[ItemEvidence] = ()) -> str:
    """A short name for what an event reports: "leaders' meeting placed (alaska, 2025-08-15)"."""
    pool = items or (lead,)
    places = sorted(set().union(*(i.places for i in pool)))
    people = sorted({a for i in pool for a in i.actors if ":" not in a})
    grade = lead.grade
    if grade.refusal:
        what = "a leaders' meeting" if grade.refusal == "meeting" else "talks"
        return _with(f"refusal of {what}", places, [])
    where = sorted(grade.meeting_places)
    if grade.grade == Grade.PLACED:
        when = [grade.meeting_date.isoformat()] if grade.meeting_date else []
        return _with("leaders' meeting announced or agreed", [*where, *when], [])
    if grade.grade == Grade.AGREED:
        return _with("leaders' meeting agreed in principle or being prepared", where, [])
    return _with(_KIND_WORDS.get(lead.kind, lead.kind), places, people)


def _with(head: str, places: Sequence[str], people: Sequence[str]) -> str:
    detail = [*people[:3], *places[:3]]
    return f"{head} ({', '.join(detail)})" if detail else head


def grade_name(grade: Grade) -> str:
    """The name of a grade as shown and stored."""
    return GRADE_NAMES[grade]


def group(items: Iterable[ItemEvidence]) -> list[Event]:
    """Events from items never grouped before, in day order (what ingesting them one by
    one in that order would give); ids are 1, 2, … in order of first report."""
    events: dict[int, list[ItemEvidence]] = {}
    for item in sorted(items, key=lambda i: (i.day, i.item_id)):
        nearby = {k: v for k, v in events.items() if (item.day - v[-1].day).days <= GROUP_DAYS}
        chosen = choose_event(item, nearby)
        if chosen is None:
            events[len(events) + 1] = [item]
        else:
            events[chosen[0]].append(item)
    return [Event(k, tuple(v)) for k, v in events.items()]
