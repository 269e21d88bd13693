"""Archived items from JSON Lines into ParsedItems, built the way the feed parser builds them.

One object per line: {"id"?, "url"?, "title", "text", "published", "lang"?}. The key
is the id, else the normalised link, else a hash of title and date (as for feeds);
the content hash covers title, summary ("") and body (the text). A bad line becomes
an error naming its line number; the other lines are still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date

from monitor.clock import iso, parse_iso
from monitor.models import ParsedItem
from monitor.parse.feed import BODY_CAP, TITLE_CAP, content_hash, item_key, plausible_lang
from monitor.parse.text import one_line, safe_link, strip_controls

_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")


def read_items(lines: Iterable[str]) -> tuple[list[ParsedItem], list[str]]:
    """Items from the usable lines and one message per bad line ("line N: what")."""
    items: list[ParsedItem] = []
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(item_from_json(json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not JSON ({exc.msg})")
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
    return items, errors


def item_from_json(value: object) -> ParsedItem:
    """One archived item; ValueError says what is wrong with it."""
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    title = one_line(_text(value, "title", required=True), TITLE_CAP)
    body = strip_controls(_text(value, "text", required=True)).strip()[:BODY_CAP]
    published = _published(value.get("published"))
    url = safe_link(_text(value, "url")) if value.get("url") is not None else None
    guid = _identifier(value.get("id"))
    key, key_kind = item_key(guid, url, title, "", published)
    lang = plausible_lang(value.get("lang")) or guess_lang(f"{title} {body[:2000]}")
    return ParsedItem(
        key=key,
        key_kind=key_kind,
        url=url,
        title=title,
        published=published,
        summary="",
        body=body,
        lang=lang,
        content_hash=content_hash(title, "", body),
    )


def _text(value: Mapping[str, object], name: str, *, required: bool = False) -> str:
    field = value.get(name)
    if field is None and not required:
        return ""
    if not isinstance(field, str):
        problem = "must be a string" if field is not None else "is missing"
        raise ValueError(f'"{name}" {problem}')
    if required and name == "title" and not field.strip():
        raise ValueError('"title" is empty')
    return field


def _identifier(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('"id" must be a string or a number')
    return str(value)


def _published(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError('"published" is missing (YYYY-MM-DD or an ISO 8601 time)')
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat() + "T00:00:00Z"
        return iso(parse_iso(text))
    except ValueError as exc:
        raise ValueError(f'"published" is not a date: {one_line(text, 40)!r}') from exc


def guess_lang(text: str) -> str:
    """ "ru" when Cyrillic letters outnumber Latin ones, else "en"."""
    return "ru" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "en"
