"""Survey definitions: frozen dataclasses, validation, and the YAML format.

A definition is built in a pipeline of pure stages, as pyxform does it:
read (YAML text -> plain data) -> normalise (plain data -> dataclasses) -> validate (dataclasses ->
list of problems). `load_yaml` runs all three and raises `DefinitionError` listing every problem at
once, each naming the file, the question key and line where it can.

The metric a question feeds is declared by its kind (`nps`, `csat`, `ces`, `index_item`) or by its
`role` (`overall`, `driver`), never guessed from the shape of its scale.

Example:
    >>> survey = loads_yaml('''
    ... slug: demo
    ... title: Demo
    ... questions:
    ...   - key: recommend
    ...     kind: nps
    ...     text: How likely are you to recommend us?
    ... ''')
    >>> survey.question("recommend").scale
    Scale(min=0, max=10, labels={'en': ('Not at all likely', 'Extremely likely')})
    >>> survey.question("recommend").metric
    'nps'
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import yaml

from survey import messages
from survey.definitions import conditions

RATED_KINDS = ("nps", "csat", "ces", "rating", "index_item", "matrix")
CHOICE_KINDS = ("single_choice", "multi_choice")
# Plain answers that feed no metric: numbers, a calendar date (YYYY-MM-DD), a time of day (HH:MM).
INPUT_KINDS = ("integer", "decimal", "date", "time")
# Shown to the respondent, answered by nobody.
NOTE_KIND = "note"
KINDS = RATED_KINDS + CHOICE_KINDS + ("text",) + INPUT_KINDS + (NOTE_KIND,)
ROLES = ("overall", "driver")
# Scales fixed by the method itself; other kinds declare theirs (with these defaults).
FIXED_SCALES = {"nps": (0, 10), "index_item": (1, 10)}
DEFAULT_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "index_item": (1, 10)}
DEFAULT_END_LABELS = {
    "nps": ("Not at all likely", "Extremely likely"),
    "csat": ("Very dissatisfied", "Very satisfied"),
    "ces": ("Strongly disagree", "Strongly agree"),
    "index_item": ("Not at all", "Completely"),
}
OPERATORS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
}
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_TEXT_LIMIT = 2000
# How the respondent form pages the questions: all on one page (split only where a condition needs an
# answer given on the same page), one question per screen, or one group (consecutive questions
# sharing a `group`) per screen.
LAYOUTS = ("one_page", "one_per_screen", "one_group_per_screen")
DEFAULT_LAYOUT = "one_page"
# Piping (XLSForm's convention): `${q}` in a question's text or help shows the earlier answer to q.
PIPE_PATTERN = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")

Text = Mapping[str, str]  # language code -> wording


class DefinitionError(ValueError):
    """A definition that cannot be published; `problems` lists every fault found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Choice:
    """One option of a choice question, or one attribute (row) of a matrix."""

    value: str
    label: Text


@dataclass(frozen=True)
class Scale:
    """An integer rating scale from `min` to `max` with end labels per language."""

    min: int
    max: int
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def points(self) -> range:
        """Every allowed value, lowest first."""
        return range(self.min, self.max + 1)


_LEGACY_CONDITION = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>|=)\s*"
    r"([-+]?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_.-]*)\s*$")
_LEGACY_OPS = {"==": "=", "=": "="}


