"""Hostile feed text never reaches a person unescaped: email, Slack, CLI, HTML report.

A hostile RSS feed (terminal escapes, OSC 8 hyperlinks, bidi overrides, markup,
Slack mentions, header-injection attempts, spreadsheet formulas, javascript: links)
is polled by `run --once` with an SMTP server and a Slack-format webhook receiver on
loopback. Then the text is made worse directly in the database (raw ESC, C1 and
CR/LF where the parser would have removed them), so the output layer is tested on
its own too, and every CLI command is run as a subprocess and its bytes checked.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.delivery_env import alerts_toml
from tests.security_env import (
    FLAGGED_BODY,
    FeedEntry,
    monitor,
    monitor_tty,
    rows,
    rss,
    security_config,
)
from tests.servers import TestServer, reply
from tests.smtp_server import SmtpServer
from tests.webhook_receiver import WebhookReceiver

OSC_TITLE = "\x1b]0;PWNED\x07"
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
BIDI = "\u202eevil\u202c \u2066x\u2069 \u200f"
RAW = f"{OSC_TITLE}\x1b[2J\x1b[31m{OSC8}{BIDI}\x9b31m\x07\x08\r\nFAKE LINE\u2028FAKE2"
TITLES = [
    f"Telephone talks {OSC_TITLE} \x1b[2J \x1b[31mred\x1b[0m {OSC8}",
    f"Telephone talks {BIDI} \u202a\u202b\u202d\u2067\u2068",
    "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; "
    "&quot;&gt;&lt;svg onload=alert(1)&gt; &lt;a href=&quot;javascript:x&quot;&gt;",
    "Alert &lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; @everyone @here @channel "
    "&amp; &lt;http://evil.example|click&gt; [t](http://evil.example)",
    "Subject\r\nBcc: victim@example.test\r\nX-Injected: 1 \u2028X-Evil: 1",
    "=?UTF-8?Q?=0A?=Bcc: x@example.test =?utf-8?b?DQpYLUV2aWw6IDE=?=",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]
LINKS = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://user:pw@evil.example/",
    "http://ok.example/a\u202eb",
    " JAVASCRIPT:alert(1)",
    "vbscript:msgbox(1)",
    "https://en.kremlin.ru/events/president/news/1",
    "http://evil.example/\\@ok",
    'https://ok.example/?q=<x>&y="z"',
    None,
]
BODY_EXTRA = (
    f' &lt;a href="javascript:alert(1)" onclick="x()"&gt;link&lt;/a&gt; {OSC8} '
    "&lt;iframe src=//evil.example&gt;&lt;/iframe&gt; <b onmouseover=alert(1)>bold</b>"
)
EMAIL_HEADERS = {
    "from", "to", "subject", "date", "message-id", "auto-submitted", "x-monitor-kind",
    "x-monitor-attempt", "mime-version", "content-type",
}  # fmt: skip
_BIDI_CHARS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029" + _BIDI_CHARS + "]")
_SCRIPT_URL = re.compile(r"(?i)(href|src|action)\s*=\s*[\"']?\s*(javascript|vbscript|data):")
_UNSAFE_KEEP_CR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029" + _BIDI_CHARS + "]")


def assert_terminal_safe(data: bytes, where: str, *, csv: bool = False) -> None:
    """No escape, C0/C1 control (but newline and tab), line separator or bidi control.

    List views must also keep one record per line: a CR/LF in a title cannot start a
    fake row (`show` prints bodies as the multi-line text they are, so it is exempt).
    """
    text = data.decode("utf-8")
    found = (_UNSAFE_KEEP_CR if csv else _UNSAFE).findall(text)
    assert not found, f"{where}: unsafe characters {found[:5]!r}"
    if not csv and not where.startswith("show"):
        assert not any(line.startswith("FAKE") for line in text.split("\n")), where


@dataclass
class World:
    folder: Path
    config: Path
    smtp: SmtpServer
    hook: WebhookReceiver

    @property
    def db(self) -> Path:
        return self.folder / "monitor.db"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One hostile poll through the real daemon, shared by the checks below."""
    folder = tmp_path_factory.mktemp("injection")
    server = TestServer()
    entries = [
        FeedEntry(f"urn:hostile:{i}", title, f"{FLAGGED_BODY} Item {i}.{BODY_EXTRA}", link)
        for i, (title, link) in enumerate(zip(TITLES, LINKS, strict=True))
    ]
    server.route("/feed", reply(rss(entries, title=f"Feed {OSC_TITLE}{BIDI}"),
                                content_type="application/rss+xml"))  # fmt: skip
    server.route("/broken", _hostile_error_answer())
    with SmtpServer() as smtp, WebhookReceiver() as hook:
        extra = alerts_toml(smtp_port=smtp.port) + (
            f'[[alerts.webhooks]]\nname = "chat"\nurl = "{hook.url}"\nformat = "slack"\n'
            'timeout = "3s"\n'
        )
        feeds = [{"name": "hostile", "url": server.url("/feed")},
                 {"name": "broken", "url": server.url("/broken")}]  # fmt: skip
        config = security_config(folder, feeds, extra, allow_private=True)
        run = monitor(config, "run", "--once")
        assert run.returncode == 0, run.stderr
        assert_terminal_safe(run.stdout + run.stderr, "run --once")
        # Two hours on, the further reports of the event alerted first go out as a digest.
        later = monitor(config, "run", "--once", env={"MONITOR_NOW": "2026-11-26T14:00:00Z"})
        assert later.returncode == 0, later.stderr
        yield World(folder, config, smtp, hook)
    server.close()


