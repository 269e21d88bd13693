"""One monitor process writing per database: an exclusive lock on a file beside it.

The lock file (`<database>.lock`) holds the pid of the process that has it, so
operators can signal the daemon (`kill -HUP "$(cat monitor.db.lock)"`) and `health` can
tell whether one is running. The lock is a separate file: the database itself is opened
only by SQLite (see `monitor.store`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.errors import AlreadyRunningError


def lock_path(db_path: Path) -> Path:
    """The lock file beside the database."""
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def instance_lock(db_path: Path) -> Iterator[None]:
    """Hold the lock for the block; AlreadyRunningError when another process has it."""
    handle = lock_path(db_path).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunningError(
            f"another monitor (pid {holder}) is already running on {db_path}",
            "stop it first, or give this one another [storage] path",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def running_pid(db_path: Path) -> int | None:
    """The pid of the monitor holding the lock, or None when no monitor is running."""
    try:
        handle = lock_path(db_path).open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
