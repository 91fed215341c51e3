"""XLSForm import through pyxform, the reference implementation of ODK and KoboToolbox.

The import is a pipeline of pure stages:

``read_form`` (a .xlsx, .xls, .csv or .md file -> pyxform's reading, normalisation and validation:
its rows, with spreadsheet row numbers, and its JSON form) -> ``normalise`` (pyxform's form -> the
plain data ``definition.from_dict`` accepts, the row of every question, warnings and metric
proposals) -> ``build`` (plain data -> validated ``Survey``; its messages name the sheet and row).
``read_xlsform`` runs all three. A form pyxform rejects is an ``XLSFormError`` carrying pyxform's
own message (with its row); a form pyxform accepts is imported, and what cannot be represented is
skipped with a warning naming the row. Only a form that leaves nothing to answer, or whose
extension columns (``metric``, scales) contradict themselves, is refused.

Mapping decisions (the README's table lists them by type and column)
---------------------------------------------------------------------
Question types
    ``text`` -> text; ``integer`` -> integer; ``decimal`` -> decimal; ``date`` -> date;
    ``time`` -> time; ``note`` -> note (shown, not answered); ``select_one`` -> single_choice and
    ``select_multiple`` -> multi_choice (``or_other`` adds the ``other`` choice and keeps pyxform's
    "specify other" text question, shown when ``other`` is chosen). Rating scales: a
    ``select_one`` whose choice names are three or more consecutive whole numbers, and a ``range``
    from one whole number to another by 1, become a ``rating`` on that scale (end labels: the
    labels of the lowest and highest choice, or the two numbers). A ``range`` that is not such a
    scale is a decimal. ``integer`` with ``scale_min``/``scale_max``/``min_label``/``max_label`` is
    a rating too.
Metrics
    Declared, never guessed: the ``metric`` column (nps, csat, ces, rating, index_item) on a rating
    scale declares that kind. A rating that looks like an NPS (0-10 and "recommend"), a CSAT (a
    1-5/1-7 scale and "satisf") or an effort score ("easy"/"effort") gets a *proposal*: a warning
    naming the row and the exact ``metric`` value to add, accepted only with
    ``accept_proposed_metrics`` (the CLI's ``--accept-proposed-metrics``, the Designer's boxes).
Skipped with a warning naming the row
    calculate, hidden, acknowledge, rank, datetime, geo, media, barcode, external selects, the
    metadata rows (start, end, today, deviceid, audit ...); a repeat (one warning naming the
    group and the questions inside); a question whose ``relevant`` cannot be read or refers to a
    question that was skipped or comes later.
Conditions
    ``relevant`` is read by the condition language (``survey.definitions.conditions``); a
    group's ``relevant`` is joined with ``and`` to each of its questions'. Groups are flattened.
Names and languages
    A name that is not a valid key (``.`` or ``-`` in it) becomes one (``_`` instead), with a
    warning naming the mapping; references follow. ``label::English (en)`` is language ``en``;
    pyxform's default language is ``default_language`` from the settings, else the first named
    language, else ``en``. A text missing in one language falls back to the default language's,
    with a warning.
Extensions (written by ``survey.definitions.xlsform_export``; other tools ignore them)
    ``metric``, ``scale_min``, ``scale_max``, ``min_label``, ``max_label``, ``role``,
    ``max_length``; a ``begin group`` with ``metric`` = ``matrix`` is one matrix question whose
    rows are its attributes; on the settings sheet ``form_title::<language>``, ``anonymous``,
    ``touchpoint``, ``intro::<language>``, ``thank_you::<language>``, ``layout``; a ``screen_group`` column is the question's `group`.

Example:
    >>> result = read_xlsform("sample_data/surveys/store_visit.xlsx")  # doctest: +SKIP
    >>> [q.kind for q in result.survey.questions]  # doctest: +SKIP
    ['single_choice', 'csat', 'ces', 'single_choice', 'text', 'nps', 'text']
"""

from __future__ import annotations

import copy
import dataclasses
import re
import warnings as python_warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Mapping

from survey import messages
from survey.definitions import conditions
from survey.definitions.definition import (
    DEFAULT_SCALES, DEFAULT_TEXT_LIMIT, KEY_PATTERN, PIPE_PATTERN, Condition, DefinitionError, Survey, from_dict,
)

