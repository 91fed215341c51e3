"""Writing many rows at once through the database driver's fastest correct route.

SQLAlchemy's executemany builds and converts every row's parameters in Python (for an import of
100,000 responses, about a million bind-processor calls), and an ORM insert with RETURNING in
parameter order falls back to one statement per row on SQLite. Bulk writers (CSV import, follow-up
flagging, demo data) go through here instead:

- `insert_values` takes rows already in the driver's form (the demo formats its timestamps with
  numpy): SQLite gets one `executemany`, PostgreSQL with psycopg one `COPY`.
- `insert_rows` takes Python values (datetimes, dicts for JSON columns, None), converts them with
  the column types' own bind processors, exactly as SQLAlchemy would, and hands SQLite's driver
  plain tuples; on other databases it is a Core `executemany`. `insert_tuples` does the same for
  rows given as tuples.
- `indexes_built_afterwards` drops a table's non-unique indexes for a bulk load and builds them
  once at its end; `restore_missing_indexes` builds any that a load killed half-way left out.
- `fewer_collections` keeps the garbage collector from walking the job's objects over and over.
- `ids_by_key` reads back the ids of rows just written by a unique key, in one statement per 500
  keys, instead of asking for them row by row.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Engine, Table, exc, inspect, select, tuple_

from survey.storage import db, models

KEYS_PER_STATEMENT = 500  # well under SQLite's 32,766 host parameters, even for keys of two columns
COPY_ROWS_PER_WRITE = 10_000
SORT_THREADS = 4  # at most, for SQLite's index builds
GC_FIRST_GENERATION = 50_000  # allocations between collections during bulk work (Python's default: 700)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@contextmanager
def fewer_collections(first_generation: int = GC_FIRST_GENERATION) -> Iterator[None]:
    """Run a bulk job with the garbage collector's first threshold raised (restored afterwards).

    A bulk job allocates millions of small objects (rows, tuples, dicts) that live until their
    batch is written; at Python's default (700 allocations) the collector keeps walking them and
    the job's long-lived lookups: a 20,000-row import spent about a ninth of its CPU time there.
    The threshold is the process's, so other threads collect less often meanwhile too (harmless:
    cycles are still collected, later).
    """
    before = gc.get_threshold()
    gc.set_threshold(max(first_generation, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def indexes_built_afterwards(engine: Engine, table: Table) -> Iterator[None]:
    """Drop `table`'s non-unique indexes for a bulk load and build them again when it ends.

    Building an index once, over all its rows sorted, costs less than keeping it up to date row by
    row, where rows land at scattered places (the answers' follow-up index leads with the
    customer): demo data of 300,000 responses spent 46 s writing rows with the answers' five
    indexes kept, 16 s without them and then 15 s building them. Unique indexes stay (they guard
    the data). The drop and the build are transactions of their own; should the process die in
    between, `restore_missing_indexes` (run at every start) builds what is missing.
    """
    with engine.begin() as connection:
        indexes = _drop_non_unique_indexes(connection, table, checkfirst=True)
    try:
        yield
    finally:
        with engine.begin() as connection:
            _build_indexes(connection, indexes, checkfirst=True)


@contextmanager
def indexes_built_after_writing(connection: Connection, table: Table, rows: int) -> Iterator[None]:
    """Within the caller's SQLite transaction, write `rows` new rows into `table` without its
    non-unique indexes and build them at the end, when the table holds fewer rows than that.

    The trade of `indexes_built_afterwards`, for a write that must stay one transaction (an import:
    all its rows or none). Keeping an index costs each new row a seek to a scattered place;
    building it sorts every row once, old and new, so it pays only when the new rows outnumber the
    old. SQLite's schema changes belong to the transaction: a rollback brings the indexes back,
    readers see the committed schema meanwhile, and no other writer runs (one transaction writes
    at a time). The rebuilt indexes keep their creation order and get their planner statistics
    again before the block ends. On PostgreSQL, dropping an index would lock the table against
    readers: there the block changes nothing.
    """
    if connection.dialect.name != "sqlite" or _row_count_at_most(connection, table) >= rows:
        yield
        return
    indexes = _drop_non_unique_indexes(connection, table)
    yield
    _build_indexes(connection, indexes)
    db.refresh_statistics(connection, table.name)


def _drop_non_unique_indexes(connection: Connection, table: Table, checkfirst: bool = False) -> list[Any]:
    """Drop `table`'s non-unique indexes (unique ones guard the data); the dropped, in creation order."""
    indexes = _in_creation_order(connection, [index for index in table.indexes if not index.unique])
    for index in indexes:
        index.drop(connection, checkfirst=checkfirst)
    return indexes


def _build_indexes(connection: Connection, indexes: list[Any], checkfirst: bool = False) -> None:
    """Build `indexes` in the order given, sorting with SQLite's helper threads."""
    with _sorting_threads(connection):
        for index in indexes:
            index.create(connection, checkfirst=checkfirst)


def _row_count_at_most(connection: Connection, table: Table) -> int:
    """An upper bound of `table`'s rows without counting them: its highest rowid (SQLite)."""
    return connection.exec_driver_sql(f"SELECT max(rowid) FROM {table.name}").scalar() or 0


