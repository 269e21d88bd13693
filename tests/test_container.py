"""The container image, as far as it can be tested without a container engine.

The Dockerfile's ENTRYPOINT + CMD run the daemon on the image's configuration (feeds
pointed at a loopback server, the database in a temporary folder), and its HEALTHCHECK
command, run by a real shell, passes while the daemon runs and fails once it is gone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.daemon_env import signal_feed, wait_for
from tests.servers import TestServer, reply

DOCKERFILE = REPO / "Dockerfile"


def _instruction(name: str) -> str:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.+)$", text, re.M)
    assert len(found) == 1, (name, found)
    return found[0].strip()


def _image_config(tmp_path: Path, server: TestServer) -> Path:
    """contrib/container.toml with its database and feeds moved to this test's places."""
    text = (REPO / "contrib" / "container.toml").read_text()
    text = text.replace("/var/lib/monitor/monitor.db", str(tmp_path / "monitor.db"))
    text = re.sub(r'url = "[^"]+"', f'url = "{server.url("/f")}"', text)
    config = tmp_path / "monitor.toml"
    config.write_text(text + "\n[fetch]\nallow_private_networks = true\n")
    return config


def _environment(config: Path) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "MONITOR_CONFIG": str(config), "PATH": path}


def test_container_dockerfile_runs_as_a_user_with_the_database_on_its_volume() -> None:
    """A non-root user; the volume holds the configured database; copied files exist."""
    assert _instruction("USER") not in ("root", "0")
    volume = json.loads(_instruction("VOLUME"))[0]
    assert f'path = "{volume}/monitor.db"' in (REPO / "contrib" / "container.toml").read_text()
    for source in re.findall(r"^COPY\s+(\S+)", DOCKERFILE.read_text(), re.M):
        assert (REPO / source).exists(), source


def test_container_entrypoint_runs_the_daemon_and_the_healthcheck_follows_it(
    tmp_path: Path, http_server: TestServer
) -> None:
    """ENTRYPOINT + CMD poll the feeds (JSON log lines); HEALTHCHECK passes, then fails
    once the daemon has stopped."""
    http_server.route("/f", reply(signal_feed(http_server.base_url)))
    env = _environment(_image_config(tmp_path, http_server))
    command = json.loads(_instruction("ENTRYPOINT")) + json.loads(_instruction("CMD"))
    command[0] = str(Path(sys.executable).parent / command[0])
    healthcheck = _instruction("HEALTHCHECK").split(" CMD ", 1)[1]
    daemon = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        db = tmp_path / "monitor.db"
        assert wait_for(lambda: db.exists() and _health(healthcheck, env) == 0, timeout=30)
    finally:
        daemon.terminate()
        _out, log = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, log
    assert any(json.loads(line).get("event") == "polled" for line in log.splitlines())
    assert _health(healthcheck, env) != 0


def _health(command: str, env: dict[str, str]) -> int:
    return subprocess.run(["/bin/sh", "-c", command], env=env, check=False).returncode