METRIC_KINDS = ("nps", "csat", "ces", "rating", "index_item")
MATRIX_METRIC = "matrix"  # on a `begin group` row: the group's rows are the rows of one matrix question
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"no", "false", "false()", "0"}
SUFFIXES = (".xlsx", ".xls", ".csv", ".md")
TEXT_TYPES = {"text", "string"}
INTEGER_TYPES = {"integer", "int"}
DECIMAL_TYPES = {"decimal", "float"}
SELECT_ONE = {"select one", "select_one", "select1"}
SELECT_MULTIPLE = {"select all that apply", "select_multiple", "select multiple"}
# Rows that record or compute something but ask the respondent nothing.
NOT_QUESTION_TYPES = {
    "calculate", "hidden", "start", "end", "today", "deviceid", "imei", "subscriberid", "simserial",
    "phonenumber", "username", "email", "audit", "start-geopoint", "xml-external", "csv-external",
    "background-audio", "background-geopoint", "instanceid", "uri:subscriberid", "uri:phonenumber",
    "uri:deviceid", "uri:username", "uri:email", "uri:simserial",
}
TRANSLATABLE_COLUMNS = {"label", "hint", "min_label", "max_label", "form_title", "intro", "thank_you"}

_END_CONTROL = re.compile(r"^end[\s_]+(group|repeat|loop|looped[\s_]+group)$")

Column = tuple[str, "str | None"]  # (column name, language or None)


class XLSFormError(DefinitionError):
    """An XLSForm that cannot be imported; `problems` names file, sheet and row of every fault."""

    def __init__(self, problems: list[str], warnings: list[str] | tuple[str, ...] = ()):
        super().__init__(problems)
        self.warnings = list(warnings)


@dataclass(frozen=True)
class MetricProposal:
    """A metric the import proposes for a rating question; a person accepts it (never guessed)."""

    key: str
    row: int
    metric: str
    reason: str
    message: str


@dataclass(frozen=True)
class XLSFormResult:
    """An imported survey, what of the form could not be carried over, and the proposed metrics."""

    survey: Survey
    warnings: list[str] = field(default_factory=list)
    proposals: list[MetricProposal] = field(default_factory=list)


# --- read: file -> pyxform's rows and JSON form ----------------------------------------------------


@dataclass(frozen=True)
class PyxformForm:
    """What pyxform read: the raw rows (by sheet) and its JSON form, plus the file's names."""

    source: str
    stem: str
    rows: Mapping[str, tuple[dict[str, Any], ...]]
    form: dict[str, Any]
    pyxform_warnings: tuple[str, ...] = ()


def _definition_data(path: Path):
    from pyxform.xls2json_backends import get_xlsform

    with python_warnings.catch_warnings():  # openpyxl warns about extensions it drops; none matter
        python_warnings.simplefilter("ignore")
        return get_xlsform(xlsform=str(path))