@dataclass(frozen=True)
class Condition:
    """A display condition: an expression of the condition language (`survey.definitions.conditions`).

    `Condition("recommend", "<=", 6)` builds the simple comparison `recommend <= 6`;
    `Condition.parse(text)` reads any expression. Two conditions are equal when their parsed
    expressions are. `question`, `op` and `value` describe a simple comparison (the Designer's
    pick-lists); for other expressions `op` and `value` are None and `question` is the first
    question referred to.
    """

    question: str = field(default="", compare=False)
    op: str | None = field(default=None, compare=False)
    value: float | str | None = field(default=None, compare=False)
    expression: conditions.Node | None = None

    def __post_init__(self) -> None:
        if self.expression is None:
            op = "==" if self.op == "=" else self.op
            if op not in OPERATORS:
                raise ValueError(messages.BAD_CONDITION.format(condition=f"{self.question} {self.op} {self.value}"))
            object.__setattr__(self, "op", op)
            object.__setattr__(self, "expression", conditions.Compare(
                _LEGACY_OPS.get(op, op), conditions.Ref(self.question), conditions.Literal(self.value)))
        elif not self.question:
            simple = _simple(self.expression)
            refs = conditions.references(self.expression)
            object.__setattr__(self, "question", simple[0] if simple else (refs[0] if refs else ""))
            if simple:
                object.__setattr__(self, "op", simple[1])
                object.__setattr__(self, "value", simple[2])

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse a condition; ValueError naming the expression and the position of the fault.

        `key <op> value` (the older form, value a number, a word or a quoted string) and every
        expression of the condition language are accepted.
        """
        legacy = _LEGACY_CONDITION.fullmatch(str(text))
        if legacy and legacy.group(1) not in conditions.FUNCTIONS:
            key, op, raw = legacy.groups()
            raw = raw[1:-1] if raw[:1] in "'\"" else raw
            try:
                value: float | str = float(raw) if "." in raw else int(raw)
            except ValueError:
                value = raw
            return cls(key, op, value)
        try:
            return cls(expression=conditions.parse(text))
        except conditions.ConditionError as error:
            raise ValueError(messages.BAD_CONDITION_AT.format(condition=text, problem=error)) from None

    @property
    def references(self) -> tuple[str, ...]:
        """Every question key the condition refers to, in order."""
        return conditions.references(self.expression)

    def renamed(self, names: Mapping[str, str]) -> Condition:
        """The same condition with question keys renamed."""
        return Condition(expression=conditions.rename(self.expression, names))

    def __str__(self) -> str:
        simple = _simple(self.expression)
        if simple and _plain_value(simple[2]):
            return f"{simple[0]} {simple[1]} {simple[2]}"
        return conditions.to_text(self.expression)

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """True when the condition is met; an unanswered question never meets a comparison."""
        return conditions.evaluate(self.expression, answers)


def _simple(node: conditions.Node) -> tuple[str, str, Any] | None:
    """(key, op, value) when the expression is one comparison of a question with a value."""
    if (isinstance(node, conditions.Compare) and isinstance(node.left, conditions.Ref)
            and isinstance(node.right, conditions.Literal)):
        return node.left.key, "==" if node.op == "=" else node.op, node.right.value
    return None


def _plain_value(value: Any) -> bool:
    """Whether `key op value` written with this value reads back as the same condition."""
    if isinstance(value, (int, float)):
        return True
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", value)) and value not in conditions.FUNCTIONS \
        and re.fullmatch(r"[-+]?\d+(?:\.\d+)?", value) is None


@dataclass(frozen=True)
class Question:
    """One question. `kind` says how it is asked; `metric` says what it feeds."""

    key: str
    kind: str
    text: Text
    required: bool = False
    help: Text = field(default_factory=dict)
    show_if: Condition | None = None
    scale: Scale | None = None
    choices: tuple[Choice, ...] = ()
    attributes: tuple[Choice, ...] = ()
    max_length: int | None = None
    role: str | None = None
    group: str | None = None  # the screen it shares with its neighbours under `one_group_per_screen`

    @property
    def metric(self) -> str | None:
        """The metric this question feeds: nps, csat, ces, index, rating, or None for the rest."""
        return {
            "nps": "nps",
            "csat": "csat",
            "ces": "ces",
            "index_item": "index",
            "rating": "rating",
            "matrix": "rating",
        }.get(self.kind)

    @property
    def piped(self) -> tuple[str, ...]:
        """Keys of the earlier answers its text or help shows (`${q}`), once each, in order."""
        found = [key for texts in (self.text, self.help) for value in texts.values()
                 for key in PIPE_PATTERN.findall(value)]
        return tuple(dict.fromkeys(found))

    @property
    def answer_keys(self) -> tuple[str, ...]:
        """Keys answers are stored under: the question key, `key.attribute` per matrix row, none for a note."""
        if self.kind == NOTE_KIND:
            return ()
        if self.kind == "matrix":
            return tuple(f"{self.key}.{attribute.value}" for attribute in self.attributes)
        return (self.key,)

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        """Whether the question is displayed given the answers so far."""
        return self.show_if is None or self.show_if.holds(answers)


@dataclass(frozen=True)
class Survey:
    """A complete survey definition; what a published version stores."""

    slug: str
    title: Text
    questions: tuple[Question, ...]
    languages: tuple[str, ...] = ("en",)
    anonymous: bool = False
    touchpoint: str = ""
    intro: Text = field(default_factory=dict)
    thank_you: Text = field(default_factory=dict)
    layout: str = DEFAULT_LAYOUT

    def question(self, key: str) -> Question:
        """The question with this key; KeyError naming it when there is none."""
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(f"survey {self.slug!r} has no question {key!r}")

    def metric_questions(self, metric: str) -> tuple[Question, ...]:
        """Questions that declare a metric (nps, csat, ces, index, rating)."""
        return tuple(q for q in self.questions if q.metric == metric)


T = TypeVar("T")
PER_DEFINITION_ENTRIES = 1_024


def per_definition(build: Callable[..., T]) -> Callable[..., T]:
    """Memoise `build(definition, *rest)` per definition object (a survey or a question) and `rest`.

    What the checks and the follow-up rules work out from a definition is the same for every
    response to it, and an import checks thousands. Definitions are frozen but hold dicts, so they
    cannot key a cache themselves: the object's identity does, kept beside the result so that an
    id reused by a later object never finds the earlier one's. At most `PER_DEFINITION_ENTRIES`
    entries, then the cache starts again.
    """
    found: dict[tuple, tuple[Any, T]] = {}

    @functools.wraps(build)
    def cached(definition: Any, *rest: Any) -> T:
        entry = found.get((id(definition), rest))
        if entry is not None and entry[0] is definition:
            return entry[1]
        if len(found) >= PER_DEFINITION_ENTRIES:
            found.clear()
        value = build(definition, *rest)
        found[(id(definition), rest)] = (definition, value)
        return value

    return cached


# --- normalise: plain data (from YAML or a spreadsheet) -> dataclasses ---------------------------


def _text(value: Any, languages: tuple[str, ...]) -> dict[str, str]:
    """Accept a plain string (the first language) or a language -> text mapping."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(lang): str(text) for lang, text in value.items() if text is not None}
    return {languages[0]: str(value)}


