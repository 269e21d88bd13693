"""Who is in a sentence, and whether a contact there is between Russia and the US.

A contact (the rule's anchor: a call, talks, a visit) counts when its sentence names a
Russian actor and a US actor, or one compound naming both ("Russia-US", "Putin and
Trump"); a rule may let the voice of the text ("I", "we", "the President") stand for
one side when nobody else is named. The actors closest to the anchor are its
participants: when one of them is a third party ("Kazakh leader's meeting with Trump",
"talks with President Tokayev"), the contact is that party's, not a US–Russia one,
unless both sides are as close too (trilateral talks). A dash or colon ends that
neighbourhood: "— Kremlin" after a headline names who speaks, not who met.

Overlapping actor terms resolve to the longest: "Russian-Mongolian" is one third-party
mention, not also a Russian one; "Russia-US-Ukraine" one compound naming both.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from monitor.signals.document import (
    CHARS_PER_WORD,
    SENTENCE_REACH,
    Around,
    Evaluation,
    Hit,
    Named,
)
from monitor.signals.rules import Actor, Rule

# What ends the neighbourhood of a contact word: a dash or colon introducing who speaks,
# a semicolon, or the verb of saying ("..., the Kremlin says").
_CLAUSE = re.compile(r" - |[:;] | (?:says|said|told|заявил|сообщил)")
# Which of two overlapping mentions is kept: "Russia-US-Ukraine" names both sides, not
# the third party inside it; "Russia-Ukraine" names a third party, not Russia alone.
_RANK: Final = MappingProxyType({"both": 3, "third": 2, "ru": 1, "us": 1, "speaker": 0})
# Words after which a mention is what is talked about, not who talks.
_TOPIC_WORDS = frozenset(
    {
        "on",
        "about",
        "over",
        "of",
        "regarding",
        "concerning",
        "discuss",
        "discusses",
        "discussed",
        "discussing",
        "о",
        "об",
        "по",
        "вокруг",
        "насчет",
        "обсудил",
        "обсудили",
        "обсуждает",
        "обсуждают",
    }
)
# "with" or "between", then at most three words (titles, a first name) before a mention
_SPEAKER_HEAD_WORDS = 6  # "Russian Deputy Foreign Minister Sergei Ryabkov:" names who speaks
_WITH_BEFORE = re.compile(r"(?<!\w)(?:with|between|с|со|между)\s+(?:[\w.'-]+\s+){0,3}\Z")
_WORD_BEFORE = re.compile(r"(\w+)\W+\Z")
# What joins two mentions into one list or pair: a comma, "and", a slash, or a dash with
# no space around it ("Russia-US"; a spaced dash introduces who speaks: "— Kremlin").
_JOINED = re.compile(r"(?:\s*(?:,|and|&|и|/)?\s*|-)(?:the\s+)?")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The sides check of one anchor: the actors that satisfy it, or why it failed."""

    participants: tuple[Named, ...] = ()
    problem: str = ""


_Entry = tuple[Named, int, bool]  # an actor, its words from the anchor, no clause between


_NO_ACTORS: Final = MappingProxyType(
    {
        False: Verdict(problem="no Russian and no US actor in the same sentence"),
        True: Verdict(problem="no Russian or US actor in the same sentence"),
    }
)


def actors_in(run: Evaluation, lo: int, hi: int) -> tuple[Named, ...]:
    """Every actor mention inside folded [lo, hi) in order, third parties and the speaker
    included, overlaps resolved (`_resolve`; cached per span)."""
    cached = run.actor_cache.get((lo, hi))
    if cached is None:
        rules = run.rules
        hits = [*_main_hits(run, lo, hi), *_lazy_hits(run, lo, hi)]
        kept = sorted(_resolve(hits, rules.actors), key=lambda h: h.start)
        cached = run.actor_cache[(lo, hi)] = tuple(Named(h, rules.actors[h.term]) for h in kept)
    return cached


def _main_hits(run: Evaluation, lo: int, hi: int) -> list[Hit]:
    """Russian, US and "both" mentions inside folded [lo, hi), before overlaps are
    resolved: what is scanned for in every text (cached per span)."""
    cached = run.main_cache.get((lo, hi))
    if cached is None:
        rules = run.rules
        starts, owners = run.keyed(rules.actor_terms)
        cached = []
        for i in range(bisect.bisect_left(starts, lo - rules.max_key_offset), len(starts)):
            if starts[i] >= hi:
                break
            hit = run.check(owners[i], starts[i])
            if hit is not None and hit.start >= lo and hit.end <= hi:
                cached.append(hit)
        run.main_cache[(lo, hi)] = cached
    return cached


