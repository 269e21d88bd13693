"""Diplomatic-signal monitor: watches official press feeds for signs of a US-Russia summit."""

__version__ = "0.1.0"
