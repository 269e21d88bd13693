"""The review commands through the real `monitor` root command and configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.review_fixtures import build_db, realistic_rows

REVIEW_COMMANDS = (
    "flagged",
    "show",
    "ack",
    "dismiss",
    "escalate",
    "note",
    "export",
    "import",
    "outlook",
    "report",
)


def root_cli() -> object:
    try:
        from monitor.cli.main import cli
    except ImportError as exc:
        pytest.skip(f"monitor.cli.main does not import yet: {exc}")
    return cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    rules = (REPO / "config" / "rules.toml").as_posix()
    path.write_text(
        f'[storage]\npath = "monitor.db"\n\n[signals]\nrules = "{rules}"\n', encoding="utf-8"
    )
    path.chmod(0o600)
    build_db(tmp_path / "monitor.db", realistic_rows())
    return path


def monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "MONITOR_NOW": "2025-08-10T12:00:00Z",
        "USER": "carol",
        "PATH": "/usr/bin:/bin",
        "HOME": str(config.parent),
    }
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_review_root_cli_registers_every_command() -> None:
    """Every review command is registered on the root group."""
    cli = root_cli()
    assert set(REVIEW_COMMANDS) <= set(cli.commands)  # type: ignore[attr-defined]


def test_review_root_cli_end_to_end(config: Path) -> None:
    """A subprocess reviews an item and reads the outlook with the injected clock and user."""
    root_cli()
    assert monitor(config, "ack", "1").returncode == 0
    shown = json.loads(monitor(config, "show", "1", "--json").stdout)
    assert shown["history"][0]["user"] == "carol"
    assert shown["history"][0]["at"] == "2025-08-10T12:00:00Z"
    outlook = json.loads(monitor(config, "outlook", "--json").stdout)
    assert outlook["as_of"] == "2025-08-10"
    assert outlook["level"] == "high"
    missing = monitor(config, "show", "999")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no item with id 999")
