"""Rules for turning hostile feed text into clean, safe plain text."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.parse import html as html_module
from monitor.parse import text as textclean
from monitor.parse.html import html_to_text
from monitor.parse.text import one_line, safe_link, strip_controls


def _has_controls(text: str, allowed: str = "") -> bool:
    return any(
        (unicodedata.category(ch) == "Cc" and ch not in allowed)
        or ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        for ch in text
    )


def test_html_to_text_paragraphs_become_blank_lines() -> None:
    """Block elements are separated by one blank line, never more."""
    html = "<div><p>First   paragraph.</p>\n\n<p>Second</p></div><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(html) == "First paragraph.\n\nSecond\n\na\n\nb"


def test_html_to_text_br_is_a_line_break() -> None:
    """`<br>` is a single newline; a run of them is at most one blank line."""
    assert html_to_text("one<br>two<br/><br><br>three") == "one\ntwo\n\nthree"


def test_html_to_text_inline_markup_keeps_words_apart_and_together() -> None:
    """Inline elements add no breaks; the spaces around them are kept and collapsed."""
    assert html_to_text("a <b>bold</b> and <i>it</i>alic  \n  words") == "a bold and italic words"


def test_html_to_text_drops_script_style_noscript_template() -> None:
    """Code and hidden templates never become text."""
    html = (
        "<p>keep</p><script>alert(1)</script><style>p{}</style>"
        "<noscript>no</noscript><template><p>tpl</p></template><!-- comment -->"
    )
    assert html_to_text(html) == "keep"


def test_html_to_text_decodes_entities_once() -> None:
    """Entities are decoded; a double-escaped tag stays visible text, not markup."""
    assert html_to_text("AT&amp;T &lt;b&gt; &#8212; &nbsp;x") == "AT&T <b> — x"
    assert html_to_text("&amp;lt;script&amp;gt;") == "&lt;script&gt;"


def test_html_to_text_plain_text_passes_through() -> None:
    """Text without markup is only whitespace-normalised."""
    assert html_to_text("  plain\ttext\r\nhere  ") == "plain text here"
    assert html_to_text("") == ""


def test_html_to_text_removes_control_characters() -> None:
    """Escape sequences and bidi overrides inside HTML text are removed."""
    text = html_to_text("<p>safe\x1b[2Jtext \u202eevil\x07</p>")
    assert text == "safetext evil"


@pytest.mark.slow
def test_html_to_text_survives_100000_deep_nesting() -> None:
    """A 100,000-deep document gives its text without RecursionError, in bounded time."""
    html = "<div><span>" * 50_000 + "deep" + "</span></div>" * 50_000
    started = time.monotonic()
    assert html_to_text(html) == "deep"
    assert time.monotonic() - started < 20


def test_html_to_text_handles_huge_text_node() -> None:
    """A 20 MB text node is cleaned in bounded time."""
    html = "<p>" + "word " * 4_000_000 + "</p>"
    started = time.monotonic()
    text = html_to_text(html)
    assert len(text) == 5 * 4_000_000 - 1
    assert time.monotonic() - started < 20


def test_html_to_text_unclosed_and_broken_markup() -> None:
    """Broken markup still gives its text."""
    assert html_to_text("<p>open <b>bold <i>both</p> after") == "open bold both\n\nafter"
    assert "x" in html_to_text("<<<>>x</ p><p")


@given(st.text(max_size=300))
def test_html_to_text_never_raises_and_leaves_no_controls(text: str) -> None:
    """Any input gives text with no control characters except newlines."""
    assert not _has_controls(html_to_text(text), allowed="\n")


def test_strip_controls_removes_terminal_escapes() -> None:
    """OSC title changes, CSI screen clears and C1 controls vanish completely."""
    hostile = "Title\x1b]0;pwned\x07 \x1b[2J\x1b[31mred\x1b[0m \x9b2Jx \x1bc end\x00\x7f"
    assert strip_controls(hostile) == "Title red x  end"


def test_strip_controls_removes_bidi_and_direction_marks() -> None:
    """Bidi embeddings, overrides, isolates and LRM/RLM/ALM are removed."""
    assert strip_controls("a\u202eb\u2066c\u2069d\u200ee\u200ff\u061cg") == "abcdefg"


def test_strip_controls_keeps_or_flattens_newlines() -> None:
    """Newlines and tabs survive when asked; otherwise every line break is a space."""
    text = "a\r\nb\rc\u2028d\u2029e\x85f\tg"
    assert strip_controls(text) == "a\nb\nc\nd\ne\nf\tg"
    assert strip_controls(text, keep_newlines=False) == "a b c d e f g"


def test_strip_controls_leaves_clean_text_alone() -> None:
    """Ordinary Russian and English text is returned unchanged."""
    text = "Владимир Путин — «Hello», ёлка\n"
    assert strip_controls(text) == text


def _strip_controls_by_regexes(s: str, keep_newlines: bool) -> str:
    """The three regex passes strip_controls skips when only tabs and CR/LF need work."""
    s = textclean._ANSI.sub("", s)
    if keep_newlines:
        return textclean._CONTROLS.sub("", textclean._LINE_BREAKS.sub("\n", s))
    return textclean._CONTROLS_NO_TAB.sub("", textclean._LINE_BREAKS.sub(" ", s).replace("\t", " "))


@given(st.text(alphabet=st.sampled_from("ab \t\r\n\x0b\x1b[\x85\u2028\u202eй"), max_size=60))
def test_strip_controls_shortcut_equals_the_regex_passes(text: str) -> None:
    """The replace() shortcut for tab/CR/LF-only text gives exactly the regex passes' result."""
    for keep in (True, False):
        assert strip_controls(text, keep_newlines=keep) == _strip_controls_by_regexes(text, keep)


