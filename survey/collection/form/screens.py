"""Which questions share a screen, which screen comes next, and the answers a posted form holds.

Pure functions over a `Survey` (no HTTP, no database). The survey's `layout` cuts its questions
into screens: `one_page` (all of them), `one_per_screen` (each question), `one_group_per_screen`
(consecutive questions with the same `group`; a question without one is a screen of its own).
A screen is cut again before a question whose display condition refers to a question on the same
screen: the form works without scripts, so a condition can only be decided from answers already
sent. Which screen comes next is then decided by the conditions (`Question.is_shown`) over the
answers `collect.check_answers` accepts: a screen none of whose questions is shown is skipped.

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> survey = loads_yaml('''
    ... slug: s
    ... title: S
    ... layout: one_per_screen
    ... questions:
    ...   - {key: recommend, kind: nps, text: Recommend}
    ...   - {key: why, kind: text, text: Why, show_if: recommend <= 6}
    ...   - {key: more, kind: text, text: More}
    ... ''')
    >>> [[q.key for q in screen] for screen in screens(survey)]
    [['recommend'], ['why'], ['more']]
    >>> next_screen(survey, 0, {"recommend": 9}), next_screen(survey, 0, {"recommend": 3})
    (2, 1)
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from survey.definitions.definition import NOTE_KIND, Question, Survey

ANSWER_PREFIX = "q."  # form field names: `q.<key>`, and `q.<key>.<attribute>` for a matrix row


def screens(survey: Survey) -> tuple[tuple[Question, ...], ...]:
    """The survey's questions cut into screens, in order (see the module docstring)."""
    blocks: list[list[Question]] = []
    for question in survey.questions:
        if not blocks or _starts_block(survey.layout, blocks[-1][-1], question):
            blocks.append([question])
        else:
            blocks[-1].append(question)
    cut: list[tuple[Question, ...]] = []
    for block in blocks:
        current: list[Question] = []
        for question in block:
            on_screen = {q.key for q in current}
            refers = question.show_if is not None and on_screen & set(question.show_if.references)
            if current and refers:
                cut.append(tuple(current))
                current = []
            current.append(question)
        cut.append(tuple(current))
    return tuple(cut)


def _starts_block(layout: str, previous: Question, question: Question) -> bool:
    if layout == "one_per_screen":
        return True
    if layout == "one_group_per_screen":
        return question.group is None or question.group != previous.group
    return False


def shown_questions(screen: Iterable[Question], clean: Mapping[str, Any]) -> list[Question]:
    """The questions of a screen that its conditions show, given the accepted answers."""
    return [q for q in screen if q.is_shown(clean)]


def is_shown(survey: Survey, index: int, clean: Mapping[str, Any]) -> bool:
    """Whether screen `index` has a question to show given the accepted answers."""
    return bool(shown_questions(screens(survey)[index], clean))


def first_screen(survey: Survey, clean: Mapping[str, Any]) -> int:
    """The first screen with something to show (the first screen when none has)."""
    found = next_screen(survey, -1, clean)
    return 0 if found is None else found


def next_screen(survey: Survey, index: int, clean: Mapping[str, Any]) -> int | None:
    """The next screen after `index` with a question shown, or None when the survey ends here."""
    all_screens = screens(survey)
    for later in range(index + 1, len(all_screens)):
        if shown_questions(all_screens[later], clean):
            return later
    return None


def previous_screen(survey: Survey, index: int, clean: Mapping[str, Any]) -> int | None:
    """The screen before `index` with a question shown, or None on the first."""
    all_screens = screens(survey)
    for earlier in range(min(index, len(all_screens)) - 1, -1, -1):
        if shown_questions(all_screens[earlier], clean):
            return earlier
    return None


def may_continue(survey: Survey, index: int, clean: Mapping[str, Any]) -> bool:
    """Whether a screen after `index` may still be shown once this screen is answered: the form
    offers "Next" then, else "Submit". A later question counts when it has no condition, when its
    condition holds already, or when it refers to a question on this screen or after (not decided
    until those answers are sent)."""
    all_screens = screens(survey)
    undecided = {q.key for screen in all_screens[index:] for q in screen}
    for screen in all_screens[index + 1:]:
        for question in screen:
            if (question.show_if is None or question.is_shown(clean)
                    or undecided & set(question.show_if.references)):
                return True
    return False


def screen_of(survey: Survey, key: str) -> int:
    """The index of the screen that holds question `key` (a matrix row's key names its question)."""
    head = key.partition(".")[0]
    for index, screen in enumerate(screens(survey)):
        if any(q.key == head for q in screen):
            return index
    raise KeyError(key)


def answers_from_form(survey: Survey, fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The answers a posted form holds, as the rule book takes them: text as typed (a rating as its
    digits), several choices as a list, matrix rows as a mapping; blanks left out. Fields that name no
    question of the survey are ignored here: nothing but `q.<key>` fields are answers."""
    by_key = {q.key: q for q in survey.questions if q.kind != NOTE_KIND}
    answers: dict[str, Any] = {}
    for name, value in fields:
        if not name.startswith(ANSWER_PREFIX):
            continue
        key, _, attribute = name[len(ANSWER_PREFIX):].partition(".")
        question = by_key.get(key)
        if question is None or not value.strip():
            continue
        if question.kind == "matrix":
            if attribute:
                answers.setdefault(key, {})[attribute] = value
        elif question.kind == "multi_choice":
            answers.setdefault(key, []).append(value)
        else:
            answers[key] = value
    return answers


def form_fields(survey: Survey, answers: Mapping[str, Any], keep: Iterable[Question] = ()) -> list[tuple[str, str]]:
    """The answers as (field name, value) pairs, for carrying the answers of the other screens in
    hidden fields; the questions in `keep` (the ones on the screen) are left out."""
    skip = {q.key for q in keep}
    fields: list[tuple[str, str]] = []
    for question in survey.questions:
        value = answers.get(question.key)
        if question.key in skip or value in (None, "", [], {}):
            continue
        if isinstance(value, Mapping):
            fields += [(f"{ANSWER_PREFIX}{question.key}.{a}", str(v)) for a, v in value.items()]
        elif isinstance(value, (list, tuple)):
            fields += [(f"{ANSWER_PREFIX}{question.key}", str(v)) for v in value]
        else:
            fields.append((f"{ANSWER_PREFIX}{question.key}", str(value)))
    return fields