def _resolve(hits: list[Hit], actors: dict[int, Actor]) -> list[Hit]:
    """Of overlapping mentions, one: the one containing the other ("Russia-Ukraine", not
    "Russia"), else the one of higher rank ("Russian, American" naming both, not
    "American negotiators"); longest first."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        clash = [k for k in kept if hit.start < k.end and k.start < hit.end]
        if not clash:
            kept.append(hit)
        elif not any(k.start <= hit.start and hit.end <= k.end for k in clash) and all(
            _RANK[actors[hit.term].side] > _RANK[actors[k.term].side] for k in clash
        ):
            kept = [k for k in kept if k not in clash] + [hit]
    return kept


def side_sentences_near(run: Evaluation, rule: Rule, positions: list[int]) -> list[bool]:
    """For anchors whose keys start at the folded `positions`, whether each may pass
    `rule.sides`, judged by unverified candidates before anything is verified: a Russian
    and a US candidate in its sentence ("both", "pair"), or either ("one"), or either
    close enough to be the other party of the speaker ("both-or-speaker"); within
    `sides_within` words if the rule says so."""
    rules = run.rules
    offset = rules.max_key_offset
    reach = (
        SENTENCE_REACH if rule.sides_within is None else (rule.sides_within + 1) * CHARS_PER_WORD
    ) + offset
    either = rules.side_needs["one"][0]
    if rule.sides == "one":
        return [_in_sentence(run, either, pos, reach) for pos in positions]
    ru, us = rules.side_needs["pair"]
    near = (rule.counterpart_within + 1) * CHARS_PER_WORD + offset
    speaker = rule.sides == "both-or-speaker"
    # the speaker's counterpart must be one the rule lets it pair with
    partners = rule.speaker_with if speaker else either
    return [
        (_in_sentence(run, ru, pos, reach) and _in_sentence(run, us, pos, reach))
        or (speaker and _in_sentence(run, partners, pos, near))
        for pos in positions
    ]


def _in_sentence(run: Evaluation, terms: tuple[int, ...], pos: int, reach: int) -> bool:
    """Whether a candidate of `terms` lies within `reach` characters of `pos` with no
    sentence boundary between them (the nearest on each side decides)."""
    key = (terms, pos, reach)
    found = run.screen_cache.get(key)
    if found is None:
        keys = run.candidate_starts(terms)
        i = bisect.bisect_left(keys, pos)
        found = run.screen_cache[key] = (
            i < len(keys) and keys[i] < pos + reach and not run.boundary_between(pos, keys[i])
        ) or (i > 0 and keys[i - 1] > pos - reach and not run.boundary_between(keys[i - 1], pos))
    return found


def _passage_sentence(run: Evaluation, pos: int) -> tuple[int, int]:
    lo, hi = run.sentence(pos)
    if pos < run.title_end:
        return lo, min(hi, run.title_end)
    return max(lo, run.title_end), hi


def _around(run: Evaluation, anchor: Hit, lo: int, hi: int) -> Around:
    key = (anchor.start, anchor.end, lo, hi)
    found = run.around_cache.get(key)
    if found is None:
        named = actors_in(run, lo, hi)
        text, search = run.folded.text, _CLAUSE.search
        gaps, clear = [], []
        for n in named:
            a, b = _gap(anchor, n.hit)
            gaps.append(run.words_between(a, b) if b > a else 0)
            clear.append(search(text, a, b) is None)
        found = run.around_cache[key] = Around(named, tuple(gaps), tuple(clear))
    return found


def _gap(anchor: Hit, hit: Hit) -> tuple[int, int]:
    if hit.start >= anchor.end:
        return anchor.end, hit.start
    if hit.end <= anchor.start:
        return hit.end, anchor.start
    return anchor.start, anchor.start


def check_sides(run: Evaluation, rule: Rule, anchor: Hit, lo: int, hi: int) -> Verdict:
    """Whether the actors of the anchor's sentence [lo, hi) make its contact a
    US–Russia one under `rule.sides`."""
    early = _lacking_before_scan(run, rule, anchor, lo, hi)
    if early is not None:
        return early
    around = _around(run, anchor, lo, hi)
    limit = rule.sides_within
    heading = _heading_end(run, anchor, lo)
    named = [
        (n, gap, clear)
        for n, gap, clear in zip(around.named, around.gaps, around.clear, strict=True)
        if (limit is None or gap <= limit) and not n.hit.start < heading
    ]
    ru = [n for n in named if n[0].side in ("ru", "both")]
    us = [n for n in named if n[0].side in ("us", "both")]
    third = any(n.side == "third" for n, _, _ in named)
    close = _with_their_lists(
        run, around, [n for n in named if n[1] <= rule.counterpart_within and n[2]]
    )
    speaker: list[_Entry] = []
    if rule.sides == "one":
        ok = bool(ru or us)
    elif rule.sides == "pair":
        ok = _named_together(run, around, limit)
    elif rule.sides == "both-or-speaker" and not (ru and us):
        ok, speaker = _speaker_stands_in(run, rule, anchor, named, ru or us, third, close)
    else:
        ok = bool(ru and us)
    if not ok:
        return Verdict(problem=_missing(rule, ru, us, third))
    problem = _someone_elses_contact(run, rule, anchor, around, close, lo)
    if problem:
        return Verdict(problem=problem)
    chosen = [min(group, key=lambda n: n[1])[0] for group in (ru, us, speaker) if group]
    return Verdict(tuple(dict.fromkeys(n for n in chosen if n.hit != anchor)))


def _lacking_before_scan(
    run: Evaluation, rule: Rule, anchor: Hit, lo: int, hi: int
) -> Verdict | None:
    """The failed verdict that the Russian, US and "both" mentions alone give (what
    every text is scanned for), before third parties and the speaker are looked for."""
    main = _main_hits(run, lo, hi)
    if not main:
        return _NO_ACTORS[rule.sides == "one"]
    sides = {run.rules.actors[hit.term].side for hit in main}
    ru_seen, us_seen = bool(sides & {"ru", "both"}), bool(sides & {"us", "both"})
    if not (ru_seen and us_seen) and (
        rule.sides in ("both", "pair")
        or (
            rule.sides == "both-or-speaker"
            and not _speaker_may_stand_in(run, rule, anchor, main, lo, hi)
        )
    ):
        return Verdict(
            problem=_missing(
                rule, [ru_seen] if ru_seen else [], [us_seen] if us_seen else [], False
            )
        )
    return None


def _speaker_stands_in(
    run: Evaluation,
    rule: Rule,
    anchor: Hit,
    named: list[_Entry],
    one_side: list[_Entry],
    third: bool,
    close: list[_Entry],
) -> tuple[bool, list[_Entry]]:
    """Whether the voice of the text stands in for the side not named ("I", "we", or a
    title that opens with the contact), with the actors of `one_side` as its
    counterpart; and the speaker's mentions near the anchor."""
    speaker = [n for n in named if n[0].side == "speaker" and n[1] <= rule.speaker_within and n[2]]
    wanted = run.rules.term_set(rule.speaker_with)
    ok = (
        (bool(speaker) or _opens_title(run, anchor))
        and not third
        and any(
            n in close and n[0].hit.term in wanted and _is_counterpart(run, anchor, n[0].hit, n[1])
            for n in one_side
        )
        and not _third_party_voice(run, anchor)
    )
    return ok, speaker


