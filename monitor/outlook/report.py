"""One self-contained HTML report: the outlook, a level timeline, events, flagged items (pure).

Nothing is loaded from anywhere: styles are inline, the chart is inline SVG, and a
Content-Security-Policy forbids every fetch, so the file works offline and a feed
text that slipped through could still not load anything. Every feed string goes
through `html.escape`; links are kept only when `safe_link` accepts them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from types import MappingProxyType
from typing import Final

from monitor.clock import iso
from monitor.models import Signal
from monitor.outlook.events import Event
from monitor.outlook.levels import LEVELS, DayLevel, Outlook
from monitor.parse.text import safe_link, strip_controls

TYPE_COLOURS: Final = MappingProxyType(
    {
        "summit_planning": "#b2182b",
        "envoy_visit": "#ef8a62",
        "neutral_venue_meeting": "#f4a582",
        "leader_call": "#4393c3",
        "strategic_stability": "#92c5de",
        "arms_control": "#5aae61",
        "refusal": "#555555",
    }
)
OTHER_COLOUR = "#bbbbbb"
GRADE_COLOURS: Final = MappingProxyType(
    {"placed": "#b2182b", "agreed": "#ef8a62", "contact": "#4393c3", "refusal": "#555555"}
)
GRADE_HEIGHT: Final = MappingProxyType({"placed": 3.0, "agreed": 2.0, "contact": 1.0})
LEVEL_COLOURS: Final = MappingProxyType(
    {"quiet": "#eef5ee", "watch": "#fdf6dc", "elevated": "#fde3cf", "high": "#f9d0d0"}
)
LEVEL_TEXT: Final = MappingProxyType(
    {"quiet": "#2d6a2d", "watch": "#8a6d00", "elevated": "#b35a00", "high": "#a40000"}
)
SNIPPET_CONTEXT = 110
MAX_SNIPPETS = 4
OUTLOOK_ROWS = 12
EVENT_ROWS = 200

Segments = list[tuple[str, bool]]
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class ReportItem:
    """One flagged item as the report shows it."""

    item_id: int
    feed: str
    url: str | None
    title: str
    published: str | None
    first_seen: str
    score: float
    status: str
    signal_types: tuple[str, ...]
    document: str | None  # title + "\n\n" + body of the matched revision; None if unknown
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one HTML report shows."""

    generated: datetime
    start: date
    end: date
    outlook: Outlook
    series: Sequence[DayLevel]
    items: Sequence[ReportItem]
    events: Sequence[Event] = ()


