"""One database for the routes served beside the app (the API's and the respondent form's):
connected and migrated on first use, its work run in a few worker threads.

Database work runs in worker threads so the event loop (which also serves the pages) never
blocks; a few threads are plenty: SQLite takes one writer at a time anyway.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import anyio
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from survey.storage import db

DATABASE_THREADS = 8


class DatabaseThreads:
    """A database (default: `SURVEY_DATABASE_URL`), connected on first use, and the worker threads
    (at most `threads` at once) that its work runs in, away from the event loop."""

    def __init__(self, database_url: str | None = None, threads: int = DATABASE_THREADS):
        self._database_url = database_url
        self._threads = threads
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._reader: sessionmaker[Session] | None = None
        self._writer: sessionmaker[Session] | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def engine(self) -> Engine:
        """The engine, made and migrated on the first call (only migrated: demo data is for the
        first page view); routes built at start-up thus connect only when a request comes."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = db.make_engine(self._database_url)
                    db.upgrade(engine)
                    self._reader = sessionmaker(engine, expire_on_commit=False)
                    self._writer = db.sessions(engine)  # BEGIN IMMEDIATE on SQLite
                    # set last: another thread that sees the engine finds the session factories too
                    self._engine = engine
        return self._engine

    def reader(self) -> sessionmaker[Session]:
        """Sessions for reading (a plain BEGIN; objects stay usable after commit)."""
        self.engine()
        return self._reader

    def writer(self) -> sessionmaker[Session]:
        """Sessions for writing (`db.sessions`: on SQLite the write lock is taken at BEGIN)."""
        self.engine()
        return self._writer

    def dispose(self) -> None:
        """Close the database connections (tests, shutdown)."""
        if self._engine is not None:
            self._engine.dispose()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker thread, waiting for one if all are busy."""
        if self._limiter is None:
            # made on first use, inside the event loop that is to use it
            self._limiter = anyio.CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)
