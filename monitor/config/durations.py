"""Durations as people write them in the configuration and on the command line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

_UNITS: Final[Mapping[str, float]] = MappingProxyType(
    {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "45s", "10m", "2h", "1d" or "1h30m"."""
    compact = text.strip().lower().replace(" ", "") if isinstance(text, str) else ""
    if not _DURATION.fullmatch(compact):
        raise ValueError(
            f"invalid duration {text!r}: use a number followed by a unit "
            "(s, m, h or d), for example '45s', '10m', '2h' or '1d'"
        )
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(compact))
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return seconds
