"""The outlook (pure): items into events, events graded, days into levels."""
