"""SQLite's planner has statistics after bulk writes and at start-up, so that a segment filter reads
the customer-led index instead of every answer to the question (see db.refresh_statistics)."""

from __future__ import annotations

import shutil
from datetime import date

from sqlalchemy import event

from survey.bootstrap import prepare_database
from survey.storage import db, queries
from survey.storage.filters import Filters

NORTH = Filters("relationship-nps", start=date(2026, 1, 1), end=date(2026, 10, 31), segments=(("region", ("North",)),))


def histogram_plan(engine) -> list[str]:
    """EXPLAIN QUERY PLAN of the Overview's NPS-by-month query under a region filter."""
    captured = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        queries.histogram(engine, NORTH, "recommend", period="month")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    with engine.connect() as connection:
        return [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def test_demo_data_leaves_statistics_and_a_segment_filter_reads_the_customer_index(demo_database_url, tmp_path):
    copy = tmp_path / "demo.db"
    shutil.copy(demo_database_url.removeprefix("sqlite:///"), copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    with engine.connect() as connection:
        analysed = {row[0] for row in connection.exec_driver_sql("select tbl from sqlite_stat1")}
    assert {"answers", "responses", "customers"} <= analysed
    assert any("ix_answers_customer_history" in step for step in histogram_plan(engine))
    # without statistics SQLite picks the question's index and reads every answer to it
    with engine.begin() as connection:
        connection.exec_driver_sql("delete from sqlite_stat1")
    engine.dispose()
    engine = db.make_engine(f"sqlite:///{copy}")
    assert not any("ix_answers_customer_history" in step for step in histogram_plan(engine))
    # the next start-up gathers them again
    prepare_database(engine, with_demo_data=False, announce=lambda text: None)
    engine.dispose()
    engine = db.make_engine(f"sqlite:///{copy}")
    assert any("ix_answers_customer_history" in step for step in histogram_plan(engine))
    engine.dispose()
