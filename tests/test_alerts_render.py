"""Email and Slack rendering: hostile feed text stays text, headers stay exactly as built."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from html.parser import HTMLParser

import pytest

from monitor.alerts.payload import (
    build_digest_payload,
    build_health_payload,
    build_item_payload,
    envelope,
)
from monitor.alerts.render import (
    EMAIL_HEADERS,
    email_bytes,
    has_header_fix,
    header_text,
    render_email,
    render_slack,
)
from monitor.errors import DeliveryError, ParseError
from monitor.parse.feed import parse_feed
from tests.alerts_fixtures import NOW, SIGNALS
from tests.conftest import SHARED, needs_shared

HOSTILE_TITLE = (
    "Embassy statement é =?UTF-8?Q?=0A?=Bcc: injected@evil.test\r\nBcc: x@evil.test"
    "\u2028X-Evil: 1 <script>alert(1)</script> @channel <!here>"
)


def _document(
    title: str = HOSTILE_TITLE,
    url: str | None = "javascript:alert(1)",
    duplicate: bool = False,
    attempt: int = 1,
) -> dict[str, object]:
    item = {
        "id": 7,
        "title": title,
        "url": url,
        "published": None,
        "first_seen": "2026-11-26T12:00:00Z",
        "lang": "en",
    }
    payload = build_item_payload(
        item,
        {"name": "kremlin-en", "url": "http://k.test/f"},
        {"score": 3.0, "signals": json.dumps(SIGNALS)},
        "elevated",
    )
    return envelope(payload, "0123456789abcdef", attempt, duplicate, "2026-11-26T12:00:00Z")


def _wire(document: dict[str, object]) -> bytes:
    msg = render_email(
        document,
        sender="monitor@example.test",
        to=("a@example.test",),
        message_id_domain="monitor.local",
        now=NOW,
    )
    return email_bytes(msg)


def test_render_hostile_title_gives_exactly_the_expected_headers() -> None:
    """CR/LF, U+2028 and `=?UTF-8?Q?=0A?=Bcc:` in a title never create a header (CVE-2024-6923)."""
    data = _wire(_document())
    parsed = message_from_bytes(data, policy=policy.default)
    assert sorted(parsed.keys()) == sorted(EMAIL_HEADERS)
    assert b"\nBcc" not in data
    assert b"\nX-Evil" not in data
    subject = str(parsed["Subject"])
    assert "\n" not in subject
    assert "=?" not in subject
    assert "Bcc: injected" in subject
    assert parsed["Message-ID"] == "<0123456789abcdef@monitor.local>"
    assert parsed["X-Monitor-Attempt"] == "1"


def test_render_html_part_has_no_active_content() -> None:
    """Feed text is escaped in HTML; a javascript: link is not linked at all."""
    parsed = message_from_bytes(_wire(_document()), policy=policy.default)
    html_part = parsed.get_body(("html",))
    text_part = parsed.get_body(("plain",))
    assert html_part is not None
    assert text_part is not None
    html = html_part.get_content()
    assert "<script" not in html.lower()
    assert "javascript:" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "javascript:" not in text_part.get_content()


def test_render_http_link_is_anchor_and_text() -> None:
    """An http(s) link appears both as the anchor target and as visible text."""
    parsed = message_from_bytes(
        _wire(_document("Plain title", "https://k.test/a?b=1&c=2")), policy=policy.default
    )
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<a href="https://k.test/a?b=1&amp;c=2">https://k.test/a?b=1&amp;c=2</a>' in html


def test_render_possible_duplicate_is_visible() -> None:
    """A re-send after a crash says so in the subject and body, and carries its attempt."""
    parsed = message_from_bytes(
        _wire(_document("T", duplicate=True, attempt=3)), policy=policy.default
    )
    assert str(parsed["Subject"]).startswith("[monitor] [possible duplicate]")
    assert parsed["X-Monitor-Attempt"] == "3"
    assert "POSSIBLE DUPLICATE" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "a\r\nb",
        "a\nb",
        "a\u2028b",
        "=?UTF-8?Q?=0A?=Bcc: x@evil.test",
        "a\x1b[2Jb",
        "a\x00b",
        "=?utf-8?b?QmNjOiB4QGV2aWwudGVzdA==?=",
        "x" * 500,
    ],
)
def test_render_header_text_is_one_safe_line(text: str) -> None:
    """header_text leaves no line break, control character or encoded word, and truncates."""
    out = header_text(text)
    assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", out)
    assert "=?" not in out
    assert len(out) <= 150


def test_render_email_bytes_refuses_extra_headers() -> None:
    """The serialized message is checked: an unexpected header makes it refuse to send."""
    msg = render_email(
        _document("T"),
        sender="m@example.test",
        to=("a@example.test",),
        message_id_domain="monitor.local",
        now=NOW,
    )
    msg["Bcc"] = "x@evil.test"
    with pytest.raises(DeliveryError) as caught:
        email_bytes(msg)
    assert caught.value.permanent


def test_render_header_fix_probe_matches_this_python() -> None:
    """has_header_fix reports whether email.policy carries verify_generated_headers."""
    assert has_header_fix() == hasattr(policy.default, "verify_generated_headers")


def test_render_slack_escapes_markup_and_mentions() -> None:
    """Slack text escapes &, <, > and breaks @channel / <!here> so nobody is paged."""
    text = render_slack(_document())["text"]
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "<!here>" not in text
    assert "@channel" not in text
    assert "javascript:" not in text
    safe = render_slack(_document("T", "https://k.test/a|b>c"))["text"]
    assert "<https://k.test/a%7Cb%3Ec|Link:>" in safe


def test_render_digest_and_health_have_subjects() -> None:
    """Digest and health alerts render with their own subjects and the items listed."""
    item = _document("Item one", "https://k.test/1")
    digest = envelope(
        build_digest_payload(
            [("id1", item)], "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "budget"
        ),
        "d1",
        1,
        False,
        "2026-11-27T00:00:00Z",
    )
    parsed = message_from_bytes(_wire(digest), policy=policy.default)
    assert "digest: 1 alert(s)" in str(parsed["Subject"])
    assert "Item one" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    health = envelope(
        build_health_payload({"name": "kremlin-en", "consecutive_failures": 5}, "failing"),
        "h1",
        1,
        False,
        "2026-11-26T12:00:00Z",
    )
    parsed = message_from_bytes(_wire(health), policy=policy.default)
    assert "feed kremlin-en is failing" in str(parsed["Subject"])


class _TagAudit(HTMLParser):
    """Collects every tag and attribute of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


