"""Rules for pulling the article text out of a press-release page."""

from __future__ import annotations

import time

import pytest

from monitor.errors import ParseError
from monitor.models import ErrorKind
from monitor.parse.article import decode_html, extract_article
from tests.conftest import FIXTURES

ARTICLE = FIXTURES / "kremlin-style-article.html"
KREMLIN_URL = "http://en.kremlin.ru/events/president/news/99999"
HTML_UTF8 = "text/html; charset=utf-8"


def extract(html: bytes | str, content_type: str | None = HTML_UTF8) -> str:
    data = html.encode("utf-8") if isinstance(html, str) else html
    return extract_article(data, url="https://example.org/a", content_type=content_type)


def test_extract_kremlin_page_gives_lead_then_body_paragraphs() -> None:
    """kremlin.ru markup: the lead, then the body's paragraphs, nothing else."""
    text = extract_article(ARTICLE.read_bytes(), url=KREMLIN_URL, content_type=HTML_UTF8)
    assert text == (
        "The presidents held a telephone conversation at the American side’s initiative.\n\n"
        "The two leaders discussed preparations for a possible meeting and agreed that their"
        " aides would stay in contact.\n\n"
        "They also exchanged views on strategic stability & arms control.\n"
        "Both sides noted the usefulness of the dialogue.\n\n"
        "The conversation was frank and businesslike."
    )


def test_extract_kremlin_page_drops_bottom_meta_scripts_and_chrome() -> None:
    """Tags, publication status, scripts, navigation and the footer never reach the text."""
    text = extract_article(ARTICLE.read_bytes(), url=KREMLIN_URL, content_type=HTML_UTF8)
    for unwanted in ("Publication status", "Topics", "shareButtons", "analytics", "Creative"):
        assert unwanted not in text


def test_extract_kremlin_selectors_work_on_any_host() -> None:
    """The same markup served from a mirror or a local test server is read the same way."""
    html = ARTICLE.read_bytes()
    local = extract_article(html, url="http://127.0.0.1:8080/news/1", content_type=HTML_UTF8)
    assert local == extract_article(html, url=KREMLIN_URL, content_type=HTML_UTF8)


def test_extract_lead_inside_body_is_not_repeated() -> None:
    """A lead placed inside the body container appears once."""
    html = (
        '<div class="entry-content e-content"><div class="read__lead"><p>Lead text here.</p></div>'
        "<p>Body paragraph that follows.</p></div>"
    )
    assert extract(html) == "Lead text here.\n\nBody paragraph that follows."


def test_extract_generic_prefers_article_element() -> None:
    """Elsewhere, the largest `<article>` is the text; nav, header and footer are ignored."""
    html = (
        "<html><body><nav><p>Home | News | Contact us today</p></nav>"
        "<article><p>Short teaser.</p></article>"
        "<article><h1>Joint statement</h1><p>The ministers met in Vienna.</p>"
        "<p>They agreed to continue the dialogue.</p></article>"
        "<footer><p>Copyright notice for the whole site</p></footer></body></html>"
    )
    assert extract(html) == "The ministers met in Vienna.\n\nThey agreed to continue the dialogue."


def test_extract_generic_uses_main_without_article() -> None:
    """Without `<article>`, the `<main>` element is used."""
    html = (
        "<body><header><p>Site header with a long enough slogan</p></header>"
        "<main><p>Main content paragraph one.</p><p>Paragraph two.</p></main></body>"
    )
    assert extract(html) == "Main content paragraph one.\n\nParagraph two."


def test_extract_generic_falls_back_to_densest_paragraph_block() -> None:
    """Without article or main, the block holding the most paragraph text wins."""
    html = (
        "<body><div class='side'><p>Related: a link</p></div>"
        "<div class='story'><p>First paragraph of the story.</p><p>Second paragraph, longer"
        " than the sidebar.</p></div></body>"
    )
    assert extract(html) == (
        "First paragraph of the story.\n\nSecond paragraph, longer than the sidebar."
    )


def test_extract_page_without_text_is_a_parse_error() -> None:
    """A page with no article text raises PARSE, so the feed's own text is kept."""
    with pytest.raises(ParseError) as caught:
        extract("<html><body><nav><p>Menu</p></nav><img src='x.jpg'></body></html>")
    assert caught.value.kind == ErrorKind.PARSE


@pytest.mark.parametrize("content_type", ["application/pdf", "image/jpeg", "application/json"])
def test_extract_non_html_is_not_a_page(content_type: str) -> None:
    """A PDF, image or JSON answer is refused as not an HTML page."""
    with pytest.raises(ParseError) as caught:
        extract("<p>" + "text " * 20 + "</p>", content_type=content_type)
    assert caught.value.kind == ErrorKind.NOT_A_FEED


def test_extract_charset_from_content_type() -> None:
    """The Content-Type charset decodes the page (windows-1251 Russian)."""
    html = "<article><p>Президент провёл телефонный разговор.</p></article>".encode("cp1251")
    text = extract(html, content_type="text/html; charset=windows-1251")
    assert text == "Президент провёл телефонный разговор."


def test_extract_charset_from_meta_after_1024_bytes() -> None:
    """Without a header charset, a `<meta charset>` is honoured even after byte 1024."""
    head = "<html><head><!--" + "x" * 2_000 + '--><meta charset="koi8-r"></head>'
    html = (head + "<body><main><p>Встреча министров в Женеве.</p></main></body>").encode("koi8-r")
    assert extract(html, content_type="text/html") == "Встреча министров в Женеве."


def test_extract_defaults_to_utf8_with_replacement() -> None:
    """No charset anywhere: UTF-8, and undecodable bytes become U+FFFD, not an error."""
    html = "<article><p>Заявление для прессы \xff</p></article>".encode()
    html = html.replace(b"\xc3\xbf", b"\xff")
    assert extract(html, content_type=None) == "Заявление для прессы \ufffd"


def test_extract_latin1_label_means_windows_1252() -> None:
    """An iso-8859-1 label decodes as windows-1252, as browsers do (curly quotes survive)."""
    assert decode_html(b"\x93quoted\x94", "text/html; charset=ISO-8859-1") == "“quoted”"


def test_extract_bom_beats_header() -> None:
    """A byte order mark decides the encoding, whatever the header claims."""
    data = "\ufeff<p>Привет</p>".encode("utf-16-le")
    assert decode_html(data, "text/html; charset=windows-1251") == "<p>Привет</p>"


def test_extract_unknown_charset_falls_back() -> None:
    """An unknown charset label does not raise; the page is read as UTF-8."""
    assert decode_html("<p>ok ё</p>".encode(), "text/html; charset=x-no-such") == "<p>ok ё</p>"


@pytest.mark.slow
def test_extract_survives_100000_deep_nesting() -> None:
    """A 100,000-deep page gives its text without RecursionError, in bounded time."""
    html = (
        "<html><body>" + "<div>" * 100_000 + "<p>Deep article text paragraph.</p>"
        + "</div>" * 100_000 + "</body></html>"
    )  # fmt: skip
    started = time.monotonic()
    assert extract(html) == "Deep article text paragraph."
    assert time.monotonic() - started < 30


def test_extract_caps_huge_article() -> None:
    """A 5 MB article is cut to the 1 MB text cap."""
    html = "<article><p>" + "word " * 1_000_000 + "</p></article>"
    assert len(extract(html)) == 1_000_000
