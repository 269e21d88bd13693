"""TOML configuration into validated values; every problem is reported at once.

Resolution order for the file: `--config PATH`, then `MONITOR_CONFIG`, then
`config/monitor.toml` under the current directory (running from the repository),
then the defaults shipped inside the package (the same file, as package data).
Relative paths in the file are relative to the file's folder, except for the
packaged defaults, whose database goes to the user's data folder.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeVar
from urllib.parse import urlsplit

from monitor.config.alerts import AlertsConfig, parse_alerts
from monitor.config.channels import TomlTable
from monitor.config.durations import parse_duration
from monitor.config.redact import redact_url
from monitor.errors import Problems
from monitor.models import FEED_LANGS, FeedSpec, FetchSettings, OutlookSettings

REPO_CONFIG = Path("config") / "monitor.toml"
PACKAGED_RULES = Path(str(resources.files("monitor") / "defaults" / "rules.toml"))
LANGS = FEED_LANGS
_TOP_KEYS = frozenset(
    {"storage", "fetch", "signals", "feeds", "alerts", "daemon", "outlook", "metrics"}
)
OUTLOOK_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {"high_hold": "14d", "elevated_hold": "21d", "watch_hold": "14d"}
)
_Value = TypeVar("_Value", str, bool, int)


@dataclass(frozen=True, slots=True)
class SignalsConfig:
    """The [signals] table: the rules file and an optional score threshold."""

    rules_path: Path
    threshold: float | None = None
    packaged_rules: bool = False  # no rules file set or beside the config: the shipped ones


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """The [daemon] table: how often the outbox is sent and how far back the outlook reads."""

    dispatch_interval: float = 60.0  # seconds between outbox dispatch runs
    outlook_window_days: int = 60


@dataclass(frozen=True, slots=True)
class Retention:
    """How long rows are kept, in seconds; None keeps them for ever."""

    fetch_log: float | None = 30 * 86400.0
    revisions: float | None = 365 * 86400.0
    delivered_alerts: float | None = 90 * 86400.0
    unflagged_items: float | None = None


MIN_ITEM_RETENTION = 30 * 86400.0  # younger items may still be listed by their feed


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Where the daemon serves Prometheus metrics; no host means off."""

    host: str = ""
    port: int = 0


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration of one command or daemon."""

    config_path: Path
    storage_path: Path
    fetch: FetchSettings
    feeds: tuple[FeedSpec, ...]
    signals: SignalsConfig
    alerts: AlertsConfig
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    retention: Retention = field(default_factory=Retention)
    warnings: tuple[str, ...] = ()
    outlook: OutlookSettings = field(default_factory=OutlookSettings)


def resolve_config_path(explicit: str | None) -> tuple[Path, bool]:
    """The file to load and whether it is the packaged default."""
    chosen = explicit or os.environ.get("MONITOR_CONFIG")
    if chosen:
        return Path(chosen), False
    if REPO_CONFIG.is_file():
        return REPO_CONFIG.resolve(), False
    packaged = resources.files("monitor") / "defaults" / "monitor.toml"
    return Path(str(packaged)), True


def default_data_dir() -> Path:
    """Where the packaged defaults keep the database: $XDG_DATA_HOME or ~/.local/share."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "diplomatic-signal-monitor"


def load_config(path: Path, *, packaged: bool = False) -> Config:
    """Read and validate; raises ConfigError listing every problem found."""
    problems = Problems(str(path))
    raw = _read_toml(path, problems)
    problems.raise_if_any()
    base = default_data_dir() if packaged else path.resolve().parent
    rules_base = path.resolve().parent
    _unknown(raw, _TOP_KEYS, "", problems)
    fetch = _fetch(_table(raw, "fetch", problems), problems)
    config = Config(
        config_path=path,
        storage_path=_storage(_table(raw, "storage", problems), base, problems),
        retention=_retention(_table(raw, "storage", problems), problems),
        fetch=fetch,
        feeds=_feeds(raw.get("feeds", []), problems),
        signals=_signals(_table(raw, "signals", problems), rules_base, problems),
        alerts=parse_alerts(_table(raw, "alerts", problems), problems, rules_base),
        daemon=(daemon := _daemon(_table(raw, "daemon", problems), problems)),
        metrics=_metrics(_table(raw, "metrics", problems), problems),
        warnings=_permission_warnings(path, raw),
        outlook=_outlook(_table(raw, "outlook", problems), daemon, problems),
    )
    problems.raise_if_any()
    return config


