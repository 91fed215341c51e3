"""The count tables' upkeep: database triggers that keep `score_counts`, `response_counts` and
`index_counts` equal to counting the raw answers and responses, in the same transaction as every
change.

- `score_counts` (survey, question, month, value, n): numeric answers per month and value, the
  histograms the dashboard's NPS, CSAT and effort figures are computed from.
- `response_counts` (survey, month, channel, n): responses per month and channel.
- `index_counts` (survey, month, packed, n): responses answering every satisfaction-index item,
  by their packed item scores (see the section below).

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

from typing import Any, Callable

# On PostgreSQL a bulk writer's own transaction pauses the triggers with a row in count_pauses,
# which no other transaction sees before it commits, and adds up what it wrote once; on SQLite it
# drops them inside its transaction instead (`counts.counted_in_bulk` says why).
PAUSED = "EXISTS (SELECT 1 FROM count_pauses)"
RUNNING = f"NOT {PAUSED}"
SCORE_KEY = ("survey_id", "question_key", "month", "value")
RESPONSE_KEY = ("survey_id", "month", "channel")
# Responses counted by one GROUP BY after a bulk write: bigger runs merge more of the same count
# rows (survey, question, month, score) before they are written
COUNTED_PER_STATEMENT = 10_000
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
        f"CREATE TRIGGER answers_count_insert AFTER INSERT ON answers WHEN {RUNNING} BEGIN {add_answer} END",
        f"CREATE TRIGGER answers_count_delete AFTER DELETE ON answers WHEN {RUNNING} BEGIN {remove_answer} END",
        "CREATE TRIGGER answers_count_update AFTER UPDATE OF survey_id, question_key, submitted_at, numeric_value "
        f"ON answers WHEN {RUNNING} BEGIN {remove_answer} {add_answer} END",
        f"CREATE TRIGGER responses_count_insert AFTER INSERT ON responses WHEN {RUNNING} BEGIN {add_response} END",
        f"CREATE TRIGGER responses_count_delete AFTER DELETE ON responses WHEN {RUNNING} BEGIN {remove_response} END",
        "CREATE TRIGGER responses_count_update AFTER UPDATE OF survey_id, submitted_at, channel "
        f"ON responses WHEN {RUNNING} BEGIN {remove_response} {add_response} END",
    ]


def _postgres_month(row: str) -> str:
    return f"to_char({row}.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM')"


def _postgres_function(name: str, table: str, key: tuple[str, ...], values: Callable[[str], list[str]],
                       condition: Callable[[str], str]) -> str:
    """A PL/pgSQL trigger function moving `table`'s count under the key `values(row)` of OLD down
    and of NEW up, for the rows meeting `condition(row)`. It needs no other row, so the order in
    which one statement's rows fire it does not matter."""
    match = " AND ".join(f"{column} = {value}" for column, value in zip(key, values("OLD")))
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
        BEGIN
            IF {PAUSED} THEN
                RETURN NULL;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                IF {condition('OLD')} THEN
                    UPDATE {table} SET n = n - 1 WHERE {match};
                    DELETE FROM {table} WHERE {match} AND n = 0;
                END IF;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                IF {condition('NEW')} THEN
                    INSERT INTO {table} ({', '.join(key)}, n) VALUES ({', '.join(values('NEW'))}, 1)
                    ON CONFLICT ({', '.join(key)}) DO UPDATE SET n = {table}.n + 1;
                END IF;
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
    """


def _postgres_statements() -> list[str]:
    return [
        _postgres_function("keep_score_counts", "score_counts", SCORE_KEY,
                           lambda row: [f"{row}.survey_id", f"{row}.question_key", _postgres_month(row),
                                        f"{row}.numeric_value"],
                           lambda row: f"{row}.numeric_value IS NOT NULL"),
        _postgres_function("keep_response_counts", "response_counts", RESPONSE_KEY,
                           lambda row: [f"{row}.survey_id", _postgres_month(row), f"{row}.channel"],
                           lambda row: "TRUE"),
        "CREATE TRIGGER answers_keep_counts AFTER INSERT OR DELETE OR UPDATE OF survey_id, question_key, "
        "submitted_at, numeric_value ON answers FOR EACH ROW EXECUTE FUNCTION keep_score_counts()",
        "CREATE TRIGGER responses_keep_counts AFTER INSERT OR DELETE OR UPDATE OF survey_id, submitted_at, channel "
        "ON responses FOR EACH ROW EXECUTE FUNCTION keep_response_counts()",
    ]


def install(connection: Any) -> None:
    """Create the upkeep triggers (the count tables and the answers and responses tables exist)."""
    postgresql = connection.dialect.name == "postgresql"
    statements = (_postgres_statements() + _postgres_index_statements() if postgresql
                  else _sqlite_statements() + _sqlite_index_statements())
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop(connection: Any) -> None:
    """Remove the upkeep triggers (before a bulk load that recounts afterwards, or a downgrade)."""
    if connection.dialect.name == "postgresql":
        for trigger, table in POSTGRES_TRIGGERS + POSTGRES_INDEX_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in (*(f"{name}()" for name in POSTGRES_FUNCTIONS), *POSTGRES_INDEX_FUNCTIONS):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for trigger in SQLITE_TRIGGERS + SQLITE_INDEX_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")


def installed(connection: Any) -> bool:
    """Whether every upkeep trigger exists."""
    if connection.dialect.name == "postgresql":
        names = {name for (name,) in connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN ('answers'::regclass, 'responses'::regclass)")}
        return {trigger for trigger, _ in POSTGRES_TRIGGERS + POSTGRES_INDEX_TRIGGERS} <= names
    names = {name for (name,) in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return set(SQLITE_TRIGGERS + SQLITE_INDEX_TRIGGERS) <= names


def recount(connection: Any) -> None:
    """Refill the count tables from the raw answers and responses (one GROUP BY each)."""
    for table, key, counted in _grouped(connection, "TRUE"):
        connection.exec_driver_sql(f"DELETE FROM {table}")
        connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(key)}, n) {counted}")


# --- The satisfaction index: each response's item scores, counted per month ----------------------
#
# `index_items` names a survey's index items (its newest version's `metric: index` questions, set
# at publishing) with their scale minimum and a place value; `index_counts` counts, per survey and
# month of the first item's answer, the responses answering every item, under one whole number
# that packs their scores: sum of (score - scale min) * 1000^position. The dashboard unpacks it and
# computes any weighting of the items exactly. A response with a score that does not pack (not a
# whole number, outside min..min+999) or with an item answered twice counts under UNPACKABLE, and
# a view that meets one counts the raw answers instead.
#
# A change to an item answer takes its response's contribution out and puts the changed one back,
# whatever the change: insert, delete, a new score, a new time carried over from the response, a
# duplicate. SQLite fires a row's BEFORE and AFTER triggers right around that row's change, so it
# counts the response before (BEFORE) and after (AFTER). PostgreSQL runs one statement's AFTER
# row triggers only at its end (the copy trigger of migration 0006 moves all of a response's
# answers in one statement), so there a BEFORE trigger alone works out both: the response as it
# is, and as it will be with this row's change applied.

INDEX_KEY = ("survey_id", "month", "packed")
PLACE = 1000
MAX_INDEX_ITEMS = 6  # 1000^6 and more would not fit a 64-bit integer
UNPACKABLE = -1
SQLITE_INDEX_TRIGGERS = ("answers_index_before_insert", "answers_index_after_insert", "answers_index_before_delete",
                         "answers_index_after_delete", "answers_index_before_update", "answers_index_after_update")
POSTGRES_INDEX_TRIGGERS = (("answers_index_change", "answers"),)
POSTGRES_INDEX_FUNCTIONS = ("index_pair_change(integer, integer, integer, text, double precision, timestamptz)",
                            "keep_index_counts()")


def _contributions(month: str, responses: str, source: str = "answers") -> str:
    """Per (survey, response) among `responses` (a condition on answers `a`): the month and packed
    scores of a response answering every index item, UNPACKABLE when they do not pack.

    `+a.survey_id` keeps the survey out of index choice: without statistics SQLite would otherwise
    range over every answer of the survey (ix_answers_survey_question_submitted) for one response."""
    fits = f"a.numeric_value - i.low BETWEEN 0 AND {PLACE - 1}"
    return f"""
        SELECT survey_id, month, CASE WHEN bad = 0 AND answered = items THEN packed ELSE {UNPACKABLE} END AS packed
        FROM (SELECT a.survey_id, a.response_id, count(*) AS answered, count(DISTINCT a.question_key) AS keys,
                     sum(CASE WHEN {fits} THEN CAST(a.numeric_value - i.low AS BIGINT) * i.place ELSE 0 END) AS packed,
                     sum(CASE WHEN NOT ({fits}) THEN 1
                              WHEN CAST(a.numeric_value AS BIGINT) = a.numeric_value THEN 0 ELSE 1 END) AS bad,
                     max(CASE WHEN i.position = 0 THEN {month} END) AS month,
                     (SELECT count(*) FROM index_items k WHERE k.survey_id = a.survey_id) AS items
              FROM {source} a JOIN index_items i ON i.survey_id = +a.survey_id AND i.question_key = a.question_key
              WHERE a.numeric_value IS NOT NULL AND {responses}
              GROUP BY a.survey_id, a.response_id) AS per_response
        WHERE keys = items"""


def _is_item(row: str) -> str:
    return f"EXISTS (SELECT 1 FROM index_items WHERE survey_id = {row}.survey_id AND question_key = {row}.question_key)"


def _sqlite_index_change(row: str, sign: str, extra: str = "1") -> str:
    """SQLite statements moving the contribution of `row`'s response (NEW or OLD) by one, up (+)
    or down (-), when `extra` holds."""
    found = _contributions(_sqlite_month("a"), f"a.response_id = {row}.response_id AND +a.survey_id = {row}.survey_id "
                                                 f"AND {extra}")
    key = ", ".join(INDEX_KEY)
    if sign == "+":
        return (f"INSERT INTO index_counts ({key}, n) SELECT survey_id, month, packed, 1 FROM ({found}) WHERE true "
                f"ON CONFLICT ({key}) DO UPDATE SET n = n + 1;")
    return (f"UPDATE index_counts SET n = n - 1 WHERE ({key}) IN ({found}); "
            f"DELETE FROM index_counts WHERE n = 0 AND ({key}) IN ({found});")


def _sqlite_index_statements() -> list[str]:
    def scored_item(row: str) -> str:
        return f"{row}.numeric_value IS NOT NULL AND {_is_item(row)}"

    # a new item answer cannot end a response's completeness unless its question is answered already
    duplicate = ("EXISTS (SELECT 1 FROM answers d WHERE d.question_key = NEW.question_key "
                 "AND d.response_id = NEW.response_id)")
    moved = "(NEW.response_id != OLD.response_id OR NEW.survey_id != OLD.survey_id)"
    changed = "OF response_id, survey_id, question_key, submitted_at, numeric_value ON answers"
    either = f"({_is_item('OLD')}) OR ({_is_item('NEW')})"
    return [
        f"CREATE TRIGGER answers_index_before_insert BEFORE INSERT ON answers WHEN {RUNNING} AND ({scored_item('NEW')} AND {duplicate}) "
        f"BEGIN {_sqlite_index_change('NEW', '-')} END",
        f"CREATE TRIGGER answers_index_after_insert AFTER INSERT ON answers WHEN {RUNNING} AND ({scored_item('NEW')}) "
        f"BEGIN {_sqlite_index_change('NEW', '+')} END",
        f"CREATE TRIGGER answers_index_before_delete BEFORE DELETE ON answers WHEN {RUNNING} AND ({scored_item('OLD')}) "
        f"BEGIN {_sqlite_index_change('OLD', '-')} END",
        f"CREATE TRIGGER answers_index_after_delete AFTER DELETE ON answers WHEN {RUNNING} AND ({scored_item('OLD')}) "
        f"BEGIN {_sqlite_index_change('OLD', '+')} END",
        f"CREATE TRIGGER answers_index_before_update BEFORE UPDATE {changed} WHEN {RUNNING} AND ({either}) "
        f"BEGIN {_sqlite_index_change('OLD', '-')} {_sqlite_index_change('NEW', '-', moved)} END",
        f"CREATE TRIGGER answers_index_after_update AFTER UPDATE {changed} WHEN {RUNNING} AND ({either}) "
        f"BEGIN {_sqlite_index_change('OLD', '+', moved)} {_sqlite_index_change('NEW', '+')} END",
    ]


def _postgres_index_statements() -> list[str]:
    # The response (r, survey s) as it is, and as it will be once the row `skip` is gone and the
    # row (add_key, add_value, add_time) is in: a BEFORE trigger sees the rows this statement
    # changed before it, never the row being changed.
    now = _contributions(_postgres_month("a"), "a.response_id = r AND +a.survey_id = s")
    columns = "survey_id, response_id, question_key, numeric_value, submitted_at"
    then = _contributions(_postgres_month("a"), "TRUE", source=(
        f"(SELECT {columns} FROM answers WHERE response_id = r AND +survey_id = s AND id IS DISTINCT FROM skip "
        f"UNION ALL SELECT s, r, add_key, add_value, add_time WHERE add_key IS NOT NULL)"))
    key = ", ".join(INDEX_KEY)
    change = f"""
        CREATE OR REPLACE FUNCTION index_pair_change(r integer, s integer, skip integer, add_key text,
                                                     add_value double precision, add_time timestamptz)
        RETURNS void AS $$
        DECLARE
            before_month text; before_packed bigint; after_month text; after_packed bigint;
        BEGIN
            SELECT month, packed INTO before_month, before_packed FROM ({now}) AS found;
            SELECT month, packed INTO after_month, after_packed FROM ({then}) AS found;
            IF before_month IS NOT DISTINCT FROM after_month AND before_packed IS NOT DISTINCT FROM after_packed THEN
                RETURN;
            END IF;
            IF before_month IS NOT NULL THEN
                UPDATE index_counts SET n = n - 1 WHERE survey_id = s AND month = before_month AND packed = before_packed;
                DELETE FROM index_counts WHERE survey_id = s AND month = before_month AND packed = before_packed AND n = 0;
            END IF;
            IF after_month IS NOT NULL THEN
                INSERT INTO index_counts ({key}, n) VALUES (s, after_month, after_packed, 1)
                ON CONFLICT ({key}) DO UPDATE SET n = index_counts.n + 1;
            END IF;
        END;
        $$ LANGUAGE plpgsql
    """
    # nested IFs: PL/pgSQL does not promise to stop at the first false operand of AND
    keeper = f"""
        CREATE OR REPLACE FUNCTION keep_index_counts() RETURNS trigger AS $$
        BEGIN
            IF {PAUSED} THEN
                NULL;
            ELSIF TG_OP = 'INSERT' THEN
                IF {_is_item('NEW')} THEN
                    PERFORM index_pair_change(NEW.response_id, NEW.survey_id, NULL, NEW.question_key,
                                              NEW.numeric_value, NEW.submitted_at);
                END IF;
            ELSIF TG_OP = 'DELETE' THEN
                IF {_is_item('OLD')} THEN
                    PERFORM index_pair_change(OLD.response_id, OLD.survey_id, OLD.id, NULL, NULL, NULL);
                END IF;
            ELSIF NEW.response_id = OLD.response_id AND NEW.survey_id = OLD.survey_id THEN
                IF {_is_item('OLD')} OR {_is_item('NEW')} THEN
                    PERFORM index_pair_change(OLD.response_id, OLD.survey_id, OLD.id, NEW.question_key,
                                              NEW.numeric_value, NEW.submitted_at);
                END IF;
            ELSE  -- the answer moves to another response or survey: out of one, into the other
                IF {_is_item('OLD')} THEN
                    PERFORM index_pair_change(OLD.response_id, OLD.survey_id, OLD.id, NULL, NULL, NULL);
                END IF;
                IF {_is_item('NEW')} THEN
                    PERFORM index_pair_change(NEW.response_id, NEW.survey_id, NULL, NEW.question_key,
                                              NEW.numeric_value, NEW.submitted_at);
                END IF;
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
    """
    return [change, keeper,
            "CREATE TRIGGER answers_index_change BEFORE INSERT OR DELETE OR UPDATE OF response_id, survey_id, "
            "question_key, submitted_at, numeric_value ON answers FOR EACH ROW EXECUTE FUNCTION keep_index_counts()"]


def use_index_items(connection: Any, survey_id: int, items: list[tuple[str, float]], recount: bool = True) -> bool:
    """Make `items` ((question key, scale minimum) in order) the survey's index items; whether they
    changed. When they change, the survey's index counts are recounted (unless `recount` is False:
    the caller recounts everything). More than MAX_INDEX_ITEMS items are not kept: the raw answers
    serve such an index."""
    if len(items) > MAX_INDEX_ITEMS:
        items = []
    from sqlalchemy import text  # here, not at the top: models imports this module while SQLAlchemy sets up

    survey = {"survey_id": int(survey_id)}
    stored = [tuple(row) for row in connection.execute(text(
        "SELECT question_key, low FROM index_items WHERE survey_id = :survey_id ORDER BY position"), survey)]
    if stored == [(key, int(low)) for key, low in items]:
        return False
    if connection.dialect.name == "postgresql":
        # writers wait until this transaction commits: none counts under the items being replaced
        connection.exec_driver_sql("LOCK TABLE answers IN SHARE ROW EXCLUSIVE MODE")
    connection.execute(text("DELETE FROM index_counts WHERE survey_id = :survey_id"), survey)
    connection.execute(text("DELETE FROM index_items WHERE survey_id = :survey_id"), survey)
    for position, (key, low) in enumerate(items):
        connection.execute(text("INSERT INTO index_items (survey_id, position, question_key, low, place) "
                                "VALUES (:survey_id, :position, :question_key, :low, :place)"),
                           dict(survey, position=position, question_key=key, low=int(low), place=PLACE ** position))
    if recount:
        _recount_index(connection, f"a.survey_id = {int(survey_id)}")
    return True


def _month(connection: Any, row: str) -> str:
    return _postgres_month(row) if connection.dialect.name == "postgresql" else _sqlite_month(row)


def _grouped(connection: Any, chosen: str) -> list[tuple[str, tuple[str, ...], str]]:
    """(table, key, SELECT of its counts) for the responses meeting `chosen`, a condition on
    answers `a` by `a.response_id` or `a.survey_id` (for responses, `a.id` stands for the former).
    Responses first, then answers: the order live submissions lock the count rows in."""
    month = _month(connection, "a")
    return [
        ("response_counts", RESPONSE_KEY, f"SELECT a.survey_id, {month}, a.channel, count(*) FROM responses a "
                                          f"WHERE {chosen.replace('a.response_id', 'a.id')} GROUP BY 1, 2, 3"),
        ("score_counts", SCORE_KEY, f"SELECT a.survey_id, a.question_key, {month}, a.numeric_value, count(*) "
                                    f"FROM answers a WHERE a.numeric_value IS NOT NULL AND {chosen} GROUP BY 1, 2, 3, 4"),
        ("index_counts", INDEX_KEY, f"SELECT survey_id, month, packed, count(*) FROM ({_contributions(month, chosen)}) "
                                    "AS found GROUP BY survey_id, month, packed"),
    ]


def _recount_index(connection: Any, chosen: str) -> None:
    _, key, counted = _grouped(connection, chosen)[2]
    connection.exec_driver_sql(f"INSERT INTO index_counts ({', '.join(key)}, n) {counted}")


def add_written(connection: Any, response_ids: list[int]) -> None:
    """Count responses just written without the triggers (`counts.counted_in_bulk`):
    themselves, their answers and their index scores, a few GROUP BYs per run of consecutive ids
    (an import's ids are one run) of at most `COUNTED_PER_STATEMENT` responses."""
    for first, last in id_runs(response_ids, COUNTED_PER_STATEMENT):
        chosen = f"a.response_id BETWEEN {int(first)} AND {int(last)}"
        for table, key, counted in _grouped(connection, chosen):
            # WHERE true: SQLite's parser needs it between a SELECT and ON CONFLICT; key order as
            # live submissions lock the rows
            connection.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(key)}, n) SELECT * FROM ({counted}) AS counted WHERE true "
                f"ORDER BY {', '.join(str(i + 1) for i in range(len(key)))} "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET n = {table}.n + excluded.n")


def id_runs(ids: list[int], longest: int) -> list[tuple[int, int]]:
    """`ids` as (first, last) runs of consecutive ids, each at most `longest` ids long.

    >>> id_runs([7, 3, 4, 5, 9, 10], 2)
    [(3, 4), (5, 5), (7, 7), (9, 10)]
    """
    runs: list[tuple[int, int]] = []
    for number in sorted(set(ids)):
        if runs and number == runs[-1][1] + 1 and number - runs[-1][0] < longest:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs
