"""The count tables' upkeep: database triggers that keep `score_counts` and `response_counts`
equal to counting the raw answers and responses, in the same transaction as every change.

- `score_counts` (survey, question, month, value, n): numeric answers per month and value, the
  histograms the dashboard's NPS, CSAT and effort figures are computed from.
- `response_counts` (survey, month, channel, n): responses per month and channel.

Triggers rather than code in each writer, because every path that adds, changes or removes an
answer (the form, the API, CSV import, demo data, erasure, retention, the copy trigger of
migration 0006 when a response's time changes) then keeps the counts without knowing of them.
The month is the answer's copy of its response's time in UTC, as `queries.period_label` names it.

Bulk loads (demo data) drop the triggers, write, and rebuild the counts with one GROUP BY
(`upkept_afterwards` in `survey.storage.counts`); a load killed in between leaves the triggers
missing, and every start puts them back and recounts (`counts.restore_upkeep`).

No imports from the models: `models` attaches `install` to the creation of the count tables, and
migration 0014 calls it too.
"""

from __future__ import annotations

from typing import Any

SCORE_KEY = ("survey_id", "question_key", "month", "value")
RESPONSE_KEY = ("survey_id", "month", "channel")
SQLITE_TRIGGERS = ("answers_count_insert", "answers_count_delete", "answers_count_update",
                   "responses_count_insert", "responses_count_delete", "responses_count_update")
POSTGRES_TRIGGERS = (("answers_keep_counts", "answers"), ("responses_keep_counts", "responses"))
POSTGRES_FUNCTIONS = ("keep_score_counts", "keep_response_counts")


def _sqlite_month(row: str) -> str:
    return f"strftime('%Y-%m', {row}.submitted_at)"


def _sqlite_add(table: str, key: tuple[str, ...], values: str, when: str) -> str:
    # the SELECT form of an upsert needs a WHERE (SQLite's parser), which also carries the condition
    return (f"INSERT INTO {table} ({', '.join(key)}, n) SELECT {values}, 1 WHERE {when} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET n = n + 1;")


def _sqlite_remove(table: str, key: tuple[str, ...], values: tuple[str, ...], when: str) -> str:
    match = " AND ".join(f"{column} = {value}" for column, value in zip(key, values))
    return (f"UPDATE {table} SET n = n - 1 WHERE {match} AND {when}; "
            f"DELETE FROM {table} WHERE {match} AND n = 0;")


def _sqlite_statements() -> list[str]:
    answer = lambda row: (f"{row}.survey_id", f"{row}.question_key", _sqlite_month(row), f"{row}.numeric_value")  # noqa: E731
    response = lambda row: (f"{row}.survey_id", _sqlite_month(row), f"{row}.channel")  # noqa: E731
    add_answer = _sqlite_add("score_counts", SCORE_KEY, ", ".join(answer("NEW")), "NEW.numeric_value IS NOT NULL")
    remove_answer = _sqlite_remove("score_counts", SCORE_KEY, answer("OLD"), "OLD.numeric_value IS NOT NULL")
    add_response = _sqlite_add("response_counts", RESPONSE_KEY, ", ".join(response("NEW")), "1")
    remove_response = _sqlite_remove("response_counts", RESPONSE_KEY, response("OLD"), "1")
    return [
        f"CREATE TRIGGER answers_count_insert AFTER INSERT ON answers BEGIN {add_answer} END",
        f"CREATE TRIGGER answers_count_delete AFTER DELETE ON answers BEGIN {remove_answer} END",
        "CREATE TRIGGER answers_count_update AFTER UPDATE OF survey_id, question_key, submitted_at, numeric_value "
        f"ON answers BEGIN {remove_answer} {add_answer} END",
        f"CREATE TRIGGER responses_count_insert AFTER INSERT ON responses BEGIN {add_response} END",
        f"CREATE TRIGGER responses_count_delete AFTER DELETE ON responses BEGIN {remove_response} END",
        "CREATE TRIGGER responses_count_update AFTER UPDATE OF survey_id, submitted_at, channel "
        f"ON responses BEGIN {remove_response} {add_response} END",
    ]


