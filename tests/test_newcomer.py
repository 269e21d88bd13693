"""What a new user meets first: a two-line configuration, unset secrets, clear errors."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.daemon_env import signal_feed
from tests.delivery_env import query
from tests.pipeline_env import run_cli
from tests.servers import TestServer, reply


def _minimal(folder: Path, url: str, extra: str = "") -> Path:
    config = folder / "monitor.toml"
    config.write_text(
        f'[storage]\npath = "m.db"\n[fetch]\nallow_private_networks = true\n'
        f'[[feeds]]\nname = "k"\nurl = "{url}"\n{extra}'
    )
    return config


def test_newcomer_minimal_config_uses_the_packaged_rules(
    tmp_path: Path, http_server: TestServer
) -> None:
    """[storage] and one [[feeds]], no rules file beside them: it runs with the shipped rules
    and `config check` says so."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    config = _minimal(tmp_path, http_server.url("/f"))
    checked = run_cli("--config", str(config), "config", "check")
    assert checked.returncode == 0, checked.stderr
    assert "using the packaged default rules" in checked.stderr
    polled = run_cli("--config", str(config), "-q", "run", "--once")
    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.startswith("k: ok new=3 updated=0 flagged=3")


def test_newcomer_unset_secret_is_said_at_check_and_once_at_run(
    tmp_path: Path, http_server: TestServer
) -> None:
    """An unset secret_env: `config check` warns; `run --once` with three alerts due logs it
    once, spends no attempt, and the alerts stay queued."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    hook = (
        '[alerts]\nnotices = false\n[[alerts.webhooks]]\nname = "ops"\n'
        'url = "http://127.0.0.1:9/hook"\nsecret_env = "SURELY_UNSET_SECRET_Y"\n'
    )
    config = _minimal(tmp_path, http_server.url("/f"), hook)
    checked = run_cli("--config", str(config), "config", "check")
    assert checked.returncode == 0
    assert "SURELY_UNSET_SECRET_Y is not set" in checked.stderr
    polled = run_cli("--config", str(config), "run", "--once")
    assert polled.returncode == 0, polled.stderr
    assert polled.stderr.count("SURELY_UNSET_SECRET_Y") == 1, polled.stderr
    rows = query(tmp_path / "m.db", "SELECT state, attempts FROM outbox")
    assert len(rows) == 3
    assert all(r == {"state": "pending", "attempts": 0} for r in rows)


def test_newcomer_socks_proxy_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A socks5:// proxy is a configuration error that says SOCKS is not supported."""
    config = _minimal(tmp_path, "http://127.0.0.1:9/f")
    config.write_text(
        config.read_text().replace("[fetch]\n", '[fetch]\nproxy = "socks5://127.0.0.1:1080"\n')
    )
    result = run_cli("--config", str(config), "config", "check")
    assert result.returncode == 1
    assert "fetch.proxy" in result.stderr
    assert "SOCKS proxies are not supported" in result.stderr
    assert "socks" not in (REPO / "config" / "monitor.toml").read_text().lower()
