"""The database file is SQLite's alone: no code of the monitor opens it or its -wal/-shm.

Closing any descriptor of the file drops every POSIX lock the process holds on it, and
the next process to close believes it is the last user and deletes the WAL. The check is
an audit hook (`sys.addaudithook`) in a real process that runs the daemon's poll and
dispatch and every command, recording each Python-level `open` of those paths.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.daemon_env import signal_feed
from tests.delivery_env import alerts_toml, monitor_env
from tests.pipeline_env import write_config
from tests.servers import TestServer, reply
from tests.webhook_receiver import WebhookReceiver

SCRIPT = r"""
import json, sys, traceback
from pathlib import Path

config, db = sys.argv[1], Path(sys.argv[2])
watched = {str(db), f"{db}-wal", f"{db}-shm", f"{db}-journal"}
opened = []

def hook(event, args):
    if event == "open" and args and str(args[0]) in watched:
        opened.append({"path": str(args[0]), "stack": traceback.format_stack(limit=8)})

sys.addaudithook(hook)

from click.testing import CliRunner
from monitor.app import App
from monitor.cli.main import cli
from monitor.daemon.scheduler import Daemon
from monitor.pipeline.poll import sync_configured_feeds

def command(*args):
    result = CliRunner().invoke(cli, ["--config", config, "-q", *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"{args}: exit {result.exit_code}: {result.output}")

app = App(config)
holder = app.store(create=True)  # a connection held throughout, as in the daemon
sync_configured_feeds(holder, app.config(), app.now())
daemon = Daemon(app)
try:
    daemon.poll("k")
    for channel in app.config().alerts.channels():
        daemon.dispatch(channel)
finally:
    daemon.close()
folder = db.parent
line = {"id": "x1", "title": "Putin and Trump spoke", "text": "By phone."}
line["published"] = "2025-02-12"
(folder / "in.jsonl").write_text(json.dumps(line) + "\n")
for args in (
    ["run", "--once"], ["feeds"], ["items"], ["flagged"], ["search", "Trump"],
    ["show", "1"], ["ack", "1"], ["escalate", "1"], ["dismiss", "1"], ["note", "1", "seen"],
    ["export", "-o", str(folder / "out.jsonl")], ["outlook"],
    ["report", "--html", str(folder / "r.html")], ["rescan"], ["alerts"],
    ["import", str(folder / "in.jsonl")], ["backup", str(folder / "copy.db")],
    ["prune", "--dry-run"], ["prune"],
):
    command(*args)
holder.close()
print(json.dumps(opened))
"""


def test_store_no_code_opens_the_database_file_or_its_wal(
    tmp_path: Path, http_server: TestServer, receiver: WebhookReceiver
) -> None:
    """Polling, dispatching and every command touch the database files only through SQLite."""
    http_server.route("/feed", reply(signal_feed(http_server.base_url)))
    config = write_config(
        tmp_path,
        [{"name": "k", "url": http_server.url("/feed")}],
        extra=alerts_toml(webhook_url=receiver.url),
    )
    db = tmp_path / "monitor.db"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config), str(db)],
        cwd=str(REPO),
        env=monitor_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    opened = json.loads(done.stdout.strip().splitlines()[-1])
    assert opened == [], "".join(opened[0]["stack"])
    assert db.exists()
    assert len(receiver.requests) >= 1, "the dispatch step delivered nothing"


def test_store_audit_hook_sees_a_plain_open_of_the_database(tmp_path: Path) -> None:
    """The check above can fail: a plain open() of the database path is recorded."""
    prelude = SCRIPT.split("from click.testing")[0]
    probe = prelude + "open(db, 'ab').close()\nprint(json.dumps(opened))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe, "unused", str(tmp_path / "monitor.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 1