def _read_toml(path: Path, problems: Problems) -> TomlTable:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.add("(file)", "file not found", "pass --config PATH or set MONITOR_CONFIG")
    except OSError as exc:
        problems.add("(file)", f"cannot read: {exc.strerror}", "check the path and permissions")
    except tomllib.TOMLDecodeError as exc:
        problems.add("(syntax)", f"not valid TOML: {exc}", "fix the TOML syntax at that line")
    return {}


def _table(raw: TomlTable, key: str, problems: Problems) -> TomlTable:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        problems.add(key, "must be a table", f"write it as [{key}]")
        return {}
    return value


def _unknown(table: TomlTable, allowed: frozenset[str], prefix: str, problems: Problems) -> None:
    for key in sorted(set(table) - allowed):
        problems.add(
            f"{prefix}{key}",
            "unknown key",
            f"remove it; allowed keys: {', '.join(sorted(allowed))}",
        )


def _get(
    table: TomlTable,
    key: str,
    kind: type[_Value],
    default: _Value,
    prefix: str,
    problems: Problems,
) -> _Value:
    """`table[key]` when it is a `kind` (a bool is no int here), else `default`."""
    value = table.get(key, default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    name = kind.__name__
    problems.add(f"{prefix}{key}", f"must be a {name}, not {value!r}", f"set {key} = <{name}>")
    return default


_RETENTION_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "keep_fetch_log": "fetch_log",
        "keep_revisions": "revisions",
        "keep_delivered_alerts": "delivered_alerts",
        "keep_unflagged_items": "unflagged_items",
    }
)


def _storage(table: TomlTable, base: Path, problems: Problems) -> Path:
    _unknown(table, frozenset({"path", *_RETENTION_KEYS}), "storage.", problems)
    value = _get(table, "path", str, "monitor.db", "storage.", problems)
    if not value:
        problems.add("storage.path", "must not be empty", 'set path = "monitor.db"')
        value = "monitor.db"
    return (base / Path(value).expanduser()).resolve()


def _retention(table: TomlTable, problems: Problems) -> Retention:
    """`keep_*` durations, or "off" to keep those rows for ever."""
    default = Retention()
    kept: dict[str, float | None] = {}
    for key, name in _RETENTION_KEYS.items():
        value = table.get(key)
        if value is None:
            kept[name] = getattr(default, name)
        elif value == "off":
            kept[name] = None
        else:
            kept[name] = _duration(table, key, "30d", "storage.", problems)
    items = kept["unflagged_items"]
    if items is not None and items < MIN_ITEM_RETENTION:
        problems.add(
            "storage.keep_unflagged_items",
            "must be at least 30d (a feed may still list younger items)",
            'set keep_unflagged_items = "90d", or "off" to keep every item',
        )
        kept["unflagged_items"] = None
    return Retention(**kept)


_FETCH_KEYS = frozenset(
    {
        "timeout",
        "connect_timeout",
        "max_bytes",
        "allow_private_networks",
        "proxy",
        "user_agent",
        "concurrency",
        "max_redirects",
        "max_interval",
    }
)


def _fetch(table: TomlTable, problems: Problems) -> FetchSettings:
    _unknown(table, _FETCH_KEYS, "fetch.", problems)
    d = FetchSettings()
    p = "fetch."
    settings = FetchSettings(
        timeout=float(_positive(table, "timeout", d.timeout, p, problems)),
        connect_timeout=float(_positive(table, "connect_timeout", d.connect_timeout, p, problems)),
        max_bytes=int(_positive(table, "max_bytes", d.max_bytes, p, problems)),
        allow_private_networks=_get(
            table, "allow_private_networks", bool, d.allow_private_networks, p, problems
        ),
        proxy=_proxy(_get(table, "proxy", str, d.proxy, p, problems), problems),
        user_agent=_get(table, "user_agent", str, d.user_agent, p, problems) or d.user_agent,
        concurrency=int(_positive(table, "concurrency", d.concurrency, p, problems)),
        max_redirects=int(_get(table, "max_redirects", int, d.max_redirects, p, problems)),
        max_interval=_duration(table, "max_interval", "24h", p, problems),
    )
    if settings.max_interval > 24 * 3600:
        problems.add("fetch.max_interval", "must be at most 24h", 'set max_interval = "24h"')
    return settings