def _choices(items: Any, languages: tuple[str, ...], where: str, problems: list[str]) -> tuple[Choice, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append(messages.NOT_A_LIST.format(where=where))
        return ()
    choices = []
    for item in items:
        if isinstance(item, Mapping):
            value = item.get("value")
            label = _text(item.get("label", value), languages)
        else:
            value, label = item, {languages[0]: str(item)}
        if value is None or str(value).strip() == "":
            problems.append(messages.CHOICE_WITHOUT_VALUE.format(where=where))
            continue
        choices.append(Choice(str(value), label))
    return tuple(choices)


def _scale(kind: str, raw: Any, languages: tuple[str, ...], where: str, problems: list[str]) -> Scale | None:
    if kind not in RATED_KINDS:
        return None
    raw = raw if isinstance(raw, Mapping) else {}
    low, high = DEFAULT_SCALES.get(kind, (None, None))
    low, high = raw.get("min", low), raw.get("max", high)
    if low is None or high is None:
        problems.append(messages.SCALE_NEEDS_BOUNDS.format(where=where))
        return None
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError):
        problems.append(messages.SCALE_NOT_INTEGER.format(where=where, low=low, high=high))
        return None
    labels_raw = raw.get("labels")
    labels: dict[str, tuple[str, str]] = {}
    if isinstance(labels_raw, Mapping):
        for lang, pair in labels_raw.items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                labels[str(lang)] = (str(pair[0]), str(pair[1]))
            else:
                problems.append(messages.SCALE_LABELS_PAIR.format(where=where, language=lang))
    elif isinstance(labels_raw, (list, tuple)) and len(labels_raw) == 2:
        labels[languages[0]] = (str(labels_raw[0]), str(labels_raw[1]))
    elif labels_raw is not None:
        problems.append(messages.SCALE_LABELS_PAIR.format(where=where, language=languages[0]))
    elif kind in DEFAULT_END_LABELS and languages == ("en",):
        labels = {"en": DEFAULT_END_LABELS[kind]}
    return Scale(low, high, labels)


