"""The write gate: writers of one process queue in a lock that hands over at commit, instead of in
SQLite's busy handler (db._WRITE_GATES); it is left at every end of a transaction."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from survey.storage import db, models


def gate_of(engine) -> threading.RLock:
    return db._WRITE_GATES[str(engine.url)]


def free_elsewhere(gate) -> bool:
    """Whether another thread could enter the gate now."""
    found = []

    def probe():
        entered = gate.acquire(blocking=False)
        found.append(entered)
        if entered:
            gate.release()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return found[0]


def test_a_writer_holds_the_gate_until_it_commits_or_rolls_back(sqlite_engine):
    writer = db.sessions(sqlite_engine)
    with writer() as session:
        session.add(models.Customer(external_ref="a", name="A"))
        session.flush()
        assert not free_elsewhere(gate_of(sqlite_engine))
        session.commit()
    assert free_elsewhere(gate_of(sqlite_engine))
    with pytest.raises(RuntimeError):
        with db.session_scope(sqlite_engine) as session:
            session.add(models.Customer(external_ref="b", name="B"))
            session.flush()
            raise RuntimeError("the work failed")
    assert free_elsewhere(gate_of(sqlite_engine))
    with writer() as session:  # closed without commit or rollback: the pool's check-in leaves it
        session.add(models.Customer(external_ref="c", name="C"))
        session.flush()
    assert free_elsewhere(gate_of(sqlite_engine))
    with sqlite_engine.connect() as connection:  # readers never enter it
        connection.execute(select(func.count()).select_from(models.Customer))
        assert free_elsewhere(gate_of(sqlite_engine))


def test_eight_threads_of_writers_store_every_row_once(sqlite_engine):
    writer = db.sessions(sqlite_engine)
    problems = []

    def work(thread: int):
        try:
            for number in range(40):
                with writer() as session, session.begin():
                    session.add(models.Customer(external_ref=f"t{thread}-{number}", name="x"))
        except Exception as error:  # noqa: BLE001 - reported below
            problems.append(error)

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not problems
    with sqlite_engine.connect() as connection:
        refs = connection.execute(select(models.Customer.external_ref)).scalars().all()
    assert len(refs) == len(set(refs)) == 8 * 40
    assert free_elsewhere(gate_of(sqlite_engine))
