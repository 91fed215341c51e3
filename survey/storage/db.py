"""Engines, sessions and migrations.

`SURVEY_DATABASE_URL` selects the database; without it a SQLite file `survey.db` in the working
directory is used. No engine is created at import time.

Example:
    >>> engine = make_engine("sqlite://")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     session.query(models.Survey).count()
    0
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from survey.storage import models

DEFAULT_URL = "sqlite:///survey.db"
MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 32_768  # page cache of every connection (see _configure_sqlite)
SQLITE_BULK_CACHE_KIB = 1_048_576  # a bulk writer's, while it writes (see bulk_write_cache)
SQLITE_ANALYSIS_LIMIT = 1_000  # rows per index that ANALYZE reads (see refresh_statistics)
PURGE_ATTEMPTS = 8  # checkpoints tried while readers finish: about 15 s in all with the waits between
PURGE_BUSY_TIMEOUT_MS = 1_000  # how long one checkpoint waits for readers


def database_url() -> str:
    """The configured database URL: `SURVEY_DATABASE_URL`, else a SQLite file in the working directory."""
    return os.environ.get("SURVEY_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: `database_url()`), with SQLite set up for concurrent use."""
    url = url or database_url()
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=StaticPool if in_memory else None,
            hide_parameters=True,  # error messages and logs never carry tokens or answers
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        event.listen(engine, "commit", _leave_write_gate)
        event.listen(engine, "rollback", _leave_write_gate)
        event.listen(engine, "checkin", _checked_in)
        return engine
    # Days and periods are UTC everywhere (SQLite stores UTC): keep PostgreSQL's session zone on UTC
    # whatever the server's default, so dates and period labels agree between the two.
    return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                         connect_args={"options": "-c timezone=UTC"})


def _configure_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the dashboard read while a submission writes; the busy timeout makes concurrent
    # writers wait instead of failing; SQLite leaves foreign keys off unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted or overwritten content is zeroed in the page instead of left in free space, so an
    # erased customer's name does not stay readable in the file (it costs writes on deletes only).
    cursor.execute("PRAGMA secure_delete=ON")
    # 32 MiB of page cache (SQLite's default is 2 MiB): bulk imports keep the answers indexes'
    # pages at hand (bench/bench_import.py, 100,000 rows: 21.6 s with the default, 19.0 s); it is
    # allocated only as pages are read, per connection.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    # Python's sqlite3 module (before 3.12) opens transactions lazily and not for SAVEPOINT, which
    # breaks nested transactions; take over: no implicit transactions, BEGIN emitted in _begin_sqlite.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection) -> None:
    # Sessions write, so they take the write lock up front (BEGIN IMMEDIATE): SQLite then waits
    # for a busy writer instead of failing a read-then-write transaction with "database is locked".
    mode = connection.get_execution_options().get("sqlite_begin", "")
    if mode == "IMMEDIATE":
        _enter_write_gate(connection)
    try:
        connection.exec_driver_sql(f"BEGIN {mode}".strip())
    except BaseException:
        _leave_write_gate(connection)
        raise


# One gate per database file and process: a writer waiting for another thread of this process
# wakes the moment that one commits, instead of in SQLite's busy handler, which sleeps in steps of
# up to 100 ms while the lock may already be free (the API's writers queue there). Writers in
# other processes still meet in SQLite's lock, as before.
_WRITE_GATES: dict[str, threading.RLock] = {}
_WRITE_GATES_LOCK = threading.Lock()
_HOLDS_GATE = "survey_write_gate"


def _enter_write_gate(connection) -> None:
    """Enter this process's write gate of the connection's database (see _WRITE_GATES); after the
    busy timeout, go on without it (SQLite's own lock still decides)."""
    key = str(connection.engine.url)
    if connection.engine.url.database in (None, "", ":memory:"):
        return  # an in-memory database is one connection (StaticPool), and another one's URL is the same
    with _WRITE_GATES_LOCK:
        gate = _WRITE_GATES.setdefault(key, threading.RLock())
    if gate.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        connection.info[_HOLDS_GATE] = gate


