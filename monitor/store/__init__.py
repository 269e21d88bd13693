"""The only package that writes SQL: connection, schema checks and write transactions.

Every write goes through `Store.write()`, which opens `BEGIN IMMEDIATE`: a deferred
transaction that reads and then writes fails at once with "database is locked" when
another process wrote in between, whatever the busy timeout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from monitor.errors import (
    DatabaseBusyError,
    DatabaseReplacedError,
    ForeignDatabaseError,
    NewerSchemaError,
    StorageError,
)
from monitor.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrations

log = logging.getLogger(__name__)

# An open write transaction, as `Store.write()` yields it: other stages pass it on to the
# store's functions (so one transaction holds an item, its flag and its alerts) and
# never run SQL on it themselves.
Transaction = Database

BUSY_TIMEOUT_S = 15.0
_BUSY_RETRIES = 4
SQLITE_MAGIC = b"SQLite format 3\x00"
PROC_FDS = Path("/proc/self/fd")


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which file a connection has open: device and inode, read with stat (no descriptor).

    POSIX locks belong to the process: opening and closing *any* descriptor of the
    database file drops every lock this process's connections hold, and the next
    process to close believes it is the last user and deletes the WAL under them.
    So the file is never opened here; its header is read through SQLite's own
    descriptor (found in /proc/self/fd where the system has it), never a new one.
    """

    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity | None:
        """The identity of the file at `path`; None when there is none."""
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return cls(stat.st_dev, stat.st_ino)

    def header(self) -> bytes | None:
        """The first bytes of the file, read through a descriptor already open on it."""
        if not PROC_FDS.is_dir():
            return None
        for name in os.listdir(PROC_FDS):
            fd = int(name)
            try:
                if FileIdentity.of_descriptor(fd) != self:
                    continue
                head = os.pread(fd, len(SQLITE_MAGIC), 0)
                if FileIdentity.of_descriptor(fd) == self:  # not closed and reused meanwhile
                    return head
            except OSError:
                continue
        return None

    @classmethod
    def of_descriptor(cls, fd: int) -> FileIdentity:
        """The identity of an open file."""
        stat = os.fstat(fd)
        return cls(stat.st_dev, stat.st_ino)


