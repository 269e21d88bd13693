"""The house keeps its shape: short functions, no state at module level, typed values.

Read from the source (ast) and from the imported modules. Each figure is a ceiling the
code is under today; a change that goes over it says where.
"""

from __future__ import annotations

import ast
import importlib
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "monitor"
MAX_FUNCTION_LINES = 40
# The store hands out typed views and alert payloads are typed JSON (JSONValue), so no
# `Any` is left in the package; where data really is arbitrary it is `object` or JSON.
MAX_ANY = 0  # the bar was fewer than 20; none are needed


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def test_house_no_function_is_longer_than_forty_lines() -> None:
    """A function reads in one screen: from its `def` to its last line, 40 lines at most."""
    long = [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for path in modules()
        for node in functions(ast.parse(path.read_text()))
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_house_any_is_rare() -> None:
    """Values are typed at every boundary: no `Any`; arbitrary data is `object` or JSON."""
    uses = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.Name) and node.id == "Any")
        or (isinstance(node, ast.Attribute) and node.attr == "Any")
    ]
    assert len(uses) <= MAX_ANY, uses


MUTABLE = (dict, list, set, bytearray)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_house_no_mutable_state_at_module_level(path: Path) -> None:
    """No module keeps a dict, list or set that code could fill at run time: tables are
    read-only (frozenset, tuple, MappingProxyType) and caches belong to objects."""
    module = importlib.import_module(dotted(path))
    mutable = sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, MUTABLE)
        and not (name.startswith("__") and name.endswith("__"))
        and not isinstance(value, types.ModuleType)
    )
    assert mutable == [], f"{path.relative_to(REPO)}: {mutable}"
