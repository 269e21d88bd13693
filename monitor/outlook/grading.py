"""How concrete an item is about a US–Russia leaders' meeting (pure).

An item is read clause by clause: its title, and every evidence sentence the matcher
recorded. A clause that speaks of a **leaders' meeting** (a summit; a meeting or visit
naming both leaders, or one leader and nobody else; "the two presidents") is graded:

1. a word of refusal ("cancelled", "postponed", "no plans", "отменена") that is not
   negated ("not cancelled") makes it a **refusal**;
2. a hedge ("could", "if", "once", "hopes", "ready to", "возможно", "если", a question
   mark), the past ("held", "met", "following the summit", "состоялась") or a negated
   agreement ("not agreed") leaves it a **contact**: the meeting is only talked about;
3. agreement or announcement ("agreed", "will meet", "to be held", "договорились",
   "состоится") with a date to come ("on 15 August", "next week", "15 августа") or a
   place ("in Budapest", "in a third country"), or a date with a place or with
   preparation ("preparing the meeting of 15 August"), makes
   it **placed** — unless a third party (a host country's minister, an expert) is the
   speaker: they can report a plan, not announce a summit; the capital of an
   invitation ("invited him to Moscow") is not yet an agreed venue;
4. agreement without date or place, or preparation ("preparing", "invitation",
   "proposed", "подготовка", "пригласил") makes it **agreed**;
5. otherwise it is a **contact**.

Other clauses count as contacts when the matcher found a positive signal in the item,
or as a refusal of talks when they carry a word of refusal ("talks suspended").
The item takes its most concrete clause; an item that refuses a meeting is at most
a contact. Dates are read against the item's own day: "15 August" in an item of
9 August is the coming 15 August; a date already past is history, not a plan.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum
from types import MappingProxyType
from typing import Final

from monitor.outlook import lexicon as lx

MAX_DAYS_AHEAD = 120  # a meeting date further away than this is not taken as a plan
CLAUSE_CHARS = 160  # how much of a clause a reason quotes
NEAR_WORDS = 6  # a leader this close to a meeting word is its party
_WORD = re.compile(r"\w[\w'.-]*")
POSITIVE_TYPES = frozenset(
    {"leader_call", "envoy_visit", "neutral_venue_meeting", "strategic_stability",
     "arms_control", "summit_planning"}
)  # fmt: skip


class Grade(IntEnum):
    """How far an item says a summit has come: contact, agreed, placed."""

    NONE = 0
    CONTACT = 1
    AGREED = 2
    PLACED = 3


GRADE_NAMES: Final = MappingProxyType(
    {
        Grade.NONE: "none",
        Grade.CONTACT: "contact",
        Grade.AGREED: "agreed",
        Grade.PLACED: "placed",
    }
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one clause says: its grade, whether it refuses, and the cues that decided."""

    text: str
    where: str  # "title" | "evidence"
    meeting: bool
    grade: Grade
    refusal: bool
    cues: tuple[str, ...]
    places: frozenset[str]
    meeting_date: date | None


@dataclass(frozen=True, slots=True)
class ItemGrade:
    """An item's grade with the clause that set it, in words a reviewer can check."""

    grade: Grade
    refusal: str  # "" | "meeting" | "talks"
    meeting: bool  # some clause speaks of a leaders' meeting
    meeting_date: date | None
    places: frozenset[str]  # every place any clause names
    reason: str
    meeting_places: frozenset[str] = frozenset()  # the places of the clause that set the grade

    @property
    def name(self) -> str:
        """The grade's name."""
        return GRADE_NAMES[self.grade]


def read_clause(text: str, day: date, where: str = "evidence", source: str = "") -> Reading:
    """Grade one clause (a title or a sentence) of an item dated `day`; `source` is the
    side ("ru", "us", "") that published it, the speaker of an unattributed clause."""
    folded = lx.fold(lx.strip_dateline(text))
    places = frozenset(lx.places_in(folded))
    meeting_date, dated = _date_cue(folded, day)
    cues = _cues(folded, places, meeting_date, dated, where)
    meeting = _is_leaders_meeting(folded, source, where)
    refusal = bool(lx.REFUSAL.search(folded)) and not (
        lx.NOT_REFUSAL.search(folded) or lx.QUESTION_OR_CONDITION.search(folded)
    )
    if not meeting:
        return Reading(text, where, False, Grade.NONE, refusal, cues, places, None)
    grade = Grade.NONE if refusal else _meeting_grade(folded, cues)
    return Reading(
        text,
        where,
        True,
        grade,
        refusal,
        cues,
        places,
        meeting_date if grade == Grade.PLACED else None,
    )


