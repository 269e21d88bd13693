"""How review data looks: terminal lines, `show` text, export formats.

Every feed string passes `strip_controls` (multi-line text) or `one_line` (cells)
before it is printed, and the highlight escape codes are added only afterwards, so
the only escape sequences in the output are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from monitor.cli.output import cell, when
from monitor.outlook.report import segments
from monitor.parse.text import strip_controls
from monitor.pipeline.report import document_of
from monitor.signals.explain import mark_sentence, who_and_where

FLAG_JSON_FIELDS = (
    "id", "feed", "url", "title", "published", "first_seen", "score", "signal_types",
    "signals", "status", "status_at", "status_by",
)  # fmt: skip
ITEM_ID = click.IntRange(1, 2**63 - 1)  # SQLite's INTEGER; beyond it no item can exist


def flag_json(row: dict[str, Any]) -> dict[str, object]:
    """A flagged item's row as the JSON `monitor flagged --json` prints."""
    return {name: row.get(name) for name in FLAG_JSON_FIELDS}


def flagged_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """A header and one line per flagged item; its time is the item's own, in UTC."""
    if not rows:
        return ["no flagged items match"]
    lines = [
        f"{'ID':>6}  {'TIME':<17}  {'FEED':<14}  {'SCORE':>5}  {'SIGNALS':<34}  "
        f"{'STATUS':<9}  TITLE"
    ]
    for r in rows:
        types = ",".join(r["signal_types"])
        lines.append(
            f"{r['id']:>6}  {when(r['item_time']):<17}  {cell(r['feed'], 14):<14}  "
            f"{float(r['score']):5.2f}  {cell(types, 34):<34}  {r['status']:<9}  "
            f"{cell(r['title'], 90)}"
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


def all_spans(flag: dict[str, Any]) -> list[tuple[int, int]]:
    """Every matched span of every signal of a flag."""
    return [(int(s), int(e)) for sig in flag["signals"] for s, e in sig.get("spans") or []]


def show_text(item: dict[str, Any], colour: bool) -> str:
    """The whole of `monitor show`: head, evidence, text, revisions, deliveries, history."""
    flag = item.get("flag")
    status = flag["status"] if flag else "not flagged"
    score = f"score {float(flag['score']):.2f}" if flag else ""
    head = [
        f"#{item['id']}  [{status}]  {score}  feed {cell(item['feed'], 40)}",
        f"url:        {cell(item['url'] or '-', 200)}",
        f"published:  {cell(item['published'] or '-')}   first seen: {item['first_seen']}",
    ]
    if flag:
        head.append(f"signals:    {cell(' '.join(flag['signal_types']), 200)}")
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


def _text_block(item: dict[str, Any], colour: bool) -> list[str]:
    matched = document_of(item)
    if matched is None:
        note = (
            "(the matched revision is no longer stored; shown without highlights)"
            if item.get("flag")
            else ""
        )
        return [cell(item["title"], 1000), note, "", strip_controls(str(item["body"])), ""]
    title, body, which = matched
    spans = all_spans(item["flag"])
    lines = [f"-- matched {which} --"] if which != "current text" else []
    title_line = highlighted(title, spans, colour).replace("\n", " ")
    return [*lines, title_line, "", highlighted(body, spans, colour, len(title) + 2), ""]


def _evidence_block(flag: dict[str, Any] | None) -> list[str]:
    """What fired, who and where, and each evidence sentence once with its spans marked
    [[like this]] (flags stored before marks list their terms instead)."""
    if not flag:
        return []
    lines = ["Evidence:"]
    for sig in flag["signals"]:
        lines.append(
            f"  {cell(sig.get('type'), 30)}  rule {cell(sig.get('rule'), 60)}"
            f"  weight {float(sig.get('weight', 0)):.2f}"
        )
        who = who_and_where(*(_strings(sig.get(key)) for key in ("actors", "sides", "places")))
        if who:
            lines.append(f"    {cell(who, 200)}")
        sentences, marks = sig.get("sentences") or [], sig.get("marks") or []
        if len(marks) != len(sentences):
            lines.append(f"    terms: {cell(', '.join(map(str, sig.get('terms') or [])), 200)}")
            marks = [[] for _ in sentences]
        for sentence, marked in list(zip(sentences, marks, strict=True))[:5]:
            lines.append(f"    » {cell(mark_sentence(str(sentence), _spans(marked)), 400)}")
    return [*lines, ""]


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _spans(value: object) -> list[tuple[int, int]]:
    """[[start, end], ...] from stored JSON, anything malformed left out."""
    if not isinstance(value, list):
        return []
    return [
        (int(v[0]), int(v[1]))
        for v in value
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
    ]


def _revisions_block(item: dict[str, Any]) -> list[str]:
    revisions = item["revisions"]
    if not revisions:
        return []
    lines = [f"Earlier revisions ({len(revisions)}):"]
    for rev in revisions:
        lines.append(f"  replaced {rev['replaced_at']}: {cell(rev['title'], 100)}")
        lines.append(f"    {cell(rev['body'], 160)}")
    return [*lines, ""]


def _deliveries_block(item: dict[str, Any]) -> list[str]:
    rows = item["deliveries"]
    lines = ["Alert deliveries:" if rows else "Alert deliveries: none"]
    for d in rows:
        error = f"  last error: {cell(d['last_error'], 80)}" if d["last_error"] else ""
        lines.append(
            f"  {cell(d['channel'], 30)}  {d['kind']}  {d['state']}  "
            f"attempts {d['attempts']}  sent {d['sent_at'] or '-'}{error}"
        )
    return [*lines, ""]


def _history_block(item: dict[str, Any]) -> list[str]:
    rows = item["history"]
    lines = ["Review history:" if rows else "Review history: none"]
    for h in rows:
        text = f"  {cell(h['note'], 160)}" if h["note"] else ""
        lines.append(f"  {h['at']}  {h['action']:<8}  by {cell(h['user'], 30)}{text}")
    return lines
