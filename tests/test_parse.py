"""Rules for turning a fetched body into items: identity, clean text, hostile documents."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.models import ErrorKind, ParsedFeed
from monitor.parse.feed import content_hash, iso_utc, normalise_link, parse_feed, plausible_lang
from tests.conftest import FIXTURES, REPO
from tests.servers import TestServer, reply

KREMLIN = FIXTURES / "kremlin-en-all-2018-01-07.atom.xml"
KREMLIN_GOLDEN = FIXTURES / "kremlin-en-all-2018-01-07.items.json"
WHITEHOUSE = FIXTURES / "whitehouse-news-style.rss.xml"
RSS_TYPE = "application/rss+xml; charset=utf-8"


def rss(*items: str, channel_extra: str = "") -> bytes:
    """A small RSS 2.0 document holding the given `<item>` bodies."""
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.org/</link>{channel_extra}{body}</channel></rss>"
    ).encode()


def parse(body: bytes, **kwargs: object) -> ParsedFeed:
    options: dict[str, object] = {"feed_lang": "en", "content_type": RSS_TYPE} | kwargs
    return parse_feed(body, **options)  # type: ignore[arg-type]


def refused_kind(body: bytes, content_type: str | None = RSS_TYPE) -> str:
    with pytest.raises(ParseError) as caught:
        parse_feed(body, feed_lang="en", content_type=content_type)
    return caught.value.kind


# --- real and realistic feeds ------------------------------------------------------------


def test_parse_kremlin_feed_matches_golden_items() -> None:
    """The real Kremlin Atom feed yields exactly the 20 items in the golden file."""
    feed = parse_feed(
        KREMLIN.read_bytes(),
        feed_lang="en",
        content_type="application/atom+xml; charset=utf-8",
        base_url="http://en.kremlin.ru/events/all/feed",
    )
    got = [
        {
            "key": i.key, "key_kind": i.key_kind, "url": i.url, "title": i.title,
            "published": i.published, "lang": i.lang, "body_start": i.body[:200],
            "content_hash": i.content_hash,
        }
        for i in feed.items
    ]  # fmt: skip
    assert got == json.loads(KREMLIN_GOLDEN.read_text(encoding="utf-8"))
    assert feed.title == "Website of the President of Russia: All Publications"
    assert feed.warning is None
    assert not feed.truncated


def test_parse_kremlin_body_is_full_content_not_summary() -> None:
    """Atom `content` (the full article) is the body; `summary` stays the short lead."""
    item = parse(KREMLIN.read_bytes(), content_type="application/atom+xml").items[0]
    assert item.summary.startswith("Vladimir Putin congratulated all Orthodox Christians")
    assert len(item.body) > 3 * len(item.summary)
    assert "<" not in item.body
    assert "&lt;" not in item.body


def test_parse_whitehouse_guid_is_key_and_content_encoded_is_body() -> None:
    """WordPress RSS: the `?p=NNN` guid is the key, `content:encoded` the clean body."""
    feed = parse(WHITEHOUSE.read_bytes(), feed_lang="ru")
    first = feed.items[0]
    assert [i.key for i in feed.items] == [
        "https://www.whitehouse.gov/?p=12345",
        "https://www.whitehouse.gov/?p=12338",
        "https://www.whitehouse.gov/?p=12330",
    ]
    assert {i.key_kind for i in feed.items} == {"guid"}
    assert first.published == "2026-11-24T18:00:00Z"
    assert first.lang == "en"  # from <language>en-US</language>, not feed_lang
    assert "Venue: Geneva, Switzerland" in first.body
    assert "trackPageView" not in first.body
    assert first.body.endswith("in due course.\nQuestions may be sent to the press office.")
    assert first.summary.endswith("… Read more")


def test_parse_whitehouse_item_without_content_uses_description() -> None:
    """An item with no `content:encoded` takes its body from the description."""
    last = parse(WHITEHOUSE.read_bytes()).items[2]
    expected = "This week we honor the families who make our communities strong."
    assert last.body == last.summary == expected


# --- documents that are not feeds --------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\xef\xbb\xbf"])
def test_parse_empty_body_is_not_a_feed(body: bytes) -> None:
    """An empty (or blank) 200 response is "not a feed", never "all items removed"."""
    assert refused_kind(body) in (ErrorKind.NOT_A_FEED,)


@pytest.mark.parametrize(
    "body", [b"/dev/zero", b"/etc/hostname", b"/etc/passwd", b"file:///etc/passwd", b"C:\\x"]
)
def test_parse_path_like_body_is_not_a_feed_fast(body: bytes) -> None:
    """Bytes that spell a path are data: never opened, refused as not a feed at once."""
    started = time.monotonic()
    assert refused_kind(body, content_type=None) == ErrorKind.NOT_A_FEED
    assert time.monotonic() - started < 1.0


def test_parse_url_body_is_never_fetched() -> None:
    """A body that is a URL is not fetched by feedparser: the server sees no request."""
    with TestServer() as server:
        server.route("/feed", reply(rss("<title>x</title><guid>g</guid>")))
        assert refused_kind(server.url("/feed").encode(), None) == ErrorKind.NOT_A_FEED
        assert server.requests == []


def test_parse_html_login_page_is_not_a_feed() -> None:
    """A captive-portal style HTML page served with 200 is "not a feed"."""
    page = (
        b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
        b"<form action='/login' method='post'><input name='user'><input type='password'>"
        b"</form></body></html>"
    )
    assert refused_kind(page, "text/html; charset=utf-8") == ErrorKind.NOT_A_FEED
    assert refused_kind(page.replace(b"<!DOCTYPE html>", b""), None) == ErrorKind.NOT_A_FEED


def test_parse_json_and_plain_text_are_not_feeds() -> None:
    """Anything feedparser finds no feed in (no version, no entries) is not a feed."""
    assert refused_kind(b'{"version": "https://jsonfeed.org/version/1"}') == ErrorKind.NOT_A_FEED
    assert refused_kind(b"<root><child/></root>") == ErrorKind.NOT_A_FEED


# --- hostile XML -------------------------------------------------------------------------

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"B" * 10_000 + b'">]>'
    b"<rss version='2.0'><channel><item><title>"
    + b"&a;" * 1_000
    + b"</title></item></channel></rss>"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "1234567890">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<rss version="2.0"><channel><title>&c;</title></channel></rss>"""