QUESTION_FIELDS = {"key", "kind", "text", "required", "help", "show_if", "scale", "choices",
                   "attributes", "max_length", "role", "group"}
SURVEY_FIELDS = {"slug", "title", "languages", "anonymous", "touchpoint", "intro", "thank_you",
                 "questions", "layout"}


def _question(raw: Any, languages: tuple[str, ...], where: str, problems: list[str]) -> Question | None:
    if not isinstance(raw, Mapping):
        problems.append(messages.QUESTION_NOT_MAPPING.format(where=where))
        return None
    for unknown in sorted(set(raw) - QUESTION_FIELDS):
        problems.append(messages.UNKNOWN_FIELD.format(where=where, field=unknown))
    kind = str(raw.get("kind", ""))
    condition = None
    if raw.get("show_if") not in (None, ""):
        try:
            condition = Condition.parse(raw["show_if"])
        except ValueError as error:
            problems.append(f"{where}: {error}")
    max_length = raw.get("max_length", DEFAULT_TEXT_LIMIT if kind == "text" else None)
    if max_length is not None:
        try:
            max_length = int(max_length)
        except (TypeError, ValueError):
            problems.append(messages.BAD_MAX_LENGTH.format(where=where, value=max_length))
            max_length = None
    return Question(
        key=str(raw.get("key", "")),
        kind=kind,
        text=_text(raw.get("text"), languages),
        required=bool(raw.get("required", False)),
        help=_text(raw.get("help"), languages),
        show_if=condition,
        scale=_scale(kind, raw.get("scale"), languages, where, problems),
        choices=_choices(raw.get("choices"), languages, where, problems),
        attributes=_choices(raw.get("attributes"), languages, where, problems),
        max_length=max_length,
        role=raw.get("role"),
        group=None if raw.get("group") in (None, "") else str(raw["group"]),
    )


