"""Editing a survey definition one step at a time; every helper returns a new frozen Survey.

Definitions are immutable, so the designer keeps a draft Survey and replaces it with what these
helpers return. They do not validate: a draft may be unfinished (a missing translation, a condition
on a question moved below it) and `definition.validate` says what still blocks publishing.

Texts are addressed by a path, so that translations can be listed and set side by side:
`("title",)`, `("intro",)`, `("thank_you",)`, `("question", key, "text")`, `("question", key, "help")`,
`("question", key, "low")` / `("question", key, "high")` (scale end labels), and
`("question", key, "choice", value)` / `("question", key, "attribute", value)`.

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> s = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n- {key: a, kind: nps, text: Recommend}")
    >>> s = add_question(s, new_question("text", "why", "Why", s.languages))
    >>> [q.key for q in move_question(s, "why", -1).questions]
    ['why', 'a']
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from survey.definitions.definition import (
    CHOICE_KINDS, DEFAULT_END_LABELS, DEFAULT_SCALES, DEFAULT_TEXT_LIMIT, Choice, Question, Scale,
    Survey,
)

TextPath = tuple[str, ...]
# Default scale of a rated kind without one of its own (rating and matrix declare theirs).
NEW_RATING_SCALE = (1, 5)


def new_question(kind: str, key: str, text: str, languages: tuple[str, ...]) -> Question:
    """A question of `kind` with its default scale, end labels (English) and placeholder choices.

    `text` is the wording in the first language; other languages are left to translate (they are
    listed by `missing_translations`).
    """
    first = languages[0]
    scale = None
    if kind in ("nps", "csat", "ces", "index_item", "rating", "matrix"):
        low, high = DEFAULT_SCALES.get(kind, NEW_RATING_SCALE)
        ends = DEFAULT_END_LABELS.get(kind, ("Very poor", "Excellent"))
        scale = Scale(low, high, {"en": ends} if "en" in languages else {})
    choices: tuple[Choice, ...] = ()
    if kind in CHOICE_KINDS:
        choices = (Choice("option_1", {first: "Option 1"}), Choice("option_2", {first: "Option 2"}))
    attributes = (Choice("attribute_1", {first: "Attribute 1"}),) if kind == "matrix" else ()
    return Question(key=key, kind=kind, text={first: text} if text else {}, scale=scale, choices=choices,
                    attributes=attributes, max_length=DEFAULT_TEXT_LIMIT if kind == "text" else None)


def _index(survey: Survey, key: str) -> int:
    for index, question in enumerate(survey.questions):
        if question.key == key:
            return index
    raise KeyError(f"survey {survey.slug!r} has no question {key!r}")


def add_question(survey: Survey, question: Question, position: int | None = None) -> Survey:
    """The survey with `question` inserted at `position` (default: at the end)."""
    questions = list(survey.questions)
    questions.insert(len(questions) if position is None else position, question)
    return replace(survey, questions=tuple(questions))


def replace_question(survey: Survey, key: str, question: Question) -> Survey:
    """The survey with question `key` replaced; a renamed key is renamed in the conditions that use it."""
    index = _index(survey, key)
    questions = list(survey.questions)
    questions[index] = question
    if question.key != key:
        questions = [replace(q, show_if=q.show_if.renamed({key: question.key}))
                     if q.show_if is not None and key in q.show_if.references else q for q in questions]
    return replace(survey, questions=tuple(questions))


def move_question(survey: Survey, key: str, offset: int) -> Survey:
    """The survey with question `key` moved `offset` places (negative: earlier), kept within the survey."""
    index = _index(survey, key)
    questions = list(survey.questions)
    question = questions.pop(index)
    questions.insert(max(0, min(len(questions), index + offset)), question)
    return replace(survey, questions=tuple(questions))


def delete_question(survey: Survey, key: str) -> Survey:
    """The survey without question `key`. Conditions that referred to it stay, and fail validation,
    so that nobody's display condition disappears unnoticed."""
    index = _index(survey, key)
    return replace(survey, questions=survey.questions[:index] + survey.questions[index + 1:])


