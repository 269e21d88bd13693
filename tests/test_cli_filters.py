"""A filter naming a feed or signal type that does not exist is an error that lists the
ones that do, never an empty listing that looks like "nothing happened"."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.signals import load_rules
from tests.cli_env import RULES, assert_clean_error, cli_config, ids, monitor
from tests.review_fixtures import realistic_rows

STORED_TYPES = {sig.type for row in realistic_rows() for sig in row.signals}

FEEDS = "kremlin-en, never-polled, state-dept, whitehouse"
NEVER_POLLED = '[[feeds]]\nname = "never-polled"\nurl = "https://example.org/feed"\n'


def rule_types() -> set[str]:
    return {rule.type for rule in load_rules(RULES).rules}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cli_config(tmp_path_factory.mktemp("filters"), realistic_rows(), NEVER_POLLED)


@pytest.mark.parametrize("command", [["flagged"], ["export"], ["items"]])
def test_cli_filters_unknown_feed(config: Path, command: list[str]) -> None:
    """--feed X that is neither configured nor stored: exit 1, every known feed named."""
    done = monitor(config, *command, "--feed", "kremlin")
    assert_clean_error(done)
    assert done.stderr == f"error: no feed kremlin; known: {FEEDS}\n"
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["flagged"], ["export"]])
def test_cli_filters_unknown_signal_type(config: Path, command: list[str]) -> None:
    """--signal X that no flag carries and no rule produces: exit 1, the known types named
    (stored ones and those of the rules)."""
    done = monitor(config, *command, "--signal", "summit")
    assert_clean_error(done)
    message = done.stderr.strip()
    assert message.startswith("error: no signal type summit; known: "), message
    known = message.split("known: ", 1)[1].split(", ")
    assert set(known) == STORED_TYPES | rule_types()
    assert known == sorted(known)


def test_cli_filters_known_values_still_filter(config: Path) -> None:
    """A configured feed with nothing stored and a rule's type with no flag list nothing,
    successfully; stored values filter as before."""
    assert ids(config, "flagged", "--feed", "never-polled") == []
    assert ids(config, "items", "--feed", "never-polled") == []
    unflagged = sorted(rule_types() - STORED_TYPES)
    assert unflagged, "the rules have a type no stored flag carries"
    assert ids(config, "flagged", "--signal", unflagged[0]) == []
    assert ids(config, "flagged", "--feed", "kremlin-en") == [4, 2]
    assert ids(config, "flagged", "--signal", "refusal") == [4]
