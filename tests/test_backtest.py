"""Backtest: ground truth read strictly, figures from a replay, and the command end to end."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.outlook.backtest import GroundTruth, Period, Summit, load_ground_truth, run_backtest
from monitor.outlook.levels import DayLevel
from tests.review_fixtures import build_db, invoke, realistic_rows

TRUTH = """
[[summits]]
name = "Geneva"
first_signal = 2025-07-10
agreed = 2025-07-10
announced = 2025-07-20
held = 2025-08-16

[[summits]]
name = "Never covered"
announced = 2019-01-10
cancelled = 2019-01-20

[[quiet_periods]]
name = "August talks"
start = 2025-08-01
end = 2025-08-10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "truth.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_backtest_reads_summits_and_quiet_periods(tmp_path: Path) -> None:
    """Dates are TOML dates; a summit ends when held, else when cancelled."""
    truth = load_ground_truth(write(tmp_path, TRUTH))
    geneva, never = truth.summits
    assert (geneva.start, geneva.end) == (date(2025, 7, 10), date(2025, 8, 16))
    assert never.end == date(2019, 1, 20)
    assert truth.quiet_periods == (Period("August talks", date(2025, 8, 1), date(2025, 8, 10)),)


def test_backtest_ground_truth_problems_reported_at_once(tmp_path: Path) -> None:
    """Every problem is named with its key and its fix, all in one error."""
    bad = (
        '[[summits]]\nname = "A"\nheld = "2021-06-16"\nvenue = "x"\n'
        '[[summits]]\nheld = 2021-06-16\n[[quiet_periods]]\nname = "Q"\nstart = 2021-01-02\n'
        "end = 2021-01-01\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_ground_truth(write(tmp_path, bad))
    text = str(caught.value)
    for expected in (
        "summits[0].held: must be a date",
        "summits[0].venue: unknown key",
        "summits[1].name: missing",
        "quiet_periods[0].end: is before start",
    ):
        assert expected in text, text
    assert "fix:" in text


def test_backtest_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A missing ground-truth file is reported with the path, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_ground_truth(tmp_path / "absent.toml")


def days_of(start: date, strip: str) -> list[DayLevel]:
    names = {"·": "quiet", "w": "watch", "E": "elevated", "H": "high"}
    return [DayLevel(start + timedelta(days=n), names[c], 0.0) for n, c in enumerate(strip)]


def test_backtest_lead_times_and_delays() -> None:
    """Delays count from the agreement and the announcement; lead times from the unbroken
    run that reaches the meeting."""
    summit = Summit(
        "S",
        first_signal=date(2025, 1, 5),
        agreed=date(2025, 1, 5),
        announced=date(2025, 1, 12),
        held=date(2025, 1, 20),
    )
    start = summit.start - timedelta(days=28)
    strip = "·" * 28 + "ww" + "E" * 7 + "H" * 7  # 5 Jan .. 20 Jan: the last 16 days
    days = days_of(start, strip)
    result = run_backtest(GroundTruth((summit,), ()), days, [d.day for d in days[-16:]])
    (figures,) = result.summits
    assert (figures.to_elevated, figures.to_high) == (2, 2)
    assert figures.lead == {"watch": 15, "elevated": 13, "high": 6}
    assert result.outside.days == 28
    assert result.outside.levels["quiet"] == 28


def test_backtest_quiet_period_counts_and_share() -> None:
    """Days at each level in a quiet period, and the share of days at high."""
    days = days_of(date(2025, 3, 1), "wwwwwwwwHH")
    truth = GroundTruth((), (Period("P", date(2025, 3, 1), date(2025, 3, 10)),))
    (period,) = run_backtest(truth, days, [date(2025, 3, 2)]).quiet_periods
    assert period.levels == {"quiet": 0, "watch": 8, "elevated": 0, "high": 2}
    assert period.share("high") == pytest.approx(0.2)
    assert period.stored == 1


def test_backtest_command_over_a_database(tmp_path: Path) -> None:
    """`monitor backtest` replays stored items: covered summits get figures, others say so."""
    db = tmp_path / "m.db"
    build_db(db, realistic_rows())
    truth = write(tmp_path, TRUTH)
    out = invoke(db, ["backtest", str(truth), "--from", "2025-07-01", "--to", "2025-08-20"])
    assert out.exit_code == 0, out.output
    assert "Never covered (announced 2019-01-10, cancelled 2019-01-20)" in out.stdout
    assert "not covered by the data" in out.stdout
    doc = json.loads(
        invoke(
            db, ["backtest", str(truth), "--from", "2025-07-01", "--to", "2025-08-20", "--json"]
        ).stdout
    )
    geneva = doc["summits"][0]
    assert geneva["to_high"] == 0
    assert geneva["lead"]["high"] == 27
    assert doc["quiet_periods"][0]["levels"]["high"] == 10


def test_backtest_command_refuses_a_bad_file(tmp_path: Path) -> None:
    """A broken ground truth gives `error: …` and exit 1."""
    db = tmp_path / "m.db"
    build_db(db, realistic_rows())
    result = invoke(db, ["backtest", str(write(tmp_path, "[[summits]]\nname = 3\n"))])
    assert result.exit_code == 1
    assert "summits[0].name" in result.stderr
