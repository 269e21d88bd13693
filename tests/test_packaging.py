"""The package builds quietly and carries its defaults (what `make run` installs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_packaging_wheel_builds_without_warnings_and_ships_the_defaults(tmp_path: Path) -> None:
    """The wheel builds with no deprecation warning and holds the default config and rules."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "config", source / "config")
    shutil.copytree(
        REPO / "monitor",
        source / "monitor",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--verbose",  # the build backend's own warnings are shown only then
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert "deprecated" not in (built.stdout + built.stderr).lower(), built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "monitor/defaults/monitor.toml" in names
    assert "monitor/defaults/rules.toml" in names
