"""What people read: NO_COLOR honoured, a header on every listing, times marked UTC, and
the reviewer's real name recorded."""

from __future__ import annotations

import os
import pty
import pwd
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.store import open_store
from monitor.store.items import index_pending
from tests.cli_env import NOW, assert_clean_error, cli_config, monitor, ok_json
from tests.conftest import REPO
from tests.review_fixtures import add_delivery, realistic_rows

ZONED = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z\b")
UNZONED = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?![\dZ:])")
LISTINGS = {
    ("flagged",): ["ID", "TIME", "FEED", "SCORE", "SIGNALS", "STATUS", "TITLE"],
    ("items",): ["ID", "TIME", "FEED", "FLAG", "TITLE"],
    ("search", "Geneva"): ["ID", "TIME", "FEED", "FLAG", "TITLE"],
    ("feeds", "--all"): ["FEED", "STATUS", "LAST", "SUCCESS", "NEXT", "POLL", "ITEMS", "LAST",
                         "ERROR"],
    ("alerts",): ["ID", "CHANNEL", "KIND", "STATE", "TRIES", "WHEN", "WHAT", "LAST", "ERROR"],
    ("events", "list", "--since", "60d"): ["ID", "DAYS", "KIND", "GRADE", "ITEMS", "SOURCES",
                                           "WHAT"],
    ("outlook", "--from", "2025-08-01", "--to", "2025-08-03"): ["DAY", "LEVEL", "SCORE", "WHY"],
}  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = cli_config(tmp_path_factory.mktemp("output"), realistic_rows())
    with open_store(config.parent / "monitor.db") as store:
        index_pending(store)
        add_delivery(store, 1, "email", "sent", "2025-07-20T14:01:00Z")
        with store.write() as db:
            db.execute(
                "UPDATE feeds SET last_success = ?, next_due = ?",
                ("2025-08-10T11:58:00Z", "2025-08-10T12:08:00Z"),
            )
    return config


@pytest.mark.parametrize("command", sorted(LISTINGS), ids=lambda c: "-".join(c))
def test_cli_output_listings_have_a_header_and_zoned_times(
    config: Path, command: tuple[str, ...]
) -> None:
    """Each list command's text output starts with a header row; its times end in Z."""
    done = monitor(config, *command)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == LISTINGS[command], lines[0]
    assert len(lines) > 1
    assert not UNZONED.search(done.stdout), UNZONED.search(done.stdout)
    if command[0] in ("flagged", "items", "search", "feeds", "alerts"):
        assert ZONED.search(lines[1]), lines[1]


def test_cli_output_flagged_time_is_utc(config: Path) -> None:
    """flagged shows the stored UTC time with its zone: 11:00Z for 2025-08-08T11:00:00Z."""
    row = next(
        line for line in monitor(config, "flagged").stdout.splitlines() if line.split()[0] == "6"
    )
    assert "2025-08-08 11:00Z" in row


SHOW_ON_PTY = """
import os, pty, subprocess, sys
primary, secondary = pty.openpty()
proc = subprocess.run(sys.argv[1:], stdout=secondary, stderr=subprocess.DEVNULL)
os.close(secondary)
out = b""
while True:
    try:
        chunk = os.read(primary, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(proc.returncode)
"""


def show_on_terminal(config: Path, no_color: str | None, *args: str) -> str:
    """`show 1` with its stdout on a pseudo-terminal, NO_COLOR as given; what it printed."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(config.parent), "MONITOR_NOW": NOW}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    command = [sys.executable, "-m", "monitor", "--config", str(config), "show", "1", *args]
    done = subprocess.run(
        [sys.executable, "-c", SHOW_ON_PTY, *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done
    return done.stdout.decode("utf-8", "replace")


def test_cli_output_no_color_is_honoured(config: Path) -> None:
    """On a terminal, show colours its matches unless NO_COLOR is set and not empty;
    --color still wins (no-color.org)."""
    assert pty  # the test needs pseudo-terminals
    assert "\x1b[" in show_on_terminal(config, None)
    assert "\x1b[" in show_on_terminal(config, "")
    plain = show_on_terminal(config, "1")
    assert "\x1b[" not in plain
    assert "spoke with President Putin" in plain
    assert "\x1b[" in show_on_terminal(config, "1", "--color")


def login_name() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def test_cli_output_reviewer_is_the_login_name_or_by(tmp_path: Path) -> None:
    """Without $USER and $LOGNAME the reviewer is the uid's login name; --by names another."""
    config = cli_config(tmp_path, realistic_rows())
    bare = {"USER": None, "LOGNAME": None}
    assert monitor(config, "ack", "1", env=bare).returncode == 0
    assert monitor(config, "note", "1", "checked", "--by", "Dana Scully", env=bare).returncode == 0
    assert monitor(config, "escalate", "2", "--by", "dana", env=bare).returncode == 0
    history = ok_json(config, "show", "1", "--json")["history"]
    assert [h["user"] for h in history] == [login_name(), "Dana Scully"]
    assert ok_json(config, "show", "2", "--json")["flag"]["status_by"] == "dana"
    (pair,) = [
        e
        for e in ok_json(config, "events", "list", "--since", "60d", "--json")
        if len(e["items"]) == 2
    ]
    moved = pair["items"][0]["id"]
    split = monitor(config, "events", "split", str(pair["id"]), str(moved), "--by", "erin")
    assert split.returncode == 0, split.stderr
    placed = ok_json(config, "events", "show", str(pair["id"]), "--json")["review"]
    assert placed["reviewed_by"] == "erin"
    assert_clean_error(monitor(config, "ack", "3", "--by", "  "), code=2)
