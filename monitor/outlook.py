"""The summit outlook: flags over a rolling window into a level with reasons (pure).

How a score is built (all constants below; the README repeats them):

- Each flagged item contributes, per signal type it carries, the type's strength
  (`TYPE_STRENGTH`) times its prominence: the matcher's weight for that type, capped
  at 1.0, so a rule weighted 1.0 or more counts in full and a passing mention (a
  low-weight rule deep in a transcript) counts in proportion, never below
  `MIN_PROMINENCE`.
- Contributions decay with the item's age in days: a half-life of `HALF_LIFE_DAYS`.
- Repetition saturates: within each signal type, the window's reports are ranked by
  their decayed value and the n-th counts `REPEAT_DISCOUNT ** (n - 1)` (1, 1/2, 1/4 …),
  so ten briefings repeating one announcement add at most twice what it adds alone.
- Diversity: each distinct positive signal type beyond the first in the window adds
  `DIVERSITY_STEP` to a multiplier.
- Corroboration: when both a Russian and a US source reported a positive signal in
  the window, the positive sum is multiplied by `CORROBORATION_FACTOR`.
- Refusals (a meeting ruled out, postponed, cancelled) subtract `REFUSAL_STRENGTH`
  times prominence, decayed the same way, after the multipliers; the score never goes
  below zero.

Levels by score: quiet below 2, watch from 2, elevated from 5, high from 10
(`LEVEL_THRESHOLDS`). One fresh leader call alone is "watch"; a summit date announced
by one side is "watch", by both sides with a call or an envoy visit around it "high".
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

REFUSAL = "refusal"
TYPE_STRENGTH: dict[str, float] = {
    "summit_planning": 4.0,
    "envoy_visit": 2.5,
    "neutral_venue_meeting": 2.5,
    "leader_call": 2.0,
    "strategic_stability": 1.0,
    "arms_control": 1.0,
}
UNKNOWN_TYPE_STRENGTH = 0.5
REFUSAL_STRENGTH = 4.0
MIN_PROMINENCE = 0.1
HALF_LIFE_DAYS = 7.0
DIVERSITY_STEP = 0.15
REPEAT_DISCOUNT = 0.5
CORROBORATION_FACTOR = 1.3
DEFAULT_WINDOW_DAYS = 30

LEVELS = ("quiet", "watch", "elevated", "high")
LEVEL_THRESHOLDS: tuple[tuple[str, float], ...] = (
    ("high", 10.0),
    ("elevated", 5.0),
    ("watch", 2.0),
    ("quiet", 0.0),
)

RU, US = "ru", "us"
_SIDE_HOSTS = {RU: ("kremlin.ru", "mid.ru"), US: ("whitehouse.gov", "state.gov")}
_SIDE_FEED_NAMES = {
    RU: ("kremlin", "mid-ru", "mid_ru"),
    US: ("whitehouse", "white-house", "white_house", "state-dept", "state_dept", "state-gov"),
}
_SIDE_NAMES = {RU: "Russian", US: "US"}


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """One flagged item as the outlook sees it."""

    item_id: int
    feed: str
    side: str  # "ru" | "us" | "" when the source is neither
    title: str
    day: date
    score: float
    signals: tuple[tuple[str, float], ...]  # (type, weight), refusal included


@dataclass(frozen=True, slots=True)
class OutlookItem:
    """An item that moved the score, with what it added (negative for refusals)."""

    item_id: int
    feed: str
    side: str
    title: str
    day: date
    contribution: float
    types: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayScore:
    """Undecayed strength reported on one day, per signal type."""

    day: date
    by_type: dict[str, float] = field(default_factory=dict)

    @property
    def positive(self) -> float:
        return sum(v for t, v in self.by_type.items() if t != REFUSAL)

    @property
    def refusal(self) -> float:
        return self.by_type.get(REFUSAL, 0.0)


@dataclass(frozen=True, slots=True)
class Outlook:
    as_of: date
    level: str
    score: float
    reasons: list[str]
    items: list[OutlookItem]
    daily: list[DayScore]
    window_days: int = DEFAULT_WINDOW_DAYS


def level_for(score: float) -> str:
    for name, threshold in LEVEL_THRESHOLDS:
        if score >= threshold:
            return name
    return "quiet"


def level_rank(level: str) -> int:
    """Order of levels (quiet 0 .. high 3); unknown names rank below quiet."""
    return LEVELS.index(level) if level in LEVELS else -1


def source_side(feed: str, url: str | None = None, feed_url: str | None = None) -> str:
    """"ru" for Kremlin and Russian MFA sources, "us" for White House and State, else ""."""
    hosts = [(urlsplit(link).hostname or "").lower() for link in (url, feed_url) if link]
    for side, suffixes in _SIDE_HOSTS.items():
        if any(h == s or h.endswith("." + s) for h in hosts for s in suffixes):
            return side
    name = feed.lower()
    for side, prefixes in _SIDE_FEED_NAMES.items():
        if any(p in name for p in prefixes):
            return side
    return ""


def decay(age_days: int) -> float:
    return float(0.5 ** (max(age_days, 0) / HALF_LIFE_DAYS))


def _prominence(weight: float) -> float:
    return min(1.0, max(MIN_PROMINENCE, weight))


def _strength_of(kind: str) -> float:
    if kind == REFUSAL:
        return REFUSAL_STRENGTH
    return TYPE_STRENGTH.get(kind, UNKNOWN_TYPE_STRENGTH)


def type_strengths(record: FlagRecord) -> dict[str, float]:
    """Undecayed strength per signal type of one item (strongest rule per type)."""
    out: dict[str, float] = {}
    for kind, weight in record.signals:
        base = _strength_of(kind)
        out[kind] = max(out.get(kind, 0.0), base * _prominence(weight))
    return out


def in_window(records: Sequence[FlagRecord], as_of: date, window_days: int) -> list[FlagRecord]:
    first = as_of - timedelta(days=window_days - 1)
    return [r for r in records if first <= r.day <= as_of]


def compute_outlook(
    flags: Sequence[FlagRecord], as_of: date, window_days: int = DEFAULT_WINDOW_DAYS
) -> Outlook:
    """The outlook on `as_of` from the flags of the `window_days` days ending that day."""
    window = in_window(flags, as_of, window_days)
    items = _contributions(window, as_of)
    positive = sum(i.contribution for i in items if i.contribution > 0)
    refusal = -sum(i.contribution for i in items if i.contribution < 0)
    positive_types = sorted({t for i in items for t in i.types if t != REFUSAL})
    sides = {i.side for i in items if i.side and any(t != REFUSAL for t in i.types)}
    diversity = 1.0 + DIVERSITY_STEP * max(0, len(positive_types) - 1)
    corroborated = {RU, US} <= sides
    boost = CORROBORATION_FACTOR if corroborated else 1.0
    score = round(max(0.0, positive * diversity * boost - refusal), 3)
    reasons = _reasons(items, positive_types, diversity, corroborated, refusal, window_days)
    items.sort(key=lambda i: (-abs(i.contribution), -i.item_id))
    return Outlook(
        as_of=as_of,
        level=level_for(score),
        score=score,
        reasons=reasons,
        items=items,
        daily=daily_scores(window, as_of - timedelta(days=window_days - 1), as_of),
        window_days=window_days,
    )


@dataclass(frozen=True, slots=True)
class _Part:
    """One signal type of one item: its strength, age and decayed value."""

    record: FlagRecord
    kind: str
    strength: float
    age: int

    @property
    def value(self) -> float:
        return self.strength * decay(self.age)


def _contributions(window: Sequence[FlagRecord], as_of: date) -> list[OutlookItem]:
    """Per item, what each of its types adds: decayed, and discounted by its rank among
    the window's reports of the same type (the strongest counts in full)."""
    by_kind: dict[str, list[_Part]] = defaultdict(list)
    for record in window:
        for kind, strength in type_strengths(record).items():
            by_kind[kind].append(_Part(record, kind, strength, (as_of - record.day).days))
    counted: dict[int, list[tuple[_Part, int]]] = defaultdict(list)
    for group in by_kind.values():
        group.sort(key=lambda p: (-p.value, p.record.item_id))
        for rank, part in enumerate(group):
            counted[part.record.item_id].append((part, rank))
    return [_item(record, counted[record.item_id]) for record in window]


