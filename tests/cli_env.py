"""The real `monitor` command as a subprocess, over a real database and configuration.

`cli_config` writes a configuration beside a database built from review rows
(tests.review_fixtures); `monitor` runs `python -m monitor --config …` with a fixed
clock and a small, explicit environment (a key given as None is left out).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.review_fixtures import Row, build_db

NOW = "2025-08-10T12:00:00Z"
RULES = REPO / "config" / "rules.toml"

SUMMIT_2018 = {
    "title": "Helsinki meeting of the presidents",
    "text": "President Trump and President Putin will meet in Helsinki, Finland, on July 16, "
    "2018. The leaders will discuss strategic stability.",
}
CALL_2018 = {
    "title": "Telephone conversation with the US President",
    "text": "Vladimir Putin had a telephone conversation with Donald Trump. The presidents "
    "agreed to meet in Helsinki.",
}


def cli_config(folder: Path, rows: list[Row] | None = None, extra: str = "") -> Path:
    """monitor.toml in `folder` with the repository's rules, its database holding `rows`."""
    config = folder / "monitor.toml"
    config.write_text(
        f'[storage]\npath = "monitor.db"\n\n[signals]\nrules = "{RULES.as_posix()}"\n{extra}',
        encoding="utf-8",
    )
    if rows is not None:
        build_db(folder / "monitor.db", rows)
    return config


def monitor(
    config: Path, *args: str, env: dict[str, str | None] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base: dict[str, str | None] = {
        "PATH": "/usr/bin:/bin", "HOME": str(config.parent), "MONITOR_NOW": NOW, "USER": "carol",
    }  # fmt: skip
    merged = {**base, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=REPO, env={k: v for k, v in merged.items() if v is not None}, input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def ok_json(config: Path, *args: str) -> Any:
    """The JSON a successful command printed."""
    done = monitor(config, *args)
    assert done.returncode == 0, (args, done.stderr)
    return json.loads(done.stdout)


def ids(config: Path, *args: str) -> list[int]:
    """Item ids of a `--json` listing, in the order printed."""
    return [int(row["id"]) for row in ok_json(config, *args, "--json")]


def jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def assert_clean_error(done: subprocess.CompletedProcess[str], code: int = 1) -> None:
    """The command failed with `code` and a message, never a traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    if code == 1:
        assert done.stderr.splitlines()[-1].startswith("error: "), done.stderr
