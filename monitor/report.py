"""One self-contained HTML report: the outlook, a timeline chart, the flagged items (pure).

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

from monitor.clock import iso
from monitor.models import Signal
from monitor.outlook import LEVEL_THRESHOLDS, LEVELS, TYPE_STRENGTH, Outlook
from monitor.textclean import safe_link, strip_controls

TYPE_COLOURS = {
    "summit_planning": "#b2182b",
    "envoy_visit": "#ef8a62",
    "neutral_venue_meeting": "#f4a582",
    "leader_call": "#4393c3",
    "strategic_stability": "#92c5de",
    "arms_control": "#5aae61",
    "refusal": "#555555",
}
OTHER_COLOUR = "#bbbbbb"
LEVEL_COLOURS = {"quiet": "#eef5ee", "watch": "#fdf6dc", "elevated": "#fde3cf", "high": "#f9d0d0"}
LEVEL_TEXT = {"quiet": "#2d6a2d", "watch": "#8a6d00", "elevated": "#b35a00", "high": "#a40000"}
SNIPPET_CONTEXT = 110
MAX_SNIPPETS = 4
OUTLOOK_ROWS = 12

Segments = list[tuple[str, bool]]
_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class ReportItem:
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
    generated: datetime
    start: date
    end: date
    outlook: Outlook
    series: Sequence[Outlook]
    items: Sequence[ReportItem]


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


def snippets(document: str, spans: Sequence[tuple[int, int]], first: int = 0,
             context: int = SNIPPET_CONTEXT, limit: int = MAX_SNIPPETS) -> list[Segments]:
    """Short excerpts around the spans at or after `first`, nearby spans sharing one."""
    windows: list[tuple[int, int]] = []
    for start, end in merge_spans([s for s in spans if s[0] >= first], len(document)):
        lo, hi = _word_bounds(document, max(first, start - context),
                              min(len(document), end + context), start, end)
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
            _items_section(data.items),
        ]
    )
    return _PAGE.format(style=_STYLE, body=body)


def _header(data: ReportData) -> str:
    return (
        "<header><h1>Summit outlook report</h1>"
        f"<p class=meta>Generated {_text(iso(data.generated))} · flags from "
        f"{_text(data.start.isoformat())} to {_text(data.end.isoformat())} · "
        f"{len(data.items)} flagged item(s)</p></header>"
    )


def _outlook_section(outlook: Outlook) -> str:
    reasons = "".join(f"<li>{_text(r)}</li>" for r in outlook.reasons)
    rows = "".join(
        f"<tr><td>{_text(i.day.isoformat())}</td><td>{_text(i.feed)}</td>"
        f"<td>{_text(i.side or '-')}</td><td class=num>{i.contribution:+.2f}</td>"
        f"<td>{_text(i.title)}<div class=why>{_text('; '.join(i.reasons))}</div></td></tr>"
        for i in outlook.items[:OUTLOOK_ROWS]
    )
    more = len(outlook.items) - OUTLOOK_ROWS
    if more > 0:
        rows += f"<tr><td colspan=5 class=why>… and {more} more item(s) adding less</td></tr>"
    table = (
        "<table><thead><tr><th>day</th><th>feed</th><th>side</th><th>adds</th>"
        f"<th>item and reasons</th></tr></thead><tbody>{rows}</tbody></table>" if rows else ""
    )
    level = outlook.level if outlook.level in LEVELS else "quiet"
    return (
        "<section id=outlook><h2>Outlook</h2>"
        f"<p><span class='level level-{level}'>{_text(outlook.level)}</span> "
        f"score <b>{outlook.score:.2f}</b> as of {_text(outlook.as_of.isoformat())} "
        f"({outlook.window_days}-day window)</p>"
        f"<ul class=reasons>{reasons}</ul>{table}</section>"
    )


def _timeline_section(data: ReportData) -> str:
    legend = "".join(
        f"<span><i style='background:{TYPE_COLOURS[t]}'></i>{_text(t)}</span>"
        for t in TYPE_COLOURS
    )
    return (
        "<section id=timeline><h2>Timeline</h2>"
        "<p class=meta>Bars: signal strength reported each day, by type (refusals below the "
        "axis). Line: the outlook score on each day. Bands: outlook levels.</p>"
        f"{timeline_svg(data.series)}<p class=legend>{legend}"
        "<span><i class=line></i>outlook score</span></p></section>"
    )


def timeline_svg(series: Sequence[Outlook], width: int = 1000, height: int = 320) -> str:
    """Stacked daily bars by type, the outlook score as a line, level bands behind."""
    if not series:
        return "<p>No days to chart.</p>"
    chart = _Chart(width, height, series)
    parts = [*chart.bands(), *chart.bars(), chart.score_line(), *chart.axes()]
    return (
        f"<svg role=img viewBox='0 0 {width} {height}' "
        f"width='100%' aria-label='timeline of daily signal scores'>{''.join(parts)}</svg>"
    )


class _Chart:
    left, right, top, bottom = 44, 10, 10, 28

    def __init__(self, width: int, height: int, series: Sequence[Outlook]) -> None:
        self.width, self.height, self.series = width, height, series
        self.daily = [o.daily[-1] if o.daily else None for o in series]
        positives = [d.positive for d in self.daily if d] + [o.score for o in series]
        self.y_max = max([LEVEL_THRESHOLDS[0][1] * 1.2, *positives]) * 1.05
        self.y_min = -max([d.refusal for d in self.daily if d] + [0.0])
        self.step = (width - self.left - self.right) / len(series)

    def y(self, value: float) -> float:
        span = self.y_max - self.y_min
        return self.top + (self.y_max - value) / span * (self.height - self.top - self.bottom)

    def bands(self) -> list[str]:
        ascending = list(reversed(LEVEL_THRESHOLDS))
        uppers = [t for _, t in ascending[1:]] + [self.y_max]
        out = []
        for (name, low), high in zip(ascending, uppers, strict=True):
            top, bottom = self.y(high), self.y(low)
            out.append(
                f"<rect x='{self.left}' y='{top:.1f}' width='{self.width - self.left - self.right}'"
                f" height='{bottom - top:.1f}' fill='{LEVEL_COLOURS[name]}'/>"
                f"<text x='{self.width - self.right - 4}' y='{top + 13:.1f}' text-anchor='end'"
                f" class=band>{name}</text>"
            )
        return out

    def bars(self) -> list[str]:
        out = []
        for index, day in enumerate(self.daily):
            if day is None:
                continue
            x = self.left + index * self.step + self.step * 0.15
            w = max(self.step * 0.7, 0.8)
            base = 0.0
            for kind, value in sorted(day.by_type.items(), key=lambda kv: _type_order(kv[0])):
                top, bottom = (base + value, base) if kind != "refusal" else (0.0, -value)
                if kind != "refusal":
                    base += value
                out.append(
                    f"<rect x='{x:.1f}' y='{self.y(top):.1f}' width='{w:.1f}' "
                    f"height='{self.y(bottom) - self.y(top):.1f}' "
                    f"fill='{TYPE_COLOURS.get(kind, OTHER_COLOUR)}'><title>"
                    f"{_text(day.day.isoformat())} {_text(kind)} {value:.2f}</title></rect>"
                )
        return out

    def score_line(self) -> str:
        points = " ".join(
            f"{self.left + (i + 0.5) * self.step:.1f},{self.y(o.score):.1f}"
            for i, o in enumerate(self.series)
        )
        return f"<polyline points='{points}' fill='none' stroke='#222' stroke-width='2'/>"

    def axes(self) -> list[str]:
        zero = self.y(0.0)
        out = [
            f"<line x1='{self.left}' x2='{self.width - self.right}' y1='{zero:.1f}' "
            f"y2='{zero:.1f}' stroke='#444'/>"
        ]
        for _, threshold in LEVEL_THRESHOLDS:
            out.append(
                f"<text x='{self.left - 6}' y='{self.y(threshold) + 4:.1f}' "
                f"text-anchor='end' class=tick>{threshold:g}</text>"
            )
        last = len(self.series) - 1
        for i in _tick_indexes(len(self.series)):
            x = self.left + (i + 0.5) * self.step
            anchor = "start" if i == 0 and last > 0 else "end" if i == last else "middle"
            out.append(
                f"<text x='{x:.1f}' y='{self.height - 8}' text-anchor='{anchor}' class=tick>"
                f"{_text(self.series[i].as_of.isoformat())}</text>"
            )
        return out


def _type_order(kind: str) -> int:
    order = list(TYPE_STRENGTH)
    return order.index(kind) if kind in order else len(order)


def _tick_indexes(count: int, ticks: int = 6) -> list[int]:
    if count <= ticks:
        return list(range(count))
    step = (count - 1) / (ticks - 1)
    return sorted({round(n * step) for n in range(ticks)})


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
        if link else ""
    )
    meta = " · ".join(
        _text(v) for v in (item.feed, item.published or item.first_seen, item.status,
                           " ".join(item.signal_types))
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