def _someone_elses_contact(
    run: Evaluation, rule: Rule, anchor: Hit, around: Around, close: list[_Entry], lo: int
) -> str:
    """Why the contact is a third party's, not US–Russian ("" if it is not): a third
    party urges it on, or is the counterpart."""
    urger = _third_party_urging(run, rule, anchor, around, lo) if rule.urged_by else None
    if urger is not None:
        term = run.rules.terms[urger.hit.term].source
        return f"a third party urges the contact on: {term!r}"
    counterpart = _third_counterpart(run, anchor, close)
    if counterpart is not None:
        term = run.rules.terms[counterpart.hit.term].source
        return f"the counterpart is a third party: {term!r} within {rule.counterpart_within} words"
    return ""


def _heading_end(run: Evaluation, anchor: Hit, lo: int) -> int:
    """Where a list of topics before a colon ends ("Nuclear tests, US actions: what Putin
    discussed with ..."), if the anchor comes after one: what it names is not a party.
    A short head without commas before a colon is who speaks ("Deputy Foreign Minister
    Ryabkov: talks with the US ...") and counts; so does everything when there is no
    colon before the anchor."""
    text = run.folded.text
    colon = text.rfind(": ", lo, anchor.start)
    if colon < 0 or (
        "," not in text[lo:colon] and run.words_between(lo, colon) <= _SPEAKER_HEAD_WORDS
    ):
        return -1
    return colon


