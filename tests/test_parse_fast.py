"""The fast reader: feedparser's results where it reads a feed, a refusal everywhere else."""

from __future__ import annotations

import time

import pytest

from monitor.errors import ParseError
from monitor.models import ErrorKind, ParsedFeed
from monitor.parse.fast import Unsupported
from monitor.parse.feed import parse_feed
from tests.conftest import FIXTURES

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM = 'xmlns="http://www.w3.org/2005/Atom"'
CONTENT_NS = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'


def rss(items: str, extra_ns: str = "", channel: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {extra_ns}><channel>'
        f"<title>T</title>{channel}{items}</channel></rss>"
    ).encode()


def both(body: bytes, **kwargs: object) -> ParsedFeed:
    """The fast reader's result, after checking that feedparser's is the same."""
    options: dict[str, object] = {"feed_lang": "en", "content_type": RSS_TYPE} | kwargs
    fast = parse_feed(body, reader="fast", **options)  # type: ignore[arg-type]
    assert fast == parse_feed(body, reader="feedparser", **options)  # type: ignore[arg-type]
    return fast


def refusal(body: bytes, **kwargs: object) -> str:
    """Why the fast reader refuses `body` (and check that "auto" still parses it)."""
    options: dict[str, object] = {"feed_lang": "en", "content_type": RSS_TYPE} | kwargs
    with pytest.raises(Unsupported) as caught:
        parse_feed(body, reader="fast", **options)  # type: ignore[arg-type]
    auto = parse_feed(body, **options)  # type: ignore[arg-type]
    assert auto == parse_feed(body, reader="feedparser", **options)  # type: ignore[arg-type]
    return str(caught.value)


# --- real feeds --------------------------------------------------------------------------


def test_parse_fast_reads_the_kremlin_atom_feed_like_feedparser() -> None:
    """The real Kremlin Atom feed (xml:lang, HTML summary and content) takes the fast path."""
    feed = both(
        (FIXTURES / "kremlin-en-all-2018-01-07.atom.xml").read_bytes(),
        content_type="application/atom+xml; charset=utf-8",
        base_url="http://en.kremlin.ru/events/all/feed",
    )
    assert len(feed.items) == 20
    assert feed.items[0].lang == "en"


def test_parse_fast_reads_wordpress_rss_like_feedparser() -> None:
    """WordPress RSS (content:encoded, dc:creator, categories) takes the fast path."""
    feed = both((FIXTURES / "whitehouse-news-style.rss.xml").read_bytes())
    assert [i.key_kind for i in feed.items] == ["guid"] * 3


# --- feedparser's rules, followed ----------------------------------------------------------


def test_parse_fast_permalink_guid_is_the_link_only_without_a_link() -> None:
    """A guid that is a permalink stands in for a missing <link>, resolved like feedparser."""
    feed = both(
        rss("<item><guid>/a/1</guid></item><item><link>/b</link><guid>/a/2</guid></item>"),
        base_url="http://example.org/feed/",
    )
    assert [(i.key, i.url) for i in feed.items] == [
        ("http://example.org/a/1", "http://example.org/a/1"),
        ("http://example.org/a/2", "http://example.org/b"),
    ]


def test_parse_fast_not_permalink_guid_is_kept_verbatim() -> None:
    """isPermaLink="false" keeps the guid as written, unresolved, and no link comes of it."""
    item = both(
        rss('<item><guid isPermaLink="false">p=12</guid></item>'), base_url="http://x.org/"
    ).items[0]
    assert (item.key, item.url) == ("p=12", None)


def test_parse_fast_description_after_summary_becomes_the_body() -> None:
    """A second description is content in feedparser: the body, not the summary."""
    second = "<description>two &lt;b&gt;bold&lt;/b&gt;</description>"
    item = both(rss(f"<item><guid>g</guid><description>one</description>{second}</item>")).items[0]
    assert (item.summary, item.body) == ("one", "two bold")


