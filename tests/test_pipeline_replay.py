"""The outlook as a library call over the store: on a day, day by day, and the backtest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from monitor.errors import MonitorError
from monitor.models import OutlookSettings
from monitor.outlook.backtest import GroundTruth, Summit
from monitor.pipeline import replay
from monitor.store import Store, open_store
from tests.pipeline_env import IMPORT_NOW, import_summit_and_other

NOW = IMPORT_NOW
TRUTH = GroundTruth((Summit("Geneva", announced=date(2021, 5, 25), held=date(2021, 6, 16)),), ())


def _fill(store: Store) -> None:
    import_summit_and_other(
        store, "Statement on the Geneva summit", "Remarks on roads", "2021-06-20"
    )


def test_replay_series_ends_on_the_outlook_of_its_last_day(tmp_path: Path) -> None:
    """Day by day or one day alone, the outlook of a day is the same."""
    settings = OutlookSettings()
    with open_store(tmp_path / "m.db") as store:
        _fill(store)
        series = replay.outlook_series(store, date(2021, 5, 20), date(2021, 5, 30), settings, NOW)
        alone = replay.outlook_on(store, date(2021, 5, 30), settings, NOW)
        events = replay.recent_events(store, date(2021, 5, 1), date(2021, 6, 30), NOW)
    assert len(series) == 11
    assert series[-1] == alone
    assert [e.first_day for e in events] == [date(2021, 5, 25)]
    assert series[0].level == "quiet"
    assert alone.level != "quiet"


def test_replay_backtest_covers_the_stored_days(tmp_path: Path) -> None:
    """Without a span the backtest replays from the first stored day to the last."""
    with open_store(tmp_path / "m.db") as store:
        _fill(store)
        result = replay.backtest(store, TRUTH, OutlookSettings(), NOW)
    assert (result.start, result.end) == (date(2021, 5, 25), date(2021, 6, 20))


def test_replay_backtest_of_an_empty_store_is_an_error(tmp_path: Path) -> None:
    """Nothing stored: an error that says to import or poll first."""
    with open_store(tmp_path / "m.db") as store, pytest.raises(MonitorError, match="import"):
        replay.backtest(store, TRUTH, OutlookSettings(), NOW)
