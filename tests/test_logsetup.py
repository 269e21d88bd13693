"""Log output for operators: text, logfmt and JSON lines, to stderr or to a file."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.cli.logsetup import message_fields
from tests.daemon_env import signal_feed
from tests.pipeline_env import run_cli, write_config
from tests.servers import TestServer, reply


def test_logsetup_message_fields_unquote_values() -> None:
    """`key=value` pairs become fields; quoted values lose their quotes, text between is dropped."""
    fields = message_fields("event=poll_failed feed=k kind=timeout error='timed out (30s)' x")
    assert fields == {
        "event": "poll_failed",
        "feed": "k",
        "kind": "timeout",
        "error": "timed out (30s)",
    }


def test_logsetup_json_lines_carry_event_fields(tmp_path: Path, http_server: TestServer) -> None:
    """`--log-format json`: each stderr line is a JSON object: ts, level, the event's pairs."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/f")}])
    result = run_cli("--config", str(config), "--log-format", "json", "run", "--once")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    polled = [r for r in records if r.get("event") == "polled"]
    assert polled
    assert polled[0]["feed"] == "k"
    assert polled[0]["new"] == "3"
    assert all(r["ts"].endswith("Z") and r["level"] for r in records)


def test_logsetup_logfmt_to_a_file(tmp_path: Path, http_server: TestServer) -> None:
    """`--log-format logfmt --log-file F`: nothing on stderr, logfmt lines in F."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    config = write_config(tmp_path, [{"name": "k", "url": http_server.url("/f")}])
    log = tmp_path / "logs" / "monitor.log"
    result = run_cli(
        "--config", str(config), "--log-format", "logfmt", "--log-file", str(log), "run", "--once"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = log.read_text().splitlines()
    assert any("event=polled feed=k" in line for line in lines)
    assert all(line.startswith("ts=") and " level=" in line for line in lines)
