"""What every command shares: the configuration, the store, the rules, the clock.

Each is built on first use and closed when the command ends, so a command that
needs no database (`score`, `config check`) never opens one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from monitor.clock import utcnow
from monitor.config.load import Config, load_config, resolve_config_path
from monitor.fetch.client import Fetcher
from monitor.signals import RuleSet, load_rules
from monitor.store import Store, open_store


class App:
    """One command's or the daemon's shared parts, each built on first use."""

    def __init__(self, config_arg: str | None) -> None:
        self._config_arg = config_arg
        self._config: Config | None = None
        self._store: Store | None = None
        self._rules: RuleSet | None = None
        self._fetcher: Fetcher | None = None

    def config_path(self) -> tuple[Path, bool]:
        """The configuration file, and whether it is the packaged example."""
        return resolve_config_path(self._config_arg)

    def config(self) -> Config:
        """The configuration, read once."""
        if self._config is None:
            path, packaged = self.config_path()
            self._config = load_config(path, packaged=packaged)
        return self._config

    def store(self, *, create: bool = False) -> Store:
        """The database; only commands that add data (`run`, `import`) may create it."""
        if self._store is None:
            self._store = open_store(self.config().storage_path, create=create)
        return self._store

    def open_store(self, path: Path) -> Store:
        """Another connection to the database (the daemon keeps one per thread)."""
        return open_store(path, create=True)

    def reloaded(self) -> App:
        """A new App over the same configuration source, read afresh."""
        return App(self._config_arg)

    def rules(self) -> RuleSet:
        """The signal rules, compiled once."""
        if self._rules is None:
            signals = self.config().signals
            self._rules = load_rules(signals.rules_path, signals.threshold)
        return self._rules

    def fetcher(self) -> Fetcher:
        """The HTTP client for feeds, opened once."""
        if self._fetcher is None:
            self._fetcher = Fetcher(self.config().fetch)
        return self._fetcher

    def now(self) -> datetime:
        """The time now; every stage gets it from here."""
        return utcnow()

    def close(self) -> None:
        """Close the client and the database, if they were opened."""
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None
        if self._store is not None:
            self._store.close()
            self._store = None