@contextmanager
def _sorting_threads(connection: Connection) -> Iterator[None]:
    """Let SQLite sort an index build with helper threads (`PRAGMA threads`, off by default): the
    five answers' indexes of a 1,000,000-response demo took 28.9 s instead of 33.4 s on two cores."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql(f"PRAGMA threads={min(SORT_THREADS, os.cpu_count() or 1)}")
    try:
        yield
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA threads=0")


def _in_creation_order(connection: Connection, indexes: list[Any]) -> list[Any]:
    """`indexes` in the order the database created them. Without statistics SQLite's planner breaks
    ties between equally good indexes by that order, so a rebuilt table must keep it."""
    if connection.dialect.name != "sqlite":
        return sorted(indexes, key=lambda index: index.name)
    order = {name: position for position, (name,) in enumerate(connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY rowid"))}
    return sorted(indexes, key=lambda index: (order.get(index.name, len(order)), index.name))


def restore_missing_indexes(engine: Engine) -> list[str]:
    """Build every index of the models that the database lacks (one left dropped by a bulk load
    that did not finish); the names built."""
    built = []
    with engine.begin() as connection:
        present = {table: {index["name"] for index in inspect(connection).get_indexes(table)}
                   for table in inspect(connection).get_table_names()}
        for table in models.Base.metadata.sorted_tables:
            for index in sorted(table.indexes, key=lambda index: index.name):
                if table.name in present and index.name not in present[table.name]:
                    index.create(connection)
                    built.append(index.name)
    return built


def has_driver_route(connection: Connection) -> bool:
    """Whether `insert_values` can write through this connection's driver (SQLite, or PostgreSQL with psycopg)."""
    dialect = connection.dialect
    return dialect.name == "sqlite" or (dialect.name == "postgresql" and dialect.driver == "psycopg")


def insert_values(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in the order of `columns`, values in the driver's own form) into `table`
    (see `has_driver_route`)."""
    if not rows:
        return
    names = ", ".join(columns)
    dialect = connection.dialect
    if not has_driver_route(connection):
        raise NotImplementedError(f"no driver route for {dialect.name}+{dialect.driver}: use insert_rows")
    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect.name == "sqlite":
            statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
            cursor.executemany(statement, rows)
        else:
            statement = f"COPY {table} ({names}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for start in range(0, len(rows), COPY_ROWS_PER_WRITE):
                    copy.write(_copy_text(rows[start:start + COPY_ROWS_PER_WRITE]))
    except dialect.loaded_dbapi.Error as error:
        # the driver's own exception, as SQLAlchemy would raise it (IntegrityError etc.), so that
        # callers catching SQLAlchemy's exceptions (a concurrent case, a reused key) still do
        raise exc.DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=dialect) from error
    finally:
        cursor.close()


def _copy_text(rows: list[tuple]) -> str:
    """Rows in PostgreSQL's COPY text format (faster than one `write_row` call per row)."""
    escapes = _COPY_ESCAPES
    return "".join(
        "\t".join("\\N" if v is None else v.translate(escapes) if isinstance(v, str) else str(v) for v in row) + "\n"
        for row in rows)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts of Python values; every row names the same columns) into `table`.

    Columns a row leaves out take the database's default, not a Python-side `default=`: name every
    column that has one.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    # C-level itemgetter and map instead of a Python loop per value
    insert_tuples(connection, table, columns, list(map(itemgetter(*columns), rows)) if len(columns) > 1
                  else [(row[columns[0]],) for row in rows])


def insert_tuples(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """`insert_rows` for rows given as tuples of Python values in the order of `columns` (no dict
    to build per row: an import writes about ten answers per response)."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), [dict(zip(columns, row)) for row in rows])
        return
    by_column = list(zip(*rows))  # column by column: one converter call per value, none for the rest
    for index, name in enumerate(columns):
        convert = _converter(table.c[name].type, connection)
        if convert is not None:
            by_column[index] = list(map(convert, by_column[index]))
    insert_values(connection, table.name, columns, list(zip(*by_column)))


def _converter(column_type: Any, connection: Connection) -> Callable[[Any], Any] | None:
    """The type's bind processor for this dialect (None when values pass as they are), remembering
    the last value: rows written together often share one (an answer's response time)."""
    process = column_type._cached_bind_processor(connection.dialect)
    if process is None:
        return None
    last: list[Any] = [object(), None]  # [value, converted]

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert


def ids_by_key(connection: Connection, table: Table, key_columns: Sequence[str],
               keys: Iterable[Any], where: Iterable[Any] = ()) -> dict[Any, int]:
    """The ids of the rows of `table` whose `key_columns` (unique among the rows `where` selects)
    hold `keys` (values for one column, tuples for several), as {key: id}."""
    keys = list(keys)
    columns = [table.c[name] for name in key_columns]
    key_expression = columns[0] if len(columns) == 1 else tuple_(*columns)
    found: dict[Any, int] = {}
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        statement = select(table.c.id, *columns).where(key_expression.in_(keys[start:start + KEYS_PER_STATEMENT]),
                                                       *where)
        for row_id, *key in connection.execute(statement).all():  # one fetch, not one per row
            found[key[0] if len(key) == 1 else tuple(key)] = row_id
    return found