def _encoded(doc: str, encoding: str, bom: bytes = b"") -> bytes:
    return bom + doc.encode(encoding)


def _utf7_hidden(doc: str) -> bytes:
    """`doc` in UTF-7 with every `<` spelled `+ADw-`, so no raw `<!ENTITY` is left."""
    return doc.replace("<", "+ADw-").encode("ascii")


_UTF7_DECLARED = b'<?xml version="1.0" encoding="utf-7"?>' + _utf7_hidden(
    '<!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"><channel><title>&a;</title></channel></rss>'
)


_ENTITY_DOC = '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"><channel><title>&a;</title></channel></rss>'  # noqa: E501


@pytest.mark.parametrize(
    "body",
    [
        QUADRATIC,
        BILLION_LAUGHS,
        BILLION_LAUGHS.replace(b"\n", b""),
        b'<!DOCTYPE rss [<!ENTITY ee SYSTEM "file:///etc/passwd">]><rss version="2.0">&ee;</rss>',
        b'<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><rss version="2.0"/>',
        b'<!doctype rss [<!entity a "x">]><rss version="2.0"/>',
        b'<!-- c --><?pi x?>\n  <!DOCTYPE rss [\n<!ENTITY a "x">\n]><rss version="2.0"/>',
        _encoded(_ENTITY_DOC.format(enc="utf-16"), "utf-16-le", b"\xff\xfe"),
        _encoded(_ENTITY_DOC.format(enc="utf-16"), "utf-16-be", b"\xfe\xff"),
        _encoded(_ENTITY_DOC.format(enc="utf-16le"), "utf-16-le"),
        _encoded(_ENTITY_DOC.format(enc="utf-32"), "utf-32-le", b"\xff\xfe\x00\x00"),
        _encoded(_ENTITY_DOC.format(enc="utf-32be"), "utf-32-be"),
        _UTF7_DECLARED,
        _encoded(_ENTITY_DOC.format(enc="cp037"), "cp037"),
    ],
    ids=[
        "quadratic", "billion-laughs", "one-line-laughs", "external-file", "parameter-entity",
        "lowercase", "after-comment-and-pi", "utf16le-bom", "utf16be-bom", "utf16le-no-bom",
        "utf32le-bom", "utf32be-no-bom", "utf7", "ebcdic",
    ],
)  # fmt: skip
def test_parse_entity_declarations_are_refused(body: bytes) -> None:
    """Any `<!ENTITY`, in any encoding feedparser could decode, is refused as PARSE."""
    started = time.monotonic()
    with pytest.raises(ParseError) as caught:
        parse_feed(body, feed_lang="en", content_type=None)
    assert caught.value.kind == ErrorKind.PARSE
    assert "entity" in caught.value.message
    assert time.monotonic() - started < 1.0