def read_form(path: str | Path) -> PyxformForm:
    """Read and validate a form with pyxform; XLSFormError with pyxform's message when it refuses."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    path = Path(path)
    source = path.name
    if not path.is_file():
        raise XLSFormError([messages.XLSFORM_NOT_FOUND.format(source=path)])
    try:
        data = _definition_data(path)
    except PyXFormError as error:
        raise XLSFormError([messages.XLSFORM_UNREADABLE.format(source=source, problem=_one_line(error))]) from None
    except Exception as error:  # the readers raise many types for a damaged file; all mean "unreadable"
        problem = _one_line(error) or type(error).__name__
        raise XLSFormError([messages.XLSFORM_UNREADABLE.format(source=source, problem=problem)]) from None
    raw = {sheet: tuple(dict(row) for row in (getattr(data, sheet) or ())) for sheet in ("survey", "choices", "settings")}
    given = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    given = copy.deepcopy(given)  # pyxform edits rows as it reads them; keep ours as they were
    # Translated titles are this toolkit's extension; pyxform's XML writer takes one title only.
    given["settings"] = [{k: v for k, v in row.items() if _column(k)[0] != "form_title" or _column(k)[1] is None}
                         for row in (given.get("settings") or [])]
    found: list[str] = []
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore")
            result = convert(xlsform=given, warnings=found, form_name=None)
    except PyXFormError as error:
        raise XLSFormError([messages.XLSFORM_REJECTED.format(source=source, problem=_one_line(error))]) from None
    except Exception as error:  # pyxform fails on some forms it cannot convert; that is a refusal too
        problem = f"{type(error).__name__}: {_one_line(error)}"
        raise XLSFormError([messages.XLSFORM_PYXFORM_FAILED.format(source=source, problem=problem)]) from None
    return PyxformForm(source, path.stem, raw, result._pyxform, tuple(found))


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _language(text: str) -> str:
    """`English (en)` -> `en`; `English` -> `english`."""
    text = text.strip()
    match = re.search(r"\(([^()]+)\)\s*$", text)
    return (match.group(1) if match else text).strip().lower()


def _column(header: Any) -> Column:
    """A header as (column, language): case-insensitive, `label::English (en)` -> ('label', 'en')."""
    text = " ".join(str(header).split()).lower()
    language: str | None = None
    if "::" in text:
        text, language = text.split("::", 1)
    elif ":" in text and text.split(":", 1)[0].strip() in TRANSLATABLE_COLUMNS:
        text, language = text.split(":", 1)
    text = text.strip().replace(" ", "_")
    return text, (_language(language) if language and language.strip() else None)


def _cells(row: Mapping[str, Any]) -> dict[Column, str]:
    cells: dict[Column, str] = {}
    for header, value in row.items():
        if value is None or not str(value).strip():
            continue
        cells.setdefault(_column(header), str(value).strip())
    return cells


# --- normalise: pyxform's form -> plain data for definition.from_dict ------------------------------


@dataclass(frozen=True)
class Normalised:
    """Plain survey data, the spreadsheet row of each question, warnings and metric proposals."""

    data: dict[str, Any]
    lines: dict[int, int]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    proposals: tuple[MetricProposal, ...] = ()


def normalise(form: PyxformForm, accept_proposed_metrics: bool | Collection[str] = False) -> Normalised:
    """Map pyxform's form onto the plain data `from_dict` accepts; never raises.

    `accept_proposed_metrics`: True declares every proposed metric; a collection of names (as in
    the form) declares those questions' proposals only.
    """
    return _Mapper(form, accept_proposed_metrics).run()


@dataclass
class _Kept:
    key: str
    row: int


class _Mapper:
    def __init__(self, form: PyxformForm, accept: bool | Collection[str]):
        self.form = form
        self.source = form.source
        self.accept = accept
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.proposals: list[MetricProposal] = []
        self.rows_by_name: dict[str, list[int]] = {}
        self.cells: dict[int, dict[Column, str]] = {}
        for index, row in enumerate(form.rows.get("survey", ())):
            cells = _cells(row)
            number = index + 2  # pyxform's numbering: the header is row 1
            self.cells[number] = cells
            kind = (cells.get(("type", None)) or "").lower()
            name = cells.get(("name", None))
            if name and not _END_CONTROL.fullmatch(kind):
                self.rows_by_name.setdefault(name, []).append(number)
        self.choice_rows: dict[tuple[str, str], int] = {}
        for index, row in enumerate(form.rows.get("choices", ())):
            cells = _cells(row)
            list_name, name = cells.get(("list_name", None)), cells.get(("name", None))
            if list_name and name:
                self.choice_rows.setdefault((list_name, name), index + 2)
        settings = form.rows.get("settings") or ({},)
        self.settings = _cells(settings[0]) if settings else {}
        self.keys: dict[str, str] = {}        # form name -> question key
        self.kept: dict[str, int] = {}        # question key -> row, in order
        self.skipped: dict[str, int] = {}     # form name -> row of names skipped with a warning
        self.questions: list[dict[str, Any]] = []
        self.lines: dict[int, int] = {}

    # -- helpers --
    def where(self, sheet: str, row: int | None) -> str:
        return f"{self.source}, {sheet} sheet" + (f", row {row}" if row else "")

    def row_of(self, name: str | None) -> int | None:
        queue = self.rows_by_name.get(name or "")
        return queue.pop(0) if queue else None

    def code(self, language: str) -> str:
        return self.default if language == "default" else _language(language)

    def raw_texts(self, value: Any) -> dict[str, str]:
        """pyxform's text (a string, or language -> string) as language code -> text."""
        if value is None:
            return {}
        if isinstance(value, str):
            return {self.default: value} if value.strip() else {}
        found: dict[str, str] = {}
        for language, text in value.items():
            if isinstance(text, str) and text.strip():
                code = self.code(language)
                if language != "default" or code not in found:  # the named column wins over the plain one
                    found[code] = text
        return found

    def complete(self, texts: dict[str, str], where: str, what: str) -> dict[str, str]:
        """Text in every survey language; a missing one falls back to the default's (warning)."""
        if not texts:
            return {}
        fallback = self.languages[0] if self.languages[0] in texts else next(iter(texts))
        result = {}
        for language in self.languages:
            if language in texts:
                result[language] = texts[language]
            else:
                result[language] = texts[fallback]
                self.warnings.append(messages.XLSFORM_TRANSLATION_FALLBACK.format(
                    where=where, what=what, language=language, fallback=fallback))
        return result

    def extension_texts(self, cells: Mapping[Column, str], column: str) -> dict[str, str]:
        found: dict[str, str] = {}
        if (column, None) in cells:
            found[self.default] = cells[(column, None)]
        for (name, language), value in cells.items():
            if name == column and language is not None:
                found[language] = value
        return found

    # -- stages --
    def run(self) -> Normalised:
        form = self.form.form
        setting = form.get("default_language") or "default"
        self.default = _language(setting) if setting != "default" else None
        self.languages = self.decide_languages(form)
        self.walk(form.get("children", []), ())
        if not self.problems and not any(q["kind"] != "note" for q in self.questions):
            self.problems.append(messages.XLSFORM_NOTHING_TO_IMPORT.format(source=self.source))
        data = {
            "slug": self.slug(form),
            "title": self.title(form),
            "languages": list(self.languages),
            "anonymous": self.settings.get(("anonymous", None), "no").lower() in TRUE_WORDS,
            "touchpoint": self.settings.get(("touchpoint", None), ""),
            "questions": self.questions,
        }
        if self.settings.get(("layout", None)):
            data["layout"] = self.settings[("layout", None)]
        for name in ("intro", "thank_you"):
            texts = self.extension_texts(self.settings, name)
            if texts:
                data[name] = self.complete(texts, self.where("settings", 2), name)
        return Normalised(data, self.lines, tuple(self.problems), tuple(_ordered(self.warnings, unique=False)),
                          tuple(self.proposals))

    def decide_languages(self, form: dict[str, Any]) -> tuple[str, ...]:
        named: list[str] = []
        uses_default = False

        def collect(value: Any) -> None:
            nonlocal uses_default
            if isinstance(value, str):
                uses_default = uses_default or bool(value.strip())
            elif isinstance(value, Mapping):
                for language, text in value.items():
                    if not (isinstance(text, str) and text.strip()):
                        continue
                    if language == "default":
                        uses_default = True
                    elif _language(language) not in named:
                        named.append(_language(language))

        def walk(children: list[dict[str, Any]]) -> None:
            for child in children:
                collect(child.get("label"))
                for choice in child.get("choices") or ():
                    collect(choice.get("label"))
                walk(child.get("children") or [])

        walk(form.get("children", []))
        if self.default is None:
            self.default = named[0] if named else "en"
        languages = [self.default] + [lang for lang in named if lang != self.default]
        del uses_default  # the plain column is the default language, whether or not it is used
        return tuple(languages)

    def slug(self, form: dict[str, Any]) -> str:
        form_id = self.settings.get(("form_id", None))
        slug = _slugify(form_id or str(form.get("id_string") or self.form.stem))
        if form_id and slug != form_id:
            self.warnings.append(messages.XLSFORM_BAD_FORM_ID.format(
                where=self.where("settings", 2), form_id=form_id, slug=slug))
        return slug

    def title(self, form: dict[str, Any]) -> dict[str, str]:
        titles = self.extension_texts(self.settings, "form_title")
        plain = form.get("title") if isinstance(form.get("title"), str) else None
        fallback = (titles.get(self.languages[0]) or next(iter(titles.values()), None) or plain
                    or self.form.stem)
        return {lang: titles.get(lang, fallback) for lang in self.languages}

    # -- the tree --
    def walk(self, children: list[dict[str, Any]], group_conditions: tuple[tuple[conditions.Node, int], ...],
             in_repeat: bool = False) -> None:
        for child in children:
            kind = str(child.get("type") or "").lower()
            name = str(child.get("name") or "")
            if kind == "group" or (kind in ("repeat", "loop") and in_repeat):
                row = self.row_of(name)
                if row is None:  # pyxform's own `meta` group (instanceID) and the like
                    self.skip_silently(child)
                    continue
                cells = self.cells.get(row, {})
                if (cells.get(("metric", None)) or "").lower() == MATRIX_METRIC:
                    self.matrix(child, row, cells, group_conditions)
                    continue
                expression = (child.get("bind") or {}).get("relevant")
                inner = group_conditions
                if expression:
                    try:
                        node = self.parse_relevant(expression)
                    except conditions.ConditionError as error:
                        names = self.skip_all(child.get("children") or [])
                        self.warnings.append(messages.XLSFORM_GROUP_BAD_RELEVANT.format(
                            where=self.where("survey", row), expression=expression, name=name, problem=error,
                            names=", ".join(names) or "none"))
                        continue
                    inner = group_conditions + ((node, row),)
                self.walk(child.get("children") or [], inner, in_repeat)
            elif kind in ("repeat", "loop"):
                self.repeat(child, name, group_conditions)
            else:
                self.question(child, kind, name, group_conditions)

    def repeat(self, child: dict[str, Any], name: str,
               group_conditions: tuple[tuple[conditions.Node, int], ...]) -> None:
        """A repeat's questions are asked once (one warning naming the group); nested repeats likewise."""
        row = self.rows_by_name.get(name, [None])[0]
        before = len(self.questions)
        index = len(self.warnings)
        as_group = dict(child, type="group")
        self.walk([as_group], group_conditions, in_repeat=True)
        names = [q["key"] for q in self.questions[before:]]
        self.warnings.insert(index, messages.XLSFORM_REPEAT_ONCE.format(
            where=self.where("survey", row), name=name, count=len(names), names=", ".join(names) or "none"))

    def skip_silently(self, group: dict[str, Any]) -> None:
        for child in group.get("children") or ():
            row = self.row_of(child.get("name"))
            if row is not None:  # a row of the form pyxform moved here (e.g. audit): say so
                self.not_a_question(child, str(child.get("type") or ""), row)
            self.skip_silently(child)

    def skip_all(self, children: list[dict[str, Any]]) -> list[str]:
        """Mark every question below as skipped (the caller warns once); their names."""
        names = []
        for child in children:
            name = str(child.get("name") or "")
            row = self.row_of(name)
            if child.get("children"):
                names += self.skip_all(child["children"])
                continue
            if row is not None:
                self.skipped[name] = row
                names.append(name)
        return names

    def not_a_question(self, child: dict[str, Any], kind: str, row: int) -> None:
        name = str(child.get("name") or "")
        self.skipped[name] = row
        self.warnings.append(messages.XLSFORM_NOT_A_QUESTION.format(
            where=self.where("survey", row), type=self.cells.get(row, {}).get(("type", None), kind), name=name))

    def key_for(self, name: str, row: int | None) -> str:
        key = name if KEY_PATTERN.fullmatch(name) else re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not KEY_PATTERN.fullmatch(key):
            key = f"q_{key}"
        base, number = key, 2
        while key in self.kept:
            key, number = f"{base}_{number}", number + 1
        if key != name:
            self.warnings.append(messages.XLSFORM_RENAMED.format(where=self.where("survey", row), name=name, key=key))
        return key

    def parse_relevant(self, expression: str) -> conditions.Node:
        # pyxform writes the relevant of its own "specify other" rows with paths (../name)
        text = re.sub(r"(?<![\w$])\.\./([A-Za-z_][\w.-]*)", r"${\1}", expression)
        return conditions.parse(text)

    def condition(self, child: dict[str, Any], name: str, row: int | None,
                  group_conditions: tuple[tuple[conditions.Node, int], ...]) -> tuple[bool, Any]:
        """(kept, show_if text or None); a question whose condition cannot be kept is skipped (warning)."""
        where = self.where("survey", row)
        parts = [node for node, _ in group_conditions]
        expression = (child.get("bind") or {}).get("relevant")
        if expression:
            try:
                parts.append(self.parse_relevant(expression))
            except conditions.ConditionError as error:
                self.warnings.append(messages.XLSFORM_BAD_RELEVANT.format(
                    where=where, expression=expression, name=name, problem=error))
                return False, None
        if not parts:
            return True, None
        node = parts[0]
        for part in parts[1:]:
            node = conditions.Logic("and", node, part)
        renames = {}
        for target in conditions.references(node):
            if target in self.keys:
                renames[target] = self.keys[target]
            elif target in self.skipped:
                self.warnings.append(messages.XLSFORM_CONDITION_ON_SKIPPED.format(
                    where=where, name=name, target=target, target_row=self.skipped[target]))
                return False, None
            else:
                self.warnings.append(messages.XLSFORM_CONDITION_ON_LATER.format(where=where, name=name, target=target))
                return False, None
        return True, str(Condition(expression=conditions.rename(node, renames)))

    def keep(self, name: str, row: int | None, question: dict[str, Any]) -> None:
        self.keys[name] = question["key"]
        self.kept[question["key"]] = row or 0
        if row:
            self.lines[len(self.questions)] = row
        self.questions.append(question)

    def texts_of(self, child: dict[str, Any], name: str, row: int | None, column: str = "label") -> dict[str, str]:
        texts = self.complete(self.raw_texts(child.get(column)), self.where("survey", row), f"{column} of {name!r}")
        return {language: self.pipe(text, row, f"{column} of {name!r}") for language, text in texts.items()}

    def pipe(self, text: str, row: int | None, what: str) -> str:
        """`${name}` of an earlier kept question becomes `${key}`; any other reference `...` (warning)."""
        def replace(match: re.Match) -> str:
            target = match.group(1)
            if target in self.keys:
                return f"${{{self.keys[target]}}}"
            warning = messages.XLSFORM_PIPE_DROPPED.format(where=self.where("survey", row), what=what, target=target)
            if warning not in self.warnings:
                self.warnings.append(warning)
            return "..."
        return PIPE_PATTERN.sub(replace, text)

    def question(self, child: dict[str, Any], kind: str, name: str,
                 group_conditions: tuple[tuple[conditions.Node, int], ...]) -> None:
        row = self.row_of(name)
        generated_other = row is None and name.endswith("_other") and name[:-6] in self.keys
        if row is None and not generated_other:
            return  # pyxform's own rows (instanceID ...)
        where = self.where("survey", row)
        cells = self.cells.get(row, {}) if row else {}
        type_text = cells.get(("type", None), kind)
        if kind in NOT_QUESTION_TYPES or kind.startswith("uri:"):
            self.not_a_question(child, kind, row)
            return
        plain = self.plain_question(child, kind, name, row, cells)
        if plain is None:
            self.skipped[name] = row or 0
            self.warnings.append(messages.XLSFORM_UNSUPPORTED_TYPE.format(where=where, type=type_text, name=name))
            return
        if plain is False:  # refused and reported (a wrong metric column)
            self.skipped[name] = row or 0
            return
        kept, show_if = self.condition(child, name, row, group_conditions)
        if not kept:
            self.skipped[name] = row or 0
            return
        plain["key"] = self.key_for(name, row)
        if not plain.get("text"):
            hint = self.texts_of(child, name, row, "hint")
            plain["text"] = hint or {lang: name for lang in self.languages}
            self.warnings.append(messages.XLSFORM_NO_LABEL.format(where=where, name=name,
                                                                   used="hint" if hint else "name"))
        if show_if:
            plain["show_if"] = show_if
        self.common_fields(plain, child, name, row, cells)
        self.keep(name, row, plain)

    def plain_question(self, child: dict[str, Any], kind: str, name: str, row: int | None,
                       cells: Mapping[Column, str]) -> dict[str, Any] | None | bool:
        """The plain data of one question; None when its type cannot be represented, False when refused."""
        where = self.where("survey", row)
        text = self.texts_of(child, name, row)
        metric = (cells.get(("metric", None)) or "").lower() or None
        if metric is not None and metric not in METRIC_KINDS:
            self.problems.append(messages.XLSFORM_UNKNOWN_METRIC.format(
                where=where, metric=metric, metrics=", ".join(METRIC_KINDS)))
            return False
        question: dict[str, Any] = {"text": text}
        scale: dict[str, Any] | None = None
        if kind in SELECT_ONE or kind in SELECT_MULTIPLE:
            choices = self.choices(child, where)
            if not choices:  # choices from a file (select_one_from_file, a map's geojson) are not in the form
                return None
            if child.get("choice_filter"):
                self.warnings.append(messages.XLSFORM_CHOICE_FILTER.format(
                    where=where, expression=child["choice_filter"], name=name))
            type_text = (cells.get(("type", None)) or "").lower()
            if "or_other" in type_text or "or specify other" in type_text:
                self.warnings.append(messages.XLSFORM_OR_OTHER.format(where=where, name=name, other=f"{name}_other"))
            scale = self.choice_scale(choices) if kind in SELECT_ONE else None
            if scale is None:
                question.update(kind="single_choice" if kind in SELECT_ONE else "multi_choice", choices=choices)
        elif kind == "range":
            scale = self.range_scale(child, name, where)
            if scale is None:
                question["kind"] = "decimal"
        elif kind in INTEGER_TYPES:
            if metric or any(column in ("scale_min", "scale_max", "min_label", "max_label") for column, _ in cells):
                scale = {}
            else:
                question["kind"] = "integer"
        elif kind in TEXT_TYPES:
            limit = cells.get(("max_length", None), DEFAULT_TEXT_LIMIT)
            question.update(kind="text", max_length=int(limit) if re.fullmatch(r"\d+", str(limit)) else limit)
        elif kind in DECIMAL_TYPES:
            question["kind"] = "decimal"
        elif kind in ("date", "time", "note"):
            question["kind"] = kind
        else:
            return None
        if scale is None:
            if metric is not None:
                self.problems.append(messages.XLSFORM_METRIC_NOT_A_SCALE.format(
                    where=where, type=cells.get(("type", None), kind)))
                return False
            return question
        merged = self.scale(metric or "rating", cells, where, scale)
        question.update(kind=metric or "rating", scale=merged)
        if metric is None:
            self.propose(question, name, row, text)
        return question

    def choices(self, child: dict[str, Any], where: str) -> list[dict[str, Any]]:
        items = child.get("choices")
        if items is None and child.get("itemset"):
            items = (self.form.form.get("choices") or {}).get(child["itemset"], [])
        list_name = child.get("itemset") or child.get("list_name") or ""
        choices, seen = [], set()
        for item in items or ():
            value = str(item.get("name", "")).strip()
            choice_row = self.choice_rows.get((list_name, value))
            choice_where = self.where("choices", choice_row) if choice_row else where
            if not value:
                continue
            if value in seen:
                self.warnings.append(messages.XLSFORM_DUPLICATE_CHOICE.format(
                    where=choice_where, name=value, list=list_name))
                continue
            seen.add(value)
            labels = self.raw_texts(item.get("label"))
            if not labels:
                labels = {self.languages[0]: value}
            choices.append({"value": value, "label": self.complete(labels, choice_where, f"choice {value!r}")})
        return choices

    def choice_scale(self, choices: list[dict[str, Any]]) -> dict[str, Any] | None:
        """A select_one whose choice names are 3+ consecutive whole numbers: a scale with end labels."""
        if len(choices) < 3 or not all(re.fullmatch(r"-?\d+", c["value"]) for c in choices):
            return None
        numbers = sorted(int(c["value"]) for c in choices)
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            return None
        low = next(c for c in choices if int(c["value"]) == numbers[0])
        high = next(c for c in choices if int(c["value"]) == numbers[-1])
        return {"min": numbers[0], "max": numbers[-1],
                "labels": {lang: [low["label"][lang], high["label"][lang]] for lang in self.languages}}

    def range_scale(self, child: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
        parameters = child.get("parameters") or {}
        start, end, step = (str(parameters.get(k, d)) for k, d in (("start", 1), ("end", 10), ("step", 1)))
        try:
            low, high, by = float(start), float(end), float(step)
        except ValueError:
            low = high = by = 0.5
        if low.is_integer() and high.is_integer() and by == 1 and low < high:
            return {"min": int(low), "max": int(high),
                    "labels": {lang: [str(int(low)), str(int(high))] for lang in self.languages}}
        self.warnings.append(messages.XLSFORM_RANGE_NOT_A_SCALE.format(
            where=where, name=name, start=start, end=end, step=step))
        return None

    def scale(self, kind: str, cells: Mapping[Column, str], where: str, found: dict[str, Any]) -> dict[str, Any]:
        """The scale of a rated question: what the form's choices or range say, then the extension columns."""
        scale: dict[str, Any] = {}
        if not found and kind in DEFAULT_SCALES:
            scale["min"], scale["max"] = DEFAULT_SCALES[kind]
        scale.update({k: v for k, v in found.items() if k != "labels"})
        for column, key in (("scale_min", "min"), ("scale_max", "max")):
            if (column, None) in cells:
                value = cells[(column, None)]
                scale[key] = int(value) if re.fullmatch(r"[-+]?\d+", value) else value
        lows, highs = self.extension_texts(cells, "min_label"), self.extension_texts(cells, "max_label")
        labels = {lang: list(pair) for lang, pair in (found.get("labels") or {}).items()}
        for lang in self.languages:
            if lang in lows and lang in highs:
                labels[lang] = [lows[lang], highs[lang]]
            elif lang in lows or lang in highs:
                given = "min_label" if lang in lows else "max_label"
                self.problems.append(messages.XLSFORM_LABEL_PAIR.format(where=where, given=given, language=lang))
        if labels:
            scale["labels"] = labels
        return scale

    def propose(self, question: dict[str, Any], name: str, row: int | None, text: Mapping[str, str]) -> None:
        """Propose a metric for a rating that looks like one; apply it only when proposals are accepted."""
        scale = question["scale"]
        low, high = scale.get("min"), scale.get("max")
        wording = " ".join(text.values()).lower()
        proposal = None
        if (low, high) == (0, 10) and re.search(r"recomm|empfehl|recomend", wording):
            proposal = ("nps", "an NPS", "a 0-10 scale and 'recommend' in its label")
        elif low == 1 and high in (5, 7) and re.search(r"satisf|zufrieden", wording):
            proposal = ("csat", "a CSAT", f"a 1-{high} scale and 'satisf' in its label")
        elif low == 1 and high in (5, 7) and re.search(r"\beas(y|ier)\b|effort|difficult", wording):
            proposal = ("ces", "an effort (CES)", f"a 1-{high} scale and 'easy' or 'effort' in its label")
        if proposal is None:
            return
        metric, label, reason = proposal
        where = self.where("survey", row)
        message = messages.XLSFORM_METRIC_PROPOSED.format(where=where, name=name, label=label, reason=reason,
                                                          metric=metric)
        self.proposals.append(MetricProposal(name, row or 0, metric, reason, message))
        if self.accept is True or (not isinstance(self.accept, bool) and name in self.accept):
            question["kind"] = metric
            self.warnings.append(messages.XLSFORM_METRIC_ACCEPTED.format(
                where=where, name=name, metric=metric, reason=reason))
        else:
            self.warnings.append(message)

    def common_fields(self, question: dict[str, Any], child: dict[str, Any], name: str, row: int | None,
                      cells: Mapping[Column, str]) -> None:
        """required, hint, role and constraint, which every kind of question may carry."""
        where = self.where("survey", row)
        bind = child.get("bind") or {}
        required = str(bind.get("required") or "").strip()
        if required and question["kind"] != "note":
            if required.lower() in TRUE_WORDS:
                question["required"] = True
            elif required.lower() not in FALSE_WORDS:
                self.warnings.append(messages.XLSFORM_REQUIRED_EXPRESSION.format(where=where, value=required, name=name))
        help_text = self.texts_of(child, name, row, "hint")
        if help_text:
            question["help"] = help_text
        if cells.get(("role", None)):
            question["role"] = cells[("role", None)].lower()
        if cells.get(("screen_group", None)):
            question["group"] = cells[("screen_group", None)]
        if bind.get("constraint"):
            self.warnings.append(messages.XLSFORM_CONSTRAINT_IGNORED.format(
                where=where, expression=bind["constraint"], name=name))

    def matrix(self, group: dict[str, Any], row: int, cells: Mapping[Column, str],
               group_conditions: tuple[tuple[conditions.Node, int], ...]) -> None:
        """A matrix question from its `begin group` row (its rows are its attributes)."""
        name = str(group.get("name") or "")
        where = self.where("survey", row)
        attributes = []
        for child in group.get("children") or ():
            child_row = self.row_of(child.get("name"))
            attributes.append({"value": str(child.get("name")),
                               "label": self.texts_of(child, str(child.get("name")), child_row)})
        kept, show_if = self.condition(group, name, row, group_conditions)
        if not kept:
            self.skipped[name] = row
            return
        question: dict[str, Any] = {"key": self.key_for(name, row), "kind": "matrix",
                                    "text": self.texts_of(group, name, row),
                                    "scale": self.scale("matrix", cells, where, {}), "attributes": attributes}
        if show_if:
            question["show_if"] = show_if
        self.common_fields(question, group, name, row, cells)
        self.keep(name, row, question)


def _slugify(text: str) -> str:
    """`form_id` or file name -> a valid slug; valid slugs are kept as they are."""
    if KEY_PATTERN.fullmatch(text.replace("-", "_")):
        return text
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not slug:
        return "form"
    return slug if slug[0].isalpha() else f"form-{slug}"


# --- build: plain data -> validated Survey, messages naming sheet and row --------------------------

_FROM_DICT_WHERE = re.compile(r"^(question .+?) \(line (\d+)\)(.*)$", re.DOTALL)
_ROW_IN_MESSAGE = re.compile(r", (\w+) sheet, row (\d+):")
SHEETS = ("survey", "choices", "settings")


def build(normalised: Normalised, source: str) -> Survey:
    """Validate the plain data with `from_dict`; XLSFormError lists every problem by sheet and row."""
    where = f"{source}, survey sheet"
    problems = list(normalised.problems)
    survey = None
    if normalised.data.get("questions"):
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


def _ordered(problems: list[str], unique: bool = True) -> list[str]:
    """Problems (unique ones, unless told otherwise), workbook-level first, then by sheet and row."""
    order = {name: i for i, name in enumerate(SHEETS)}

    def key(problem: str) -> tuple[int, int]:
        match = _ROW_IN_MESSAGE.search(problem)
        return (order.get(match.group(1), 9) + 1, int(match.group(2))) if match else (0, 0)

    return sorted(dict.fromkeys(problems) if unique else problems, key=key)


def read_xlsform(path: str | Path, accept_proposed_metrics: bool | Collection[str] = False) -> XLSFormResult:
    """Import an XLSForm (.xlsx, .xls, .csv or .md) as a validated Survey, with warnings and proposals.

    Raises XLSFormError (a DefinitionError) listing every problem: pyxform's own message for a form
    it rejects, or the rows whose extension columns cannot be represented.

    Example:
        >>> result = read_xlsform("sample_data/surveys/store_visit.xlsx")  # doctest: +SKIP
        >>> result.survey.question("recommend").metric  # doctest: +SKIP
        'nps'
    """
    form = read_form(path)
    normalised = normalise(form, accept_proposed_metrics)
    survey = build(normalised, form.source)
    return XLSFormResult(survey, list(normalised.warnings), list(normalised.proposals))
