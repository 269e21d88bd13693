"""Fetching: the only HTTP client on the input side, its limits and network policy."""
