"""Opening, checking and writing the monitor database."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from monitor.errors import ForeignDatabaseError, NewerSchemaError, StorageError
from monitor.store import Store, Transaction, open_store
from monitor.store.schema import APPLICATION_ID, SCHEMA_VERSION


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_store_creates_private_wal_database(tmp_path: Path) -> None:
    """A new database is WAL, synchronous=FULL, marked with our application id, mode 0600."""
    path = tmp_path / "m.db"
    with open_store(path) as store:
        assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
        assert store.query("PRAGMA synchronous")[0]["synchronous"] == 2
        assert store.query("PRAGMA application_id")[0]["application_id"] == APPLICATION_ID
        assert store.query("PRAGMA user_version")[0]["user_version"] == SCHEMA_VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_reopen_keeps_data(tmp_path: Path) -> None:
    """Reopening an existing database migrates nothing and keeps its rows."""
    path = tmp_path / "m.db"
    with open_store(path) as store, store.write() as db:
        db.execute("INSERT INTO state (key, value) VALUES ('k', 'v')")
    with open_store(path) as store:
        assert store.query("SELECT value FROM state WHERE key = 'k'") == [{"value": "v"}]


def test_store_refuses_text_file_unchanged(tmp_path: Path) -> None:
    """A file that is not SQLite is refused and left byte for byte as it was."""
    path = tmp_path / "notes.db"
    path.write_text("my precious notes\n" * 100)
    before = _digest(path)
    with pytest.raises(ForeignDatabaseError, match="not a SQLite database"):
        open_store(path)
    assert _digest(path) == before


def test_store_refuses_foreign_sqlite_file(tmp_path: Path) -> None:
    """Another application's SQLite database is refused and not modified."""
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('borscht')")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(ForeignDatabaseError, match="another application"):
        open_store(path)
    assert _digest(path) == before


def test_store_refuses_corrupt_header(tmp_path: Path) -> None:
    """A monitor database whose first 100 bytes were overwritten is refused, not recreated."""
    path = tmp_path / "m.db"
    open_store(path).close()
    data = bytearray(path.read_bytes())
    data[:100] = b"\xff" * 100
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(ForeignDatabaseError):
        open_store(path)
    assert _digest(path) == before


def test_store_refuses_newer_schema(tmp_path: Path) -> None:
    """A database written by a newer monitor is refused with a clear message."""
    path = tmp_path / "m.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerSchemaError, match="newer than this monitor knows"):
        open_store(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_store_read_only_file_is_a_clear_error(tmp_path: Path) -> None:
    """A read-only database gives a storage error naming the file, not a traceback."""
    path = tmp_path / "m.db"
    open_store(path).close()
    path.chmod(0o444)
    with (
        pytest.raises(StorageError, match="read-only"),
        open_store(path) as store,
        store.write() as db,
    ):
        db.execute("INSERT INTO state (key, value) VALUES ('a', 'b')")


def test_store_disk_full_rolls_back(tmp_path: Path) -> None:
    """When the database is full the write fails as 'full' and nothing partial remains."""
    path = tmp_path / "m.db"
    with open_store(path) as store:
        pages = store.query("PRAGMA page_count")[0]["page_count"]
        store.conn.execute(f"PRAGMA max_page_count = {int(str(pages)) + 2}")

        def fill(db: Transaction) -> None:
            for n in range(2000):
                db.execute("INSERT INTO state (key, value) VALUES (?, ?)", [f"k{n}", "x" * 4000])

        with pytest.raises(StorageError, match="full"), store.write() as db:
            fill(db)
        assert store.query("SELECT count(*) AS n FROM state") == [{"n": 0}]


def test_store_write_rolls_back_on_error(tmp_path: Path) -> None:
    """An exception inside a write transaction leaves no row behind."""
    with open_store(tmp_path / "m.db") as store:

        def insert_then_fail(db: Transaction) -> None:
            db.execute("INSERT INTO state (key, value) VALUES ('a', 'b')")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError), store.write() as db:
            insert_then_fail(db)
        assert store.query("SELECT count(*) AS n FROM state") == [{"n": 0}]