def from_dict(data: Any, source: str = "<definition>", lines: Mapping[int, int] | None = None) -> Survey:
    """Build and validate a Survey from plain data; raise DefinitionError listing every problem.

    `lines` maps a question's position to its line in the source file, for messages.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise DefinitionError([messages.NOT_A_MAPPING.format(source=source)])
    for unknown in sorted(set(data) - SURVEY_FIELDS):
        problems.append(messages.UNKNOWN_FIELD.format(where=source, field=unknown))
    raw_languages = data.get("languages") or ["en"]
    if isinstance(raw_languages, str):
        raw_languages = [raw_languages]
    languages = tuple(str(lang) for lang in raw_languages)
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(messages.NO_QUESTIONS.format(source=source))
        raw_questions = []
    questions = []
    lines = lines or {}
    for position, raw in enumerate(raw_questions):
        key = raw.get("key") if isinstance(raw, Mapping) else None
        questions.append((position, _question(raw, languages, _where(source, key, position, lines), problems)))
    survey = Survey(
        slug=str(data.get("slug") or ""),
        title=_text(data.get("title"), languages),
        questions=tuple(q for _, q in questions if q is not None),
        languages=languages,
        anonymous=bool(data.get("anonymous", False)),
        touchpoint=str(data.get("touchpoint") or ""),
        intro=_text(data.get("intro"), languages),
        thank_you=_text(data.get("thank_you"), languages),
        layout=DEFAULT_LAYOUT if data.get("layout") in (None, "") else str(data["layout"]),
    )
    problems.extend(validate(survey, source, lines))
    if problems:
        raise DefinitionError(problems)
    return survey


def _where(source: str, key: Any, position: int, lines: Mapping[int, int]) -> str:
    line = lines.get(position)
    name = f"question {key!r}" if key else f"question #{position + 1}"
    return f"{source}: {name}" + (f" (line {line})" if line else "")


# --- validate: dataclasses -> problems ------------------------------------------------------------


def validate(survey: Survey, source: str = "<definition>", lines: Mapping[int, int] | None = None) -> list[str]:
    """Every reason this survey cannot be published, each naming where; empty when it is sound."""
    problems: list[str] = []
    lines = lines or {}
    if not KEY_PATTERN.fullmatch(survey.slug.replace("-", "_")):
        problems.append(messages.BAD_SLUG.format(source=source, slug=survey.slug))
    if len(set(survey.languages)) != len(survey.languages):
        problems.append(messages.DUPLICATE_LANGUAGE.format(source=source))
    problems += _missing_languages(survey.title, survey.languages, f"{source}: survey title", required=True)
    problems += _missing_languages(survey.intro, survey.languages, f"{source}: survey intro")
    problems += _missing_languages(survey.thank_you, survey.languages, f"{source}: survey thank_you")
    if survey.layout not in LAYOUTS:
        problems.append(messages.UNKNOWN_LAYOUT.format(source=source, layout=survey.layout,
                                                       layouts=", ".join(LAYOUTS)))
    problems += _split_groups(survey, source, lines)
    seen: dict[str, int] = {}
    for position, question in enumerate(survey.questions):
        where = _where(source, question.key, position, lines)
        problems += _question_problems(question, survey.languages, where)
        if question.key in seen:
            problems.append(messages.DUPLICATE_KEY.format(where=where, key=question.key))
        if question.show_if is not None:
            for target in question.show_if.references:
                if target == question.key:
                    problems.append(messages.CONDITION_ON_ITSELF.format(where=where, key=target))
                elif target not in seen:
                    later = any(q.key == target for q in survey.questions[position + 1:])
                    template = messages.CONDITION_ON_LATER if later else messages.CONDITION_ON_UNKNOWN
                    problems.append(template.format(where=where, key=target))
        for target in question.piped:
            if target == question.key or target not in seen:
                problems.append(messages.PIPE_NOT_EARLIER.format(where=where, key=target))
        seen.setdefault(question.key, position)
    return problems


def _split_groups(survey: Survey, source: str, lines: Mapping[int, int]) -> list[str]:
    """A group is one screen, so its questions must follow each other."""
    problems: list[str] = []
    ended: set[str] = set()
    previous: str | None = None
    for position, question in enumerate(survey.questions):
        group = question.group
        if group is not None and not KEY_PATTERN.fullmatch(group):
            problems.append(messages.BAD_GROUP.format(where=_where(source, question.key, position, lines), group=group))
        if group != previous and previous is not None:
            ended.add(previous)
        if group is not None and group in ended:
            problems.append(messages.GROUP_NOT_TOGETHER.format(where=_where(source, question.key, position, lines),
                                                               group=group))
        previous = group
    return problems


def _missing_languages(text: Text, languages: tuple[str, ...], where: str, required: bool = False) -> list[str]:
    if not text and not required:
        return []
    return [messages.MISSING_TRANSLATION.format(where=where, language=lang)
            for lang in languages if not str(text.get(lang, "")).strip()]


def _question_problems(question: Question, languages: tuple[str, ...], where: str) -> list[str]:
    problems: list[str] = []
    if not question.key:
        problems.append(messages.MISSING_KEY.format(where=where))
    elif not KEY_PATTERN.fullmatch(question.key):
        problems.append(messages.BAD_KEY.format(where=where, key=question.key))
    if question.kind not in KINDS:
        problems.append(messages.UNKNOWN_KIND.format(where=where, kind=question.kind or "(none)",
                                                     kinds=", ".join(KINDS)))
        return problems
    problems += _missing_languages(question.text, languages, f"{where} text", required=True)
    problems += _missing_languages(question.help, languages, f"{where} help")
    if question.role is not None and question.role not in ROLES:
        problems.append(messages.UNKNOWN_ROLE.format(where=where, role=question.role, roles=", ".join(ROLES)))
    scale = question.scale
    if scale is not None:
        if scale.min >= scale.max:
            problems.append(messages.SCALE_MIN_NOT_BELOW_MAX.format(where=where, low=scale.min, high=scale.max))
        fixed = FIXED_SCALES.get(question.kind)
        if fixed and (scale.min, scale.max) != fixed:
            problems.append(messages.FIXED_SCALE.format(where=where, kind=question.kind, low=fixed[0], high=fixed[1]))
        if question.kind in ("rating", "matrix") and not scale.labels:
            problems.append(messages.SCALE_NEEDS_LABELS.format(where=where))
        if scale.labels:
            problems += [messages.MISSING_SCALE_LABEL.format(where=where, language=lang)
                         for lang in languages if lang not in scale.labels]
    if question.kind in CHOICE_KINDS and not question.choices:
        problems.append(messages.CHOICES_REQUIRED.format(where=where, kind=question.kind))
    if question.kind == "matrix" and not question.attributes:
        problems.append(messages.ATTRIBUTES_REQUIRED.format(where=where))
    for group, label in ((question.choices, "choice"), (question.attributes, "attribute")):
        values = [item.value for item in group]
        for duplicate in sorted({v for v in values if values.count(v) > 1}):
            problems.append(messages.DUPLICATE_CHOICE.format(where=where, what=label, value=duplicate))
        for item in group:
            problems += _missing_languages(item.label, languages, f"{where} {label} {item.value!r}", required=True)
    if question.kind == "text" and question.max_length is not None and question.max_length < 1:
        problems.append(messages.BAD_MAX_LENGTH.format(where=where, value=question.max_length))
    return problems


# --- YAML: read and write -------------------------------------------------------------------------


def loads_yaml(text: str, source: str = "<yaml>") -> Survey:
    """Parse YAML text into a validated Survey; DefinitionError names the source, key and line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DefinitionError([messages.YAML_SYNTAX.format(source=source, line=line, problem=problem)]) from None
    return from_dict(data, source, _question_lines(root))