def test_parse_fast_content_encoded_stands_in_for_a_missing_summary() -> None:
    """content:encoded before any description is copied to the summary, as feedparser does."""
    body = rss("<item><guid>g</guid><content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded>"
               "</item>", CONTENT_NS)  # fmt: skip
    item = both(body).items[0]
    assert item.summary == item.body == "Full"


def test_parse_fast_first_non_empty_title_wins() -> None:
    """An empty title gives way to the next one; a non-empty one keeps its place."""
    items = both(
        rss("<item><guid>1</guid><title></title><title>B</title><title>C</title></item>")
    ).items
    assert items[0].title == "B"


def test_parse_fast_rss_source_lets_a_later_title_replace_the_first() -> None:
    """After an RSS <source>, feedparser takes the next title over the first one."""
    item = both(rss("<item><guid>1</guid><title>A</title><source url='http://s.org/'>S</source>"
                    "<title>B</title></item>")).items[0]  # fmt: skip
    assert item.title == "B"


def test_parse_fast_itunes_summary_is_a_summary() -> None:
    """itunes:summary is read as feedparser's summary, in the feed and in items."""
    itunes = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
    body = rss(
        "<item><guid>1</guid><itunes:summary>Short</itunes:summary>"
        "<description>Long &lt;i&gt;text&lt;/i&gt;</description></item>",
        itunes,
        channel="<description>d</description><itunes:summary>s</itunes:summary>",
    )
    item = both(body).items[0]
    assert (item.summary, item.body) == ("Short", "Long text")


def test_parse_fast_later_empty_date_clears_the_earlier_one() -> None:
    """feedparser overwrites a date with a later empty one; so does the fast reader."""
    item = both(rss("<item><guid>1</guid><pubDate>Sun, 07 Jan 2018 09:00:00 +0400</pubDate>"
                    "<pubDate></pubDate></item>")).items[0]  # fmt: skip
    assert item.published is None


def test_parse_fast_dates_use_feedparser_formats_in_utc() -> None:
    """RFC 822, W3C and dc:date values give the same UTC times as feedparser's parsers."""
    dc = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
    feed = both(rss(
        "<item><guid>1</guid><pubDate>Sun, 07 Jan 2018 09:00:00 +0400</pubDate></item>"
        "<item><guid>2</guid><dc:date>2018-01-07T09:00:00+04:00</dc:date></item>"
        "<item><guid>3</guid><pubDate>07 Jan 18 09:00 MSK</pubDate></item>", dc,
    ))  # fmt: skip
    # feedparser reads an unknown zone name (MSK) as UTC; the fast reader uses its parsers.
    assert [i.published for i in feed.items] == ["2018-01-07T05:00:00Z"] * 2 + [
        "2018-01-07T09:00:00Z"
    ]


def test_parse_fast_windows_1252_and_double_encoded_text_are_repaired() -> None:
    """C1 codes read as cp1252 and UTF-8 read as Latin-1 are mapped back, as feedparser does."""
    titles = ("caf\u00c3\u00a9", "\u0093q\u0094", "caf\u00c3\u00a9 \u0093q\u0094")
    items = "".join(f"<item><guid>{t}</guid><title>{t}</title></item>" for t in titles)
    # Both repairs only when each alone applies: the Latin-1 one needs all of the text.
    assert [i.title for i in both(rss(items)).items] == ["café", "“q”", "cafÃ© “q”"]


def test_parse_fast_atom_links_follow_rel_and_type() -> None:
    """The alternate HTML link is the item's URL; self, enclosure and other types are not."""
    body = (
        f"<feed {ATOM}><title>t</title><entry><id>urn:1</id>"
        '<link rel="self" href="http://e.org/self"/><link href="http://e.org/page"/>'
        '<link rel="enclosure" href="http://e.org/a.mp3"/>'
        '<link rel="alternate" type="application/pdf" href="http://e.org/a.pdf"/>'
        "</entry></feed>"
    ).encode()
    item = both(body, content_type="application/atom+xml").items[0]
    assert (item.key, item.url) == ("urn:1", "http://e.org/page")


