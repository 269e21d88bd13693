"""Per-channel delivery policy and the typed readers `alerts.config` validates with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from monitor.config.durations import parse_duration
from monitor.config.secrets import SecretRef
from monitor.errors import Problems

CHANNEL_KEYS = frozenset(
    {
        "min_score",
        "give_up_after",
        "timeout",
        "digest",
        "budget",
        "budget_window",
        "notices",
        "updates",
    }
)
_CREDENTIAL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
UpdatesMode = Literal["digest", "send"]  # further reports of an alerted event
UPDATES: tuple[UpdatesMode, ...] = ("digest", "send")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# A TOML table as tomllib gives it: its values are read with isinstance checks.
TomlTable = Mapping[str, object]
_Choice = TypeVar("_Choice", bound=str)


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """How one channel is fed and retried. Durations in seconds."""

    min_score: float = 0.0
    give_up_after: float = 3 * 86400.0  # after this long since the row was created: dead
    timeout: float = 15.0  # per attempt, whole exchange
    digest: float | None = None  # gather item alerts over this period into one message
    budget: int = 20  # item alerts per budget_window before the excess is held for a digest
    budget_window: float = 3600.0
    notices: bool = True  # feed health, outlook and churn notices
    updates: UpdatesMode = "digest"

    def as_dict(self) -> dict[str, object]:
        """The policy as plain values, for `monitor config check`."""
        return asdict(self)


def redacted_url(url: str) -> str:
    """`url` without credentials, query or fragment: tokens often live there."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    if ":" in host:
        host = f"[{host}]"
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, host + port, parts.path, query, ""))