def test_parse_entity_in_http_charset_encoding_is_refused() -> None:
    """A declaration hidden by an HTTP charset (UTF-7 in Content-Type) is still seen."""
    doc = '<!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"><channel><title>&a;</title>'
    body = _utf7_hidden(doc + "</channel></rss>")
    assert b"<!ENTITY" not in body
    assert refused_kind(body, "application/xml; charset=utf-7") == ErrorKind.PARSE


def test_parse_internal_dtd_subset_is_refused() -> None:
    """A DOCTYPE with an internal subset is refused even without entities."""
    body = b'<!DOCTYPE rss [<!ELEMENT rss ANY>]><rss version="2.0"><channel/></rss>'
    assert refused_kind(body) == ErrorKind.PARSE


def test_parse_foreign_external_dtd_is_refused() -> None:
    """An external DTD that is not a feed's is refused; it is never fetched."""
    with TestServer() as server:
        server.route("/evil.dtd", reply(b'<!ENTITY a "x">'))
        body = f'<!DOCTYPE foo SYSTEM "{server.url("/evil.dtd")}"><rss version="2.0"/>'.encode()
        assert refused_kind(body) == ErrorKind.PARSE
        assert server.requests == []


def test_parse_external_entity_is_never_fetched() -> None:
    """A SYSTEM entity pointing at a live server is refused and the server sees nothing."""
    with TestServer() as server:
        server.route("/note.xml", reply(b"<note>secret</note>"))
        url = server.url("/note.xml")
        body = f'<!DOCTYPE rss [<!ENTITY ee SYSTEM "{url}">]><rss version="2.0">&ee;</rss>'
        assert refused_kind(body.encode()) == ErrorKind.PARSE
        assert server.requests == []


def test_parse_rss091_netscape_doctype_is_accepted() -> None:
    """RSS 0.91's public DTD is allowed (feedparser never loads it)."""
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
        b"<title>N</title><item><title>One</title><link>http://example.org/1</link></item>"
        b"</channel></rss>"
    )
    assert [i.key for i in parse(body).items] == ["http://example.org/1"]


def test_parse_doctype_words_in_comments_and_cdata_are_text() -> None:
    """`<!DOCTYPE` inside a comment or CDATA is content, not a declaration."""
    cdata = "<description><![CDATA[ <!DOCTYPE html [ ]]></description>"
    body = rss("<title>a</title><guid>g</guid>" + cdata)
    body = b"<!-- <!DOCTYPE x [ ] --> " + body
    assert parse(body).items[0].key == "g"


# --- ill-formed feeds ---------------------------------------------------------------------