def _positive(table: TomlTable, key: str, default: float, prefix: str, problems: Problems) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(f"{prefix}{key}", f"must be a number, not {value!r}", f"set {key} = <number>")
        return default
    if value <= 0:
        problems.add(f"{prefix}{key}", f"must be positive, not {value!r}", f"set {key} = {default}")
        return default
    return float(value)


def _proxy(value: str, problems: Problems) -> str:
    scheme = urlsplit(value).scheme
    if value and scheme not in ("http", "https"):
        what = "SOCKS proxies are not supported" if scheme.startswith("socks") else "unsupported"
        problems.add(
            "fetch.proxy",
            f"{what}: {redact_url(value)!r}",
            'use an http:// or https:// proxy URL, or "" for none',
        )
    return value


def _duration(table: TomlTable, key: str, default: str, prefix: str, problems: Problems) -> float:
    value = table.get(key, default)
    try:
        seconds = parse_duration(str(value)) if isinstance(value, str) else float("nan")
    except ValueError as exc:
        problems.add(f"{prefix}{key}", str(exc), 'write a duration such as "45s", "10m", "2h"')
        return parse_duration(default)
    if seconds != seconds:  # NaN: not a string
        problems.add(
            f"{prefix}{key}",
            f"must be a duration string, not {value!r}",
            f'write it quoted, e.g. {key} = "10m"',
        )
        return parse_duration(default)
    return seconds


_FEED_KEYS = frozenset({"name", "url", "interval", "lang", "full_text"})


def _feeds(raw: object, problems: Problems) -> tuple[FeedSpec, ...]:
    if not isinstance(raw, list):
        problems.add("feeds", "must be an array of tables", "write each feed as [[feeds]]")
        return ()
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        prefix = f"feeds[{index}]."
        if not isinstance(table, dict):
            problems.add(f"feeds[{index}]", "must be a table", "write each feed as [[feeds]]")
            continue
        spec = _feed(table, prefix, problems)
        if spec.name in seen:
            problems.add(
                f"{prefix}name",
                f"duplicate feed name {spec.name!r}",
                "give each feed a unique name",
            )
        seen.add(spec.name)
        feeds.append(spec)
    return tuple(feeds)


def _feed(table: TomlTable, prefix: str, problems: Problems) -> FeedSpec:
    _unknown(table, _FEED_KEYS, prefix, problems)
    name = _get(table, "name", str, "", prefix, problems)
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        problems.add(
            f"{prefix}name",
            f"invalid feed name {name!r}",
            "use letters, digits, '-' and '_', e.g. kremlin-en",
        )
    url = _get(table, "url", str, "", prefix, problems)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(
            f"{prefix}url",
            f"not an http(s) URL: {redact_url(url)!r}",
            "use a full http:// or https:// feed address",
        )
    given_lang = _get(table, "lang", str, "en", prefix, problems)
    lang = next((known for known in LANGS if known == given_lang), None)
    if lang is None:
        problems.add(f"{prefix}lang", f"unsupported language {given_lang!r}", f"use one of {LANGS}")
    interval = _duration(table, "interval", "10m", prefix, problems)
    if interval < 30:
        problems.add(f"{prefix}interval", "must be at least 30s", 'use e.g. "10m"')
    return FeedSpec(
        name=name,
        url=url,
        interval=interval,
        lang=lang or "en",  # unsupported: reported above, so this value is never used
        full_text=_get(table, "full_text", bool, False, prefix, problems),
    )


