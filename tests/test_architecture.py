"""The house as the pipeline: each stage in its folder, imports flowing one way.

Read from the source (ast), not by importing it. Two rules:
- a stage imports only stages below it (the order of STAGES), never one above;
- each outside library is imported in its own stage only (LIBRARIES).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "monitor"
# Lowest first. The base values may be imported by every stage.
STAGES = (
    "base",  # models, errors, clock
    "config",
    "fetch",
    "parse",
    "signals",
    "outlook",  # pure: events, grades, levels, report rendering
    "store",
    "alerts",
    "pipeline",
    "app",  # the composition root both entry points start from
    "daemon",
    "cli",
    "entry",  # python -m monitor
)
BASE = {"models", "errors", "clock", "__init__"}
LIBRARIES = {
    "httpx": {"fetch"},
    "httpcore": {"fetch"},
    "feedparser": {"parse"},
    "bs4": {"parse"},
    "lxml": {"parse"},
    "sqlite3": {"store"},
    "sqlite_utils": {"store"},
    "apscheduler": {"daemon"},
    "prometheus_client": {"daemon"},
    "click": {"cli"},
    "smtplib": {"alerts"},
    "ahocorasick_rs": {"signals"},
}


def stage_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if len(parts) == 1:
        name = parts[0]
        if name in BASE:
            return "base"
        return {"app": "app", "__main__": "entry"}.get(name, f"stray:{name}")
    return parts[0]


def module_stage(module: str) -> str | None:
    """The stage of an imported `monitor.…` module (None for other packages)."""
    parts = module.split(".")
    if parts[0] != "monitor":
        return None
    if len(parts) == 1:
        return "base"
    return stage_of(PACKAGE.joinpath(*parts[1:]).with_suffix(".py"))


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, n if _is_module(n) else node.module) for n in names]
    return found


def _is_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] == "monitor" and (
        PACKAGE.joinpath(*parts[1:]).with_suffix(".py").exists()
        or PACKAGE.joinpath(*parts[1:]).is_dir()
    )


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "defaults" not in p.parts)


def test_architecture_every_module_is_in_a_stage() -> None:
    """No module sits loose at the top beside the values and entry points."""
    strays = [str(p.relative_to(REPO)) for p in SOURCES if stage_of(p) not in STAGES]
    assert strays == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_architecture_imports_flow_down_and_libraries_stay_home(path: Path) -> None:
    """A module imports no stage above its own, and outside libraries only in their stage."""
    stage = stage_of(path)
    rank = STAGES.index(stage)
    wrong = []
    for line, module in imports(path):
        target = module_stage(module)
        if target is not None and target in STAGES and STAGES.index(target) > rank:
            wrong.append(f"line {line}: {module} ({target} is above {stage})")
        home = LIBRARIES.get(module.split(".")[0])
        if home is not None and stage not in home:
            wrong.append(f"line {line}: {module} belongs in {sorted(home)}, not {stage}")
    assert wrong == []


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("monitor.config.load", ("httpx", "bs4", "sqlite3", "feedparser")),
        ("monitor.parse.text", ("bs4", "lxml", "feedparser")),
        ("monitor.signals.matcher", ("httpx", "bs4", "sqlite3")),
        ("monitor.outlook.levels", ("httpx", "bs4", "sqlite3", "click")),
        # a round of unchanged feeds starts with neither the scheduler nor the parsers,
        # and a parser worker without the command line
        ("monitor.cli.main", ("apscheduler", "prometheus_client", "bs4", "feedparser", "lxml")),
        ("monitor.daemon.once", ("apscheduler", "prometheus_client", "bs4", "feedparser")),
        ("monitor.pipeline.workers", ("click", "httpx", "sqlite3", "apscheduler")),
        ("monitor.__main__", ("click", "monitor.cli.main")),
    ],
)
def test_architecture_lower_stages_load_no_outside_library_they_do_not_use(
    module: str, absent: tuple[str, ...]
) -> None:
    """Importing a stage does not drag in the libraries of others (a real interpreter)."""
    probe = f"import sys, {module}; print(' '.join(m for m in {absent!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == ""
