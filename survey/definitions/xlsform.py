"""XLSForm import: the spreadsheet survey standard of ODK and KoboToolbox.

The import is a pipeline of pure stages, as pyxform builds it:

``read_workbook`` (.xlsx file -> rows of cells per sheet, with spreadsheet row numbers and normalised
column names) -> ``normalise`` (rows -> the plain data ``definition.from_dict`` accepts, plus the
row of every question and every problem or warning found on the way) -> ``build`` (plain data ->
validated ``Survey`` via ``from_dict``; its messages are rewritten to name the sheet and row).
``read_xlsform`` runs all three and raises ``XLSFormError`` listing every problem at once, each
naming the file, sheet and row, e.g. ``form.xlsx, survey sheet, row 7: unknown type 'txet'``.
It never raises anything else for bad input: a missing, non-xlsx, old .xls or damaged file, or a
workbook without a survey sheet, is an ``XLSFormError`` too. What imports but loses something is
listed in ``XLSFormResult.warnings`` (and in ``XLSFormError.warnings`` when the import fails).

Mapping decisions
-----------------
Sheets and columns
    Sheets ``survey`` (required), ``choices`` and ``settings`` are read; other sheets are ignored.
    Sheet and column names are case-insensitive; ``list name`` means ``list_name``, ``caption``
    means ``label`` and ``relevance`` means ``relevant``. Columns this import does not use
    (appearance, media, read_only, ...) are ignored.
Languages
    ``label::<language>`` (and the older ``label:<language>``) columns name the languages; in
    ``English (en)`` the code in parentheses is used, otherwise the name, lower-cased. A column
    without a language (plain ``label``, ``hint``...) is in ``default_language`` from the settings
    sheet, else in the first language named by the survey sheet's label columns, else ``en``.
    The survey's languages are those of the survey sheet's label columns, default language first;
    every question and every choice of a used list needs a label in each of them (a missing one
    is an error naming the survey or choices row); text in other languages is dropped.
Settings
    ``form_id`` -> slug (the file name when absent; slugified, with a warning, when it is not a
    valid slug), ``form_title`` -> title in every language (``form_id`` or the file name when
    absent; ``form_title::<language>`` columns, an extension, translate it), ``default_language``
    as above.
Question types
    ``text`` -> text; ``select_one LIST`` -> single_choice and ``select_multiple LIST`` ->
    multi_choice with the choices of LIST (older spellings ``select one from LIST`` and
    ``select all that apply from LIST`` too). ``or_other`` adds a plain ``other`` choice, with a
    warning that its free-text answer is not kept. ``integer`` with a ``metric`` column (nps, csat,
    ces, rating, index_item) -> that kind, with its scale from the optional columns ``scale_min``,
    ``scale_max``, ``min_label`` and ``max_label`` (``::language`` allowed), defaulting as in
    ``definition.DEFAULT_SCALES``. An ``integer`` without a metric but with any scale column is a
    ``rating`` (and must then be complete). Any other ``integer``, and every ``decimal``, cannot be
    represented as a rated question: warning, row skipped. A metric on another type is an error.
Skipped with a warning
    Rows that ask the respondent nothing (note, calculate, hidden, start, end, today, deviceid and
    the other metadata) and question types this toolkit cannot store (date, time, geopoint, image,
    barcode, range, rank, select_one_external, select_one_from_file, ...). A display condition that
    refers to a skipped row is an error naming both rows.
Errors (row by row)
    An unknown type; ``begin repeat`` (a survey asks each question once); unbalanced
    ``begin``/``end`` rows; a select whose list is missing; choices without a name or list_name,
    or appearing twice in a list (even with ``allow_choice_duplicates``); ``choice_filter``
    (cascading selects would offer every choice); a ``required`` that is an expression; and a
    ``relevant`` that is not one comparison. Dropping a condition would change who is asked, so
    an unrepresentable condition is an error, never a silent drop.
Groups
    ``begin group``/``end group`` (also ``begin_group``) are flattened: their questions become top
    level. A group's ``relevant`` applies to each of its questions; a question that would carry
    two conditions (its own and its group's, or two groups') is an error.
Matrices (an extension, written by ``survey.definitions.xlsform_export``)
    A ``begin group`` row with ``metric`` = ``matrix`` is one matrix question: the group row holds
    its key, text, hint, required, relevant, role and scale columns; each row inside is one
    attribute (its name and label; its type is not read); ``end group`` closes it.
Extension columns
    ``role`` (overall, driver) on any question; ``max_length`` on a text question (default
    2000); on the settings sheet ``anonymous`` (yes/no), ``touchpoint``, ``intro::<language>`` and
    ``thank_you::<language>``. Other XLSForm tools ignore them.
Fields
    ``name`` -> key; ``label`` -> text; ``hint`` -> help; ``required`` yes/true/true()/1 -> True
    (no/false/false()/0/blank -> False); ``relevant`` of the form ``${q} <op> value`` (op one of
    =, !=, <, <=, >, >=; value a number or a quoted string) -> ``show_if: q <op> value``;
    ``selected(${q}, 'v')`` is the same test as ``q == v`` (for a multi choice: any selected value
    equals v), so it is accepted too. A ``constraint`` is not carried over (warning).

Example:
    >>> result = read_xlsform("sample_data/surveys/store_visit.xlsx")  # doctest: +SKIP
    >>> [q.kind for q in result.survey.questions]  # doctest: +SKIP
    ['single_choice', 'csat', 'ces', 'single_choice', 'text', 'nps', 'text']
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Mapping

from survey import messages
from survey.definitions.definition import (
    DEFAULT_SCALES, DEFAULT_TEXT_LIMIT, KEY_PATTERN, Condition, DefinitionError, Survey, from_dict,
)

METRIC_KINDS = ("nps", "csat", "ces", "rating", "index_item")
SHEETS = ("survey", "choices", "settings")
# Columns whose header may carry a language after a single colon (older XLSForms: label:English).
TRANSLATABLE_COLUMNS = {"label", "hint", "min_label", "max_label", "form_title", "constraint_message",
                        "required_message", "guidance_hint", "image", "audio", "video", "media"}
COLUMN_ALIASES = {"list_name": "list_name", "list name": "list_name", "caption": "label",
                  "relevance": "relevant", "form id": "form_id", "form title": "form_title",
                  "default language": "default_language"}
USED_COLUMNS = {"type", "name", "label", "hint", "required", "relevant", "metric", "scale_min",
                "scale_max", "min_label", "max_label", "choice_filter", "constraint", "list_name",
                "form_id", "form_title", "default_language", "role", "max_length", "anonymous",
                "touchpoint", "intro", "thank_you"}
MATRIX_METRIC = "matrix"  # on a `begin group` row: the group's rows are the rows of one matrix question
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"no", "false", "false()", "0"}

TEXT_TYPES = {"text", "string"}
INTEGER_TYPES = {"integer", "int"}
DECIMAL_TYPES = {"decimal", "float"}
# Rows that record or show something but ask the respondent nothing.
NOT_QUESTION_TYPES = {
    "note", "calculate", "hidden", "start", "end", "today", "deviceid", "imei", "subscriberid",
    "simserial", "phonenumber", "username", "email", "audit", "start-geopoint", "xml-external",
    "csv-external", "background-audio", "background-geopoint", "instanceid",
}
# Questions the respondent answers, but whose answers this toolkit cannot store or ask for.
UNSUPPORTED_TYPES = {
    "date", "time", "datetime", "geopoint", "geotrace", "geoshape", "gps", "location", "image",
    "photo", "audio", "video", "file", "barcode", "acknowledge", "trigger", "range", "rank", "osm",
    "phone number", "select_one_external", "select_multiple_external", "select_one_from_file",
    "select_multiple_from_file",
}

_SELECT = re.compile(
    r"^(select_one|select_multiple|select one|select multiple|select all that apply|select1)"
    r"(?:\s+from)?(?:\s+(\S+))?(\s+(?:or_other|or specify other))?$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"^(begin|end)[\s_]+(group|repeat|looped group|lgroup|loop)$")
_REFERENCE = r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}"
_COMPARISON = re.compile(
    rf"^\s*{_REFERENCE}\s*(<=|>=|!=|=|<|>)\s*('[^']*\S[^']*'|\"[^\"]*\S[^\"]*\"|[-+]?\d+(?:\.\d+)?)\s*$")
_SELECTED = re.compile(rf"^\s*selected\s*\(\s*{_REFERENCE}\s*,\s*('[^']*\S[^']*'|\"[^\"]*\S[^\"]*\")\s*\)\s*$")
_FROM_DICT_WHERE = re.compile(r"^(question .+?) \(line (\d+)\)(.*)$", re.DOTALL)
_ROW_IN_MESSAGE = re.compile(r", (\w+) sheet, row (\d+):")

Column = tuple[str, "str | None"]  # (column name, language or None)
Cells = Mapping[Column, str]


class XLSFormError(DefinitionError):
    """An XLSForm that cannot be imported; `problems` names file, sheet and row of every fault."""

    def __init__(self, problems: list[str], warnings: list[str] | tuple[str, ...] = ()):
        super().__init__(problems)
        self.warnings = list(warnings)


@dataclass(frozen=True)
class XLSFormResult:
    """An imported survey, and what of the form could not be carried over (row by row)."""

    survey: Survey
    warnings: list[str] = field(default_factory=list)


# --- read: .xlsx file -> rows of cells per sheet ---------------------------------------------------


@dataclass(frozen=True)
class SheetRows:
    """One sheet: its normalised columns and its non-blank rows as (spreadsheet row, cells)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[int, Cells], ...]