def _is_leaders_meeting(text: str, source: str, where: str) -> bool:
    """A summit of the two leaders, or a meeting word whose party is a leader: with both
    sides present (the other side named, or speaking), and no envoy or third country's
    leader nearer to it (or, with one leader named, near it at all)."""
    sides = lx.leader_sides(text)
    bilateral_summit = bool(lx.BILATERAL.search(text) and lx.SUMMIT.search(text))
    if not sides or (len(sides) == 1 and not _other_side_present(text, sides, source)):
        return bilateral_summit
    if bilateral_summit or (len(sides) == 2 and lx.PAIR_TALKS.search(text)):
        return True
    words = _word_starts(text)
    leaders = [
        *(s for spans in lx.leader_spans(text).values() for s in spans),
        *_spans(lx.BOTH_LEADERS, text),
    ]
    summits = _spans(lx.SUMMIT, text)
    if summits and (len(sides) == 2 or _near(words, leaders, summits)):
        return True
    if summits and _leads(words, leaders) and not lx.THIRD_LEADERS.search(text):
        return True  # "President Biden …, and proposed a summit …": the subject is a leader
    unspoken = _without_speaker(text, where)  # same length: offsets still point into `text`
    others = [span for _, p in lx.OFFICIALS.values() for span in _spans(p, unspoken)]
    others += _spans(lx.THIRD_LEADERS, text)
    return any(
        _ours(words, meeting, leaders, others, len(sides) == 2)
        for meeting in _spans(lx.MEETING, text)
    )


SUBJECT_WORDS = 3  # a leader named within the first words of a clause is its subject


def _leads(words: list[int], leaders: Sequence[tuple[int, int]]) -> bool:
    """Whether a leader is named at the start of the clause (its subject)."""
    return any(bisect.bisect_right(words, start) <= SUBJECT_WORDS for start, _end in leaders)


def _ours(
    words: list[int],
    meeting: tuple[int, int],
    leaders: Sequence[tuple[int, int]],
    others: Sequence[tuple[int, int]],
    both: bool,
) -> bool:
    """Whether a meeting word's party is a leader: one is within NEAR_WORDS, and nobody
    else is nearer (with both leaders named) or near at all (with one)."""
    ours, theirs = _distance(words, meeting, leaders), _distance(words, meeting, others)
    return ours <= NEAR_WORDS and (ours < theirs if both else theirs > NEAR_WORDS)


