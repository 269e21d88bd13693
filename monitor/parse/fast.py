"""A fast reader for well-formed RSS 2.0, RSS 1.0 and Atom 1.0 that gives feedparser's entries.

Why: feedparser spends most of a parse in its pure-Python SAX handlers (5-15 MB/s of
feed XML on the benchmark feeds); lxml builds the same document's tree at 70-150 MB/s.
`read` walks that tree and returns what `feedparser.parse` would return for the keys
`monitor.parse.feed` reads (feed title and language; each entry's title, summary, content,
link, id, dates and language, with their details), or raises `Unsupported`, and the
caller runs feedparser instead. feedparser stays the reference: this module
copies its rules only where they are simple, and refuses the rest:
- anything lxml finds ill-formed (feedparser would read it leniently), a DOCTYPE, an
  encoding feedparser could not settle, a root that is not `rss`, `rdf:RDF` with the
  RSS 1.0 namespace, or an Atom 1.0 `feed`;
- markup inside a field other than an Atom xhtml one (there, elements feedparser would
  also act on, svg and math), base64 or `src` content, attributes its handlers read that
  it does not model, a `base` or `lang` attribute other than `xml:base` and `xml:lang`,
  `xml:base` when the feed's URL is not known;
- elements whose handlers in feedparser move text between fields or contexts (Atom's
  `source`, `image` or `textInput` inside an entry, `media:title`, `media:description`,
  ...), found at any depth of an entry, and feed titles or summaries in places where
  feedparser's depth rules or its state would decide which one counts;
- namespace prefixes declared for two URIs, or reused for another known module.
feedparser's own helpers do the fiddly parts (date formats, URL joining, the guess that
plain text is HTML, the cp1252 map), so those cannot drift apart. The test of this
module runs every corpus file and real feed through both readers.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, Protocol
from xml.sax.saxutils import escape as _xml_escape

import feedparser.html
from feedparser.datetimes import _parse_date
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree

from monitor.parse.xmlguard import Decoded

XML_NS = "{http://www.w3.org/XML/1998/namespace}"
XML_LANG = XML_NS + "lang"
XML_BASE = XML_NS + "base"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
ATOM_NS = "http://www.w3.org/2005/atom"
RSS10_NS = "http://purl.org/rss/1.0/"
RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"
TEXT_TYPES = frozenset({"text/plain", "text/html"})
XHTML_TYPE = "application/xhtml+xml"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# feedparser's table of namespaces, keyed by the lowercase URI as it matches them.
_KNOWN: Final[Mapping[str, str]] = MappingProxyType(
    {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
)
_CANONICAL_PREFIXES = frozenset(prefix.lower() for prefix in _KNOWN.values() if prefix)
# A prefix cannot hold ":"; excluding it also keeps the search linear on text made of
# "xmlns:xmlns:..." (each candidate's scan stops where the next one starts).
_XMLNS = re.compile(rb"""xmlns(?::([^\s=>/"':]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Attributes named base or lang in any case and namespace: feedparser reads them all.
_BASE_OR_LANG = (
    "//@*[translate(local-name(), 'BASELNG', 'baselng') = 'base'"
    " or translate(local-name(), 'BASELNG', 'baselng') = 'lang']"
)
_ENTITY_LEFT = re.compile(r"&([A-Za-z0-9_]+);")
_QUOTE: Final[Mapping[str, str]] = MappingProxyType({'"': "&quot;"})
# feedparser's mapping of C1 codes read as cp1252
_CP1252: Final = MappingProxyType(feedparser.html._cp1252)
# U+0080-U+009F in UTF-8: the only code points feedparser's cp1252 map changes
# (searching the encoded text is twice as fast as searching the str).
_C1 = re.compile(b"\xc2[\x80-\x9f]")

_TITLES = frozenset({"title", "dc_title"})
_LANGUAGES = frozenset({"language", "dc_language"})
_ENTRIES = frozenset({"item", "entry"})
_SUMMARIES = frozenset({"summary", "itunes_summary"})
_DESCRIPTIONS = frozenset({"description", "dc_description"})
_FRAMES = frozenset({"image", "textinput"})
_IMAGE_FIELDS = frozenset({"title", "link", "description", "url", "href", "width", "height"})
_TEXTINPUT_FIELDS = frozenset({"title", "link", "description", "name"})
# Feed-level elements whose handlers only write feed keys this module does not return.
_FEED_HARMLESS = frozenset(
    {
        "link", "id", "guid", "updated", "published", "pubdate", "lastbuilddate", "modified",
        "issued", "dc_date", "dcterms_modified", "dcterms_issued",
    }
)  # fmt: skip
# Elements feedparser gives a meaning that moves text between fields or contexts, and
# keys that an unknown element of that name would overwrite: refused wherever they occur
# outside the places modelled below.
_DANGEROUS = frozenset(
    {
        "media_title", "media_description", "abstract", "fullitem",
        "body", "xhtml_body", "source", "image", "textinput", "item", "entry", "channel",
        "feed", "rss", "rdf_rdf", "title_detail", "summary_detail", "published_parsed",
        "updated_parsed", "links", "guidislink", "content_detail",
    }
)  # fmt: skip


# feedparser's names for the three formats read here; only "is it Atom" changes a rule.
_Version = Literal["rss", "rss10", "atom10"]


class Unsupported(Exception):
    """The document needs feedparser: the reason says which construct."""


class _XPathAttribute(Protocol):
    """An attribute found by an XPath query, as lxml returns it."""

    @property
    def attrname(self) -> str: ...


class _Element(Protocol):
    """The part of lxml's element interface this reader uses (lxml ships no types)."""

    @property
    def tag(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def tail(self) -> str | None: ...
    @property
    def nsmap(self) -> Mapping[str | None, str]: ...
    def get(self, key: str) -> str | None: ...
    def items(self) -> list[tuple[str, str]]: ...
    def keys(self) -> list[str]: ...
    def __iter__(self) -> Iterator[_Element]: ...
    def __len__(self) -> int: ...
    def iterdescendants(self) -> Iterator[_Element]: ...
    def iterancestors(self) -> Iterator[_Element]: ...
    def getparent(self) -> _Element | None: ...
    def xpath(self, path: str) -> list[_XPathAttribute]: ...


@dataclass
class _Document:
    """What the walk needs to know about the whole document."""

    version: _Version
    base: str  # the base URI feedparser resolves links against
    name: Callable[[str], str]  # lxml tag -> feedparser's handler name
    has_lang: bool  # any xml:lang attribute at all
    has_base: bool  # any xml:base attribute: links resolve against _base_of(element)
    feed_url: str  # the URL feedparser is given as Content-Location
    feed: dict[str, object] = field(default_factory=dict)
    entries: list[dict[str, object]] = field(default_factory=list)
    feed_title_allowed: bool = True  # False once an entry, image or textInput went by
    feed_summary: bool = False  # the feed has a summary (feedparser's feeddata["summary"])


@dataclass
class _Entry:
    """One entry being read, with the state feedparser keeps while it is open."""

    fields: dict[str, object]
    lang: str | None
    has_content: bool = False
    title_taken: bool = False  # feedparser's title_depth: a non-empty title was stored


def read(decoded: Decoded, base_url: str | None) -> dict[str, object]:
    """feedparser's result for the keys `monitor.parse.feed` reads, or raise Unsupported.

    `base_url` is what feedparser gets as Content-Location (links resolve against it).
    """
    if not decoded.encoding:
        raise Unsupported("no encoding settled")
    if decoded.has_doctype:
        # libxml2 would try to load the DTD, and feedparser strips the DOCTYPE before
        # parsing (which makes an undefined entity an error there but not here).
        raise Unsupported("a DOCTYPE")
    root = _tree(decoded.text)
    declarations = _declarations(decoded.text)
    name = _namer(_unknown_prefixes(declarations))
    has_lang, has_base = _find_base_and_lang(root, base_url)
    document = _Document(
        version=_version(name(root.tag), root, declarations),
        base="" if has_base else _document_base(base_url or ""),
        name=name,
        has_lang=has_lang,
        has_base=has_base,
        feed_url=base_url or "",
    )
    _read_root(document, root)
    result: dict[str, object] = {
        "bozo": decoded.problem is not None,
        "entries": document.entries,
        "feed": document.feed,
        "version": document.version,
    }
    if decoded.problem is not None:
        result["bozo_exception"] = decoded.problem
    return result


def _tree(text: bytes) -> _Element:
    # A parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, collect_ids=False,
    )  # fmt: skip
    try:
        root = etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        raise Unsupported(f"not well-formed: {exc}") from None
    if root.getroottree().docinfo.doctype:  # one the prolog check did not see
        raise Unsupported("a DOCTYPE")
    element: _Element = root
    return element


# --- names and namespaces ----------------------------------------------------------------


def _declarations(text: bytes) -> list[tuple[str, str]]:
    """(prefix, URI) of every namespace declaration, "" for the default, in document order.

    Read from the bytes, so a declaration spelled inside text counts too: that can only
    make the checks below stricter.
    """
    found = []
    for match in _XMLNS.finditer(text):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        uri = raw.decode("utf-8", "replace")
        if "&" in uri:
            raise Unsupported("a namespace URI with a reference in it")
        found.append(((match.group(1) or b"").decode("utf-8", "replace"), uri))
    return found


def _unknown_prefixes(declarations: list[tuple[str, str]]) -> dict[str, str]:
    """URI -> prefix of every namespace feedparser does not know.

    Refused, because feedparser's reading of them depends on declaration order: a prefix
    bound to two URIs, an unknown URI under two prefixes (or a prefix and the default),
    a known module's prefix bound to another known URI. The default namespace may change
    freely: feedparser names elements by prefixes only.
    """
    bound: dict[str, str] = {}
    unknown: dict[str, str] = {}
    for prefix, uri in declarations:
        if prefix and bound.setdefault(prefix, uri) != uri:
            raise Unsupported(f"namespace prefix {prefix!r} bound to two URIs")
        canonical = _KNOWN.get(_lower_namespace(uri))
        if canonical is None:
            if unknown.setdefault(uri, prefix) != prefix:
                raise Unsupported(f"namespace {uri!r} under two prefixes")
        elif prefix in _CANONICAL_PREFIXES and canonical != prefix:
            raise Unsupported(f"prefix {prefix!r} bound to another module's namespace")
    return unknown


def _lower_namespace(uri: str) -> str:
    lower = uri.lower()
    return "http://backend.userland.com/rss" if "backend.userland.com/rss" in lower else lower


def _namer(unknown: dict[str, str]) -> Callable[[str], str]:
    """A cached map from lxml tags to the names feedparser dispatches on (`dc_date`)."""
    cache: dict[str, str] = {}

    def name(tag: str) -> str:
        found = cache.get(tag)
        if found is None:
            found = cache[tag] = _handler_name(tag, unknown)
        return found

    return name


def _handler_name(tag: str, unknown: dict[str, str]) -> str:
    if not tag.startswith("{"):
        return tag.lower()
    uri, local = tag[1:].split("}", 1)
    prefix = _KNOWN.get(_lower_namespace(uri))
    if prefix is None:
        if uri not in unknown:
            raise Unsupported(f"namespace {uri!r} not found among the declarations")
        prefix = unknown[uri]
    return f"{prefix}_{local}".lower() if prefix else local.lower()


def _version(root_name: str, root: _Element, declarations: list[tuple[str, str]]) -> _Version:
    """The feed version as feedparser settles it, for the three supported roots.

    feedparser takes the first RSS 1.0, RSS 0.90 or Atom namespace declared; only an
    <rss> root overrides that, so other roots are refused when those disagree.
    """
    uris = [(prefix, uri.lower()) for prefix, uri in declarations]
    rss10 = any(uri == RSS10_NS for _, uri in uris)
    rss090 = any(not prefix and uri == RSS090_NS for prefix, uri in uris)
    atom = any(uri == ATOM_NS for _, uri in uris)
    if root_name == "rss":
        return "rss"
    if root_name == "feed" and _tag_namespace(root.tag) == ATOM_NS and not (rss10 or rss090):
        return "atom10"
    on_root = {str(uri).lower() for uri in root.nsmap.values()}
    if root_name == "rdf_rdf" and RSS10_NS in on_root and not (atom or rss090):
        return "rss10"
    raise Unsupported(f"root element {root_name!r} of an unsupported format")


def _tag_namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0].lower() if tag.startswith("{") else ""


def _document_base(base: str) -> str:
    """The base feedparser holds inside the document: it re-joins it with itself at every
    element, so a base that keeps changing under that is refused."""
    if not base:
        return ""
    once = make_safe_absolute_uri(base, base) or base
    twice = make_safe_absolute_uri(once, once) or once
    if once != twice:
        raise Unsupported("a base URL that feedparser rewrites as it goes")
    return str(once)


def _find_base_and_lang(root: _Element, base_url: str | None) -> tuple[bool, bool]:
    """(any xml:lang, any xml:base); refuse other base or lang attributes, which feedparser
    reads too, and xml:base without a feed URL (feedparser's base then leaks between
    siblings)."""
    found = {value.attrname for value in root.xpath(_BASE_OR_LANG)}  # in C, over the tree
    if found - {XML_LANG, XML_BASE}:
        raise Unsupported("a base or lang attribute other than xml:base and xml:lang")
    if XML_BASE in found and not base_url:
        raise Unsupported("xml:base in a feed read without its URL")
    return XML_LANG in found, XML_BASE in found


def _base_of(document: _Document, element: _Element) -> str:
    """The base feedparser resolves `element`'s links against: each element from the root
    down joins its xml:base (or, without one, the base itself) to the one above."""
    if not document.has_base:
        return document.base
    base = document.feed_url
    for node in [*reversed(list(element.iterancestors())), element]:
        base = make_safe_absolute_uri(base, node.get(XML_BASE) or base) or base
    return str(base)


# --- the feed ------------------------------------------------------------------------------


def _read_root(document: _Document, root: _Element) -> None:
    root_name = document.name(root.tag)
    if root_name in ("rss", "feed") and document.has_lang:
        lang = root.get(XML_LANG)
        if lang:
            document.feed["language"] = lang.replace("_", "-")
    atom = root_name == "feed"
    _read_level(document, root, in_feed=atom, may_open_channel=not atom)


def _read_level(
    document: _Document, parent: _Element, *, in_feed: bool, may_open_channel: bool
) -> None:
    """The children of the root or of the channel: entries, feed title and language."""
    channels = 0
    for child in parent:
        name = document.name(child.tag)
        if name in _ENTRIES:
            document.entries.append(_read_entry(document, child))
            document.feed_title_allowed = False
        elif name == "channel" and may_open_channel and not channels:
            channels += 1
            _read_level(document, child, in_feed=True, may_open_channel=False)
        elif in_feed and name in _TITLES:
            _read_feed_title(document, child)
        elif in_feed and name in _LANGUAGES and not len(child):
            document.feed["language"] = _plain(_text_only(child, _NO_ATTRIBUTES))
        elif name in _SUMMARIES or name in _DESCRIPTIONS:
            _check_feed_summary(document, child, name, in_feed)
        elif name in _FRAMES:
            _check_frame(document, child, name)
            document.feed_title_allowed = False
        elif name in _SENSITIVE and name not in _FEED_HARMLESS:
            raise Unsupported(f"<{name}> where feedparser's reading depends on context")
        elif len(child):
            _check_subtree(document, child)


def _read_feed_title(document: _Document, element: _Element) -> None:
    # feedparser keeps the first non-empty title at the shallowest depth seen since the
    # last entry, image or textInput: one title, before all of those, is always kept.
    if not document.feed_title_allowed or "title" in document.feed:
        raise Unsupported("a feed title after entries, or a second one")
    document.feed["title"] = _content_value(document, element, "text/plain")[0]


def _check_feed_summary(document: _Document, element: _Element, name: str, in_feed: bool) -> None:
    """A feed's summary (an iTunes one, say) and descriptions, where harmless: after a
    summary, feedparser would read a further one as the feed's content and carry that
    into the next entry, where it changes which of two descriptions is the body."""
    if document.feed_summary or (name in _SUMMARIES and not in_feed):
        raise Unsupported(f"<{name}> after a feed summary")
    if name in _SUMMARIES:
        document.feed_summary = True
    if len(element):
        _check_subtree(document, element)


def _check_frame(document: _Document, frame: _Element, name: str) -> None:
    """An image or textInput holding only its own plain fields (anything else makes
    feedparser file the following fields under the feed instead)."""
    allowed = _IMAGE_FIELDS if name == "image" else _TEXTINPUT_FIELDS
    for child in frame:
        if document.name(child.tag) not in allowed or len(child):
            raise Unsupported(f"<{document.name(child.tag)}> inside <{name}>")


def _check_subtree(document: _Document, element: _Element) -> None:
    for descendant in element.iterdescendants():
        name = document.name(descendant.tag)
        if name in _SENSITIVE:
            raise Unsupported(f"<{name}> nested where feedparser would still read it")


# --- entries -------------------------------------------------------------------------------


def _read_entry(document: _Document, item: _Element) -> dict[str, object]:
    _attributes(item, _ENTRY_ATTRIBUTES)
    # keys(): an element iterates over its children, not its attributes
    if any(k != RDF_ABOUT and k.lower().endswith("}about") for k in item.keys()):  # noqa: SIM118
        raise Unsupported("an about attribute that feedparser may read as rdf:about")
    entry = _Entry({}, _inherited_lang(item) if document.has_lang else None)
    about = item.get(RDF_ABOUT)
    if about:
        entry.fields["id"] = about
    for child in item:
        name = document.name(child.tag)
        reader = _FIELD_READERS.get(name)
        if reader is not None:
            if len(child) and name not in _TEXT_CONSTRUCTS:  # those judge their markup
                raise Unsupported(f"markup inside <{name}>")
            reader(document, entry, child)
        elif name in _SENSITIVE:
            raise Unsupported(f"<{name}> inside an entry")
        elif len(child):
            _check_subtree(document, child)
    return entry.fields


def _inherited_lang(element: _Element) -> str | None:
    node: _Element | None = element
    while node is not None:
        value = node.get(XML_LANG)
        if value is not None:
            return str(value) or None  # xml:lang="" means no language, not the parent's
        node = node.getparent()
    return None


def _lang(document: _Document, entry: _Entry, element: _Element) -> str | None:
    lang = entry.lang
    if document.has_lang:
        own = element.get(XML_LANG)
        lang = lang if own is None else (str(own) or None)
    return lang.replace("_", "-") if lang else lang


def _title(document: _Document, entry: _Entry, element: _Element) -> None:
    value, kind = _content_value(document, element, "text/plain")
    if entry.title_taken:  # feedparser keeps the first non-empty title of an entry
        return
    entry.fields["title"] = value
    entry.fields["title_detail"] = _detail(document, entry, element, kind, value)
    entry.title_taken = bool(value)


def _description(document: _Document, entry: _Entry, element: _Element) -> None:
    # A description after a summary is the entry's content in feedparser.
    if "summary" in entry.fields and not entry.has_content:
        _content(document, entry, element, "text/plain")
    else:
        _summary(document, entry, element, "text/html")


def _summary_element(document: _Document, entry: _Entry, element: _Element) -> None:
    if "summary" in entry.fields and not entry.has_content:
        _content(document, entry, element, "text/plain")
    else:
        _summary(document, entry, element, "text/plain")


def _summary(document: _Document, entry: _Entry, element: _Element, default_type: str) -> None:
    value, kind = _content_value(document, element, default_type)
    entry.fields["summary"] = value
    entry.fields["summary_detail"] = _detail(document, entry, element, kind, value)


def _content(document: _Document, entry: _Entry, element: _Element, default_type: str) -> None:
    entry.has_content = True
    value, kind = _content_value(document, element, default_type)
    detail = _detail(document, entry, element, kind, value)
    contents = entry.fields.get("content")
    if isinstance(contents, list):
        contents.append(detail)
    else:
        entry.fields["content"] = [detail]
    entry.fields.setdefault("summary", value)  # content stands in for a missing summary


def _source(document: _Document, entry: _Entry, element: _Element) -> None:
    # RSS's <source url="...">name</source>: only its text, filed elsewhere. feedparser
    # forgets there that a title was kept, so a later title replaces the first.
    _attributes(element, _SOURCE_ATTRIBUTES, modelled=_SOURCE_ATTRIBUTES)
    entry.title_taken = False


def _atom_content(document: _Document, entry: _Entry, element: _Element) -> None:
    _content(document, entry, element, "text/plain")


def _encoded_content(document: _Document, entry: _Entry, element: _Element) -> None:
    _content(document, entry, element, "text/html")


def _link(document: _Document, entry: _Entry, element: _Element) -> None:
    attributes = _attributes(element, _LINK_ATTRIBUTES, modelled=_HREF)
    if "href" not in attributes:  # RSS: the link is the element's text
        value = _plain(element.text, base=_base_of(document, element)).replace("&amp;", "&")
        entry.fields["link"] = _ENTITY_LEFT.sub(r"&\g<1>", value)
        return
    rel = attributes.get("rel", "alternate")
    kind = attributes.get("type", "application/atom+xml" if rel == "self" else "text/html")
    if rel == "alternate" and _FeedParserMixin.map_content_type(kind) in HTML_TYPES:
        entry.fields["link"] = _urljoin(_base_of(document, element), attributes["href"])


def _guid(document: _Document, entry: _Entry, element: _Element) -> None:
    attributes = _attributes(element, _GUID_ATTRIBUTES)
    is_link = attributes.get("ispermalink", "true") == "true"
    value = _plain(element.text, base=_base_of(document, element) if is_link else None)
    entry.fields["id"] = value
    if is_link:
        entry.fields.setdefault("link", value)


def _published(document: _Document, entry: _Entry, element: _Element) -> None:
    value = _plain(_text_only(element, _NO_ATTRIBUTES))
    entry.fields["published"] = value
    entry.fields["published_parsed"] = _parse_date(value)


def _updated(document: _Document, entry: _Entry, element: _Element) -> None:
    value = _plain(_text_only(element, _NO_ATTRIBUTES))
    entry.fields["updated"] = value
    entry.fields["updated_parsed"] = _parse_date(value)


def _language(document: _Document, entry: _Entry, element: _Element) -> None:
    entry.fields["language"] = _plain(_text_only(element, _NO_ATTRIBUTES))


_FieldReader = Callable[[_Document, _Entry, _Element], None]
_FIELD_READERS: Final[Mapping[str, _FieldReader]] = MappingProxyType({
    "title": _title, "dc_title": _title,
    "description": _description, "dc_description": _description,
    "summary": _summary_element, "itunes_summary": _summary_element,
    "source": _source,
    "content": _atom_content, "content_encoded": _encoded_content,
    "link": _link,
    "guid": _guid, "id": _guid,
    "pubdate": _published, "published": _published, "issued": _published,
    "dcterms_issued": _published,
    "updated": _updated, "modified": _updated, "lastbuilddate": _updated, "dc_date": _updated,
    "dcterms_modified": _updated,
    "language": _language, "dc_language": _language,
})  # fmt: skip
_SENSITIVE = frozenset(_FIELD_READERS) | _DANGEROUS | _TITLES | _LANGUAGES
_TEXT_CONSTRUCTS = _TITLES | _SUMMARIES | _DESCRIPTIONS | {"content", "content_encoded"}


# --- text as feedparser finishes it -----------------------------------------------------------

# The attribute names feedparser's handlers read (lowercased); others are ignored, as
# feedparser ignores them. feedparser also reads a namespaced attribute under its bare
# name, so one of these names in any namespace is refused, and so are those marked here
# as not modelled (base64 `mode`, Atom `src`, and the `url`/`uri` spellings of `href`).
_NO_ATTRIBUTES: frozenset[str] = frozenset()
_TEXT_ATTRIBUTES = frozenset({"type", "mode", "src"})
_LINK_ATTRIBUTES = frozenset({"href", "rel", "type", "url", "uri"})
_GUID_ATTRIBUTES = frozenset({"ispermalink"})
_SOURCE_ATTRIBUTES = frozenset({"url"})
_HREF = frozenset({"href"})
_ENTRY_ATTRIBUTES = frozenset({"lastmod", "href"})  # feedparser's CDF reading of an item
_NOT_MODELLED = frozenset({"mode", "src", "url", "uri", "lastmod", "href"})


def _attributes(
    element: _Element, reads: frozenset[str], modelled: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The attributes of `element` that feedparser's handler `reads`, as it sees them
    (names lowercased, `rel` and `type` values too). A read one that is not `modelled`
    here, comes twice, or stands in a namespace is refused."""
    found: dict[str, str] = {}
    for key, value in element.items():
        if key.startswith("{"):
            if key.rsplit("}", 1)[1].lower() in reads and key != XML_LANG:
                raise Unsupported(f"attribute {key!r} on <{element.tag}>")
            continue
        lower = str(key).lower()
        if lower not in reads:
            continue
        if lower in found or (lower in _NOT_MODELLED and lower not in modelled):
            raise Unsupported(f"attribute {key!r} on <{element.tag}>")
        found[lower] = value.lower() if lower in ("rel", "type") else str(value)
    return found


def _text_only(element: _Element, allowed: frozenset[str]) -> str:
    _attributes(element, allowed)
    return str(element.text or "")


def _content_value(document: _Document, element: _Element, default_type: str) -> tuple[str, str]:
    """(text, content type) of a text construct, as feedparser's pop() leaves them."""
    attributes = _attributes(element, _TEXT_ATTRIBUTES)
    kind = _FeedParserMixin.map_content_type(attributes.get("type", default_type))
    if kind == XHTML_TYPE and document.version == "atom10":
        return _recode(_xhtml_markup(document, element)), kind
    if kind not in TEXT_TYPES:  # other types may be base64
        raise Unsupported(f"content type {kind!r}")
    if len(element):
        raise Unsupported(f"markup inside <{document.name(element.tag)}>")
    text = str(element.text or "").strip()
    # Outside Atom, feedparser guesses that "plain" text holding tags is HTML.
    if (
        kind == "text/plain"
        and document.version != "atom10"
        and _FeedParserMixin.looks_like_html(text)
    ):
        kind = "text/html"
    return _recode(text), kind


def _xhtml_markup(document: _Document, element: _Element) -> str:
    """The markup feedparser rebuilds from an Atom xhtml construct: start tags with their
    plain attributes, escaped text, an end tag for every element, and an enclosing div
    taken off. Refused: elements that feedparser would also handle (an end tag such as
    </title> or </body> runs its handler), svg and math, namespaced attributes."""
    pieces = [_xml_escape(element.text)] if element.text else []
    for event, node in etree.iterwalk(element, events=("start", "end")):
        if node is element:
            continue
        local = node.tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            name = document.name(node.tag)
            if hasattr(_FeedParserMixin, "_end_" + name) or local in ("svg", "math"):
                raise Unsupported(f"<{name}> inside xhtml content")
            pieces.append(f"<{local}{_xhtml_attributes(node)}>")
            if node.text:
                pieces.append(_xml_escape(node.text))
        else:
            pieces.append(f"</{local}>")
            if node.tail:
                pieces.append(_xml_escape(node.tail))
    return _without_enclosing_div(pieces).strip()


def _xhtml_attributes(node: _Element) -> str:
    out = []
    seen: set[str] = set()
    for key, value in node.items():
        lower = str(key).lower()
        if key.startswith("{") or lower in seen:
            raise Unsupported(f"attribute {key!r} inside xhtml content")
        seen.add(lower)
        value = value.lower() if lower in ("rel", "type") else str(value)
        out.append(f' {lower}="{_xml_escape(value, _QUOTE)}"')
    return "".join(out)


def _without_enclosing_div(pieces: list[str]) -> str:
    """feedparser's rule, as it is: a div holding all the rest is taken off."""
    while len(pieces) > 1 and not pieces[-1].strip():
        del pieces[-1]
    while len(pieces) > 1 and not pieces[0].strip():
        del pieces[0]
    first, last = (pieces[0], pieces[-1]) if pieces else ("", "")
    if (first == "<div>" or first.startswith("<div ")) and last == "</div>":
        depth = 0
        for piece in pieces[:-1]:
            if piece.startswith("</"):
                depth -= 1
                if depth == 0:
                    break
            elif piece.startswith("<") and not piece.endswith("/>"):
                depth += 1
        else:
            pieces = pieces[1:-1]
    return "".join(pieces)


def _plain(text: str | None, base: str | None = None) -> str:
    value = str(text or "").strip()
    if base is not None and value:
        value = _urljoin(base, value)
    return _recode(value)


def _recode(text: str) -> str:
    """feedparser's last touches: UTF-8 read as Latin-1 is undone, cp1252 codes mapped."""
    if text.isascii():  # both are no-ops on ASCII, and translate() is slow on long text
        return text
    with contextlib.suppress(UnicodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_CP1252) if _C1.search(text.encode("utf-8", "surrogatepass")) else text


def _detail(
    document: _Document, entry: _Entry, element: _Element, kind: str, value: str
) -> dict[str, object]:
    return {"type": kind, "language": _lang(document, entry, element), "value": value}