@dataclass(frozen=True)
class Workbook:
    """What the read stage found: the sheets this import uses, by canonical name."""

    source: str
    stem: str
    sheets: Mapping[str, SheetRows]
    sheet_titles: tuple[str, ...]
    problems: tuple[str, ...] = ()


def read_workbook(path: str | Path) -> Workbook:
    """Read the survey, choices and settings sheets; XLSFormError when the file cannot be read."""
    path = Path(path)
    source = path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 compound file: .xls, or an encrypted .xlsx
                raise XLSFormError([messages.XLSFORM_OLD_XLS.format(source=source)])
            handle.seek(0)
            raw_sheets, titles = _read_cells(handle)
    except XLSFormError:
        raise
    except FileNotFoundError:
        raise XLSFormError([messages.XLSFORM_NOT_FOUND.format(source=path)]) from None
    except zipfile.BadZipFile:
        raise XLSFormError([messages.XLSFORM_NOT_XLSX.format(source=source, problem="not a zip archive")]) from None
    except KeyError:
        problem = "the archive holds no workbook"
        raise XLSFormError([messages.XLSFORM_NOT_XLSX.format(source=source, problem=problem)]) from None
    except OSError as error:
        problem = error.strerror or str(error)
        raise XLSFormError([messages.XLSFORM_UNREADABLE.format(source=source, problem=problem)]) from None
    except Exception as error:  # openpyxl raises many types for damaged files; all mean "unreadable"
        problem = str(error) or type(error).__name__
        raise XLSFormError([messages.XLSFORM_UNREADABLE.format(source=source, problem=problem)]) from None
    problems: list[str] = []
    sheets = {name: _sheet_rows(source, name, title, rows, problems)
              for name, (title, rows) in raw_sheets.items()}
    return Workbook(source, path.stem, sheets, titles, tuple(problems))