_OUR_TAGS = {"html", "head", "meta", "body", "h2", "h3", "p", "blockquote", "strong", "a"}


def _audit_html(document: dict[str, object]) -> None:
    parsed = message_from_bytes(_wire(document), policy=policy.default)
    audit = _TagAudit()
    audit.feed(parsed.get_body(("html",)).get_content())  # type: ignore[union-attr]
    for tag, attrs in audit.tags:
        assert tag in _OUR_TAGS, tag
        for name, value in attrs:
            assert name in ("charset", "style", "href"), name
            if name == "href":
                assert str(value).startswith(("http://", "https://")), value


@pytest.mark.slow
@needs_shared
def test_render_sanitize_corpus_gives_no_active_content() -> None:
    """Every feedparser sanitize-corpus file, raw and parsed, renders to inert HTML."""
    files = sorted((SHARED / "corpora/feedparser/wellformed/sanitize").glob("*.xml"))
    assert len(files) > 100
    for path in files:
        raw = path.read_text("utf-8", errors="replace")
        _audit_html(_document(raw[:2000], raw[:300]))
        try:
            feed = parse_feed(path.read_bytes(), feed_lang="en")
        except ParseError:
            continue
        for item in feed.items:
            _audit_html(_document(item.title + item.body[:500], item.url))
