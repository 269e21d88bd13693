"""One exception tree for the monitor.

    MonitorError                 every error the CLI turns into a message and exit code
    ├── ConfigError              configuration invalid: carries every Problem found at once
    ├── StorageError             the database cannot be opened or written
    │   ├── ForeignDatabaseError not a monitor database, or corrupt: never overwritten
    │   ├── NewerSchemaError     written by a newer monitor
    │   ├── DatabaseBusyError    another writer held the lock past the busy timeout
    │   ├── DatabaseReplacedError the file at the path is no longer the one open
    │   └── AlreadyRunningError  a second daemon on the same database
    ├── FetchError               one fetch failed; `kind` is its class (see models.ErrorKind)
    ├── ParseError               one body is not a usable feed; `kind` as for FetchError
    └── DeliveryError            one alert attempt failed; `permanent` says whether to retry

Inside a batch (a poll of many feeds, a dispatch of many alerts) errors are values
stored on the feed or outbox row; only the CLI turns them into an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.models import ErrorKind


class MonitorError(Exception):
    """Base of every error with a user-facing message and, where useful, a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration problem: where, what is wrong, how to fix it."""

    file: str
    key: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.file}: {self.key}: {self.what}"
        return f"{text}; fix: {self.fix}" if self.fix else text


@dataclass(slots=True)
class Problems:
    """Collects problems so that validation reports all of them at once."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def add(self, key: str, what: str, fix: str = "") -> None:
        """Record one problem at `key`: what is wrong and how to fix it."""
        self.items.append(Problem(self.file, key, what, fix))

    def raise_if_any(self) -> None:
        """Raise one ConfigError carrying every problem recorded so far, if any."""
        if self.items:
            raise ConfigError(list(self.items))

    def __bool__(self) -> bool:
        return bool(self.items)


class ConfigError(MonitorError):
    """The configuration is invalid; `problems` holds every problem found at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"configuration is invalid ({len(problems)} problem(s)):\n{lines}")


class StorageError(MonitorError):
    """The database cannot be opened or written."""


class ForeignDatabaseError(StorageError):
    """The file is not a monitor database, or is corrupt: it is never overwritten."""


class NewerSchemaError(StorageError):
    """The database was written by a newer monitor."""


class DatabaseBusyError(StorageError):
    """Another writer held the lock past the busy timeout."""


class DatabaseReplacedError(StorageError):
    """The database file was deleted, replaced or overwritten under an open connection."""


class AlreadyRunningError(StorageError):
    """A second daemon was started on the same database."""


class FetchError(MonitorError):
    """One fetch failed; `kind` is its class. Pickles its arguments."""

    def __init__(self, kind: ErrorKind, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.kind = kind

    def __reduce__(self) -> tuple[type[FetchError], tuple[ErrorKind, str, str]]:
        return (type(self), (self.kind, self.message, self.hint))


class ParseError(MonitorError):
    """Crosses process boundaries (parser workers), so it pickles its arguments."""

    def __init__(self, kind: ErrorKind, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.kind = kind

    def __reduce__(self) -> tuple[type[ParseError], tuple[ErrorKind, str, str]]:
        return (type(self), (self.kind, self.message, self.hint))


class DeliveryError(MonitorError):
    """One alert attempt failed; `permanent` says not to retry, `retry_after` when to."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