def _read_cells(handle) -> tuple[dict[str, tuple[str, list[tuple[Any, ...]]]], tuple[str, ...]]:
    from openpyxl import load_workbook  # imported here: only the XLSForm import needs openpyxl

    with warnings.catch_warnings():  # openpyxl warns about extensions it drops; none matter for a form
        warnings.simplefilter("ignore")
        book = load_workbook(handle, read_only=True, data_only=True)
    try:
        sheets = {}
        for worksheet in book.worksheets:
            name = worksheet.title.strip().lower()
            if name in SHEETS and name not in sheets:
                worksheet.reset_dimensions()  # read every stored cell, whatever the declared size
                sheets[name] = (worksheet.title, list(worksheet.iter_rows(values_only=True)))
        return sheets, tuple(book.sheetnames)
    finally:
        book.close()


def _cell(value: Any) -> str | None:
    """A cell as stripped text; None when blank. Whole floats lose their '.0' (Excel stores 7 as 7.0)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, (datetime, date, time)):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    return text or None


def _language(text: str) -> str:
    """`English (en)` -> `en`; `English` -> `english`."""
    text = text.strip()
    match = re.search(r"\(([^()]+)\)\s*$", text)
    return (match.group(1) if match else text).strip().lower()


def _column(header: str) -> Column:
    """Normalise a header: case-insensitive, aliases resolved, language split off."""
    text = " ".join(header.split()).lower()
    language: str | None = None
    if "::" in text:
        text, language = text.split("::", 1)
    elif ":" in text and text.split(":", 1)[0].strip() in TRANSLATABLE_COLUMNS:
        text, language = text.split(":", 1)
    text = text.strip()
    text = COLUMN_ALIASES.get(text, text.replace(" ", "_"))
    return text, (_language(language) if language and language.strip() else None)


def _sheet_rows(source: str, name: str, title: str, rows: list[tuple[Any, ...]],
                problems: list[str]) -> SheetRows:
    header_index = next((i for i, row in enumerate(rows) if any(_cell(v) for v in row)), None)
    if header_index is None:
        return SheetRows(title, (), ())
    columns: list[Column | None] = []
    for value in rows[header_index]:
        header = _cell(value)
        column = _column(header) if header else None
        if column is not None and column in columns:
            if column[0] in USED_COLUMNS:
                problems.append(messages.XLSFORM_DUPLICATE_COLUMN.format(
                    source=source, sheet=name, column=header))
            column = None  # the first of two same-named columns wins
        columns.append(column)
    data_rows = []
    for index in range(header_index + 1, len(rows)):
        cells = {}
        for column, value in zip(columns, rows[index]):
            text = _cell(value)
            if column is not None and text is not None:
                cells[column] = text
        if cells:
            data_rows.append((index + 1, cells))
    return SheetRows(title, tuple(c for c in columns if c is not None), tuple(data_rows))


# --- normalise: rows -> plain data for definition.from_dict ----------------------------------------


@dataclass(frozen=True)
class Normalised:
    """Plain survey data, the spreadsheet row of each question, and what went wrong on the way."""

    data: dict[str, Any]
    lines: dict[int, int]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass
class _Frame:
    control: str  # "group" or "repeat"
    name: str
    row: int
    condition: str | None = None
    matrix: dict[str, Any] | None = None  # a matrix question being read (its rows are its attributes)


@dataclass
class _Choice:
    row: int
    name: str
    labels: dict[str, str]


def normalise(workbook: Workbook) -> Normalised:
    """Turn the rows of an XLSForm into the plain data `from_dict` accepts; never raises."""
    return _Normaliser(workbook).run()


class _Normaliser:
    def __init__(self, workbook: Workbook):
        self.book = workbook
        self.source = workbook.source
        self.problems: list[str] = list(workbook.problems)
        self.warnings: list[str] = []

    # -- helpers --
    def where(self, sheet: str, row: int) -> str:
        return f"{self.source}, {sheet} sheet, row {row}"

    def texts(self, cells: Cells, column: str) -> dict[str, str]:
        """Text per survey language of a translatable column; plain columns are the default language."""
        found: dict[str, str] = {}
        if (column, None) in cells:
            found[self.plain_language] = cells[(column, None)]
        for (name, language), value in cells.items():
            if name == column and language is not None:
                found[language] = value
        return {lang: found[lang] for lang in self.languages if lang in found}

    # -- stages --
    def run(self) -> Normalised:
        survey_sheet = self.book.sheets.get("survey")
        if survey_sheet is None:
            sheets = ", ".join(repr(t) for t in self.book.sheet_titles) or "none"
            self.problems.append(messages.XLSFORM_NO_SURVEY_SHEET.format(source=self.source, sheets=sheets))
            return Normalised({}, {}, tuple(self.problems), ())
        if not survey_sheet.columns:
            self.problems.append(messages.XLSFORM_EMPTY_SHEET.format(source=self.source, sheet="survey"))
            return Normalised({}, {}, tuple(self.problems), ())
        missing = [column for column in ("type", "name") if (column, None) not in survey_sheet.columns]
        for column in missing:
            self.problems.append(messages.XLSFORM_MISSING_COLUMN.format(
                source=self.source, sheet="survey", column=column))
        if missing:  # every row would repeat the same fault
            return Normalised({}, {}, tuple(self.problems), ())
        settings_row, settings = self.settings()
        self.languages = self.decide_languages(survey_sheet, settings, settings_row)
        self.lists = self.read_choices()
        self.used_choice_rows: set[tuple[int, str]] = set()
        questions, lines = self.questions(survey_sheet)
        data = {
            "slug": self.slug(settings, settings_row),
            "title": self.title(settings),
            "languages": list(self.languages),
            "anonymous": settings.get(("anonymous", None), "no").lower() in TRUE_WORDS,
            "touchpoint": settings.get(("touchpoint", None), ""),
            "questions": questions,
        }
        for name in ("intro", "thank_you"):
            if self.texts(settings, name):
                data[name] = self.texts(settings, name)
        return Normalised(data, lines, tuple(self.problems), tuple(self.warnings))

    def settings(self) -> tuple[int, Cells]:
        sheet = self.book.sheets.get("settings")
        if sheet is None or not sheet.rows:
            return 0, {}
        return sheet.rows[0]

    def decide_languages(self, survey_sheet: SheetRows, settings: Cells, settings_row: int) -> tuple[str, ...]:
        label_languages = [lang for name, lang in survey_sheet.columns if name == "label"]
        named = [lang for lang in label_languages if lang is not None]
        default = _language(settings[("default_language", None)]) if ("default_language", None) in settings else None
        self.plain_language = default or (named[0] if named else "en")
        seen: list[str] = []
        for lang in label_languages:
            lang = self.plain_language if lang is None else lang
            if lang not in seen:
                seen.append(lang)
        if not seen:
            seen = [self.plain_language]
        if default is not None and default not in seen:
            self.warnings.append(messages.XLSFORM_DEFAULT_LANGUAGE_UNUSED.format(
                where=self.where("settings", settings_row), language=default, fallback=seen[0]))
            self.plain_language = seen[0]
        elif default is not None:
            seen.remove(default)
            seen.insert(0, default)
        return tuple(seen)

    def slug(self, settings: Cells, settings_row: int) -> str:
        form_id = settings.get(("form_id", None))
        slug = _slugify(form_id or self.book.stem)
        if form_id and slug != form_id:
            self.warnings.append(messages.XLSFORM_BAD_FORM_ID.format(
                where=self.where("settings", settings_row), form_id=form_id, slug=slug))
        return slug

    def title(self, settings: Cells) -> dict[str, str]:
        titles = self.texts(settings, "form_title")
        fallback = (next(iter(titles.values()), None) or settings.get(("form_title", None))
                    or settings.get(("form_id", None)) or self.book.stem)
        return {lang: titles.get(lang, fallback) for lang in self.languages}

    def read_choices(self) -> dict[str, list[_Choice]] | None:
        sheet = self.book.sheets.get("choices")
        if sheet is None:
            return None
        if sheet.rows and ("list_name", None) not in sheet.columns:
            self.problems.append(messages.XLSFORM_MISSING_COLUMN.format(
                source=self.source, sheet="choices", column="list_name"))
        lists: dict[str, list[_Choice]] = {}
        first_row: dict[tuple[str, str], int] = {}
        for row, cells in sheet.rows:
            list_name, name = cells.get(("list_name", None)), cells.get(("name", None))
            where = self.where("choices", row)
            if list_name is None and name is None:
                continue  # a row holding only media or extra columns
            if list_name is None:
                self.problems.append(messages.XLSFORM_CHOICE_WITHOUT_LIST.format(where=where, name=name))
                continue
            if name is None:
                self.problems.append(messages.XLSFORM_CHOICE_WITHOUT_NAME.format(where=where, list=list_name))
                continue
            if (list_name, name) in first_row:
                self.problems.append(messages.XLSFORM_DUPLICATE_CHOICE.format(
                    where=where, name=name, list=list_name, first_row=first_row[(list_name, name)]))
                continue
            first_row[(list_name, name)] = row
            lists.setdefault(list_name, []).append(_Choice(row, name, self.texts(cells, "label")))
        return lists

    def questions(self, sheet: SheetRows) -> tuple[list[dict[str, Any]], dict[int, int]]:
        questions: list[dict[str, Any]] = []
        lines: dict[int, int] = {}
        stack: list[_Frame] = []
        skipped: dict[str, int] = {}     # name -> row of rows skipped with a warning
        failed: set[str] = set()         # names of rows already reported as errors
        references: list[tuple[int, str]] = []  # (row of a relevant, the name it refers to)
        for row, cells in sheet.rows:
            where = self.where("survey", row)
            type_text = cells.get(("type", None))
            name = cells.get(("name", None)) or ""
            if type_text is None:
                self.problems.append(messages.XLSFORM_NO_TYPE.format(where=where))
                continue
            type_text = " ".join(type_text.split())
            lowered = type_text.lower()
            control = _CONTROL.fullmatch(lowered)
            if control and control.groups() == ("end", "group") and stack and stack[-1].matrix is not None:
                lines[len(questions)] = stack[-1].row
                questions.append(stack.pop().matrix)
                continue
            if control and control.groups() == ("begin", "group") and _is_matrix(cells):
                matrix = self.matrix(name, row, cells, stack, references)
                stack.append(_Frame("group", name, row, matrix=matrix))
                continue
            if control:
                self.control(control.group(1), control.group(2), type_text, name, row, cells, stack, references)
                continue
            if stack and stack[-1].matrix is not None:  # a row of the matrix: one attribute
                stack[-1].matrix["attributes"].append({"value": name, "label": self.texts(cells, "label")})
                continue
            select = _SELECT.fullmatch(type_text)
            if select is None and (lowered in NOT_QUESTION_TYPES or lowered.startswith("uri:")):
                self.warnings.append(messages.XLSFORM_NOT_A_QUESTION.format(where=where, type=type_text, name=name))
                skipped[name] = row
                continue
            if select is None and (lowered in UNSUPPORTED_TYPES or lowered.split()[0] in UNSUPPORTED_TYPES):
                self.warnings.append(messages.XLSFORM_UNSUPPORTED_TYPE.format(where=where, type=type_text, name=name))
                skipped[name] = row
                continue
            question = self.question(select, lowered, type_text, name, row, cells, skipped)
            if question is None:
                if name not in skipped:
                    failed.add(name)
                continue
            condition = self.condition(question, row, cells, stack, references)
            if condition:
                question["show_if"] = condition
            lines[len(questions)] = row
            questions.append(question)
        for frame in reversed(stack):
            self.problems.append(messages.XLSFORM_UNCLOSED.format(
                where=self.where("survey", frame.row), type=f"begin {frame.control}", name=frame.name,
                control=frame.control))
        for row, target in references:
            if target in skipped:
                self.problems.append(messages.XLSFORM_CONDITION_ON_SKIPPED.format(
                    where=self.where("survey", row), target=target, target_row=skipped[target]))
        for question in questions:  # already reported above: keep from_dict from reporting it again
            target = str(question.get("show_if", "")).split(" ", 1)[0]
            if target and (target in skipped or target in failed):
                del question["show_if"]
        if not questions and not self.problems:
            self.problems.append(messages.XLSFORM_NOTHING_TO_IMPORT.format(source=self.source))
        return questions, lines

    def control(self, verb: str, control: str, type_text: str, name: str, row: int, cells: Cells,
                stack: list[_Frame], references: list[tuple[int, str]]) -> None:
        where = self.where("survey", row)
        control = "group" if control == "group" else "repeat"
        if verb == "end":
            if stack and stack[-1].control == control:
                stack.pop()
            else:
                self.problems.append(messages.XLSFORM_UNMATCHED_END.format(
                    where=where, type=type_text, control=control))
            return
        frame = _Frame(control, name, row)
        if control == "repeat":
            self.problems.append(messages.XLSFORM_REPEAT.format(where=where, type=type_text, name=name))
        else:
            frame.condition = self.relevant(cells, row, references)
        stack.append(frame)

    def relevant(self, cells: Cells, row: int, references: list[tuple[int, str]]) -> str | None:
        """The show_if text for the row's `relevant`; None (and an error) when it cannot be represented."""
        expression = cells.get(("relevant", None))
        if expression is None:
            return None
        comparison = _COMPARISON.fullmatch(expression)
        selected = _SELECTED.fullmatch(expression)
        if comparison:
            target, op, value = comparison.groups()
            op = "==" if op == "=" else op
        elif selected:
            (target, value), op = selected.groups(), "=="
        else:
            self.problems.append(messages.XLSFORM_BAD_RELEVANT.format(
                where=self.where("survey", row), expression=expression))
            return None
        references.append((row, target))
        return str(Condition.parse(f"{target} {op} {value}"))  # the canonical spelling, e.g. `q == yes`

    def condition(self, question: dict[str, Any], row: int, cells: Cells, stack: list[_Frame],
                  references: list[tuple[int, str]]) -> str | None:
        own = self.relevant(cells, row, references)
        conditions = [(frame.condition, frame.row) for frame in stack if frame.condition]
        if own:
            conditions.append((own, row))
        if len(conditions) > 1:
            self.problems.append(messages.XLSFORM_TWO_CONDITIONS.format(
                where=self.where("survey", row), name=question["key"], group_row=conditions[0][1]))
            return None
        return conditions[0][0] if conditions else None

    def matrix(self, name: str, row: int, cells: Cells, stack: list[_Frame],
               references: list[tuple[int, str]]) -> dict[str, Any]:
        """The plain data of a matrix from its `begin group` row (its attributes follow, row by row)."""
        where = self.where("survey", row)
        question: dict[str, Any] = {"key": name, "kind": "matrix", "text": self.texts(cells, "label"),
                                    "scale": self.scale("matrix", cells, where), "attributes": []}
        self.common_fields(question, cells, where)
        condition = self.condition(question, row, cells, stack, references)
        if condition:
            question["show_if"] = condition
        return question

    def common_fields(self, question: dict[str, Any], cells: Cells, where: str) -> None:
        """required, hint and role, which every kind of question may carry."""
        required = cells.get(("required", None))
        if required is not None:
            if required.lower() in TRUE_WORDS:
                question["required"] = True
            elif required.lower() not in FALSE_WORDS:
                self.problems.append(messages.XLSFORM_BAD_REQUIRED.format(where=where, value=required))
        help_text = self.texts(cells, "hint")
        if help_text:
            question["help"] = help_text
        if cells.get(("role", None)):
            question["role"] = cells[("role", None)].lower()

    def question(self, select: re.Match | None, lowered: str, type_text: str, name: str, row: int,
                 cells: Cells, skipped: dict[str, int]) -> dict[str, Any] | None:
        """The plain data of one question row; None when it is skipped or wrong (already reported)."""
        where = self.where("survey", row)
        metric = cells.get(("metric", None))
        if metric is not None:
            metric = metric.lower()
            if metric not in METRIC_KINDS:
                self.problems.append(messages.XLSFORM_UNKNOWN_METRIC.format(
                    where=where, metric=metric, metrics=", ".join(METRIC_KINDS)))
                return None
            if lowered not in INTEGER_TYPES:
                self.problems.append(messages.XLSFORM_METRIC_NEEDS_INTEGER.format(where=where, type=type_text))
                return None
        question: dict[str, Any] = {"key": name}
        if select is not None:
            keyword, list_name, or_other = select.groups()
            kind = "multi_choice" if "multiple" in keyword.lower() or "all" in keyword.lower() else "single_choice"
            if list_name is None:
                self.problems.append(messages.XLSFORM_SELECT_NEEDS_LIST.format(where=where, type=type_text))
                return None
            choices = self.choices(list_name, where)
            if choices is None:
                return None
            if cells.get(("choice_filter", None)):
                self.problems.append(messages.XLSFORM_CHOICE_FILTER.format(
                    where=where, expression=cells[("choice_filter", None)]))
            if or_other:
                self.warnings.append(messages.XLSFORM_OR_OTHER.format(where=where, name=name))
                if all(choice["value"] != "other" for choice in choices):
                    choices.append({"value": "other", "label": {lang: "Other" for lang in self.languages}})
            question.update(kind=kind, text=self.texts(cells, "label"), choices=choices)
        elif lowered in TEXT_TYPES:
            limit = cells.get(("max_length", None), DEFAULT_TEXT_LIMIT)
            limit = int(limit) if re.fullmatch(r"[-+]?\d+", str(limit)) else limit
            question.update(kind="text", text=self.texts(cells, "label"), max_length=limit)
        elif lowered in INTEGER_TYPES:
            scale_columns = {"scale_min", "scale_max", "min_label", "max_label"}
            has_scale = any(column in scale_columns for column, _ in cells)
            if metric is None and not has_scale:
                self.warnings.append(messages.XLSFORM_INTEGER_WITHOUT_METRIC.format(where=where, name=name))
                skipped[name] = row
                return None
            kind = metric or "rating"
            question.update(kind=kind, text=self.texts(cells, "label"), scale=self.scale(kind, cells, where))
        elif lowered in DECIMAL_TYPES:
            self.warnings.append(messages.XLSFORM_DECIMAL_SKIPPED.format(where=where, name=name))
            skipped[name] = row
            return None
        else:
            self.problems.append(messages.XLSFORM_UNKNOWN_TYPE.format(where=where, type=type_text))
            return None
        self.common_fields(question, cells, where)
        if cells.get(("constraint", None)):
            self.warnings.append(messages.XLSFORM_CONSTRAINT_IGNORED.format(
                where=where, expression=cells[("constraint", None)], name=name))
        return question

    def scale(self, kind: str, cells: Cells, where: str) -> dict[str, Any]:
        scale: dict[str, Any] = {}
        if kind in DEFAULT_SCALES:
            scale["min"], scale["max"] = DEFAULT_SCALES[kind]
        for column, key in (("scale_min", "min"), ("scale_max", "max")):
            if (column, None) in cells:
                value = cells[(column, None)]
                scale[key] = int(value) if re.fullmatch(r"[-+]?\d+", value) else value
        lows, highs = self.texts(cells, "min_label"), self.texts(cells, "max_label")
        labels = {}
        for lang in self.languages:
            if lang in lows and lang in highs:
                labels[lang] = [lows[lang], highs[lang]]
            elif lang in lows or lang in highs:
                given = "min_label" if lang in lows else "max_label"
                self.problems.append(messages.XLSFORM_LABEL_PAIR.format(where=where, given=given, language=lang))
        if labels:
            scale["labels"] = labels
        return scale

    def choices(self, list_name: str, where: str) -> list[dict[str, Any]] | None:
        if self.lists is None:
            self.problems.append(messages.XLSFORM_NO_CHOICES_SHEET.format(where=where, list=list_name))
            return None
        if list_name not in self.lists:
            self.problems.append(messages.XLSFORM_UNKNOWN_LIST.format(where=where, list=list_name))
            return None
        choices = []
        for choice in self.lists[list_name]:
            labels = dict(choice.labels)
            for lang in self.languages:
                if lang not in labels:
                    if (choice.row, lang) not in self.used_choice_rows:  # once, however many questions use it
                        self.used_choice_rows.add((choice.row, lang))
                        self.problems.append(messages.XLSFORM_CHOICE_WITHOUT_LABEL.format(
                            where=self.where("choices", choice.row), name=choice.name, list=list_name,
                            language=lang))
                    labels[lang] = choice.name  # reported above; keeps from_dict from reporting it again
            choices.append({"value": choice.name, "label": labels})
        return choices