def _leave_write_gate(connection, *_args) -> None:
    """Leave the write gate at the transaction's end (commit or rollback events, and when the pool
    takes the connection back, should a transaction end in neither)."""
    gate = connection.info.pop(_HOLDS_GATE, None)
    if gate is not None:
        try:
            gate.release()
        except RuntimeError:  # released by another thread than the one that entered: nothing held here
            pass


def _checked_in(_dbapi_connection, record) -> None:
    _leave_write_gate(record)


def purge_deleted_content(engine: Engine, tables: Iterable[str], attempts: int = PURGE_ATTEMPTS,
                          wait: Callable[[float], None] = time.sleep) -> bool:
    """Make deleted and overwritten rows of `tables` leave the database files where the backend allows it.

    SQLite: with secure_delete on (every connection), the old content is already zeroed in the
    new page versions; a `wal_checkpoint(TRUNCATE)` copies them into the main file and empties
    the WAL, which still held the old versions. A reader in the middle of a transaction (a server
    serving a page) keeps the WAL in use, so the checkpoint is retried while readers finish.
    PostgreSQL: `VACUUM` of the tables removes the dead row versions an UPDATE or DELETE leaves,
    so no query or page inspection of the tables finds them.

    Returns True when done, False when SQLite readers kept the WAL busy through every attempt or
    PostgreSQL refused the VACUUM (not the tables' owner); the data is erased either way, and
    what is left is old row versions in the files until the next checkpoint or vacuum.
    """
    if engine.dialect.name == "sqlite":
        if engine.url.database in (None, "", ":memory:"):
            return True  # nothing on disk
        raw = engine.raw_connection()
        cursor = raw.driver_connection.cursor()
        try:
            # each checkpoint waits briefly for readers, then this loop waits longer between tries
            cursor.execute(f"PRAGMA busy_timeout={PURGE_BUSY_TIMEOUT_MS}")
            for attempt in range(attempts):
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return True
                if attempt + 1 < attempts:
                    wait(min(0.05 * 2 ** attempt, 2.0))
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
            raw.close()
    if engine.dialect.name == "postgresql":
        names = ", ".join(engine.dialect.identifier_preparer.quote(name) for name in sorted(set(tables)))
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(f"VACUUM {names}")  # not in a transaction: VACUUM refuses that
        except DBAPIError:
            return False
        return True
    return False


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to `engine` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent: an up-to-date database is left as it is)."""
    command.upgrade(alembic_config(engine), revision)


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine`; objects stay usable after commit."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def bulk_write_cache(connection) -> Iterator[None]:
    """Give a SQLite connection a page cache of up to 1 GiB while it writes in bulk (nothing elsewhere).

    The answers' follow-up index leads with the customer, so rows written in time order land at
    scattered places in it; once the index outgrows the usual 32 MiB cache, each write fetches
    pages again (demo data, 1,000,000 responses: 230 s of inserts instead of about 60 s). The
    cache is taken only as pages are read, and given back when the block ends.
    """
    # On the driver's connection: a PRAGMA is no part of a transaction, and SQLAlchemy's would begin one
    driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if driver is not None:
        driver.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        if driver is not None:
            driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def refresh_statistics(connection, table: str | None = None) -> None:
    """Tell SQLite's query planner the shape of the tables, or of one `table` (ANALYZE, on a
    sample of each index).

    Without statistics SQLite guesses from the indexes' columns alone, and for a segment filter
    (region = North) it read every answer to the question through a question-led index (since
    dropped, migration 0015) instead of the customer-led one: the Overview's queries took
    4.0-4.6 s instead of 0.8-1.1 s on 375,000 responses. Sampling keeps it cheap (0.03 s there). Called after bulk writes and at
    start-up; PostgreSQL's autovacuum keeps its own statistics.
    """
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    connection.exec_driver_sql(f"ANALYZE {table}" if table else "ANALYZE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with sessions(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


__all__ = ["database_url", "make_engine", "upgrade", "sessions", "session_scope", "purge_deleted_content", "models"]