def _speaker_may_stand_in(
    run: Evaluation, rule: Rule, anchor: Hit, main: list[Hit], lo: int, hi: int
) -> bool:
    """What the speaker standing in for a side needs at least (checked before the
    sentence is scanned for the speaker): an actor the rule lets the speaker complete
    a pair with, near the anchor where its counterpart stands, and a mention of the
    speaker in the sentence (or the anchor opening the title)."""
    wanted = run.rules.term_set(rule.speaker_with)
    return any(
        hit.term in wanted
        and (gap := run.words_between(*_gap(anchor, hit))) <= rule.counterpart_within
        and _is_counterpart(run, anchor, hit, gap)
        for hit in main
    ) and (
        _opens_title(run, anchor)
        or any(run.rules.actors[hit.term].side == "speaker" for hit in _lazy_hits(run, lo, hi))
    )


def _opens_title(run: Evaluation, anchor: Hit) -> bool:
    """Whether the anchor opens the title: a title that names no one before its contact
    ("Telephone conversation with the President of the United States", "Встреча с
    Президентом США") is in the voice of its publisher, who is the speaker."""
    return anchor.start < run.title_end and not any(
        char.isalnum() for char in run.folded.text[: anchor.start]
    )


def _third_party_voice(run: Evaluation, anchor: Hit) -> bool:
    """Whether a third party may be speaking in the body: its title names one ("Meeting
    with President of Finland", "Russian-Greek talks"), so "we" and "you" there may be
    the guest's or the guest's hosts'."""
    if anchor.start < run.title_end:
        return False
    return any(n.side == "third" for n in actors_in(run, 0, run.title_end))


def _lazy_hits(run: Evaluation, lo: int, hi: int) -> list[Hit]:
    """The speaker's and third parties' mentions in folded [lo, hi), looked for only
    where needed, by their own automaton and regexes (cached per span)."""
    cached = run.lazy_cache.get((lo, hi))
    if cached is not None:
        return cached
    text, scanner, regexes = run.folded.text, run.rules.lazy_scanner, run.rules.lazy_regexes
    found: list[Hit] = run.lazy_cache.setdefault((lo, hi), [])
    if scanner is not None:
        for term, starts in scanner.candidates(text[lo:hi]).items():
            for start in starts:
                if start == 0 and lo and text[lo - 1].isalnum():
                    continue  # the slice began inside a word
                hit = run.check(term, lo + start)
                if hit is not None and hit.end <= hi:
                    found.append(hit)
    for term in regexes:
        found += [
            Hit(m.start(), m.end(), term)
            for m in run.rules.terms[term].verify.finditer(text, lo, hi)
        ]
    return found


def _named_together(run: Evaluation, around: Around, limit: int | None) -> bool:
    """Whether a Russian and a US actor are named as one, the nearer of them at most
    `limit` words from the anchor: a compound naming both ("Russia-US"), or two mentions
    joined by "and", a comma or a dash ("Russia and the US", "Putin, Trump", "Путин и
    Трамп")."""
    near = [limit is None or gap <= limit for gap in around.gaps]
    named, text = around.named, run.folded.text
    if any(n.side == "both" and ok for n, ok in zip(named, near, strict=True)):
        return True
    return any(
        {named[i].side, named[i + 1].side} == {"ru", "us"}
        and (near[i] or near[i + 1])
        and _JOINED.fullmatch(text, named[i].hit.end, named[i + 1].hit.start) is not None
        for i in range(len(named) - 1)
    )