def test_parse_fast_attributes_feedparser_ignores_are_ignored() -> None:
    """WordPress's thr:count on links, Google's gd:etag on entries: read fast, as feedparser."""
    body = (
        f'<feed {ATOM} xmlns:thr="http://purl.org/syndication/thread/1.0" '
        'xmlns:gd="http://schemas.google.com/g/2005"><title>t</title>'
        '<entry gd:etag="W/1"><id>urn:1</id><title type="html" class="x">a</title>'
        '<link rel="replies" type="text/html" href="http://e.org/1#c" thr:count="3"/>'
        '<link rel="alternate" href="http://e.org/1" hreflang="en" length="9"/></entry></feed>'
    ).encode()
    assert both(body, content_type="application/atom+xml").items[0].url == "http://e.org/1"


def test_parse_fast_xml_base_is_joined_level_by_level() -> None:
    """xml:base on the feed, an entry and a link resolve relative links as in feedparser."""
    body = (
        f'<feed {ATOM} xml:base="http://e.org/blog/"><title>t</title>'
        '<entry xml:base="2024/"><id>a/1</id><link href="post.html"/></entry>'
        '<entry><id>urn:2</id><link xml:base="/x/" href="y.html"/></entry></feed>'
    ).encode()
    feed = both(body, content_type="application/atom+xml", base_url="http://other.org/feed")
    assert [(i.key, i.url) for i in feed.items] == [
        ("http://e.org/blog/2024/a/1", "http://e.org/blog/2024/post.html"),
        ("urn:2", "http://e.org/x/y.html"),
    ]


def test_parse_fast_atom_xhtml_is_rebuilt_as_feedparser_does() -> None:
    """Atom xhtml content and summaries give feedparser's text: div off, markup, entities."""
    xhtml = 'xmlns:x="http://www.w3.org/1999/xhtml"'
    body = (
        f"<feed {ATOM} {xhtml}><title>t</title><entry><id>urn:1</id>"
        '<summary type="xhtml"><x:div><x:p>One &amp; <x:b>two</x:b></x:p></x:div></summary>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p class="a">Para'
        "</p><script>evil()</script><p>Next<br/>line</p></div></content></entry></feed>"
    ).encode()
    item = both(body, content_type="application/atom+xml").items[0]
    assert (item.summary, item.body) == ("One & two", "Para\n\nNext\nline")


def test_parse_fast_xml_lang_is_inherited_and_can_be_cleared() -> None:
    """xml:lang reaches entries from the root; xml:lang="" on an entry clears it."""
    body = (
        f'<feed {ATOM} xml:lang="ru"><title>t</title><entry><id>1</id><title>a</title></entry>'
        '<entry xml:lang=""><id>2</id><title>b</title></entry>'
        '<entry><id>3</id><title xml:lang="en_GB">c</title></entry></feed>'
    ).encode()
    feed = both(body, content_type="application/atom+xml", feed_lang="de")
    assert [i.lang for i in feed.items] == ["ru", "ru", "en"]


def test_parse_fast_rss10_item_about_is_the_key() -> None:
    """RSS 1.0: rdf:about gives the id when there is no other."""
    body = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://e.org/"><title>t</title>'
        b'</channel><item rdf:about="http://e.org/1"><title>one</title></item></rdf:RDF>'
    )
    feed = both(body, content_type="application/rdf+xml")
    assert (feed.title, feed.items[0].key) == ("t", "http://e.org/1")


def test_parse_fast_plain_text_title_guessed_as_html_outside_atom() -> None:
    """RSS "plain" text with tags is HTML in feedparser, and the cleaned text agrees."""
    item = both(rss("<item><guid>1</guid><title>a &lt;b&gt;b&lt;/b&gt; &amp;amp; c</title>"
                    "</item>")).items[0]  # fmt: skip
    assert item.title == "a b & c"


