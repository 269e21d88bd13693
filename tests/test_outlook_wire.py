"""Months of working contacts without a dated summit, in wire style: high on no day.

The headlines are written for this test in the style of a news wire (attribution after a
dash, datelines); none is copied from any source.
"""

from __future__ import annotations

from datetime import date, timedelta

from monitor.outlook.events import evidence_of, group
from monitor.outlook.levels import OutlookSettings, replay

START = date(2025, 11, 1)
# (days after START, signal type, headline) — a negotiation track with a summit talked
# about, hoped for, recalled and refused, but never set.
WIRE: list[tuple[int, str, str]] = [
    (1, "summit_planning", "No rush for a Putin-Trump meeting, Kremlin spokesman says"),
    (
        3,
        "summit_planning",
        "Budapest ready to host the Russia-US summit once the sides are ready — Hungarian minister",
    ),
    (5, "summit_planning", "Conditions for a new Putin-Trump meeting have not matured — diplomat"),
    (6, "summit_planning", "Putin and Trump could meet in Budapest if talks on Ukraine advance"),
    (9, "envoy_visit", "US envoy Witkoff arrives in Moscow for talks — Kremlin"),
    (9, "envoy_visit", "Putin receives Witkoff and Kushner in the Kremlin"),
    (10, "envoy_visit", "Witkoff leaves Moscow after five hours of talks with Putin"),
    (12, "summit_planning", "Lavrov: the understandings reached in Anchorage remain the basis"),
    (15, "neutral_venue_meeting", "Russian and US delegations meet in Abu Dhabi"),
    (16, "neutral_venue_meeting", "Second day of Russia-US consultations in Abu Dhabi ends"),
    (20, "summit_planning", "Trump to meet Zelensky in Florida on Sunday after a call with Putin"),
    (21, "leader_call", "Putin and Trump spoke by phone, Kremlin aide says"),
    (24, "summit_planning", "Russia still ready for a summit in Budapest — Lavrov"),
    (30, "arms_control", "Moscow awaits a US answer on keeping New START limits for a year"),
    (38, "summit_planning", "Kremlin: a Putin-Trump meeting is possible but needs preparation"),
    (45, "envoy_visit", "Dmitriev holds talks with Witkoff in Miami"),
    (
        52,
        "neutral_venue_meeting",
        "Trilateral security talks of Russia, the US and Ukraine open in Abu Dhabi",
    ),
    (53, "neutral_venue_meeting", "Abu Dhabi talks end; next round expected in February"),
    (60, "summit_planning", "Putin and Trump met in Anchorage last August; no new date discussed"),
    (66, "arms_control", "New START expires; Moscow and Washington to keep talking — diplomat"),
    (70, "neutral_venue_meeting", "Russia-US-Ukraine round in Geneva ends after two days"),
    (75, "refusal", "Talks on New START follow-up postponed, Russian diplomat says"),
    (80, "summit_planning", "Trump says he would meet Putin at the right time"),
    (95, "summit_planning", "Kremlin: no proposals yet to organise another Putin-Trump summit"),
    (100, "envoy_visit", "Witkoff expected in Moscow again, Kremlin does not rule it out"),
    (110, "summit_planning", "Hungarian minister hopes the Budapest summit will happen in spring"),
    (125, "neutral_venue_meeting", "US and Russian delegations discuss embassies in Istanbul"),
]


def test_outlook_wire_long_track_without_a_date_never_reads_high() -> None:
    """A wire of envoy visits, rounds in third cities and summit talk: never high, mostly
    watch, quiet in its lulls."""
    items = [
        evidence_of(
            n,
            "wire",
            "",
            title,
            START + timedelta(days=offset),
            [{"type": kind, "sentences": [title]}],
        )
        for n, (offset, kind, title) in enumerate(WIRE, start=1)
    ]
    days = replay(group(items), START, START + timedelta(days=140), OutlookSettings())
    levels = [d.level for d in days]
    assert "high" not in levels, [(d.day, d.level) for d in days if d.level == "high"]
    assert levels.count("elevated") <= 0.25 * len(levels)
    assert levels.count("watch") > levels.count("elevated")
    assert "quiet" in levels


def test_outlook_wire_announcement_then_cancellation() -> None:
    """Set, then shelved: high from the announcement, down to watch the day it is cancelled."""
    day = date(2025, 10, 16)
    script: list[tuple[int, str, str]] = [
        (0, "leader_call", "Putin and Trump agree to meet in Budapest after a long phone call"),
        (4, "leader_call", "Lavrov and Rubio discuss preparing the Budapest summit by phone"),
        (7, "refusal", "Trump says he cancelled the meeting with Putin in Budapest"),
    ]
    items = [
        evidence_of(
            n,
            "wire",
            "",
            title,
            day + timedelta(days=offset),
            [{"type": kind, "sentences": [title]}],
        )
        for n, (offset, kind, title) in enumerate(script, start=1)
    ]
    levels = [
        d.level for d in replay(group(items), day, day + timedelta(days=10), OutlookSettings())
    ]
    assert levels[:7] == ["high"] * 7
    assert levels[7] == "watch"