def _item(record: FlagRecord, parts: list[tuple[_Part, int]]) -> OutlookItem:
    total = 0.0
    reasons = []
    for part, rank in sorted(parts, key=lambda pr: -pr[0].value * REPEAT_DISCOUNT ** pr[1]):
        value = part.value * REPEAT_DISCOUNT**rank
        total += -value if part.kind == REFUSAL else value
        verb = "pulls down" if part.kind == REFUSAL else "adds"
        repeat = f", report {rank + 1} of its type x{REPEAT_DISCOUNT**rank:.2f}" if rank else ""
        reasons.append(
            f"{part.kind} {verb} {value:.2f} ({part.strength:.2f}, {part.age} d old{repeat})"
        )
    return OutlookItem(
        item_id=record.item_id,
        feed=record.feed,
        side=record.side,
        title=record.title,
        day=record.day,
        contribution=round(total, 3),
        types=tuple(sorted(p.kind for p, _ in parts)),
        reasons=tuple(reasons),
    )


def _reasons(
    items: Sequence[OutlookItem],
    positive_types: Sequence[str],
    diversity: float,
    corroborated: bool,
    refusal: float,
    window_days: int,
) -> list[str]:
    if not items:
        return [f"no flagged items in the last {window_days} days"]
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        for kind in item.types:
            counts[kind] += 1
    reasons = [
        f"{kind}: {counts[kind]} item(s)"
        for kind in sorted(counts, key=lambda k: -TYPE_STRENGTH.get(k, 0.0))
        if kind != REFUSAL
    ]
    if len(positive_types) > 1:
        reasons.append(f"{len(positive_types)} distinct signal types (x{diversity:.2f})")
    if corroborated:
        reasons.append(
            f"corroborated: both Russian and US sources report (x{CORROBORATION_FACTOR:.2f})"
        )
    else:
        sides = sorted({_SIDE_NAMES[i.side] for i in items if i.side in _SIDE_NAMES})
        if sides:
            reasons.append(f"reported by {' and '.join(sides)} sources only")
    if refusal > 0:
        reasons.append(f"refusal: {counts[REFUSAL]} item(s) pull the score down by {refusal:.2f}")
    reasons.append(f"recency: half-life {HALF_LIFE_DAYS:g} days over a {window_days}-day window")
    return reasons


