"""Response exports for analysts: CSV, XLSX, SPSS (.sav) and Stata (.dta), one row per response.

One column per stored answer: a matrix row and a multi-choice option each get their own column,
named `question_attribute` / `question_option` (letters, digits and `_` only, at most 32
characters, as Stata requires; a clash gets `_2`, `_3`...). Before them come the response's
metadata: `response_id`, `submitted_at` (UTC), `version`, `channel`, `language`, and for
surveys with customers `customer_ref`, `region`, `tier`, `industry`. Never a name, email or
phone number.

| question kind | CSV / XLSX cell | SPSS / Stata value |
|---|---|---|
| rated (NPS, CSAT, CES, rating, index item, matrix row) | the score | the score; value labels: the scale's end labels |
| single choice | the choice's value | a code (the value itself when every value is a whole number, else 1, 2, ... in the definition's order); value labels: the choices' labels |
| multi choice, per option | 1 chosen, 0 not chosen | the same; value labels "chosen" / "not chosen" |
| integer, decimal | the number | the number |
| text, date (YYYY-MM-DD), time (HH:MM) | the text | a string |

Variable labels are the question's text in the survey's first language (a matrix row or an
option: "question: row"). A question that was not answered (or not shown) is empty: in SPSS the
system-missing value for numbers and the declared missing value "" for strings; in Stata `.`
for numbers. All of a multi-choice question's option columns are empty when the question was not
answered. The XLSX workbook has a second sheet, "columns", describing every column (name, label,
question, kind, codes); CSV and XLSX cells are formula-safe (`survey.exports`).

Rows are read from the database `chunk_size` responses at a time. CSV and XLSX stream them to
the file. SPSS and Stata files are written by pyreadstat from one data frame, so those two formats
hold the whole table in memory, kept compact: numbers in float arrays, repeated texts (channel,
language, segments, customer reference) shared, not copied (peak memory: bench/bench_export.py).

Exports are scoped to what the acting user may read (a field manager: their own customers) and
recorded in the audit log (who, which survey and format, how many rows).
"""

from __future__ import annotations

import math
import os
import re
import secrets
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from survey import messages
from survey.definitions.definition import Survey, from_dict
from survey.exports import write_csv, write_xlsx
from survey.people import audit
from survey.people.access import EXPORT_PERSONAL, READ_RESPONSES, Actor, require
from survey.storage import db, models
from survey.storage.filters import Filters, responses_in_scope