def test_parse_bozo_feed_keeps_entries_and_warns() -> None:
    """An ill-formed feed keeps what the loose parser found and says why in `warning`."""
    body = rss("<title>Fish & Chips</title><guid>g1</guid>", "<title>Two<title><guid>g2</guid>")
    feed = parse(body)
    assert [i.key for i in feed.items][:1] == ["g1"]
    assert feed.items[0].title == "Fish & Chips"
    assert feed.warning
    assert feed.warning.startswith("ill-formed feed")
    assert "\n" not in feed.warning
    assert len(feed.warning) <= 300


def test_parse_mislabelled_feed_is_read_with_a_warning() -> None:
    """A well-formed feed under a wrong content type or charset keeps all items and says so."""
    for content_type in ("text/xml", "application/octet-stream"):
        feed = parse(KREMLIN.read_bytes(), content_type=content_type)
        assert len(feed.items) == 20
        assert feed.warning
        assert feed.warning.startswith("feed served with a misleading")


def test_parse_bozo_without_entries_or_version_is_not_a_feed() -> None:
    """Broken markup with no feed version and no entries is "not a feed"."""
    assert refused_kind(b"<broken><<unclosed & junk", "text/xml") == ErrorKind.NOT_A_FEED


def test_parse_valid_empty_feed_has_no_items_and_no_error() -> None:
    """A real feed with zero items is a success with nothing in it."""
    feed = parse(rss())
    assert feed.items == ()
    assert feed.warning is None


# --- identity ----------------------------------------------------------------------------


def test_parse_duplicate_guids_keep_the_same_item_in_any_order() -> None:
    """Items sharing a guid: one is kept, the same one whatever the order of the entries,
    so a feed swapping them between polls makes no new revision."""
    entries = [
        "<title>first</title><guid>same</guid>",
        "<title>second</title><guid>same</guid>",
        "<title>other</title><guid>other</guid>",
        "<title>third</title><guid>same</guid>",
    ]
    kept = {
        tuple((i.key, i.title) for i in parse(rss(*order)).items)
        for order in (entries, entries[::-1], entries[1:] + entries[:1])
    }
    assert len(kept) == 1
    assert sorted(key for key, _title in kept.pop()) == ["other", "same"]


def test_parse_duplicate_guids_keep_the_latest_dated() -> None:
    """Of two entries with one guid, the later publication date is kept."""
    old = "<title>old</title><guid>g</guid><pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>"
    new = "<title>new</title><guid>g</guid><pubDate>Tue, 24 Nov 2026 10:00:00 +0000</pubDate>"
    assert [i.title for i in parse(rss(old, new)).items] == ["new"]
    assert [i.title for i in parse(rss(new, old)).items] == ["new"]


def test_parse_key_falls_back_to_normalised_link() -> None:
    """Without a guid the key is the link: lowercased scheme and host, no fragment or port."""
    body = rss("<title>a</title><link>HTTP://Example.ORG:80/Path?q=1#frag</link>")
    item = parse(body).items[0]
    assert (item.key, item.key_kind) == ("http://example.org/Path?q=1", "link")
    assert item.url == "HTTP://Example.ORG:80/Path?q=1#frag"


def test_parse_key_falls_back_to_content_hash() -> None:
    """Without guid and link the key hashes title, summary and date; it is stable."""
    date = "<pubDate>Tue, 24 Nov 2026 18:00:00 +0000</pubDate>"
    body = rss("<title>a</title><description>b</description>" + date)
    first, again = parse(body).items[0], parse(body).items[0]
    assert first.key_kind == "hash"
    assert first.key.startswith("hash:")
    assert len(first.key) == 69
    assert first.key == again.key
    other = parse(body.replace(b"<title>a", b"<title>A")).items[0]
    assert other.key != first.key