def daily_scores(records: Iterable[FlagRecord], start: date, end: date) -> list[DayScore]:
    """Per-day, undecayed strength by type from `start` to `end` inclusive."""
    by_day: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for record in records:
        if start <= record.day <= end:
            for kind, strength in type_strengths(record).items():
                by_day[record.day][kind] += strength
    days = (end - start).days + 1
    return [
        DayScore(day, {k: round(v, 3) for k, v in sorted(by_day.get(day, {}).items())})
        for day in (start + timedelta(days=n) for n in range(max(days, 0)))
    ]


def outlook_series(
    flags: Sequence[FlagRecord], start: date, end: date, window_days: int = DEFAULT_WINDOW_DAYS
) -> list[Outlook]:
    """The outlook of every day from `start` to `end`: replaying history day by day."""
    ordered = sorted(flags, key=lambda r: r.day)
    days = [r.day for r in ordered]
    series = []
    for offset in range((end - start).days + 1):
        as_of = start + timedelta(days=offset)
        lo = bisect.bisect_left(days, as_of - timedelta(days=window_days - 1))
        hi = bisect.bisect_right(days, as_of)
        series.append(compute_outlook(ordered[lo:hi], as_of, window_days))
    return series


def sparkline(values: Sequence[float]) -> str:
    """Unicode block sparkline; zero is a baseline dot so quiet days stay visible."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0.0)
    if top <= 0:
        return "·" * len(values)
    return "".join(
        "·" if v <= 0 else blocks[min(len(blocks) - 1, int(v / top * (len(blocks) - 1) + 0.5))]
        for v in values
    )
