"""What one screen of the form shows, as plain data for its template (no HTTP, no database).

Each shown question becomes a small mapping: its label in the respondent's language (`${q}`
piping applied), the field names, the ids that tie labels, help and errors to the controls, and
the answer given so far. Wording is passed as text: the template engine escapes it.
"""

from __future__ import annotations

from typing import Any, Mapping

from survey.collection import respondent
from survey.collection.form.screens import ANSWER_PREFIX
from survey.definitions.definition import Question, Survey

INPUT_TYPES = {"integer": "number", "decimal": "text", "date": "date", "time": "time"}
INPUT_MODES = {"integer": "numeric", "decimal": "decimal"}


def _ends(question: Question, survey: Survey, language: str) -> tuple[str, str] | None:
    labels = question.scale.labels
    return labels.get(language) or labels.get(survey.languages[0]) or None


def _points(question: Question, survey: Survey, language: str, name: str, field_id: str,
            value: Any) -> list[dict[str, Any]]:
    """The scale's points; the two ends carry their label for screen readers ("0, not at all likely")."""
    ends = _ends(question, survey, language)
    points = []
    for point in question.scale.points:
        spoken = None
        if ends and point == question.scale.min:
            spoken = respondent.phrase("scale_point", language, point=point, label=ends[0])
        elif ends and point == question.scale.max:
            spoken = respondent.phrase("scale_point", language, point=point, label=ends[1])
        points.append({"value": str(point), "id": f"{field_id}-{point}", "name": name, "text": str(point),
                       "spoken": spoken, "checked": value is not None and str(value) == str(point)})
    return points


def question_view(question: Question, survey: Survey, language: str, answers: Mapping[str, Any],
                  problem: str | None) -> dict[str, Any]:
    """Template data for one question given the answers so far and its problem (already worded)."""
    local = lambda text: respondent.localized(text, language, survey)  # noqa: E731
    field_id = f"q-{question.key}"
    name = ANSWER_PREFIX + question.key
    value = answers.get(question.key)
    view: dict[str, Any] = {
        "key": question.key, "kind": question.kind, "id": field_id, "name": name,
        "label": respondent.piped(local(question.text), survey, answers, language),
        "help": respondent.piped(local(question.help), survey, answers, language),
        "required": question.required and question.kind != "note",
        "error": problem, "widget": "text",
    }
    described = [f"{field_id}-help"] if view["help"] else []
    if problem:
        described.append(f"{field_id}-error")
    if question.kind == "note":
        view["widget"] = "note"
    elif question.kind == "matrix":
        rows = value if isinstance(value, Mapping) else {}
        view["widget"] = "matrix"
        view["ends"] = _ends(question, survey, language)
        view["rows"] = [{"label": local(a.label), "id": f"{field_id}-{a.value}",
                         "points": _points(question, survey, language, f"{name}.{a.value}",
                                           f"{field_id}-{a.value}", rows.get(a.value))}
                        for a in question.attributes]
    elif question.scale is not None:
        view["widget"] = "scale"
        view["ends"] = _ends(question, survey, language)
        view["points"] = _points(question, survey, language, name, field_id, value)
    elif question.kind in ("single_choice", "multi_choice"):
        chosen = {str(v) for v in value} if isinstance(value, (list, tuple)) else {str(value)}
        view["widget"] = "radio" if question.kind == "single_choice" else "checkbox"
        view["choices"] = [{"value": c.value, "label": local(c.label), "id": f"{field_id}-{i}",
                            "checked": c.value in chosen} for i, c in enumerate(question.choices)]
        if question.kind == "multi_choice":
            view["hint"] = respondent.phrase("choose", language)
    elif question.kind in INPUT_TYPES:
        view["widget"] = "input"
        view["type"] = INPUT_TYPES[question.kind]
        view["inputmode"] = INPUT_MODES.get(question.kind)
        view["value"] = "" if value is None else str(value)
    else:
        view["value"] = "" if value is None else str(value)
        view["maxlength"] = question.max_length
        if question.max_length:
            view["hint"] = respondent.phrase("text_limit", language, limit=question.max_length)
    if view.get("hint"):
        described.append(f"{field_id}-hint")
    view["describedby"] = " ".join(described) or None
    return view