def _is_matrix(cells: Cells) -> bool:
    return (cells.get(("metric", None)) or "").lower() == MATRIX_METRIC


def _slugify(text: str) -> str:
    """`form_id` or file name -> a valid slug; valid slugs are kept as they are."""
    if KEY_PATTERN.fullmatch(text.replace("-", "_")):
        return text
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not slug:
        return "form"
    return slug if slug[0].isalpha() else f"form-{slug}"


# --- build: plain data -> validated Survey, messages naming sheet and row --------------------------


def build(normalised: Normalised, source: str) -> Survey:
    """Validate the plain data with `from_dict`; XLSFormError lists every problem by sheet and row."""
    where = f"{source}, survey sheet"
    problems = list(normalised.problems)
    survey = None
    if normalised.data.get("questions"):  # with none, normalise has said why; from_dict would only repeat it
        try:
            survey = from_dict(normalised.data, where, normalised.lines)
        except DefinitionError as error:
            problems += [_row_message(problem, where) for problem in error.problems]
    if problems or survey is None:
        raise XLSFormError(_ordered(problems), normalised.warnings)
    return survey


def _row_message(problem: str, where: str) -> str:
    """`form.xlsx, survey sheet: question 'x' (line 7): ...` -> `form.xlsx, survey sheet, row 7: question 'x': ...`."""
    prefix = f"{where}: "
    if problem.startswith(prefix):
        match = _FROM_DICT_WHERE.match(problem[len(prefix):])
        if match:
            name, row, rest = match.groups()
            return f"{where}, row {row}: {name}{rest}"
    return problem


def _ordered(problems: list[str]) -> list[str]:
    """Unique problems, workbook-level first, then by sheet and row."""
    order = {name: i for i, name in enumerate(SHEETS)}

    def key(problem: str) -> tuple[int, int]:
        match = _ROW_IN_MESSAGE.search(problem)
        return (order.get(match.group(1), 9) + 1, int(match.group(2))) if match else (0, 0)

    return sorted(dict.fromkeys(problems), key=key)


def read_xlsform(path: str | Path) -> XLSFormResult:
    """Import an XLSForm (.xlsx) as a validated Survey, with warnings for what was not carried over.

    Raises XLSFormError (a DefinitionError) listing every problem, each naming file, sheet and row.

    Example:
        >>> result = read_xlsform("sample_data/surveys/store_visit.xlsx")  # doctest: +SKIP
        >>> result.survey.question("recommend").metric  # doctest: +SKIP
        'nps'
    """
    workbook = read_workbook(path)
    normalised = normalise(workbook)
    survey = build(normalised, workbook.source)
    return XLSFormResult(survey, list(normalised.warnings))