def test_parse_item_without_link_has_no_url_even_with_a_base_url() -> None:
    """Items with neither guid nor link keep hash keys; the feed's URL is not their link."""
    body = rss("<title>a</title><description>one</description>", "<title>b</title>")
    items = parse(body, base_url="http://example.org/feed").items
    assert [(i.key_kind, i.url) for i in items] == [("hash", None), ("hash", None)]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.org:443/a/B#x", "https://www.example.org/a/B"),
        ("http://example.org:8080", "http://example.org:8080/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("javascript:alert(1)", None),
        ("http://example.org:bad/", None),
    ],
)
def test_parse_normalise_link(url: str, expected: str | None) -> None:
    """Link normalisation for keys: case, default port, fragment; http(s) only."""
    assert normalise_link(url) == expected


def test_parse_content_hash_is_unambiguous() -> None:
    """Moving text between title, summary and body changes the hash."""
    assert content_hash("ab", "c", "") != content_hash("a", "bc", "")
    assert content_hash("a", "b", "c") == content_hash("a", "b", "c")


# --- fields -------------------------------------------------------------------------------


def test_parse_markup_in_title_comes_out_as_plain_text() -> None:
    """`<title>&lt;script&gt;…` is text with the script dropped, never markup."""
    body = rss(
        "<title>&lt;script&gt;alert(1)&lt;/script&gt;Breaking &lt;b&gt;news&lt;/b&gt;"
        " &amp;amp; more\x1b[2J</title><guid>g</guid>"
    )
    assert parse(body).items[0].title == "Breaking news & more"


def test_parse_dangerous_links_become_none() -> None:
    """`javascript:` and `data:` links are dropped; the item itself is kept."""
    body = rss(
        "<title>a</title><guid>1</guid><link>javascript:alert(3)</link>",
        "<title>b</title><guid>2</guid><link>data:text/html,&lt;script&gt;x&lt;/script&gt;</link>",
    )
    assert [i.url for i in parse(body).items] == [None, None]


def test_parse_description_scripts_are_removed() -> None:
    """Scripts and iframes in a description never reach the summary text."""
    body = rss(
        "<title>a</title><guid>1</guid><description>&lt;p&gt;Hi&lt;/p&gt;&lt;script&gt;evil()"
        "&lt;/script&gt;&lt;iframe src='javascript:x'&gt;&lt;/iframe&gt;</description>"
    )
    item = parse(body).items[0]
    assert item.summary == item.body == "Hi"


def test_parse_relative_link_resolved_against_base_url() -> None:
    """A relative item link is made absolute with the feed's URL."""
    body = rss("<title>a</title><guid>1</guid><link>/news/7</link>")
    item = parse(body, base_url="http://en.kremlin.ru/events/president/news/feed").items[0]
    assert item.url == "http://en.kremlin.ru/news/7"


def test_parse_published_is_utc_and_kept_as_data() -> None:
    """Dates become ISO 8601 UTC; a future date is stored as is, a bogus one as None."""
    body = rss(
        "<title>a</title><guid>1</guid><pubDate>Sun, 07 Jan 2018 09:00:00 +0400</pubDate>",
        "<title>b</title><guid>2</guid><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>",
        "<title>c</title><guid>3</guid><pubDate>not a date</pubDate>",
        "<title>d</title><guid>4</guid>",
    )
    assert [i.published for i in parse(body).items] == [
        "2018-01-07T05:00:00Z", "2100-01-01T00:00:00Z", None, None,
    ]  # fmt: skip


def test_parse_iso_utc_rejects_impossible_times() -> None:
    """Out-of-range struct_time values give None instead of an exception."""
    assert iso_utc((2018, 13, 40, 0, 0, 0, 0, 0, 0)) is None
    assert iso_utc(None) is None
    assert iso_utc((2018, 1, 7, 5, 0, 0, 6, 7, 0)) == "2018-01-07T05:00:00Z"