def test_parse_fast_misleading_content_type_warns_like_feedparser() -> None:
    """A well-formed feed under text/xml without a charset keeps feedparser's warning."""
    feed = both(rss("<item><guid>1</guid></item>"), content_type="text/plain")
    assert feed.warning
    assert feed.warning.startswith("feed served with a misleading")


# --- what it leaves to feedparser ---------------------------------------------------------


def test_parse_fast_refuses_ill_formed_documents() -> None:
    """Ill-formed XML goes to feedparser's lenient reading, warning included."""
    body = rss("<item><guid>1</guid><title>Fish & Chips</title></item>")
    assert refusal(body).startswith("not well-formed")
    assert (parse_feed(body, feed_lang="en").warning or "").startswith("ill-formed feed")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (rss("<item><guid>1</guid><title>a<b>b</b></title></item>"), "markup inside"),
        (rss('<item xml:base="http://e.org/"><guid>1</guid></item>'), "xml:base"),
        (rss('<item><guid>1</guid><title lang="en">a</title></item>'), "xml:base"),
        (f"<feed {ATOM}><entry><source><title>S</title></source></entry></feed>".encode(),
         "markup inside <source>"),
        (rss("<item><guid>1</guid></item>", channel="<title>again</title>"), "second"),
        (rss("<item><x:a xmlns:x='urn:a'/><x:b xmlns:x='urn:b'/></item>"), "bound to two"),
        (rss("<item><link x:href='http://e.org/' xmlns:x='urn:x'/></item>"), "attribute"),
        (rss("<item><title mode='base64'>YQ==</title></item>"), "attribute"),
        (f"<feed {ATOM}><entry><content type='xhtml'><div><body>x</body></div></content>"
         "</entry></feed>".encode(), "inside xhtml content"),
        (f"<feed {ATOM}><entry><content type='image/png'>iVBO</content></entry></feed>".encode(),
         "content type"),
        (b"<?xml version='1.0'?><feed xmlns='http://purl.org/atom/ns#' version='0.3'/>",
         "unsupported format"),
        (b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
         b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">'
         b"<channel><item><link>http://e.org/1</link></item></channel></rss>", "DOCTYPE"),
    ],
    ids=["markup", "xml-base", "lang", "source", "title-after", "prefix-twice",
         "namespaced-href", "base64", "xhtml-body", "binary", "atom03", "doctype"],
)  # fmt: skip
def test_parse_fast_refuses_constructs_it_does_not_model(body: bytes, reason: str) -> None:
    """Constructs whose reading depends on feedparser's state go to feedparser."""
    assert reason in refusal(body)


def test_parse_fast_guard_still_refuses_entities_before_either_reader() -> None:
    """Entity declarations are refused by the guard whichever reader is asked for."""
    body = b'<!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"><channel/></rss>'
    for reader in ("fast", "auto"):
        with pytest.raises(ParseError) as caught:
            parse_feed(body, feed_lang="en", reader=reader)  # type: ignore[arg-type]
        assert caught.value.kind == ErrorKind.PARSE


def test_parse_fast_namespace_lookalikes_in_text_cost_linear_time() -> None:
    """Text made of "xmlns:" a million times is read in seconds, not hours."""
    body = rss(f"<item><guid>1</guid><title>{'xmlns:' * 1_000_000}</title></item>")
    started = time.monotonic()
    assert both(body).items[0].title.startswith("xmlns:xmlns:")
    assert time.monotonic() - started < 10


def test_parse_fast_huge_text_node_falls_back_within_limits() -> None:
    """A text node over libxml2's 10 MB limit is refused by lxml and read by feedparser."""
    body = rss(f"<item><guid>1</guid><description>{'word ' * 2_200_000}</description></item>")
    assert "not well-formed" in refusal(body)
