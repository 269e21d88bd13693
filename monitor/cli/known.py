"""Filter values checked against what exists: a feed or signal type that does not exist
is an error naming the ones that do, never a silently empty listing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Protocol

from monitor.cli.output import cell
from monitor.config.load import Config
from monitor.errors import MonitorError
from monitor.signals import RuleSet
from monitor.store import Store
from monitor.store import review as rq

LISTED = 30  # names shown at most; the rest are counted


class KnowsConfig(Protocol):
    """What the checks need from `monitor.app.App`: the configuration and the rules."""

    def config(self) -> Config:
        """The loaded configuration."""

    def rules(self) -> RuleSet:
        """The loaded signal rules."""


def require_feed(app: KnowsConfig, store: Store, name: str) -> None:
    """A feed is known when it is configured or anything of it is stored."""
    configured = {str(spec.name) for spec in getattr(app.config(), "feeds", ())}
    known = configured | rq.stored_feeds(store)
    if name not in known:
        raise MonitorError(f"no feed {cell(name, 60)}; known: {listing(known)}")


def require_signal_type(app: KnowsConfig, store: Store, kind: str) -> None:
    """A signal type is known when a stored flag carries it or a rule can produce it."""
    known = rq.stored_signal_types(store)
    if kind in known:
        return
    # rules that do not load: the stored types are all there is to name
    with contextlib.suppress(MonitorError):
        known |= {str(rule.type) for rule in app.rules().rules}
    if kind not in known:
        raise MonitorError(f"no signal type {cell(kind, 60)}; known: {listing(known)}")


def listing(names: Iterable[str]) -> str:
    """Names sorted and joined for an error message; past `LISTED`, only counted."""
    ordered = sorted(names)
    if not ordered:
        return "none yet"
    shown = ", ".join(cell(n, 40) for n in ordered[:LISTED])
    more = len(ordered) - LISTED
    return f"{shown} and {more} more" if more > 0 else shown