def test_parse_lang_prefers_entry_then_feed_then_default() -> None:
    """xml:lang on the entry beats the feed's language, which beats `feed_lang`."""
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru-RU"><title>t</title>'
        b'<entry xml:lang="en"><id>1</id><title>a</title></entry>'
        b"<entry><id>2</id><title>b</title></entry></feed>"
    )
    assert [i.lang for i in parse(atom, content_type="application/atom+xml").items] == ["en", "ru"]
    assert parse(rss("<guid>1</guid>"), feed_lang="ru").items[0].lang == "ru"
    bogus = rss("<guid>1</guid>", channel_extra="<language>english please</language>")
    assert parse(bogus, feed_lang="ru").items[0].lang == "ru"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), ("en-US", "en"), ("RU_ru", "ru"), (" ru ", "ru"), ("english", None),
     ("e", None), ("", None), (None, None), ("x-klingon-very-long-tag", None)],
)  # fmt: skip
def test_parse_plausible_lang(value: object, expected: str | None) -> None:
    """Only a well-formed language tag gives a two-letter language."""
    assert plausible_lang(value) == expected


def test_parse_caps_title_summary_and_body() -> None:
    """Oversized fields are cut: title 1,000, summary 64 KB, body 1 MB of text."""
    huge = "word " * 400_000
    body = rss(
        f"<title>{'t' * 5_000}</title><guid>1</guid><description>{huge}</description>"
        f"<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>{huge}"
        "</content:encoded>"
    )
    item = parse(body).items[0]
    assert len(item.title) == 1_000
    assert item.title.endswith("…")
    assert len(item.summary) == 65_536
    assert len(item.body) == 1_000_000


def test_parse_max_items_truncates_and_says_so() -> None:
    """More entries than `max_items`: the first ones are kept and `truncated` is set."""
    body = rss(*(f"<title>{n}</title><guid>{n}</guid>" for n in range(30)))
    feed = parse(body, max_items=10)
    assert [i.key for i in feed.items] == [str(n) for n in range(10)]
    assert feed.truncated
    assert not parse(body, max_items=30).truncated


def test_parse_many_items_in_bounded_time() -> None:
    """A 5,000-item feed parses within a few seconds."""
    item = "<title>t{n}</title><guid>{n}</guid><description>d</description>"
    body = rss(*(item.format(n=n) for n in range(5_000)))
    started = time.monotonic()
    feed = parse(body, max_items=500)
    assert len(feed.items) == 500
    assert feed.truncated
    assert time.monotonic() - started < 10


def test_parse_feedparser_is_only_given_bytesio() -> None:
    """Every feedparser.parse call in monitor/ wraps its input in io.BytesIO."""
    calls = []
    for path in (REPO / "monitor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("feedparser.parse"):
                calls.append((path.name, ast.unparse(node.args[0]) if node.args else ""))
    assert calls, "no feedparser.parse call found"
    assert all(arg.startswith("io.BytesIO(") for _, arg in calls), calls


@given(st.text(), st.text(), st.text(), st.booleans())
def test_parse_content_hash_is_sha256_of_the_json_triple(
    title: str, summary: str, body: str, body_is_summary: bool
) -> None:
    """content_hash stays sha256 of json.dumps([title, summary, body]): stored hashes hold."""
    body = summary if body_is_summary else body
    encoded = json.dumps([title, summary, body], ensure_ascii=False)
    expected = hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()
    assert content_hash(title, summary, body) == expected


def test_parse_fixture_files_exist_with_attribution() -> None:
    """The Kremlin fixture carries its CC BY 4.0 attribution next to it."""
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert "Source: en.kremlin.ru, CC BY 4.0" in readme
    assert Path(KREMLIN).stat().st_size == 64_254


def test_parse_html_that_looks_like_a_url_or_xml_is_text_without_warnings() -> None:
    """beautifulsoup4 warns about markup that looks like a URL, a file name or XML; feed
    text is text, so the warnings are silenced whenever bs4 is first used (a real
    interpreter where any warning is an error)."""
    probe = (
        "from monitor.parse.html import html_to_text\n"
        "print(html_to_text('http://example.org/a?x=1&y=2'))\n"
        "print(html_to_text('<?xml version=\"1.0\"?><root><p>text</p></root>'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["http://example.org/a?x=1&y=2", "text"]
