"""The HTML report: self-contained, every feed string escaped, renders in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.models import Signal
from monitor.outlook.events import Event, evidence_of
from monitor.outlook.levels import OutlookSettings, compute_outlook, replay
from monitor.outlook.report import (
    ReportData,
    ReportItem,
    merge_spans,
    render_report,
    segments,
    snippets,
)
from tests.review_fixtures import build_db, invoke, realistic_rows

CHROMIUM = Path("/usr/bin/chromium")
EVIL_TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)> Summit \"date\" & 'venue'"


def report_item(title: str = EVIL_TITLE, url: str | None = "javascript:alert(3)") -> ReportItem:
    document = f"{title}\n\nBoth sides confirmed the <b>summit</b> date in Geneva."
    start = document.index("summit</b> date")
    return ReportItem(
        item_id=7,
        feed="white<house>",
        url=url,
        title=title,
        published="2025-08-08T00:00:00Z",
        first_seen="2025-08-08T10:00:00Z",
        score=2.0,
        status="new",
        signal_types=("summit_planning",),
        document=document,
        signals=(
            Signal(
                "summit_planning",
                "rule<x>",
                1.0,
                ("summit <date>",),
                ((start, start + 15),),
                ("sentence <i>",),
            ),
        ),
    )


def report_html(items: list[ReportItem]) -> str:
    signal = {"type": "summit_planning", "sentences": [EVIL_TITLE]}
    events = [
        Event(1, (evidence_of(7, "white<house>", "us", EVIL_TITLE, date(2025, 8, 8), [signal]),))
    ]
    settings = OutlookSettings()
    series = replay(events, date(2025, 7, 1), date(2025, 8, 10), settings)
    outlook = compute_outlook(events, date(2025, 8, 10), settings)
    return render_report(
        ReportData(
            datetime(2025, 8, 10, tzinfo=UTC),
            date(2025, 7, 1),
            date(2025, 8, 10),
            outlook,
            series,
            items,
            events,
        )
    )


def test_report_escapes_markup_in_feed_text() -> None:
    """Titles, feeds, rules, terms and evidence text appear escaped, never as markup."""
    html = report_html([report_item()])
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "white&lt;house&gt;" in html
    assert "rule&lt;x&gt;" in html
    assert "<mark>summit&lt;/b&gt; date</mark>" in html
    assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")


def test_report_drops_non_http_links() -> None:
    """javascript: links are not rendered as links at all; http(s) ones are."""
    assert "javascript:" not in report_html([report_item()])
    html = report_html([report_item(url="https://www.whitehouse.gov/a?b=1&c=<2>")])
    assert (
        "href='https://www.whitehouse.gov/a?b=1&amp;c=&lt;2&gt;'" in html or "href=" not in html
    )  # safe_link may refuse characters it deems unsafe


def test_report_has_no_external_resources() -> None:
    """The only http(s) URLs in the page are item links; a CSP forbids every fetch."""
    link = "https://www.whitehouse.gov/briefings/1"
    html = report_html([report_item(title="Plain title", url=link)])
    urls = re.findall(r"https?://[^\s'\"<>]+", html)
    assert urls == [link]
    assert "default-src 'none'" in html
    assert not re.search(r"<(link|script|iframe|object|embed)\b", html, re.IGNORECASE)
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    assert not [t for t in tags if re.search(r"\s(src|srcset|background)\s*=", t, re.I)]
    assert [t for t in tags if "href" in t and "href='#" not in t] == [
        f"<a href='{link}' rel='noopener noreferrer nofollow'>"
    ]
    assert "<a href='#item-7'>" in html  # events link to their items within the page


def test_report_chart_has_level_bands_and_bars() -> None:
    """The timeline SVG holds one band per level, a bar per day reported, and the score line."""
    html = report_html([report_item()])
    svg = html[html.index("<svg") : html.index("</svg>")]
    for level in ("quiet", "watch", "elevated", "high"):
        assert f"class=band>{level}</text>" in svg
    assert "2025-08-08 contact: 1 item(s)" in svg
    assert "<polyline" in svg


def test_report_segments_merge_overlaps() -> None:
    """Overlapping and out-of-range spans merge and clamp; snippets mark each span."""
    assert merge_spans([(5, 9), (0, 3), (2, 4), (8, 12), (20, 30)], 11) == [(0, 4), (5, 11)]
    assert segments("abcdef", [(1, 3)]) == [("a", False), ("bc", True), ("def", False)]
    doc = "x" * 500 + "HIT" + "y" * 500
    (only,) = snippets(doc, [(500, 503)], context=10)
    assert only == [("…" + "x" * 10, False), ("HIT", True), ("y" * 10 + "…", False)]
    words = "alpha beta gamma HIT delta epsilon zeta"
    (cut,) = snippets(words, [(17, 20)], context=8)
    assert cut == [("…gamma ", False), ("HIT", True), (" delta…", False)]


def test_report_command_writes_file(tmp_path: Path) -> None:
    """monitor report --html writes one file holding the outlook and every flagged item."""
    db, out = tmp_path / "m.db", tmp_path / "report.html"
    build_db(db, realistic_rows())
    result = invoke(db, ["report", "--since", "60d", "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.count("<article") == 6
    assert "\x1b" not in html
    assert "\u202e" not in html
    assert "<script" not in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    """A real headless browser renders the report to a non-trivial screenshot."""
    db, page, png = tmp_path / "m.db", tmp_path / "report.html", tmp_path / "shot.png"
    build_db(db, realistic_rows())
    assert invoke(db, ["report", "--since", "60d", "--html", str(page)]).exit_code == 0
    screenshot(page, png, tmp_path / "profile")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a blank 1200x1600 page compresses to a few KB


def screenshot(page: Path, png: Path, profile: Path) -> None:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        "--window-size=1200,1600",
        page.as_uri(),
    ]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=90,
        env={"HOME": str(profile), "PATH": "/usr/bin:/bin"},
    )
    assert png.exists(), shutil.which("chromium")


def test_report_lists_items_by_their_feed_date(tmp_path: Path) -> None:
    """Imported history shows in a report of its period; dismissed items are left out."""
    db, out = tmp_path / "m.db", tmp_path / "report.html"
    rows = realistic_rows()
    for row in rows:
        row.first_seen = "2026-11-20T00:00:00Z"  # imported long after publication
        row.published = "2025-08-01T00:00:00Z"
    rows[0].published = "2025-01-01T00:00:00Z"
    rows[1].status = "dismissed"
    build_db(db, rows)
    now = datetime(2025, 8, 10, 12, tzinfo=UTC)
    assert invoke(db, ["report", "--since", "30d", "--html", str(out)], now).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert [int(n) for n in re.findall(r"<article id='item-(\d+)'", html)] == [6, 5, 4, 3]