def _distance(words: list[int], span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> int:
    at = bisect.bisect_right(words, span[0])
    return min((abs(bisect.bisect_right(words, s[0]) - at) for s in spans), default=1 << 30)


def _other_side_present(text: str, sides: set[str], source: str) -> bool:
    """With one leader named, the other side must speak (the source) or be named, and no
    third country's leader may be in the clause."""
    other = "us" if "ru" in sides else "ru"
    if lx.THIRD_LEADERS.search(text):
        return False
    return source == other or bool(lx.COUNTRY[other].search(text))


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _word_starts(text: str) -> list[int]:
    return [m.start() for m in _WORD.finditer(text)]


def _near(
    words: list[int], first: Sequence[tuple[int, int]], second: Sequence[tuple[int, int]]
) -> bool:
    """Whether some span of `first` is within NEAR_WORDS words of some span of `second`."""
    return any(_distance(words, b, first) <= NEAR_WORDS for b in second)


def _without_speaker(text: str, where: str) -> str:
    """The clause without its attribution ("… — Kremlin aide", "Ushakov: …")."""
    match = _speaker(text, where)
    if match is None:
        return text
    name = next(n for n, v in match.groupdict().items() if v is not None)
    start, end = match.span(name)
    return text[:start] + " " * (end - start) + text[end:]


def _cues(
    text: str, places: frozenset[str], meeting_date: date | None, dated: bool, where: str
) -> tuple[str, ...]:
    found = []
    for name, pattern in (
        ("agreement", lx.AGREEMENT),
        ("preparation", lx.PREPARATION),
        ("hedge", lx.HEDGE),
        ("past", lx.PAST),
        ("refusal", lx.REFUSAL),
        ("negated", lx.NEGATED_AGREEMENT),
    ):
        match = pattern.search(text)
        if match:
            found.append(f"{name}: {match.group(0).strip()}")
    if places:
        found.append(f"place: {', '.join(sorted(places))}")
    if meeting_date is not None:
        found.append(f"date: {meeting_date.isoformat()}")
    elif dated:
        found.append("date: soon")
    if _third_party_speaker(text, where):
        found.append("speaker: third party")
    return tuple(found)


def _has(cues: Sequence[str], name: str) -> bool:
    return any(c.startswith(f"{name}:") for c in cues)


def _meeting_grade(text: str, cues: Sequence[str]) -> Grade:
    # A third country's official saying the two will meet is commentary, not their agreement.
    if any(_has(cues, name) for name in ("hedge", "past", "negated", "speaker")):
        return Grade.CONTACT
    agreed, prepared = _has(cues, "agreement"), _has(cues, "preparation")
    # "invited to visit Moscow" names the host's capital, not an agreed venue
    dated = _has(cues, "date")
    placed = _has(cues, "place") and not lx.INVITATION.search(text)
    if (agreed and (dated or placed)) or (dated and (placed or prepared)):
        return Grade.PLACED
    if agreed or prepared:
        return Grade.AGREED
    return Grade.CONTACT


def _speaker(text: str, where: str) -> re.Match[str] | None:
    """The attribution of a clause: "X says …", "X: …", and in a title "… — X"."""
    found = lx.TITLE_SPEAKER.search(text) if where == "title" else None
    return found or lx.SPEAKER.search(text)


def _third_party_speaker(text: str, where: str) -> bool:
    match = _speaker(text, where)
    if match is None:
        return False
    speaker = next(g for g in match.groups() if g is not None)
    return bool(lx.THIRD_SPEAKERS.search(speaker))


def _date_cue(text: str, day: date) -> tuple[date | None, bool]:
    """The latest meeting date to come that the clause names, and whether it names one
    at all (a near date such as "next week" or a month to come counts, undated)."""
    dates = [d for d in (_resolve(m, day) for m in lx.DAY_MONTH.finditer(text)) if d]
    ahead = [d for d in dates if day <= d <= day + timedelta(days=MAX_DAYS_AHEAD)]
    if ahead:
        return max(ahead), True
    months = [_month_number(m.group("m1") or m.group("m2")) for m in lx.MONTH_ONLY.finditer(text)]
    month_ahead = any(0 <= (m - day.month) % 12 <= 3 for m in months)
    return None, bool(lx.NEAR_DATE.search(text)) or month_ahead


def _resolve(match: re.Match[str], day: date) -> date | None:
    month = _month_number(match.group("m1") or match.group("m2"))
    number = int(match.group("d1") or match.group("d2"))
    year_text = match.group("y1") or match.group("y2")
    years = [int(year_text)] if year_text else [day.year - 1, day.year, day.year + 1]
    candidates = []
    for year in years:
        try:
            candidates.append(date(year, month, number))
        except ValueError:
            continue
    return min(candidates, key=lambda d: abs((d - day).days), default=None)


def _month_number(name: str) -> int:
    for names in (lx.MONTHS_EN, lx.MONTHS_RU, lx.MONTHS_RU_IN):
        if name in names:
            return names.index(name) + 1
    return 0


def grade_item(
    title: str, sentences: Iterable[str], types: Iterable[str], day: date, source: str = ""
) -> ItemGrade:
    """The grade of one flagged item from its title, evidence sentences and signal types."""
    kinds = set(types)
    readings = [read_clause(title, day, "title", source)]
    # The matcher quotes a headline as one of its sentences: it is read once, as the title.
    readings += [
        read_clause(s, day, "evidence", source)
        for s in dict.fromkeys(sentences)
        if s.strip() and s.strip() != title.strip()
    ]
    best = max(readings, key=lambda r: (r.grade, r.where == "title"))
    grade = max(best.grade, Grade.CONTACT if kinds & POSITIVE_TYPES else Grade.NONE)
    refusal = _refusal_scope(readings, kinds)
    if refusal == "meeting":
        grade = min(grade, Grade.CONTACT)
    setter = best if best.grade == grade else None
    return ItemGrade(
        grade=grade,
        refusal=refusal,
        meeting=any(r.meeting for r in readings),
        meeting_date=setter.meeting_date if setter else None,
        places=frozenset().union(*(r.places for r in readings)),
        reason=_reason(grade, refusal, setter, readings, kinds),
        meeting_places=setter.places if setter and setter.meeting else frozenset(),
    )


def _refusal_scope(readings: Sequence[Reading], kinds: set[str]) -> str:
    if any(r.refusal and r.meeting for r in readings):
        return "meeting"
    if any(r.refusal and lx.CONTACT_WORDS.search(lx.fold(r.text)) for r in readings):
        return "talks"
    # The matcher saw a refusal the clauses do not show (a rule of its own): trust it,
    # unless the clauses hold the word and found it negated or asked about.
    if "refusal" in kinds and not any(lx.REFUSAL.search(lx.fold(r.text)) for r in readings):
        return "meeting" if any(r.meeting for r in readings) else "talks"
    return ""


def _reason(
    grade: Grade, refusal: str, setter: Reading | None, readings: Sequence[Reading], kinds: set[str]
) -> str:
    if refusal:
        clause = next((r for r in readings if r.refusal), readings[0])
        what = "a leaders' meeting" if refusal == "meeting" else "talks"
        return f"refuses {what}: {_quote(clause)} [{'; '.join(clause.cues)}]"
    if setter is not None and setter.meeting:
        return f"{GRADE_NAMES[grade]}: {_quote(setter)} [{'; '.join(setter.cues) or 'no cue'}]"
    if grade == Grade.CONTACT:
        return f"contact: {', '.join(sorted(kinds & POSITIVE_TYPES)) or 'signal'}"
    return "no signal of a contact"


def _quote(reading: Reading) -> str:
    text = " ".join(reading.text.split())
    short = text if len(text) <= CLAUSE_CHARS else text[: CLAUSE_CHARS - 1] + "…"
    return f'{reading.where} "{short}"'
