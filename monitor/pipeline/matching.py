"""Matching in one place: which items to match, and their matches.

Polling, import and rescan all come here (the parse workers too, in their own
processes). An item is matched when it is new or edited: its content hash differs from
the one stored under its key, or from an earlier item of the same batch with that key.
A rescan knows no stored hashes, so every item it reads is matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from monitor.models import Match
from monitor.signals import RuleSet, match_document

MatchKey = tuple[str, str]  # an item's key and content hash


class Text(Protocol):
    """What the matcher reads of an item (a parsed item or a stored one)."""

    @property
    def key(self) -> str:
        """The item's key within its feed."""

    @property
    def title(self) -> str:
        """The headline."""

    @property
    def summary(self) -> str:
        """The feed's summary ("" when none); matched when there is no body."""

    @property
    def body(self) -> str:
        """The full text ("" when none)."""

    @property
    def lang(self) -> str:
        """The language the rules are chosen by."""

    @property
    def content_hash(self) -> str:
        """The hash of title, summary and body: what tells an edit apart."""


def match_text(rules: RuleSet, text: Text) -> Match:
    """One item's match: its title and its body (the summary when it has no body)."""
    return match_document(rules, text.title, text.body or text.summary, text.lang)


def match_items(
    rules: RuleSet,
    items: Sequence[Text],
    known: Mapping[str, str] | None = None,
    done: Mapping[MatchKey, Match] | None = None,
) -> list[Match | None]:
    """The match of each new or edited item, None for the others, in the items' order.

    `known` holds the stored content hash by key (None: nothing is known, match every
    item); `done` holds matches already made with these rules, by key and hash, which
    are used as they are.
    """
    stored = dict(known or {})
    found: list[Match | None] = []
    for item in items:
        if known is not None and stored.get(item.key) == item.content_hash:
            found.append(None)
            continue
        stored[item.key] = item.content_hash
        earlier = (done or {}).get((item.key, item.content_hash))
        found.append(earlier if earlier is not None else match_text(rules, item))
    return found


def by_key(items: Sequence[Text], matches: Sequence[Match | None]) -> dict[MatchKey, Match]:
    """Matches by key and hash, for handing on as `done`."""
    return {
        (item.key, item.content_hash): match
        for item, match in zip(items, matches, strict=True)
        if match is not None
    }