def _insert_then_fail(db: Transaction, key: str) -> None:
    db.execute("INSERT INTO state (key, value) VALUES (?, 'v')", [key])
    raise RuntimeError("boom")


def _put(store: Store, key: str) -> None:
    """One write of one row."""
    with store.write() as db:
        db.execute("INSERT INTO state (key, value) VALUES (?, 'v')", [key])


def _keys(store: Store) -> list[object]:
    return [r["key"] for r in store.query("SELECT key FROM state ORDER BY key")]


def test_store_grouped_writes_share_one_commit_until_commit_group(tmp_path: Path) -> None:
    """Writes in a group commit together: one COMMIT for many, another after
    commit_group, and another reader sees them only once they are committed."""
    path = tmp_path / "m.db"
    with open_store(path) as store, open_store(path) as reader:
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        with store.grouped():
            for n in range(5):
                _put(store, f"a{n}")
            assert reader.query("SELECT count(*) AS n FROM state") == [{"n": 0}]
            store.commit_group()
            assert reader.query("SELECT count(*) AS n FROM state") == [{"n": 5}]
            store.commit_group()  # nothing open: no empty transaction
            _put(store, "b")
        assert statements.count("COMMIT") == 2
        assert statements.count("BEGIN IMMEDIATE") == 2
        assert reader.query("SELECT count(*) AS n FROM state") == [{"n": 6}]


def test_store_grouped_write_that_fails_is_undone_alone(tmp_path: Path) -> None:
    """One failing write in a group leaves no row; the writes before and after it stay."""
    with open_store(tmp_path / "m.db") as store:
        with store.grouped():
            _put(store, "before")
            with pytest.raises(RuntimeError), store.write() as db:
                _insert_then_fail(db, "failed")
            _put(store, "after")
        assert _keys(store) == ["after", "before"]


def test_store_group_ended_by_an_exception_keeps_only_what_was_committed(tmp_path: Path) -> None:
    """An exception out of the group undoes its uncommitted writes, not the committed ones,
    and the connection is usable afterwards."""
    with open_store(tmp_path / "m.db") as store:

        def round_that_stops() -> None:
            _put(store, "kept")
            store.commit_group()
            _put(store, "lost")
            raise RuntimeError("the round stopped")

        with pytest.raises(RuntimeError), store.grouped():
            round_that_stops()
        assert not store.conn.in_transaction
        _put(store, "later")
        assert _keys(store) == ["kept", "later"]


def test_store_second_writer_waits_instead_of_failing(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE plus the busy timeout: a second writer waits for the first, then commits."""
    path = tmp_path / "m.db"
    first, second = open_store(path), open_store(path)
    started = threading.Event()

    def hold_lock() -> None:
        with first.write() as db:
            db.execute("INSERT INTO state (key, value) VALUES ('first', '1')")
            started.set()
            time.sleep(0.5)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    started.wait()
    second.query("SELECT count(*) FROM state")  # a read in between must not poison the write
    with second.write() as db:
        db.execute("INSERT INTO state (key, value) VALUES ('second', '2')")
    thread.join()
    assert {r["key"] for r in second.query("SELECT key FROM state")} == {"first", "second"}
    first.close()
    second.close()


def test_store_verify_refuses_a_damaged_page(tmp_path: Path) -> None:
    """quick_check at start finds a damaged page behind an intact header, before any write."""
    path = tmp_path / "m.db"
    with open_store(path) as store, store.write() as db:
        for n in range(300):
            db.execute("INSERT INTO state (key, value) VALUES (?, ?)", [f"k{n}", "v" * 500])
    with open_store(path) as store:
        store.verify()  # a sound file passes
        page = int(str(store.query("PRAGMA page_size")[0]["page_size"]))
    data = bytearray(path.read_bytes())
    data[3 * page : 4 * page] = b"\x5a" * page
    path.write_bytes(bytes(data))
    with open_store(path) as store, pytest.raises(ForeignDatabaseError, match="is corrupt"):
        store.verify()