def _hostile_error_answer() -> object:
    """An error whose text comes from the server: a redirect to a hostile Location."""
    target = f"http://10.0.0.1/{OSC_TITLE}\u202e{'x' * 20}"
    return reply(b"", status=301, headers={"Location": target.encode("utf-8").decode("latin-1")})


def test_security_injection_pipeline_flags_every_hostile_item(world: World) -> None:
    """Setup check: every hostile item was stored, flagged and alerted on both channels, the
    first report of their event alone and the further ones in a digest."""
    flagged = rows(world.db, "SELECT count(*) AS n FROM flags WHERE flagged = 1")[0]["n"]
    assert flagged == len(TITLES)
    item_rows = rows(world.db, "SELECT state FROM outbox WHERE kind = 'item'")
    assert len(item_rows) == 2 * len(TITLES)
    assert {r["state"] for r in item_rows} <= {"sent", "folded"}
    digests = rows(world.db, "SELECT state FROM outbox WHERE kind = 'digest'")
    assert digests
    assert {r["state"] for r in digests} == {"sent"}
    assert len(world.smtp.handler.delivered) >= 2
    assert len(world.hook.requests) >= 2


def _messages(world: World) -> list[EmailMessage]:
    return [d.message() for d in world.smtp.handler.delivered]


def test_security_injection_email_headers_exact(world: World) -> None:
    """Every email carries exactly the expected headers, once each; subjects are clean."""
    for delivered, message in zip(world.smtp.handler.delivered, _messages(world), strict=True):
        names = [k.lower() for k in message]
        assert sorted(names) == sorted(EMAIL_HEADERS), names
        subject = str(message["Subject"])
        assert not _UNSAFE.search(subject)
        assert "\n" not in subject
        assert "=?" not in subject
        head = delivered.data.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            assert not re.match(rb"(?i)(bcc|x-injected|x-evil)\s*:", line), line


class _Markup(HTMLParser):
    """Collects tags, attributes and text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_no_active_content(document: str, where: str) -> None:
    """No script or frame tags, no event handlers, links only http(s) or in-page."""
    markup = _Markup()
    markup.feed(document)
    for tag, attrs in markup.tags:
        assert tag not in ("script", "iframe", "object", "embed", "img", "foreignobject", "use"), (
            where, tag,
        )  # fmt: skip
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert re.match(r"(https?://|#)", value or ""), (where, tag, value)
    assert not _UNSAFE_KEEP_CR.search("".join(markup.text)), where
    assert not _SCRIPT_URL.search(document), where


def test_security_injection_email_bodies_inert(world: World) -> None:
    """Plain part has no controls; HTML part has no active content and only http(s) links."""
    for message in _messages(world):
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None
        assert html is not None
        assert not _UNSAFE_KEEP_CR.search(plain.get_content()), plain.get_content()
        assert_no_active_content(html.get_content(), "email html")


def test_security_injection_slack_text_escaped(world: World) -> None:
    """Slack text: no mentions, no raw < > & outside the renderer's own links."""
    texts = [json.loads(r.body)["text"] for r in world.hook.requests]
    assert any("&lt;!channel&gt;" in t for t in texts)
    for text in texts:
        assert not _UNSAFE.search(text), text
        for mention in ("<!channel", "<!here", "<!everyone", "@everyone", "@here", "@channel"):
            assert mention not in text, (mention, text)
        quotes_off = re.sub(r"(?m)^>", "", text)  # the renderer's own block quotes
        without_links = re.sub(r"<https?://[^\s<>|]+\|[^<>]*>", "", quotes_off)
        assert "<" not in without_links, text
        assert ">" not in without_links, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", without_links), text
        assert not re.search(r"(?i)<\s*(javascript|vbscript|data):", text), text