class Reader:
    """Typed reads of one TOML table that record problems and fall back to defaults."""

    def __init__(self, problems: Problems, base_dir: Path) -> None:
        self.problems = problems
        self.base_dir = base_dir

    def unknown(
        self,
        table: TomlTable,
        allowed: frozenset[str] | set[str],
        prefix: str,
        *,
        env_hint: str = "",
    ) -> None:
        """Report every key of `table` not in `allowed`; a secret written inline gets `env_hint`."""
        for key in sorted(set(table) - set(allowed)):
            if env_hint and key in ("password", "secret", "token"):
                self.problems.add(
                    f"{prefix}{key}",
                    "secrets are never written in the config file",
                    f"put it in an environment variable and name it with {env_hint}",
                )
                continue
            self.problems.add(
                f"{prefix}{key}",
                "unknown key",
                f"remove it; allowed keys: {', '.join(sorted(allowed))}",
            )

    def string(self, table: TomlTable, key: str, default: str, prefix: str) -> str:
        """A printable string, stripped; `default` when missing or not one."""
        value = table.get(key, default)
        if not isinstance(value, str) or not value.isprintable():
            self.problems.add(
                f"{prefix}{key}", "must be a string of printable characters", f'set {key} = "..."'
            )
            return default
        return value.strip()

    def number(
        self,
        table: TomlTable,
        key: str,
        default: float,
        prefix: str,
        *,
        low: float | None = None,
    ) -> float:
        """An integer or float of at least `low`, as a float; `default` when not one."""
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(
                f"{prefix}{key}", f"must be a number, not {value!r}", f"set {key} = {default}"
            )
            return default
        if low is not None and value < low:
            self.problems.add(
                f"{prefix}{key}", f"must be at least {low}, not {value!r}", f"set {key} = {default}"
            )
            return default
        return float(value)

    def integer(
        self,
        table: TomlTable,
        key: str,
        default: int,
        prefix: str,
        *,
        low: int = 0,
        high: int | None = None,
    ) -> int:
        """A whole number from `low` to `high`; `default` when not one."""
        value = table.get(key, default)
        bad_range = isinstance(value, int) and (value < low or (high is not None and value > high))
        if isinstance(value, bool) or not isinstance(value, int) or bad_range:
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            self.problems.add(
                f"{prefix}{key}",
                f"must be a whole number {bounds}, not {value!r}",
                f"set {key} = {default}",
            )
            return default
        return value

    def choice(
        self,
        table: TomlTable,
        key: str,
        options: tuple[_Choice, ...],
        default: _Choice,
        prefix: str,
    ) -> _Choice:
        """One of `options`; `default` when missing or not one of them."""
        value = table.get(key, default)
        for option in options:
            if value == option:
                return option
        self.problems.add(
            f"{prefix}{key}",
            f"must be one of {', '.join(options)}, not {value!r}",
            f'set {key} = "{default}"',
        )
        return default

    def duration(self, table: TomlTable, key: str, default: str, prefix: str) -> float:
        """A positive duration string in seconds; `default` when missing or not one."""
        value = table.get(key, default)
        try:
            seconds = parse_duration(value) if isinstance(value, str) else -1.0
        except ValueError:
            seconds = -1.0
        if seconds <= 0:
            self.problems.add(
                f"{prefix}{key}",
                f"must be a positive duration, not {value!r}",
                f'write it quoted, e.g. {key} = "{default}"',
            )
            return parse_duration(default)
        return seconds

    def optional_duration(
        self, table: TomlTable, key: str, default: float | None, prefix: str
    ) -> float | None:
        """A duration, or None when switched off with "", "off" or false."""
        if key not in table:
            return default
        if table[key] in ("", "off", False):
            return None
        return self.duration(table, key, "1d", prefix)

    def secret(self, table: TomlTable, name: str, prefix: str) -> SecretRef | None:
        """A SecretRef from `<name>_env`, `<name>_file` or `<name>_credential`, or None.

        A credential is a systemd one, read from $CREDENTIALS_DIRECTORY at send time.
        """
        keys = (f"{name}_env", f"{name}_file", f"{name}_credential")
        env, file, credential = (
            self.string(table, key, "", prefix) if key in table else "" for key in keys
        )
        env_key = keys[0]
        given = [key for key, value in zip(keys, (env, file, credential), strict=True) if value]
        if len(given) > 1:
            self.problems.add(
                f"{prefix}{given[0]}", f"set both {given[0]} and {given[1]}", "keep one"
            )
        if credential:
            if not _CREDENTIAL_NAME.fullmatch(credential):
                self.problems.add(
                    f"{prefix}{keys[2]}",
                    f"must be a credential name, not {credential!r}",
                    f'use the name given to LoadCredential=, e.g. "{name.replace("_", "-")}"',
                )
                return None
            return SecretRef(key=f"{prefix}{keys[2]}", credential=credential)
        if env and not _ENV_NAME.fullmatch(env):
            self.problems.add(
                f"{prefix}{env_key}",
                f"must be an environment variable name, not {env!r}",
                f'set {env_key} = "MONITOR_{name.upper()}"',
            )
            return None
        if env:
            return SecretRef(key=f"{prefix}{env_key}", env=env)
        if file:
            return SecretRef(key=f"{prefix}{keys[1]}", file=(self.base_dir / file).expanduser())
        return None


def parse_policy(
    table: TomlTable, defaults: ChannelPolicy, prefix: str, read: Reader
) -> ChannelPolicy:
    """The channel settings of `table`, each falling back to `defaults`."""
    d = defaults
    window = (
        read.duration(table, "budget_window", "1h", prefix)
        if "budget_window" in table
        else d.budget_window
    )
    horizon = (
        read.duration(table, "give_up_after", "3d", prefix)
        if "give_up_after" in table
        else d.give_up_after
    )
    timeout = read.duration(table, "timeout", "15s", prefix) if "timeout" in table else d.timeout
    notices = table.get("notices", d.notices)
    if not isinstance(notices, bool):
        read.problems.add(
            f"{prefix}notices", f"must be true or false, not {notices!r}", "set notices = true"
        )
        notices = d.notices
    return ChannelPolicy(
        min_score=read.number(table, "min_score", d.min_score, prefix, low=0),
        give_up_after=horizon,
        timeout=timeout,
        digest=read.optional_duration(table, "digest", d.digest, prefix),
        budget=read.integer(table, "budget", d.budget, prefix),
        budget_window=window,
        notices=notices,
        updates=read.choice(table, "updates", UPDATES, d.updates, prefix),
    )
