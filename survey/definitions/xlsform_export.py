"""XLSForm export: a Survey as an .xlsx workbook that `survey.definitions.xlsform.read_xlsform` reads back equal.

Sheets and columns (the import's, see `survey/definitions/xlsform.py`):

survey
    ``type`` (``integer`` with a ``metric`` column for rated kinds, ``select_one <key>`` /
    ``select_multiple <key>``, ``text``, and ``integer``, ``decimal``, ``date``, ``time``, ``note``
    as they are), ``name``, ``label::<lang>``, ``hint::<lang>``, ``required`` (yes), ``relevant``
    (the condition's canonical text: ``${q} <= 6``, ``${q} = 'yes' and not(selected(${r}, 'x'))``),
    ``metric``, ``role``, ``screen_group`` (the question's `group`),
    ``scale_min``, ``scale_max``, ``min_label::<lang>``, ``max_label::<lang>``, ``max_length``.
    A matrix is a ``begin group`` row with ``metric`` = ``matrix`` (its text, scale and end labels),
    one ``integer`` row per attribute, and ``end group``.
choices
    ``list_name`` (the question key), ``name``, ``label::<lang>``.
settings
    ``form_id``, ``form_title::<lang>``, ``default_language``, and the extensions ``anonymous``,
    ``touchpoint``, ``intro::<lang>``, ``thank_you::<lang>``, ``layout`` (when not ``one_page``).

Other XLSForm tools ignore the extension columns; ODK reads the rest (a matrix as a group of
integer questions).

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> s = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n- {key: a, kind: nps, text: Recommend}")
    >>> xlsform_bytes(s)[:2]
    b'PK'
"""

from __future__ import annotations

import io
from typing import Any

from survey.definitions import conditions
from survey.definitions.definition import CHOICE_KINDS, DEFAULT_LAYOUT, INPUT_KINDS, NOTE_KIND, Question, Survey


def _relevant(question: Question) -> str | None:
    if question.show_if is None:
        return None
    return conditions.to_text(question.show_if.expression)


def _texts(prefix: str, texts, languages: tuple[str, ...]) -> dict[str, str]:
    return {f"{prefix}::{lang}": texts[lang] for lang in languages if texts.get(lang)}


def _scale_cells(question: Question, languages: tuple[str, ...]) -> dict[str, Any]:
    scale = question.scale
    cells: dict[str, Any] = {"scale_min": scale.min, "scale_max": scale.max}
    for lang in languages:
        if lang in scale.labels:
            cells[f"min_label::{lang}"], cells[f"max_label::{lang}"] = scale.labels[lang]
    return cells


def survey_rows(survey: Survey) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The rows of the survey and choices sheets and the settings row, as column -> value."""
    languages = survey.languages
    rows: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for q in survey.questions:
        row: dict[str, Any] = {"name": q.key, **_texts("label", q.text, languages), **_texts("hint", q.help, languages)}
        if q.required:
            row["required"] = "yes"
        if _relevant(q):
            row["relevant"] = _relevant(q)
        if q.role:
            row["role"] = q.role
        if q.group:
            row["screen_group"] = q.group
        if q.kind == "matrix":
            rows.append({"type": "begin group", **row, "metric": "matrix", **_scale_cells(q, languages)})
            rows += [{"type": "integer", "name": a.value, **_texts("label", a.label, languages)} for a in q.attributes]
            rows.append({"type": "end group", "name": q.key})
            continue
        if q.kind in CHOICE_KINDS:
            row["type"] = f"{'select_one' if q.kind == 'single_choice' else 'select_multiple'} {q.key}"
            choices += [{"list_name": q.key, "name": c.value, **_texts("label", c.label, languages)} for c in q.choices]
        elif q.kind == "text":
            row["type"] = "text"
            if q.max_length is not None:
                row["max_length"] = q.max_length
        elif q.kind in INPUT_KINDS or q.kind == NOTE_KIND:
            row["type"] = q.kind
        else:
            row.update(type="integer", metric=q.kind, **_scale_cells(q, languages))
        rows.append(row)
    settings: dict[str, Any] = {"form_id": survey.slug, **_texts("form_title", survey.title, languages),
                                "default_language": languages[0], "anonymous": "yes" if survey.anonymous else "no",
                                "touchpoint": survey.touchpoint, **_texts("intro", survey.intro, languages),
                                **_texts("thank_you", survey.thank_you, languages)}
    if survey.layout != DEFAULT_LAYOUT:
        settings["layout"] = survey.layout
    return rows, choices, settings


def _write_sheet(book, title: str, rows: list[dict[str, Any]], first: list[str]) -> None:
    sheet = book.create_sheet(title)
    columns = list(first)
    for row in rows:
        columns += [column for column in row if column not in columns]
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # wording such as "=SUM(...)" stays text: never a formula in Excel


def xlsform_bytes(survey: Survey) -> bytes:
    """The survey as an XLSForm .xlsx workbook (bytes), readable back by `read_xlsform`."""
    from openpyxl import Workbook  # only the XLSForm formats need openpyxl

    rows, choices, settings = survey_rows(survey)
    book = Workbook()
    book.remove(book.active)
    _write_sheet(book, "survey", rows, ["type", "name"])
    _write_sheet(book, "choices", choices, ["list_name", "name"])
    _write_sheet(book, "settings", [settings], ["form_id"])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()
