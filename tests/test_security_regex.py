"""Rules with regexes that backtrack catastrophically are refused at load, naming the rule.

Rules files accept regex terms written `re:<pattern>` (monitor/signals/terms.py) in a
rule's anchor, its `near` terms, its excludes and in named term lists. Each shape of
catastrophic backtracking is tried in each place through `rules check` and through
the daemon's start (`run --once` and `run`), which must exit 1 before polling.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.security_env import monitor, security_config
from tests.servers import TestServer, reply

EVIL = [r"(a+)+$", r"(a|a)*b", r"(.*a){20}", r"(\w+\s?)*$", r"(x+x+)+y", r"(\d|\d\d)+z"]
PLACES: dict[str, Callable[[str], str]] = {
    "anchor": lambda term: f"anchor = [{term}]",
    "near": lambda term: f'anchor = ["summit"]\nnear = [{{ terms = [{term}], within = 5 }}]',
    "exclude": lambda term: f'anchor = ["summit"]\nexclude = [{term}]',
    "list": lambda term: 'anchor = ["@evil_terms"]',
}


def _rules(place: str, pattern: str) -> str:
    term = "'re:" + pattern + "'"
    head = "threshold = 1.0\n"
    if place == "list":
        head += f"[terms]\nevil_terms = [{term}]\n"
    return (
        f'{head}\n[[rules]]\nid = "good-rule"\ntype = "summit"\nweight = 1.0\n'
        'anchor = ["summit talks"]\n\n'
        f'[[rules]]\nid = "evil-rule"\ntype = "summit"\nweight = 1.0\n{PLACES[place](term)}\n'
    )


def _config(folder: Path, rules: str, feed_url: str) -> Path:
    config = security_config(folder, [{"name": "news", "url": feed_url}], allow_private=True)
    (folder / "rules.toml").write_text(rules)
    return config


@pytest.mark.parametrize("pattern", EVIL)
@pytest.mark.parametrize("place", list(PLACES))
def test_security_regex_refused_by_rules_check(tmp_path: Path, place: str, pattern: str) -> None:
    """`rules check` exits 1 and names the rule, the term and the reason."""
    config = _config(tmp_path, _rules(place, pattern), "http://127.0.0.1:9/feed")
    done = monitor(config, "rules", "check")
    assert done.returncode == 1, done.stdout
    message = done.stderr.decode()
    assert "evil-rule" in message or "evil_terms" in message, message
    assert "backtrack catastrophically" in message
    assert pattern in message.replace("\\\\", "\\")
    assert "Traceback" not in message


@pytest.mark.parametrize("args", [["run", "--once"], ["run"]])
def test_security_regex_daemon_refuses_to_start(
    tmp_path: Path, http_server: TestServer, args: list[str]
) -> None:
    """The daemon exits 1 at start with the rule named, and polls nothing."""
    feed = http_server.route("/feed", reply(b"<rss version='2.0'><channel/></rss>"))
    config = _config(tmp_path, _rules("anchor", EVIL[0]), feed)
    started = time.monotonic()
    done = monitor(config, *args, timeout=30)
    assert done.returncode == 1, done.stderr
    assert b"evil-rule" in done.stderr, done.stderr
    assert b"backtrack catastrophically" in done.stderr
    assert time.monotonic() - started < 20
    assert http_server.requests == []
    db = tmp_path / "monitor.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM fetch_log").fetchone()[0] == 0


def test_security_regex_safe_regex_accepted(tmp_path: Path) -> None:
    """Control: a bounded regex of the same shape family loads and matches."""
    rules = _rules("anchor", r"summit\s{1,3}(talks|meeting)").replace("evil-rule", "ok-rule")
    config = _config(tmp_path, rules, "http://127.0.0.1:9/feed")
    assert monitor(config, "rules", "check").returncode == 0
    tested = monitor(config, "rules", "test", "They prepared the summit  meeting.")
    assert tested.returncode == 0, tested.stdout
    assert b"ok-rule" in tested.stdout, tested.stdout