def _signals(table: TomlTable, base: Path, problems: Problems) -> SignalsConfig:
    _unknown(table, frozenset({"rules", "threshold"}), "signals.", problems)
    if "rules" not in table and not (base / "rules.toml").is_file():
        return SignalsConfig(PACKAGED_RULES, _threshold(table, problems), packaged_rules=True)
    rules = _get(table, "rules", str, "rules.toml", "signals.", problems)
    threshold = _threshold(table, problems)
    path = (base / rules).resolve()
    if not path.is_file():
        problems.add(
            "signals.rules",
            f"rules file {path} not found",
            "point rules at a rules TOML file (the default is config/rules.toml)",
        )
    return SignalsConfig(rules_path=path, threshold=threshold)


def _threshold(table: TomlTable, problems: Problems) -> float | None:
    threshold = table.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        problems.add(
            "signals.threshold", f"must be a number, not {threshold!r}", "set threshold = 1.0"
        )
        return None
    return None if threshold is None else float(threshold)


def _daemon(table: TomlTable, problems: Problems) -> DaemonConfig:
    _unknown(table, frozenset({"dispatch_interval", "outlook_window"}), "daemon.", problems)
    window = _duration(table, "outlook_window", "60d", "daemon.", problems)
    return DaemonConfig(
        dispatch_interval=_duration(table, "dispatch_interval", "1m", "daemon.", problems),
        outlook_window_days=max(1, round(window / 86400)),
    )


def _metrics(table: TomlTable, problems: Problems) -> MetricsConfig:
    _unknown(table, frozenset({"listen"}), "metrics.", problems)
    listen = _get(table, "listen", str, "", "metrics.", problems)
    if not listen:
        return MetricsConfig()
    host, _, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        problems.add(
            "metrics.listen",
            f"not an address and port: {listen!r}",
            'write it as "127.0.0.1:9464" (or "" to serve no metrics)',
        )
        return MetricsConfig()
    return MetricsConfig(host, int(port))


def _outlook(table: TomlTable, daemon: DaemonConfig, problems: Problems) -> OutlookSettings:
    """How long each outlook level holds (whole days, 1d to 365d)."""
    _unknown(table, frozenset(OUTLOOK_KEYS), "outlook.", problems)
    days: dict[str, int] = {}
    for key, default in OUTLOOK_KEYS.items():
        seconds = _duration(table, key, default, "outlook.", problems)
        count = seconds / 86400
        if count != int(count) or not 1 <= count <= 365:
            problems.add(
                f"outlook.{key}",
                f"must be whole days from 1d to 365d, not {table[key]!r}",
                f'write e.g. {key} = "{default}"',
            )
            count = parse_duration(default) / 86400
        days[key] = int(count)
    return OutlookSettings(
        high_days=days["high_hold"],
        elevated_days=days["elevated_hold"],
        watch_days=days["watch_hold"],
        window_days=daemon.outlook_window_days,
    )


def _permission_warnings(path: Path, raw: TomlTable) -> tuple[str, ...]:
    """Warn when secrets may be readable by other local users.

    The config names secret files (it never holds a secret: `password = ...` is
    rejected), so a readable config only reveals where they are, and a warning is
    enough; a readable secret file reveals the secret itself and is warned about too.
    """
    secret_files = _secret_files(raw, path.resolve().parent)
    warnings = []
    if secret_files and _loose(path):
        warnings.append(
            f"{path} names secret files and is readable by other users "
            f"(mode {_mode(path):o}); run: chmod 600 {path}"
        )
    for secret in secret_files:
        if _loose(secret):
            warnings.append(
                f"secret file {secret} is readable by other users "
                f"(mode {_mode(secret):o}); run: chmod 600 {secret}"
            )
    return tuple(warnings)


def _secret_files(raw: TomlTable, base: Path) -> list[Path]:
    values = [v for k, v in _all_items(raw) if k.endswith("_file") and isinstance(v, str) and v]
    return [base / value for value in dict.fromkeys(values)]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _loose(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def _all_items(value: object) -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()] + [
            item for v in value.values() for item in _all_items(v)
        ]
    if isinstance(value, list):
        return [item for v in value for item in _all_items(v)]
    return []