class Store:
    """One connection to a monitor database, opened and checked."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self.identity: FileIdentity | None = None
        self._grouped = False  # writes join one transaction (see grouped)

    def check_file(self) -> None:
        """Refuse to go on when the file at the path is not the one this connection has
        open (deleted, replaced) or no longer holds a SQLite header (overwritten)."""
        if self.identity is None:
            return
        current = FileIdentity.of(self.path)
        if current != self.identity:
            what = "deleted" if current is None else "replaced by another file"
            raise DatabaseReplacedError(
                f"database {self.path} was {what} while the monitor had it open; "
                "nothing more is written to it",
                "restore the file or start afresh, then start the monitor again",
            )
        header = self.identity.header()
        if header is not None and header != SQLITE_MAGIC:
            raise DatabaseReplacedError(
                f"database {self.path} was overwritten in place (its header is no longer "
                "SQLite's) while the monitor had it open; nothing more is written to it",
                f"restore {self.path.name} from a backup, then start the monitor again",
            )

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

        Inside `grouped()`, the write is a savepoint of the group's open transaction
        instead: it is undone alone if it fails, and made durable by the group's commit.
        """
        if self._grouped:
            with self._savepoint():
                yield self.db
            return
        self._begin()
        try:
            yield self.db
        except sqlite3.Error as exc:
            self._rollback()
            raise storage_error(exc, self.path) from exc
        except BaseException:
            self._rollback()
            raise
        self._commit()

    @contextlib.contextmanager
    def grouped(self) -> Iterator[None]:
        """Writes in this block share transactions (one commit, one fsync, for many) until
        `commit_group()` ends the open one; the block's end commits the rest, and an
        exception out of it undoes what is not committed yet. Nothing is lost by a
        crash in between: a feed's items, flags, alerts and fetch state are written
        together, so an uncommitted feed is simply fetched again."""
        self._grouped = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        finally:
            self._grouped = False
        self.commit_group()

    def commit_group(self) -> None:
        """Commit the writes of `grouped()` made so far (nothing if there are none)."""
        if self.conn.in_transaction:
            self._commit()

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self.conn.in_transaction:
            self._begin()
        self.conn.execute("SAVEPOINT write")
        try:
            yield
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back all by itself
                self.conn.execute("ROLLBACK TO write")
                self.conn.execute("RELEASE write")
            if isinstance(exc, sqlite3.Error):
                raise storage_error(exc, self.path) from exc
            raise
        self.conn.execute("RELEASE write")

    def _commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise storage_error(exc, self.path) from exc

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _begin(self) -> None:
        """Check that the file is still the one opened, then take the write lock."""
        self.check_file()
        self._begin_immediate()

    def _begin_immediate(self) -> None:
        for attempt in range(_BUSY_RETRIES):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == _BUSY_RETRIES - 1:
                    raise storage_error(exc, self.path) from exc
                time.sleep(0.05 * (attempt + 1))

    def query(
        self, sql: str, params: tuple[object, ...] | dict[str, object] = ()
    ) -> list[dict[str, object]]:
        """Rows of a read-only query as dicts; SQL from fixed fragments, values as parameters."""
        try:
            cursor = self.conn.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def verify(self) -> None:
        """Read every page once (PRAGMA quick_check): a damaged file is refused at start,
        before a poll writes anything into it. About 0.3 s per 200 MB."""
        rows = self.query("PRAGMA quick_check")
        problems = [str(next(iter(r.values()))) for r in rows]
        if problems != ["ok"]:
            raise ForeignDatabaseError(
                f"database {self.path} is corrupt ({problems[0]})",
                f"stop the monitor; restore {self.path.name} from a backup or recover it "
                "with the sqlite3 shell's .recover",
            )

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """Turn a sqlite3 error into a message a person can act on."""
    text = str(exc).lower()
    if _is_busy(exc):
        return DatabaseBusyError(
            f"database {path} stayed busy for {BUSY_TIMEOUT_S:.0f}s (another process is writing)",
            "try again in a moment",
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(f"database {path} is read-only", "check the file's permissions")
    if "full" in text or ("disk i/o error" in text and _no_space_left(path)):
        return StorageError(f"database {path} is full", "free disk space; nothing was lost")
    if "disk i/o error" in text:
        code = getattr(exc, "sqlite_errorname", "") or "SQLITE_IOERR"
        return StorageError(
            f"cannot read or write database {path}: disk I/O error ({code})",
            "check the disk holding it and the permissions of its folder",
        )
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        # Raised wherever a damaged page is first read, possibly after earlier commits.
        return ForeignDatabaseError(
            f"database {path} is corrupt ({exc})",
            f"stop the monitor; restore {path.name} from a backup or recover it "
            "with the sqlite3 shell's .recover",
        )
    return StorageError(f"database {path}: {exc}")


def _no_space_left(path: Path) -> bool:
    """SQLite reports a full disk as an I/O error when the WAL index cannot grow."""
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail == 0


def open_store(path: Path, *, create: bool = True) -> Store:
    """Open (and if allowed create) a monitor database, refusing anything foreign.

    The file and its `-wal`/`-shm` are touched only through SQLite (see `FileIdentity`):
    a header check with `open()` would drop every POSIX lock this process holds on them.
    """
    path = Path(path)
    fresh = not path.exists()
    if fresh and not create:
        raise StorageError(
            f"there is no database at {path} yet",
            "start the monitor (`monitor run`, or `monitor run --once`) to create it",
        )
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = "rwc" if create else "rw"  # "rw": a vanished file is an error, never a new database
    uri = f"{path.resolve().as_uri().replace('file://', 'file:', 1)}?mode={mode}"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    store = Store(path, conn)
    try:
        if fresh:
            os.chmod(path, 0o600)  # by path: no descriptor of the file is opened or closed
        _check_identity(store)
        _configure(store)
        _migrate(store)
        store.identity = FileIdentity.of(path)
    except BaseException:
        conn.close()
        raise
    return store


def _configure(store: Store) -> None:
    try:
        store.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = store.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        store.conn.execute("PRAGMA synchronous = FULL")
        store.conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise storage_error(exc, store.path) from exc
    if str(mode).lower() != "wal":
        log.warning("event=journal_mode_not_wal path=%s mode=%s", store.path, mode)


def _check_identity(store: Store) -> None:
    try:
        store.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        app_id = store.conn.execute("PRAGMA application_id").fetchone()[0]
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        tables = store.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise ForeignDatabaseError(
                f"{store.path} is not a SQLite database (or its header is corrupt); "
                "it was not changed",
                "point [storage] path at a monitor database or a new file",
            ) from None
        raise storage_error(exc, store.path) from exc
    if app_id == 0 and tables == 0:
        return
    if app_id != APPLICATION_ID:
        raise ForeignDatabaseError(
            f"{store.path} belongs to another application (application_id={app_id}); "
            "it was not changed",
            "point [storage] path at a monitor database or a new file",
        )
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{store.path} has schema version {version}, newer than this monitor knows "
            f"({SCHEMA_VERSION}); it was not changed",
            "upgrade the monitor",
        )


def _migrate(store: Store) -> None:
    version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    with store.write() as db:
        migrations.apply(db)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    log.info("event=migrated path=%s version=%s", store.path, SCHEMA_VERSION)


def backup(store: Store, target: Path) -> None:
    """A consistent copy of the database in `target` (SQLite's VACUUM INTO), safe while
    the daemon writes: it reads one snapshot and never touches the source file itself."""
    target = Path(target)
    if target.exists():
        raise StorageError(
            f"{target} already exists", "give a new file name; nothing is overwritten"
        )
    if target.resolve() in {
        store.path.resolve(),
        *(Path(f"{store.path}{s}") for s in ("-wal", "-shm")),
    }:
        raise StorageError(f"{target} is the database itself", "give another file name")
    if not target.parent.is_dir():
        raise StorageError(f"folder {target.parent} does not exist", "create it or choose another")
    try:
        store.conn.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc):
            raise storage_error(exc, target) from exc
        raise StorageError(  # SQLite says no more than that: a folder we may not write in
            f"cannot create {target}", f"choose a folder you can write to, not {target.parent}"
        ) from exc
    except sqlite3.Error as exc:
        raise storage_error(exc, target) from exc
    os.chmod(target, 0o600)