def _with_their_lists(run: Evaluation, around: Around, close: list[_Entry]) -> list[_Entry]:
    """`close`, and every actor listed together with one of them ("Russian, US and
    Ukrainian delegations", "US, Russia, China"): a list is a party as a whole."""
    named, text = around.named, run.folded.text
    joined = [
        _JOINED.fullmatch(text, named[i].hit.end, named[i + 1].hit.start) is not None
        for i in range(len(named) - 1)
    ]
    if not any(joined):
        return close
    found = {n[0] for n in close}  # each mention is named once in the sentence
    grown = list(close)
    for i, entry in enumerate(zip(named, around.gaps, around.clear, strict=True)):
        if entry[0] in found:
            continue
        if (i and joined[i - 1] and named[i - 1] in found) or (
            i + 1 < len(named) and joined[i] and named[i + 1] in found
        ):
            grown.append(entry)
            found.add(entry[0])
    return grown


def _third_counterpart(run: Evaluation, anchor: Hit, close: list[_Entry]) -> Named | None:
    """A third party that is a party to the anchor's contact: close to it (`close`:
    the actors within the counterpart window) and not its topic (after it, following
    "on", "about": "talks with the US on Iran"), unless a Russian and a US actor are
    parties too (trilateral talks, "US, Russia, China")."""
    parties = [n for n, _, _ in close if not (n.hit.start >= anchor.end and _is_topic(run, n.hit))]
    thirds = [n for n in parties if n.side == "third"]
    if not thirds:
        return None
    if any(n.side in ("ru", "both") for n in parties) and any(
        n.side in ("us", "both") for n in parties
    ):
        return None
    return thirds[0]


def _third_party_urging(
    run: Evaluation, rule: Rule, anchor: Hit, around: Around, lo: int
) -> Named | None:
    """A third party that urges the contact on rather than takes part: the actor just
    before one of the rule's `urged_by` words ("UN chief urges", "Erdogan calls for")
    earlier in the sentence."""
    for word in run.merged(rule.urged_by):
        if word.start >= anchor.start:
            break
        if word.start < lo:
            continue
        before = [n for n in around.named if n.hit.end <= word.start]
        if (
            before
            and before[-1].side == "third"
            and run.words_between(before[-1].hit.end, word.start) <= 2
        ):
            return before[-1]
    return None


def third_party_title(run: Evaluation, contacts: tuple[int, ...], within: int) -> bool:
    """Whether the item's title reports a contact (one of `contacts`) whose counterpart
    is a third party: "Telephone conversation with the President of France", "Russian-
    Mongolian talks". Its body's mentions of US–Russia contact are then relayed."""
    key = (contacts, within)
    found = run.third_party_titles.get(key)
    if found is None:
        found = run.third_party_titles[key] = any(
            _third_counterpart(run, hit, _close_actors(_around(run, hit, 0, run.title_end), within))
            is not None
            for hit in run.title_hits(contacts)
        )
    return found


def _close_actors(around: Around, within: int) -> list[_Entry]:
    return [
        (n, gap, clear)
        for n, gap, clear in zip(around.named, around.gaps, around.clear, strict=True)
        if gap <= within and clear
    ]


def _is_counterpart(run: Evaluation, anchor: Hit, hit: Hit, gap: int) -> bool:
    """Whether a mention stands where a contact's other party does: after "with" or
    "between" ("meeting with President Putin", "talks with Russia"), or right after the
    contact word ("meet Putin", "invited the US President"); not its subject ("Trump's
    conversation") or its destination ("invitation to visit Russia")."""
    if hit.start >= anchor.end and gap <= 1:
        return True
    if _is_topic(run, hit):  # "with the Chief Rabbi of Russia": Russia qualifies the rabbi
        return False
    return _WITH_BEFORE.search(run.folded.text, max(0, hit.start - 48), hit.start) is not None


def _is_topic(run: Evaluation, hit: Hit) -> bool:
    """Whether a mention follows a word that makes it the topic of a contact, not a party."""
    found = _WORD_BEFORE.search(run.folded.text, max(0, hit.start - 16), hit.start)
    return found is not None and found.group(1) in _TOPIC_WORDS


def _missing(rule: Rule, ru: Sequence[object], us: Sequence[object], third: bool) -> str:
    where = (
        "in the same sentence" if rule.sides_within is None else f"within {rule.sides_within} words"
    )
    if rule.sides == "one":
        return f"no Russian or US actor {where}"
    if not ru and not us:
        return f"no Russian and no US actor {where}"
    lacking = "US" if ru else "Russian"
    if rule.sides == "both-or-speaker" and third:
        return f"no {lacking} actor {where} (and a third party is named)"
    return f"no {lacking} actor {where}"
