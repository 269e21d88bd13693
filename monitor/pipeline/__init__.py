"""The composer: one poll of the due feeds end to end, import and rescan."""