def merge_spans(spans: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clamped to [0, length], sorted, overlapping and touching ones merged."""
    clean = sorted((max(0, s), min(length, e)) for s, e in spans if min(length, e) > max(0, s))
    merged: list[tuple[int, int]] = []
    for start, end in clean:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def segments(text: str, spans: Sequence[tuple[int, int]], offset: int = 0) -> Segments:
    """`text` cut into (piece, highlighted) pairs; spans are offsets into a text at `offset`."""
    local = [(s - offset, e - offset) for s, e in spans]
    out: Segments = []
    pos = 0
    for start, end in merge_spans(local, len(text)):
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def snippets(
    document: str,
    spans: Sequence[tuple[int, int]],
    first: int = 0,
    context: int = SNIPPET_CONTEXT,
    limit: int = MAX_SNIPPETS,
) -> list[Segments]:
    """Short excerpts around the spans at or after `first`, nearby spans sharing one."""
    windows: list[tuple[int, int]] = []
    for start, end in merge_spans([s for s in spans if s[0] >= first], len(document)):
        lo, hi = _word_bounds(
            document, max(first, start - context), min(len(document), end + context), start, end
        )
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((lo, hi))
    return [_trimmed(document, lo, hi, spans) for lo, hi in windows[:limit]]


def _word_bounds(document: str, lo: int, hi: int, start: int, end: int) -> tuple[int, int]:
    """Widen nothing, but cut at spaces so excerpts do not begin or end mid-word."""
    if lo > 0:
        space = document.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < len(document):
        space = document.rfind(" ", end, hi)
        hi = space if space >= 0 else hi
    return lo, hi


def _trimmed(document: str, lo: int, hi: int, spans: Sequence[tuple[int, int]]) -> Segments:
    parts = segments(document[lo:hi], spans, lo)
    if lo > 0 and parts:
        parts[0] = ("…" + parts[0][0].lstrip(), parts[0][1])
    if hi < len(document) and parts:
        parts[-1] = (parts[-1][0].rstrip() + "…", parts[-1][1])
    return parts


def _text(value: object) -> str:
    return escape(strip_controls("" if value is None else str(value)), quote=True)


def _marked(parts: Segments) -> str:
    return "".join(f"<mark>{_text(t)}</mark>" if hit else _text(t) for t, hit in parts)


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document."""
    body = "\n".join(
        [
            _header(data),
            _outlook_section(data.outlook),
            _timeline_section(data),
            _events_section(data.events),
            _items_section(data.items),
        ]
    )
    return _PAGE.format(style=_STYLE, body=body)


def _header(data: ReportData) -> str:
    return (
        "<header><h1>Summit outlook report</h1>"
        f"<p class=meta>Generated {_text(iso(data.generated))} · flags from "
        f"{_text(data.start.isoformat())} to {_text(data.end.isoformat())} · "
        f"{len(data.events)} event(s) · {len(data.items)} flagged item(s)</p></header>"
    )


def _outlook_section(outlook: Outlook) -> str:
    reasons = "".join(f"<li>{_text(r)}</li>" for r in outlook.reasons)
    rows = "".join(
        f"<tr><td>#{h.event.id}</td><td>{_text(LEVELS[h.rank])}</td>"
        f"<td>{_text(h.event.first_day.isoformat())}..{_text(h.event.last_day.isoformat())}</td>"
        f"<td>{_text(', '.join(h.event.sources))}</td><td>{_text(h.event.label)}"
        f"<div class=why>{_text(h.set_by.grade.reason)}</div></td></tr>"
        for h in outlook.events[:OUTLOOK_ROWS]
    )
    table = (
        "<table><thead><tr><th>event</th><th>holds</th><th>reported</th><th>sources</th>"
        f"<th>what and why</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    level = outlook.level if outlook.level in LEVELS else "quiet"
    since = f" since {_text(outlook.since.isoformat())}" if outlook.since else ""
    return (
        "<section id=outlook><h2>Outlook</h2>"
        f"<p><span class='level level-{level}'>{_text(outlook.level)}</span>{since} "
        f"as of {_text(outlook.as_of.isoformat())} (score {outlook.score:.2f}, "
        f"{outlook.window_days}-day window)</p>"
        f"<ul class=reasons>{reasons}</ul>{table}</section>"
    )


def _timeline_section(data: ReportData) -> str:
    legend = "".join(
        f"<span><i style='background:{colour}'></i>{_text(grade)}</span>"
        for grade, colour in GRADE_COLOURS.items()
    )
    return (
        "<section id=timeline><h2>Timeline</h2>"
        "<p class=meta>Bars: the most concrete report of each day (placed, agreed, contact; "
        "refusals below the axis). Line: the outlook score of each day. Bands: levels.</p>"
        f"{timeline_svg(data.series)}<p class=legend>{legend}"
        "<span><i class=line></i>outlook score</span></p></section>"
    )


def timeline_svg(series: Sequence[DayLevel], width: int = 1000, height: int = 320) -> str:
    """Daily bars by the grade reported, the outlook score as a line, level bands behind."""
    if not series:
        return "<p>No days to chart.</p>"
    chart = _Chart(width, height, series)
    parts = [*chart.bands(), *chart.bars(), chart.score_line(), *chart.axes()]
    return (
        f"<svg role=img viewBox='0 0 {width} {height}' "
        f"width='100%' aria-label='timeline of the outlook level'>{''.join(parts)}</svg>"
    )


class _Chart:
    left, right, top, bottom = 44, 10, 10, 28
    y_max, y_min = float(len(LEVELS)), -1.0

    def __init__(self, width: int, height: int, series: Sequence[DayLevel]) -> None:
        self.width, self.height, self.series = width, height, series
        self.step = (width - self.left - self.right) / len(series)

    def y(self, value: float) -> float:
        span = self.y_max - self.y_min
        return self.top + (self.y_max - value) / span * (self.height - self.top - self.bottom)

    def bands(self) -> list[str]:
        out = []
        for rank, name in enumerate(LEVELS):
            top, bottom = self.y(rank + 1.0), self.y(float(rank))
            out.append(
                f"<rect x='{self.left}' y='{top:.1f}' width='{self.width - self.left - self.right}'"
                f" height='{bottom - top:.1f}' fill='{LEVEL_COLOURS[name]}'/>"
                f"<text x='{self.width - self.right - 4}' y='{top + 13:.1f}' text-anchor='end'"
                f" class=band>{name}</text>"
            )
        return out

    def bars(self) -> list[str]:
        out = []
        for index, day in enumerate(self.series):
            x = self.left + index * self.step + self.step * 0.15
            w = max(self.step * 0.7, 0.8)
            for grade, count in day.reported.items():
                top, bottom = (
                    (0.0, -0.8)
                    if grade.startswith("refusal")
                    else (GRADE_HEIGHT.get(grade, 0.5), 0.0)
                )
                key = "refusal" if grade.startswith("refusal") else grade
                colour = GRADE_COLOURS.get(key, OTHER_COLOUR)
                out.append(
                    f"<rect x='{x:.1f}' y='{self.y(top):.1f}' width='{w:.1f}' "
                    f"height='{self.y(bottom) - self.y(top):.1f}' fill='{colour}' "
                    f"fill-opacity='0.8'><title>{_text(day.day.isoformat())} {_text(grade)}: "
                    f"{count} item(s)</title></rect>"
                )
        return out

    def score_line(self) -> str:
        points = " ".join(
            f"{self.left + (i + 0.5) * self.step:.1f},{self.y(d.score):.1f}"
            for i, d in enumerate(self.series)
        )
        return f"<polyline points='{points}' fill='none' stroke='#222' stroke-width='2'/>"

    def axes(self) -> list[str]:
        zero = self.y(0.0)
        out = [
            f"<line x1='{self.left}' x2='{self.width - self.right}' y1='{zero:.1f}' "
            f"y2='{zero:.1f}' stroke='#444'/>"
        ]
        for rank in range(len(LEVELS) + 1):
            out.append(
                f"<text x='{self.left - 6}' y='{self.y(float(rank)) + 4:.1f}' "
                f"text-anchor='end' class=tick>{rank}</text>"
            )
        last = len(self.series) - 1
        for i in _tick_indexes(len(self.series)):
            x = self.left + (i + 0.5) * self.step
            anchor = "start" if i == 0 and last > 0 else "end" if i == last else "middle"
            out.append(
                f"<text x='{x:.1f}' y='{self.height - 8}' text-anchor='{anchor}' class=tick>"
                f"{_text(self.series[i].day.isoformat())}</text>"
            )
        return out


def _tick_indexes(count: int, ticks: int = 6) -> list[int]:
    if count <= ticks:
        return list(range(count))
    step = (count - 1) / (ticks - 1)
    return sorted({round(n * step) for n in range(ticks)})


def _events_section(events: Sequence[Event]) -> str:
    if not events:
        return "<section id=events><h2>Events</h2><p>None in this period.</p></section>"
    rows = "".join(
        f"<tr><td>#{e.id}</td><td>{_text(e.first_day.isoformat())}..{_text(e.last_day.isoformat())}"
        f"</td><td>{_text(e.kind)}</td><td>{_text(e.lead.grade.name)}</td>"
        f"<td>{_text(', '.join(e.sources))}</td><td>{_text(e.label)}<div class=why>"
        + "; ".join(
            f"<a href='#item-{i.item_id}'>#{i.item_id}</a> {_text(i.why or '')}" for i in e.items
        )
        + "</div></td></tr>"
        for e in events[:EVENT_ROWS]
    )
    return (
        f"<section id=events><h2>Events ({len(events)})</h2><table><thead><tr><th>event</th>"
        "<th>reported</th><th>kind</th><th>grade</th><th>sources</th><th>what, and its items"
        f"</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _items_section(items: Sequence[ReportItem]) -> str:
    if not items:
        return "<section id=items><h2>Flagged items</h2><p>None in this period.</p></section>"
    return (
        f"<section id=items><h2>Flagged items ({len(items)})</h2>"
        + "".join(_item(i) for i in items)
        + "</section>"
    )


def _item(item: ReportItem) -> str:
    spans = [span for s in item.signals for span in s.spans]
    title_spans = spans if item.document and item.document.startswith(item.title) else []
    title = _marked(segments(item.title, title_spans))
    link = safe_link(item.url)
    anchor = (
        f" <a href='{escape(link, quote=True)}' rel='noopener noreferrer nofollow'>source</a>"
        if link
        else ""
    )
    meta = " · ".join(
        _text(v)
        for v in (
            item.feed,
            item.published or item.first_seen,
            item.status,
            " ".join(item.signal_types),
        )
    )
    evidence = "".join(_evidence(s, item.document, len(item.title)) for s in item.signals)
    return (
        f"<article id='item-{item.item_id}'><h3>#{item.item_id} {title}{anchor}</h3>"
        f"<p class=meta>{meta} · score {item.score:.2f}</p>{evidence}</article>"
    )


def _tight(parts: Segments) -> Segments:
    """Blank lines inside an excerpt become single line breaks."""
    return [(_BLANK_LINES.sub("\n", text), hit) for text, hit in parts]


def _evidence(signal: Signal, document: str | None, title_length: int) -> str:
    colour = TYPE_COLOURS.get(signal.type, OTHER_COLOUR)
    head = (
        f"<div class=signal><span class=tag style='border-color:{colour}'>{_text(signal.type)}"
        f"</span> rule <code>{_text(signal.rule)}</code> weight {signal.weight:.2f}"
        f" · terms: {_text(', '.join(signal.terms))}"
    )
    if document is not None:
        quotes = snippets(document, signal.spans, first=title_length)
    else:
        quotes = [[(s, False)] for s in signal.sentences[:MAX_SNIPPETS]]
    body = "".join(f"<blockquote>{_marked(_tight(q))}</blockquote>" for q in quotes)
    return f"{head}{body}</div>"


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;
 padding:16px 24px;color:#1d1d1d;background:#fff}
h1{margin:0 0 4px;font-size:26px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
h3{font-size:16px;margin:0 0 4px}.meta{color:#666;font-size:13px;margin:2px 0 8px}
.level{display:inline-block;padding:3px 12px;border-radius:12px;font-weight:700;
 text-transform:uppercase;letter-spacing:.05em}
.level-quiet{background:#eef5ee;color:#2d6a2d}.level-watch{background:#fdf6dc;color:#8a6d00}
.level-elevated{background:#fde3cf;color:#b35a00}.level-high{background:#f9d0d0;color:#a40000}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;vertical-align:top;
 padding:4px 6px;border-bottom:1px solid #eee}td.num{text-align:right;white-space:nowrap}
td:first-child{white-space:nowrap}
.why{color:#666;font-size:12px}ul.reasons{margin:6px 0 12px}
article{border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;margin:10px 0}
.signal{margin:8px 0 4px;font-size:14px}.tag{border-left:4px solid;padding-left:6px;font-weight:600}
blockquote{margin:4px 0 4px 12px;padding:4px 10px;border-left:3px solid #ddd;color:#333;
 white-space:pre-wrap;overflow-wrap:anywhere}
mark{background:#ffe066;padding:0 1px}code{font-size:12px}
svg text.tick{font-size:11px;fill:#555}svg text.band{font-size:11px;fill:#777;
 text-transform:uppercase}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.legend i.line{height:2px;background:#222;vertical-align:3px}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Summit outlook report</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""