def _question_lines(root: yaml.Node | None) -> dict[int, int]:
    """Line number (1-based) of each question in the YAML node tree, by position."""
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key_node, value_node in root.value:
        if key_node.value == "questions" and isinstance(value_node, yaml.SequenceNode):
            return {i: node.start_mark.line + 1 for i, node in enumerate(value_node.value)}
    return {}


def load_yaml(path: str | Path) -> Survey:
    """Read and validate a YAML definition file; errors name the file, key and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError([messages.CANNOT_READ.format(source=path, problem=error.strerror)]) from None
    except UnicodeDecodeError:
        raise DefinitionError([messages.NOT_UTF8.format(source=path)]) from None
    return loads_yaml(text, source=str(path))


def to_dict(survey: Survey) -> dict[str, Any]:
    """The canonical plain-data form of a survey (what YAML and the database store)."""
    data: dict[str, Any] = {
        "slug": survey.slug,
        "title": dict(survey.title),
        "languages": list(survey.languages),
        "anonymous": survey.anonymous,
        "touchpoint": survey.touchpoint,
    }
    if survey.intro:
        data["intro"] = dict(survey.intro)
    if survey.thank_you:
        data["thank_you"] = dict(survey.thank_you)
    if survey.layout != DEFAULT_LAYOUT:  # written only when chosen: older versions keep their stored form
        data["layout"] = survey.layout
    data["questions"] = [_question_dict(q) for q in survey.questions]
    return data


def _question_dict(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {"key": question.key, "kind": question.kind, "text": dict(question.text)}
    if question.required:
        data["required"] = True
    if question.help:
        data["help"] = dict(question.help)
    if question.show_if is not None:
        data["show_if"] = str(question.show_if)
    if question.role:
        data["role"] = question.role
    if question.group:
        data["group"] = question.group
    if question.scale is not None:
        data["scale"] = {"min": question.scale.min, "max": question.scale.max,
                         "labels": {lang: list(pair) for lang, pair in question.scale.labels.items()}}
    for name in ("choices", "attributes"):
        items = getattr(question, name)
        if items:
            data[name] = [{"value": c.value, "label": dict(c.label)} for c in items]
    if question.max_length is not None:
        data["max_length"] = question.max_length
    return data


def dumps_yaml(survey: Survey) -> str:
    """Human-editable YAML for a survey; `loads_yaml(dumps_yaml(s)) == s`."""
    return yaml.safe_dump(to_dict(survey), sort_keys=False, allow_unicode=True, width=100)


def with_questions(survey: Survey, questions: tuple[Question, ...]) -> Survey:
    """A copy of the survey with other questions (definitions are immutable)."""
    return replace(survey, questions=questions)
