"""One rule for commands that read JSON Lines: bad lines are named and skipped, the rest
used, the counts printed, and the exit status is 1 when any line was rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_env import CALL_2018, SUMMIT_2018, assert_clean_error, cli_config, jsonl, monitor
from tests.pipeline_env import db_rows

GOOD = [
    {"id": "call", **CALL_2018, "published": "2018-07-10"},
    {"id": "summit", **SUMMIT_2018, "published": "2018-07-16"},
]


def with_bad_line(folder: Path) -> Path:
    source = folder / "mixed.jsonl"
    lines = jsonl(GOOD).splitlines()
    source.write_text(f"{lines[0]}\n{{broken\n{lines[1]}\n", encoding="utf-8")
    return source


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return cli_config(tmp_path)


def test_cli_rejected_lines_import_exits_1_and_keeps_the_rest(config: Path) -> None:
    """import: the good lines are stored, the bad one named, counts printed, exit 1; a clean
    file exits 0."""
    done = monitor(config, "import", str(with_bad_line(config.parent)))
    assert_clean_error(done)
    assert "line 2: not JSON" in done.stderr
    assert "imported 2 item(s)" in done.stdout
    assert "rejected 1 line(s)" in done.stdout
    assert "rejected 1 line(s)" in done.stderr.splitlines()[-1]
    stored = db_rows(config.parent / "monitor.db", "SELECT key FROM items ORDER BY id")
    assert [r["key"] for r in stored] == ["call", "summit"]
    clean = config.parent / "clean.jsonl"
    clean.write_text(jsonl(GOOD), encoding="utf-8")
    again = monitor(config, "import", str(clean))
    assert again.returncode == 0, again.stderr
    assert "imported 2 item(s)" in again.stdout
    assert "rejected 0 line(s)" in again.stdout


def test_cli_rejected_lines_import_with_nothing_usable_stores_nothing(config: Path) -> None:
    """import of a file without one usable line fails before creating a database."""
    source = config.parent / "bad.jsonl"
    source.write_text("{broken\n[1, 2]\n", encoding="utf-8")
    done = monitor(config, "import", str(source))
    assert_clean_error(done)
    assert "no usable lines" in done.stderr
    assert "rejected 2 line(s)" in done.stderr
    assert not (config.parent / "monitor.db").exists()


def test_cli_rejected_lines_score_same_rule(config: Path) -> None:
    """score: the same file scores the good lines, prints the counts and exits 1; a clean
    one exits 0 with nothing on stderr."""
    done = monitor(config, "score", "--json", str(with_bad_line(config.parent)))
    assert_clean_error(done)
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["call", "summit"]
    assert "line 2:" in done.stderr
    assert done.stderr.splitlines()[-1] == "error: scored 2 item(s), rejected 1 line(s)"
    clean = monitor(config, "score", "-", stdin=jsonl(GOOD))
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr == "", clean.stderr