@given(st.text(alphabet=st.sampled_from("ab \t\r\n\x0b\x00\x1b\x85\u2028\u3000й"), max_size=60))
def test_html_to_text_plain_text_shortcut_equals_assembling(text: str) -> None:
    """Text without markup or entities gives what the general assembly of parts gives."""
    assert html_to_text(text) == html_module._assemble([html_module._clean_part(text)])


@given(st.text(max_size=200))
def test_strip_controls_output_has_no_controls(text: str) -> None:
    """Whatever goes in, no control or bidi character comes out."""
    assert not _has_controls(strip_controls(text), allowed="\n\t")
    assert not _has_controls(strip_controls(text, keep_newlines=False))


def test_one_line_collapses_and_truncates_with_ellipsis() -> None:
    """One line, whitespace collapsed, cut to `limit` characters ending in an ellipsis."""
    assert one_line("  Breaking:\n\n news\tflash \x1b[2J ", 100) == "Breaking: news flash"
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abcde", 5) == "abcde"


def test_one_line_neutralises_header_injection() -> None:
    """CR, LF and U+2028 never survive into a subject line."""
    subject = one_line("Statement\r\nBcc: evil@example.test\u2028X: y", 200)
    assert "\n" not in subject
    assert "\r" not in subject
    assert "\u2028" not in subject


@given(st.text(max_size=200), st.integers(min_value=1, max_value=80))
def test_one_line_bounds(text: str, limit: int) -> None:
    """The result is never longer than `limit` and never spans lines."""
    line = one_line(text, limit)
    assert len(line) <= limit
    assert not _has_controls(line)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.whitehouse.gov/?p=12345", "https://www.whitehouse.gov/?p=12345"),
        ("  http://en.kremlin.ru/events/president/news/1\n", "http://en.kremlin.ru/events/president/news/1"),
        ("HTTP://EXAMPLE.ORG/a", "HTTP://EXAMPLE.ORG/a"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("file:///etc/passwd", None),
        ("ftp://example.org/", None),
        ("//example.org/path", None),
        ("/relative/path", None),
        ("http://exa mple.org/", None),
        ("http://example.org/\x1b[2J", None),
        ("http://example.org/\u202egpj.exe", None),
        ("http://user:pw@example.org/", None),
        ("http://example.org\\@evil.test/", None),
        ("http:///nohost", None),
        ("http://example.org:99999/", None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_safe_link_allows_only_plain_http_links(url: str | None, expected: str | None) -> None:
    """Only absolute http(s) links without whitespace, controls or credentials pass."""
    assert safe_link(url) == expected


def test_html_to_text_drops_cdata_and_embedded_objects() -> None:
    """CDATA (a comment to browsers), iframes, objects and media fallbacks give no text."""
    html = (
        "<p>a</p><![CDATA[<script>x</script>]]><iframe>frame</iframe>"
        "<object>obj</object><video>no video</video><svg><text>s</text></svg><p>b</p>"
    )
    assert html_to_text(html) == "a\n\nb"
