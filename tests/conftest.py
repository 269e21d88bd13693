"""Shared test setup: where ../shared is, and a guard that keeps tests on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("tests.servers", "tests.alerts_plugin")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"

MOUNT = shutil.which("mount") or "/bin/mount"
UMOUNT = shutil.which("umount") or "/bin/umount"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"../shared is not present at {SHARED}; CI provides it"
)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost") or host == ""):
            raise AssertionError(f"test tried to reach {host}: only loopback is allowed")


@pytest.fixture(autouse=True)
def _block_non_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every socket in the test process may connect to loopback only."""

    def connect(self: socket.socket, address: object) -> None:
        _loopback_only(address)
        _real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        _loopback_only(address)
        return _real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs root and mount rights; skips otherwise)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        [MOUNT, "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield mount_point
    finally:
        if subprocess.run([UMOUNT, str(mount_point)], check=False).returncode != 0:
            subprocess.run([UMOUNT, "-l", str(mount_point)], check=False)


def fill_disk(folder: Path, leave: int) -> Path:
    """Fill the file system holding `folder` but for `leave` bytes; returns the filler."""
    stats = os.statvfs(folder)
    filler = folder / "filler"
    # ENOSPC is expected: the disk is then as full as it gets
    with filler.open("wb") as out, contextlib.suppress(OSError):
        out.write(bytes(max(0, stats.f_bavail * stats.f_frsize - leave)))
    return filler


# Nothing the suite starts may outlive it ---------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found.update(kids)
            todo.extend(kids)
    return found


def left_behind(root: int) -> dict[int, str]:
    """Processes of this checkout's interpreter started after `root`, not below it now."""
    mine = _stat(root)
    if mine is None or not Path("/proc").is_dir():
        return {}
    started, keep = int(mine[19]), _descendants(root) | {root}
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in keep:
            continue
        stat = _stat(int(entry.name))
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if stat and stat[0] != "Z" and int(stat[19]) >= started and sys.executable in command:
            found[int(entry.name)] = command
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test left a process of the monitor behind (and end it)."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks once every worker is done
    strays = left_behind(os.getpid())
    deadline = time.monotonic() + 5  # workers notice their parent's end within a second
    while strays and time.monotonic() < deadline:
        time.sleep(0.2)
        strays = left_behind(os.getpid())
    if not strays:
        return
    for pid in strays:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    listed = "\n".join(f"  {pid}: {command[:200]}" for pid, command in strays.items())
    print(f"\nerror: the tests left {len(strays)} process(es) behind (now killed):\n{listed}")
    if session.exitstatus == 0:
        session.exitstatus = 1