def _cli_outputs(world: World) -> Iterator[tuple[str, bytes, bool]]:
    ids = [str(r["id"]) for r in rows(world.db, "SELECT id FROM items ORDER BY id")][:5]
    commands: list[list[str]] = [
        ["items"], ["items", "--json"], ["search", "telephone"], ["search", "--json", "talks"],
        ["feeds"], ["feeds", "--json"], ["flagged"], ["flagged", "--json"],
        ["outlook"], ["outlook", "--json"], ["alerts"], ["alerts", "--json"],
        ["export", "--format", "jsonl"], ["export", "--format", "json"],
        *(["show", i] for i in ids), *(["show", "--json", i] for i in ids[:2]),
    ]  # fmt: skip
    for args in commands:
        done = monitor(world.config, *args)
        assert done.returncode == 0, (args, done.stderr)
        yield " ".join(args), done.stdout + done.stderr, False
    yield "export csv (terminal)", monitor_tty(world.config, "export", "--format", "csv"), True


def _poison_database(db: Path) -> None:
    """Put raw escapes where the parser would have removed them (older data, imports)."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE items SET title = title || ?, body = body || ?", (RAW, RAW))
        conn.execute("UPDATE items SET url = 'javascript:alert(1)' WHERE id = 1")
        conn.execute("UPDATE items SET url = ? WHERE id = 2", (f"http://ok.example/{RAW}",))
        conn.execute("UPDATE feeds SET last_error = ?, last_error_kind = ?", (RAW, RAW[:8]))
        conn.execute("UPDATE outbox SET last_error = ?", (RAW,))
        signals = json.dumps(
            [
                {
                    "type": f"leader_call{RAW}",
                    "rule": RAW,
                    "weight": 1.5,
                    "terms": [RAW],
                    "spans": [[0, 4]],
                    "sentences": [RAW],
                }
            ]
        )
        conn.execute("UPDATE flags SET signals = ?", (signals,))
        conn.execute("INSERT INTO review_events (item_id, action, note, user, at) "
                     "VALUES (1, 'note', ?, ?, '2026-11-26T12:00:00Z')", (RAW, RAW))  # fmt: skip
    conn.close()


@pytest.fixture(scope="module")
def poisoned(world: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A copy of the world whose database holds raw escapes in every text column."""
    folder = tmp_path_factory.mktemp("poisoned")
    for name in ("monitor.toml", "rules.toml", "monitor.db"):
        shutil.copy(world.folder / name, folder / name)
    _poison_database(folder / "monitor.db")
    return World(folder, folder / "monitor.toml", world.smtp, world.hook)


@pytest.fixture(params=["parsed", "raw"])
def stored(request: pytest.FixtureRequest) -> World:
    """The hostile text as the parser stored it, then with raw escapes put into the DB."""
    name = "world" if request.param == "parsed" else "poisoned"
    found: World = request.getfixturevalue(name)
    return found


@pytest.mark.slow
def test_security_injection_cli_output_safe(stored: World) -> None:
    """Every CLI view of hostile text is free of escapes, controls and bidi overrides."""
    for name, data, is_csv in _cli_outputs(stored):
        assert_terminal_safe(data, name, csv=is_csv)
        assert not is_csv or b"'=HYPERLINK" in data, data[:300]
        if "json" not in name and "csv" not in name:  # JSON escapes ESC as \u001b: inert
            assert b"PWNED" not in data, name


def test_security_injection_csv_formulas_neutralised(stored: World) -> None:
    """No CSV cell starts with a character a spreadsheet would evaluate."""
    done = monitor(stored.config, "export", "--format", "csv")
    table = list(csv.reader(io.StringIO(done.stdout.decode("utf-8"), newline="")))
    assert len(table) == len(TITLES) + 1
    for row in table[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    titles = {row[table[0].index("title")] for row in table[1:]}
    assert any(t.startswith("'=HYPERLINK") for t in titles)


def test_security_injection_report_inert(stored: World) -> None:
    """The HTML report of hostile items has no script, no javascript:, no handlers."""
    out = stored.folder / "report.html"
    done = monitor(stored.config, "report", "--html", str(out))
    assert done.returncode == 0, done.stderr
    document = out.read_text(encoding="utf-8")
    assert "<script" not in document.lower()
    assert_no_active_content(document, "report")
