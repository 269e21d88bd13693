"""Parsing: feed bytes into items, HTML into clean text, article pages into text."""