def _postgres_function(name: str, table: str, key: tuple[str, ...], values: str, condition: str) -> str:
    def row(prefix: str) -> list[str]:
        return [value.replace("ROW.", f"{prefix}.") for value in values.split("|")]

    match = " AND ".join(f"{column} = {value}" for column, value in zip(key, row("OLD")))
    return f"""
        CREATE FUNCTION {name}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') AND {condition.replace('ROW.', 'OLD.')} THEN
                UPDATE {table} SET n = n - 1 WHERE {match};
                DELETE FROM {table} WHERE {match} AND n = 0;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND {condition.replace('ROW.', 'NEW.')} THEN
                INSERT INTO {table} ({', '.join(key)}, n) VALUES ({', '.join(row('NEW'))}, 1)
                ON CONFLICT ({', '.join(key)}) DO UPDATE SET n = {table}.n + 1;
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
    """


def _postgres_statements() -> list[str]:
    month = "to_char(ROW.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    return [
        _postgres_function("keep_score_counts", "score_counts", SCORE_KEY,
                           f"ROW.survey_id|ROW.question_key|{month}|ROW.numeric_value", "ROW.numeric_value IS NOT NULL"),
        _postgres_function("keep_response_counts", "response_counts", RESPONSE_KEY,
                           f"ROW.survey_id|{month}|ROW.channel", "TRUE"),
        "CREATE TRIGGER answers_keep_counts AFTER INSERT OR DELETE OR UPDATE OF survey_id, question_key, "
        "submitted_at, numeric_value ON answers FOR EACH ROW EXECUTE FUNCTION keep_score_counts()",
        "CREATE TRIGGER responses_keep_counts AFTER INSERT OR DELETE OR UPDATE OF survey_id, submitted_at, channel "
        "ON responses FOR EACH ROW EXECUTE FUNCTION keep_response_counts()",
    ]


def install(connection: Any) -> None:
    """Create the upkeep triggers (the count tables and the answers and responses tables exist)."""
    postgresql = connection.dialect.name == "postgresql"
    for statement in _postgres_statements() if postgresql else _sqlite_statements():
        connection.exec_driver_sql(statement)


def drop(connection: Any) -> None:
    """Remove the upkeep triggers (before a bulk load that recounts afterwards, or a downgrade)."""
    if connection.dialect.name == "postgresql":
        for trigger, table in POSTGRES_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in POSTGRES_FUNCTIONS:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for trigger in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def installed(connection: Any) -> bool:
    """Whether every upkeep trigger exists."""
    if connection.dialect.name == "postgresql":
        names = {name for (name,) in connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        return {trigger for trigger, _ in POSTGRES_TRIGGERS} <= names
    names = {name for (name,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return set(SQLITE_TRIGGERS) <= names


def recount(connection: Any) -> None:
    """Refill both count tables from the raw answers and responses (one GROUP BY each)."""
    if connection.dialect.name == "postgresql":
        month = "to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        month = "strftime('%Y-%m', submitted_at)"
    connection.exec_driver_sql("DELETE FROM score_counts")
    connection.exec_driver_sql("DELETE FROM response_counts")
    connection.exec_driver_sql(
        f"INSERT INTO score_counts ({', '.join(SCORE_KEY)}, n) SELECT survey_id, question_key, {month}, "
        "numeric_value, count(*) FROM answers WHERE numeric_value IS NOT NULL GROUP BY 1, 2, 3, 4")
    connection.exec_driver_sql(
        f"INSERT INTO response_counts ({', '.join(RESPONSE_KEY)}, n) SELECT survey_id, {month}, channel, count(*) "
        "FROM responses GROUP BY 1, 2, 3")
