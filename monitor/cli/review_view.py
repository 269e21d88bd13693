"""How review data looks: terminal lines, `show` text, export formats.

Every feed string passes `strip_controls` (multi-line text) or `one_line` (cells)
before it is printed, and the highlight escape codes are added only afterwards, so
the only escape sequences in the output are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import click

from monitor.cli.output import cell, when
from monitor.outlook.report import segments
from monitor.parse.text import strip_controls
from monitor.pipeline.report import document_of
from monitor.signals.explain import mark_sentence, who_and_where
from monitor.store.views import Flag, FlaggedItem, ItemView

FLAG_JSON_FIELDS = (
    "id", "feed", "url", "title", "published", "first_seen", "score", "signal_types",
    "signals", "status", "status_at", "status_by",
)  # fmt: skip
ITEM_ID = click.IntRange(1, 2**63 - 1)  # SQLite's INTEGER; beyond it no item can exist


def flag_json(row: FlaggedItem) -> dict[str, object]:
    """A flagged item as the JSON `monitor flagged --json` prints."""
    return {name: _json_value(getattr(row, name)) for name in FLAG_JSON_FIELDS}


def item_json(item: ItemView) -> dict[str, object]:
    """An item in full as the JSON `monitor show --json` prints: the stored columns in
    the table's order, then its flag, revisions, history and deliveries."""
    return asdict(item)


def _json_value(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def flagged_lines(rows: Sequence[FlaggedItem]) -> list[str]:
    """A header and one line per flagged item; its time is the item's own, in UTC."""
    if not rows:
        return ["no flagged items match"]
    lines = [
        f"{'ID':>6}  {'TIME':<17}  {'FEED':<14}  {'SCORE':>5}  {'SIGNALS':<34}  "
        f"{'STATUS':<9}  TITLE"
    ]
    for r in rows:
        types = ",".join(r.signal_types)
        lines.append(
            f"{r.id:>6}  {when(r.item_time):<17}  {cell(r.feed, 14):<14}  "
            f"{r.score:5.2f}  {cell(types, 34):<34}  {r.status:<9}  "
            f"{cell(r.title, 90)}"
        )
    return lines


def highlighted(text: str, spans: Sequence[tuple[int, int]], colour: bool, offset: int = 0) -> str:
    """`text` made safe, the spans (shifted by `offset`) marked in colour or [[brackets]]."""
    out = []
    for piece, hit in segments(text, spans, offset):
        safe = strip_controls(piece)
        if hit:  # marked in plain text too, so that piped output shows what matched
            safe = (
                click.style(safe, fg="yellow", bold=True, reverse=True) if colour else f"[[{safe}]]"
            )
        out.append(safe)
    return "".join(out)


def all_spans(flag: Flag) -> list[tuple[int, int]]:
    """Every matched span of every signal of a flag."""
    return [span for sig in flag.evidence for span in sig.spans]


def show_text(item: ItemView, colour: bool) -> str:
    """The whole of `monitor show`: head, evidence, text, revisions, deliveries, history."""
    flag = item.flag
    status = flag.status if flag else "not flagged"
    score = f"score {flag.score:.2f}" if flag else ""
    head = [
        f"#{item.id}  [{status}]  {score}  feed {cell(item.feed, 40)}",
        f"url:        {cell(item.url or '-', 200)}",
        f"published:  {cell(item.published or '-')}   first seen: {item.first_seen}",
    ]
    if flag:
        head.append(f"signals:    {cell(' '.join(flag.signal_types), 200)}")
    return "\n".join(
        [
            *head,
            "",
            *_evidence_block(flag),
            *_text_block(item, colour),
            *_revisions_block(item),
            *_deliveries_block(item),
            *_history_block(item),
        ]
    )


def _text_block(item: ItemView, colour: bool) -> list[str]:
    matched = document_of(item)
    if matched is None or item.flag is None:
        note = (
            "(the matched revision is no longer stored; shown without highlights)"
            if item.flag
            else ""
        )
        return [cell(item.title, 1000), note, "", strip_controls(item.body), ""]
    title, body, which = matched
    spans = all_spans(item.flag)
    lines = [f"-- matched {which} --"] if which != "current text" else []
    title_line = highlighted(title, spans, colour).replace("\n", " ")
    return [*lines, title_line, "", highlighted(body, spans, colour, len(title) + 2), ""]


def _evidence_block(flag: Flag | None) -> list[str]:
    """What fired, who and where, and each evidence sentence once with its spans marked
    [[like this]] (flags stored before marks list their terms instead)."""
    if not flag:
        return []
    lines = ["Evidence:"]
    for sig in flag.evidence:
        lines.append(f"  {cell(sig.type, 30)}  rule {cell(sig.rule, 60)}  weight {sig.weight:.2f}")
        who = who_and_where(sig.actors, sig.sides, sig.places)
        if who:
            lines.append(f"    {cell(who, 200)}")
        marks = sig.marks
        if len(marks) != len(sig.sentences):
            lines.append(f"    terms: {cell(', '.join(sig.terms), 200)}")
            marks = tuple(() for _ in sig.sentences)
        for sentence, marked in list(zip(sig.sentences, marks, strict=True))[:5]:
            lines.append(f"    » {cell(mark_sentence(sentence, marked), 400)}")
    return [*lines, ""]


def _revisions_block(item: ItemView) -> list[str]:
    revisions = item.revisions
    if not revisions:
        return []
    lines = [f"Earlier revisions ({len(revisions)}):"]
    for rev in revisions:
        lines.append(f"  replaced {rev.replaced_at}: {cell(rev.title, 100)}")
        lines.append(f"    {cell(rev.body, 160)}")
    return [*lines, ""]


def _deliveries_block(item: ItemView) -> list[str]:
    rows = item.deliveries
    lines = ["Alert deliveries:" if rows else "Alert deliveries: none"]
    for d in rows:
        error = f"  last error: {cell(d.last_error, 80)}" if d.last_error else ""
        lines.append(
            f"  {cell(d.channel, 30)}  {d.kind}  {d.state}  "
            f"attempts {d.attempts}  sent {d.sent_at or '-'}{error}"
        )
    return [*lines, ""]


def _history_block(item: ItemView) -> list[str]:
    rows = item.history
    lines = ["Review history:" if rows else "Review history: none"]
    for h in rows:
        text = f"  {cell(h.note, 160)}" if h.note else ""
        lines.append(f"  {h.at}  {h.action:<8}  by {cell(h.user, 30)}{text}")
    return lines
