"""Mistakes a user can make on the command line end in `error: …` with the fix (or a usage
error naming the value), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_env import assert_clean_error, cli_config, monitor
from tests.review_fixtures import realistic_rows

WRITERS = {
    "export": ["export", "--format", "csv", "-o"],
    "report": ["report", "--since", "60d", "--html"],
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_config(tmp_path_factory.mktemp("errors"), realistic_rows())


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_cli_errors_output_file_that_cannot_be_written(config: Path, command: str) -> None:
    """A missing folder, a path through a file, a folder one may not write: each is named
    with what to do, and nothing is left behind."""
    folder = config.parent
    cases = {
        folder / "no" / "such" / "dir" / "out.txt": "the folder",
        folder / "monitor.toml" / "out.txt": "is not a folder",
        Path("/sys/out.txt"): "choose",  # sysfs refuses new files, even to root
    }
    for target, fix in cases.items():
        done = monitor(config, *WRITERS[command], str(target))
        assert_clean_error(done)
        last = done.stderr.splitlines()[-1]
        assert last.startswith(f"error: cannot write {target}: "), last
        assert fix in last, last
        assert not target.exists()


def test_cli_errors_backup_target_that_cannot_be_created(config: Path) -> None:
    """backup into a folder that is missing or may not be written says what to do."""
    missing = monitor(config, "backup", str(config.parent / "no" / "copy.db"))
    assert_clean_error(missing)
    assert "does not exist (create it or choose another)" in missing.stderr
    refused = monitor(config, "backup", "/sys/copy.db")
    assert_clean_error(refused)
    assert refused.stderr == (
        "error: cannot create /sys/copy.db (choose a folder you can write to, not /sys)\n"
    )


def test_cli_errors_output_written_when_the_folder_exists(config: Path) -> None:
    """The same commands write the file when the path is usable."""
    for command, args in WRITERS.items():
        target = config.parent / f"{command}.out"
        done = monitor(config, *args, str(target))
        assert done.returncode == 0, done.stderr
        assert target.stat().st_size > 0


@pytest.mark.parametrize("command", ["score", "eval", "import"])
def test_cli_errors_input_not_utf8(config: Path, command: str) -> None:
    """A JSON Lines file in another encoding is an error naming the encoding, not a crash."""
    source = config.parent / f"latin1-{command}.jsonl"
    source.write_bytes('{"title": "Genève", "text": "Genève", "label": 1}\n'.encode("latin-1"))
    done = monitor(config, command, str(source))
    assert_clean_error(done)
    if command != "import":  # import reads undecodable bytes as U+FFFD, like feeds
        assert "not UTF-8 text" in done.stderr
        assert "save it as UTF-8" in done.stderr


@pytest.mark.parametrize("args", [
    ["show", "99999999999999999999"], ["ack", "1", "99999999999999999999"],
    ["note", "0", "x"], ["events", "show", "99999999999999999999"],
    ["events", "split", "1", "99999999999999999999"],
])  # fmt: skip
def test_cli_errors_ids_beyond_sqlite_integers(config: Path, args: list[str]) -> None:
    """An id no item can have is a usage error, not an overflow inside SQLite."""
    done = monitor(config, *args)
    assert_clean_error(done, code=2)
    assert "is not in the range" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["import", "{folder}/missing.jsonl"], "No such file or directory"),
    (["import", "{folder}"], "Is a directory"),
    (["score", "{folder}/missing.jsonl"], "No such file or directory"),
    (["export", "-o", "{folder}"], "is a directory"),
    (["report", "--html", "{folder}"], "is a directory"),
    (["outlook", "--as-of", "2025-13-01"], "there is no day"),
    (["outlook", "--from", "2025-08-01", "--to", "last week"], "use YYYY-MM-DD"),
    (["outlook", "--as-of", "0001-01-01"], "is out of range"),
    (["report", "--since", "0001-01-01", "--html", "{folder}/r.html"], "is out of range"),
])  # fmt: skip
def test_cli_errors_bad_paths_and_dates_are_usage_errors(
    config: Path, args: list[str], message: str
) -> None:
    """Unreadable inputs, folders given as files and impossible dates name the value."""
    done = monitor(config, *[a.format(folder=config.parent) for a in args])
    assert_clean_error(done, code=2)
    assert message in done.stderr, done.stderr