def earlier_questions(survey: Survey, key: str | None) -> tuple[Question, ...]:
    """The questions a picked display condition of question `key` may refer to: those before it with
    values to pick (scale points or choices), all of them when `key` is None (a question about to
    be added at the end). Others (numbers, dates, text) are reached by a typed expression."""
    questions = survey.questions if key is None else survey.questions[:_index(survey, key)]
    return tuple(q for q in questions if q.scale is not None and q.kind != "matrix" or q.choices)


def condition_values(question: Question) -> list[int | str]:
    """The values a display condition on `question` can compare with: scale points or choice values."""
    if question.scale is not None:
        return list(question.scale.points)
    return [choice.value for choice in question.choices]


# --- texts and translations ------------------------------------------------------------------------


@dataclass(frozen=True)
class TextItem:
    """One translatable text of a survey: where it is, what to call it, and its wording per language."""

    path: TextPath
    label: str
    texts: dict[str, str]


def text_items(survey: Survey) -> list[TextItem]:
    """Every translatable text of the survey in order (empty optional texts left out)."""
    items = [TextItem(("title",), "survey title", dict(survey.title))]
    for name in ("intro", "thank_you"):
        if getattr(survey, name):
            items.append(TextItem((name,), f"survey {name.replace('_', ' ')}", dict(getattr(survey, name))))
    for q in survey.questions:
        items.append(TextItem(("question", q.key, "text"), f"{q.key}: text", dict(q.text)))
        if q.help:
            items.append(TextItem(("question", q.key, "help"), f"{q.key}: help", dict(q.help)))
        if q.scale is not None and q.scale.labels:
            for end, position in (("low", 0), ("high", 1)):
                texts = {lang: pair[position] for lang, pair in q.scale.labels.items()}
                items.append(TextItem(("question", q.key, end), f"{q.key}: {end} end label", texts))
        for group in ("choice", "attribute"):
            for item in (q.choices if group == "choice" else q.attributes):
                items.append(TextItem(("question", q.key, group, item.value), f"{q.key}: {group} {item.value}",
                                      dict(item.label)))
    return items


def missing_translations(survey: Survey) -> list[tuple[str, str]]:
    """(text label, language) of every text that lacks a wording in one of the survey's languages."""
    return [(item.label, language) for item in text_items(survey) for language in survey.languages
            if not str(item.texts.get(language, "")).strip()]


def set_text(survey: Survey, path: TextPath, language: str, text: str) -> Survey:
    """The survey with the text at `path` set in `language` (blank removes that language's wording)."""

    def updated(texts) -> dict[str, str]:
        result = dict(texts)
        if text.strip():
            result[language] = text
        else:
            result.pop(language, None)
        return result

    if path[0] in ("title", "intro", "thank_you"):
        return replace(survey, **{path[0]: updated(getattr(survey, path[0]))})
    key, part = path[1], path[2]
    question = survey.question(key)
    if part in ("text", "help"):
        question = replace(question, **{part: updated(getattr(question, part))})
    elif part in ("low", "high"):
        labels = dict(question.scale.labels)
        pair = list(labels.get(language, ("", "")))
        pair[0 if part == "low" else 1] = text
        if any(end.strip() for end in pair):
            labels[language] = (pair[0], pair[1])
        else:
            labels.pop(language, None)
        question = replace(question, scale=replace(question.scale, labels=labels))
    else:
        name = "choices" if part == "choice" else "attributes"
        items = tuple(replace(item, label=updated(item.label)) if item.value == path[3] else item
                      for item in getattr(question, name))
        question = replace(question, **{name: items})
    return replace_question(survey, key, question)


def set_languages(survey: Survey, languages: tuple[str, ...]) -> Survey:
    """The survey asked in `languages` (first: the default). Wording in a dropped language is removed,
    so that a later download holds no stray text; a new language starts untranslated."""
    keep = set(languages)

    def only(texts):
        return {lang: text for lang, text in texts.items() if lang in keep}

    def question(q: Question) -> Question:
        scale = replace(q.scale, labels=only(q.scale.labels)) if q.scale is not None else None
        return replace(q, text=only(q.text), help=only(q.help), scale=scale,
                       choices=tuple(replace(c, label=only(c.label)) for c in q.choices),
                       attributes=tuple(replace(a, label=only(a.label)) for a in q.attributes))

    return replace(survey, languages=tuple(languages), title=only(survey.title), intro=only(survey.intro),
                   thank_you=only(survey.thank_you), questions=tuple(question(q) for q in survey.questions))