FORMATS = ("csv", "xlsx", "sav", "dta")
CHUNK = 5_000  # responses read (and their answers pivoted) at a time
NAME_LIMIT = 32  # Stata's limit for a variable name; SPSS allows 64
STATA_LABEL_LIMIT = 80
NAME_PATTERN = re.compile(r"[^A-Za-z0-9_]+")
MEDIA_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
CHOSEN_LABELS = {0: "not chosen", 1: "chosen"}
# Where each format counts time from (UTC here: SPSS and Stata have no time zones): SPSS in seconds
# since the Gregorian calendar's start, Stata's %tc in milliseconds since 1960
SPSS_EPOCH = datetime(1582, 10, 14, tzinfo=timezone.utc)
STATA_EPOCH = datetime(1960, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Column:
    """One column of a response export and how its values are read from the stored answers.

    `kind` is one of: `meta` (a response field), `number` (a score or a number), `choice` (a
    single choice: text in CSV/XLSX, `codes` in SPSS/Stata), `option` (1/0 for one option of a
    multi-choice question) and `text`.
    """

    name: str
    label: str
    kind: str
    answer_key: str | None = None  # the stored answers' key (None for metadata)
    option: str | None = None  # the option of a multi-choice column
    codes: dict[str, int] = field(default_factory=dict)  # choice value -> numeric code
    value_labels: dict[int, str] = field(default_factory=dict)
    question: str = ""
    question_kind: str = ""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: where, in which format, how many responses and columns."""

    path: Path
    format: str
    rows: int
    columns: int


class ExportProblem(ValueError):
    """An export that cannot be made (unknown survey, format or version); the message names it."""


def _name(raw: str, taken: set[str]) -> str:
    base = NAME_PATTERN.sub("_", raw).strip("_") or "column"
    if not base[0].isalpha():
        base = "q" + base  # SPSS names start with a letter
    base = base[:NAME_LIMIT]
    name, number = base, 2
    while name.lower() in taken:  # SPSS and Stata names clash regardless of case
        suffix = f"_{number}"
        name, number = base[:NAME_LIMIT - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _text(texts, language: str) -> str:
    return texts.get(language) or next(iter(texts.values()), "") if texts else ""


def _codes(values: Sequence[str]) -> dict[str, int]:
    """Numeric codes for choice values: the values themselves when all are whole numbers, else 1..n."""
    if values and all(re.fullmatch(r"-?\d{1,9}", value) for value in values):
        return {value: int(value) for value in values}
    return {value: number for number, value in enumerate(values, start=1)}


def export_columns(definitions: Sequence[Survey], with_customers: bool = True) -> list[Column]:
    """The export's columns for a survey's versions, newest first in `definitions`.

    The newest version decides the order and the wording; questions and options only older
    versions had come after, so every stored answer has its column.
    """
    if not definitions:
        raise ExportProblem(messages.EXPORT_NO_VERSION)
    language = definitions[0].languages[0]
    meta = [("response_id", "Response id"), ("submitted_at", "Submitted at (UTC)"), ("version", "Survey version"),
            ("channel", "Channel"), ("language", "Language")]
    if with_customers:
        meta += [("customer_ref", "Customer reference"), ("region", "Region"), ("tier", "Tier"),
                 ("industry", "Industry")]
    taken: set[str] = set()
    columns = [Column(_name(name, taken), label, "meta", question_kind="metadata") for name, label in meta]
    questions: dict[str, list] = {}  # key -> the question in each version, newest first
    for definition in definitions:
        for question in definition.questions:
            questions.setdefault(question.key, []).append(question)
    for key, versions in questions.items():
        newest = versions[0]
        text = _text(newest.text, language) or key
        if newest.kind == "note":
            continue
        if newest.kind == "matrix":
            attributes = {a.value: a for q in versions for a in q.attributes}
            labels = _scale_labels(newest, language)
            for value, attribute in attributes.items():
                columns.append(Column(_name(f"{key}_{value}", taken), f"{text}: {_text(attribute.label, language) or value}",
                                      "number", f"{key}.{value}", value_labels=labels, question=key,
                                      question_kind=newest.kind))
        elif newest.scale is not None or newest.kind in ("integer", "decimal"):
            columns.append(Column(_name(key, taken), text, "number", key,
                                  value_labels=_scale_labels(newest, language) if newest.scale else {},
                                  question=key, question_kind=newest.kind))
        elif newest.kind == "single_choice":
            choices = {c.value: c for q in versions for c in q.choices}
            codes = _codes(list(choices))
            columns.append(Column(_name(key, taken), text, "choice", key, codes=codes,
                                  value_labels={codes[v]: _text(c.label, language) or v for v, c in choices.items()},
                                  question=key, question_kind=newest.kind))
        elif newest.kind == "multi_choice":
            choices = {c.value: c for q in versions for c in q.choices}
            for value, choice in choices.items():
                columns.append(Column(_name(f"{key}_{value}", taken), f"{text}: {_text(choice.label, language) or value}",
                                      "option", key, option=value, value_labels=dict(CHOSEN_LABELS), question=key,
                                      question_kind=newest.kind))
        else:
            columns.append(Column(_name(key, taken), text, "text", key, question=key, question_kind=newest.kind))
    return columns


def _scale_labels(question, language: str) -> dict[int, str]:
    scale = question.scale
    if scale is None:
        return {}
    low, high = scale.labels.get(language) or next(iter(scale.labels.values()), ("", ""))
    return {value: label for value, label in ((scale.min, low), (scale.max, high)) if label}


# --- reading ------------------------------------------------------------------------------------


def _definitions(engine: Engine, filters: Filters) -> tuple[list[Survey], bool]:
    query = (select(models.SurveyVersion.number, models.SurveyVersion.definition)
             .join(models.Survey, models.SurveyVersion.survey_id == models.Survey.id)
             .where(models.Survey.slug == filters.survey).order_by(models.SurveyVersion.number.desc()))
    with engine.connect() as connection:
        survey = connection.execute(select(models.Survey.id, models.Survey.anonymous)
                                    .where(models.Survey.slug == filters.survey)).first()
        if survey is None:
            raise ExportProblem(messages.EXPORT_NO_SURVEY.format(slug=filters.survey))
        rows = connection.execute(query).all()
    numbers = [number for number, _ in rows]
    missing = sorted(set(filters.versions) - set(numbers))
    if missing:
        raise ExportProblem(messages.EXPORT_NO_SUCH_VERSION.format(
            slug=filters.survey, version=missing[0], versions=", ".join(map(str, sorted(numbers))) or "none"))
    chosen = [from_dict(definition, source=f"version {number}") for number, definition in rows
              if not filters.versions or number in filters.versions]
    return chosen, not survey.anonymous


def _responses_query(actor: Actor, filters: Filters):
    version = aliased(models.SurveyVersion, name="answered_version")
    query = (select(models.Response.id, models.Response.submitted_at, version.number, models.Response.channel,
                    models.Response.language, models.Customer.external_ref, models.Customer.region,
                    models.Customer.tier, models.Customer.industry)
             .select_from(models.Response)
             .join(version, models.Response.survey_version_id == version.id))
    return responses_in_scope(query, filters, ("region", "tier", "industry"), actor=actor)


def count_rows(engine: Engine, actor: Actor, filters: Filters) -> int:
    """How many responses an export of `filters` by `actor` holds (counted in the database)."""
    require(actor, READ_RESPONSES)
    query = responses_in_scope(select(func.count()).select_from(models.Response), filters, actor=actor)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def iter_rows(engine: Engine, actor: Actor, filters: Filters, columns: Sequence[Column],
              chunk_size: int = CHUNK, coded: bool = False) -> Iterator[list]:
    """Every response `actor` may read in `filters`, oldest first, as one list of cells per `columns`.

    Choice cells are the stored value, or its numeric code with `coded` (for SPSS and Stata).
    Responses are read `chunk_size` at a time and their answers with one query per chunk.
    """
    require(actor, READ_RESPONSES)
    with_customers = any(c.name == "customer_ref" for c in columns)
    meta_width = 9 if with_customers else 5
    by_key: dict[str, list[tuple[int, Column]]] = {}
    for position, column in enumerate(columns):
        if column.answer_key is not None:
            by_key.setdefault(column.answer_key, []).append((position, column))
    shared: dict[Any, Any] = {}  # one object per distinct repeated text, whatever the row count

    def share(value):
        return None if value is None else shared.setdefault(value, value)

    query = _responses_query(actor, filters).order_by(models.Response.submitted_at, models.Response.id)
    width = len(columns)
    with engine.connect() as reading, engine.connect() as answers:
        result = reading.execution_options(yield_per=chunk_size).execute(query)
        for partition in result.partitions():
            ids = [row[0] for row in partition]
            rows: dict[int, list] = {}
            for row in partition:
                cells = [None] * width
                cells[0] = row[0]
                cells[1] = models.as_utc(row[1])
                cells[2] = row[2]
                cells[3:meta_width] = [share(value) for value in row[3:meta_width]]
                rows[row[0]] = cells
            touched: dict[int, set[str]] = {}
            statement = (select(models.Answer.response_id, models.Answer.question_key, models.Answer.numeric_value,
                                models.Answer.text_value).where(models.Answer.response_id.in_(ids)))
            for response_id, key, number, text in answers.execute(statement):
                targets = by_key.get(key)
                if not targets:
                    continue
                cells = rows[response_id]
                for position, column in targets:
                    if column.kind == "option":
                        touched.setdefault(response_id, set()).add(key)
                        if text == column.option:
                            cells[position] = 1
                    elif column.kind == "choice":
                        cells[position] = column.codes.get(text) if coded else share(text)
                    elif column.kind == "number":
                        cells[position] = _number(number, text)
                    else:
                        cells[position] = text
            options = [(p, c) for p, c in enumerate(columns) if c.kind == "option"]
            if options:  # a multi-choice question that was answered: its other options are 0
                for response_id, keys in touched.items():
                    cells = rows[response_id]
                    for position, column in options:
                        if column.answer_key in keys and cells[position] is None:
                            cells[position] = 0
            yield from rows.values()


def _number(number: float | None, text: str | None):
    if number is None:
        return None
    return int(number) if float(number).is_integer() and abs(number) < 2 ** 53 else number


# --- writing ------------------------------------------------------------------------------------


def describe_columns(columns: Sequence[Column]) -> list[list[str]]:
    """One row per column (name, label, question, kind, values), for the XLSX "columns" sheet."""
    kinds = {"meta": "response metadata", "number": "number", "choice": "single choice (value)",
             "option": "one option of a multi-choice question: 1 chosen, 0 not chosen", "text": "text"}
    described = []
    for column in columns:
        if column.kind == "choice":
            values = "; ".join(f"{value} = {column.value_labels.get(code, value)}" for value, code in column.codes.items())
        else:
            values = "; ".join(f"{code} = {label}" for code, label in column.value_labels.items())
        described.append([column.name, column.label, column.question, kinds[column.kind],
                          column.question_kind, values])
    return described


DESCRIPTION_HEADER = ["column", "label", "question", "what it holds", "question kind", "values"]


def _counting(rows: Iterable[list], bar) -> Iterator[list]:
    for row in rows:
        if bar is not None:
            bar.update(1)
        yield row


def _statistical_file(path: Path, fmt: str, columns: Sequence[Column], rows: Iterable[list], title: str) -> int:
    """Write an SPSS or Stata file from `rows`, holding the table in compact columns meanwhile."""
    import numpy as np
    import pandas as pd
    import pyreadstat

    numeric = {i for i, c in enumerate(columns) if c.kind in ("number", "choice", "option") or c.name in (
        "response_id", "version")}
    stores: list[Any] = [array("d") if i in numeric or i == 1 else [] for i in range(len(columns))]
    # the submission time as the format's own datetime number, not a datetime64 column (for which
    # pyreadstat copies the whole table once more to convert it)
    epoch, unit = (SPSS_EPOCH, 1.0) if fmt == "sav" else (STATA_EPOCH, 1000.0)
    count = 0
    nan = math.nan
    for row in rows:
        count += 1
        for i, value in enumerate(row):
            if i == 1:
                stores[1].append(round((value - epoch).total_seconds() * unit, 3))
            elif i in numeric:
                stores[i].append(nan if value is None else value)
            else:
                stores[i].append("" if value is None else value)
    data: dict[str, Any] = {}
    for i, column in enumerate(columns):
        if i in numeric or i == 1:
            values = np.frombuffer(stores[i], dtype=np.float64) if count else np.array([], dtype=np.float64)
            data[column.name] = values
        else:
            data[column.name] = pd.Series(stores[i], dtype=object)
        stores[i] = None
    frame = pd.DataFrame(data, copy=False)
    del data
    labels = [c.label for c in columns]
    value_labels = {c.name: dict(c.value_labels) for c in columns if c.value_labels}
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        if fmt == "sav":
            strings = [c.name for i, c in enumerate(columns) if i not in numeric and i != 1]
            pyreadstat.write_sav(frame, temporary, file_label=title[:64], column_labels=labels,
                                 variable_value_labels=value_labels, variable_format={columns[1].name: "DATETIME20"},
                                 missing_ranges={name: [""] for name in strings},
                                 variable_measure={c.name: "nominal" for c in columns if c.kind in ("choice", "option")})
        else:
            pyreadstat.write_dta(frame, temporary, file_label=title[:STATA_LABEL_LIMIT],
                                 column_labels=[label[:STATA_LABEL_LIMIT] for label in labels],
                                 variable_value_labels=value_labels, variable_format={columns[1].name: "%tc"})
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count


def write_export(engine: Engine, actor: Actor, filters: Filters, fmt: str, path: str | Path, *,
                 progress: bool = False, chunk_size: int = CHUNK) -> ExportSummary:
    """Export the responses `actor` may read in `filters` to `path` as `fmt` (csv, xlsx, sav, dta).

    The file is written under a temporary name and renamed (never half-written), readable by its
    owner only, and the export is recorded in the audit log. `progress` shows a progress bar.
    Raises ExportProblem naming an unknown format, survey or version, and AccessDenied when the
    actor may not export responses.

    Example:
        >>> from survey.storage.db import make_engine, upgrade
        >>> engine = make_engine("sqlite://"); upgrade(engine)
        >>> write_export(engine, Actor.command_line(), Filters("nowhere"), "sav", "out.sav")
        Traceback (most recent call last):
        ...
        survey.response_export.ExportProblem: survey: no survey 'nowhere'
    """
    if fmt not in FORMATS:
        raise ExportProblem(messages.EXPORT_BAD_FORMAT.format(format=fmt, formats=", ".join(FORMATS)))
    require(actor, READ_RESPONSES)
    require(actor, EXPORT_PERSONAL)
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportProblem(messages.EXPORT_NO_FOLDER.format(folder=path.parent))
    definitions, with_customers = _definitions(engine, filters)
    columns = export_columns(definitions, with_customers)
    title = _text(definitions[0].title, definitions[0].languages[0]) or filters.survey
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=count_rows(engine, actor, filters), desc="exporting", unit="response")
    try:
        rows = _counting(iter_rows(engine, actor, filters, columns, chunk_size, coded=fmt in ("sav", "dta")), bar)
        names = [c.name for c in columns]
        if fmt == "csv":
            count = write_csv(path, names, rows, private=True)
        elif fmt == "xlsx":
            count = write_xlsx(path, names, rows, sheet="responses", private=True,
                               more_sheets=[("columns", DESCRIPTION_HEADER, describe_columns(columns))])
        else:
            count = _statistical_file(path, fmt, columns, rows, title)
    finally:
        if bar is not None:
            bar.close()
    with db.session_scope(engine) as session:
        audit.record(session, actor, "export", f"responses of survey {filters.survey} ({fmt})", rows=count)
    return ExportSummary(path, fmt, count, len(columns))


def export_bytes(engine: Engine, actor: Actor, filters: Filters, fmt: str) -> bytes:
    """`write_export` into a private temporary folder, returned as bytes (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        write_export(engine, actor, filters, fmt, path)
        return path.read_bytes()


def file_name(filters: Filters, fmt: str, today: datetime | None = None) -> str:
    """A download's file name: the survey, the date of the export and the format's extension."""
    day = (today or datetime.now(timezone.utc)).date().isoformat()
    return f"{filters.survey}-responses-{day}.{fmt}"
