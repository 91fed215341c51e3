"""What changed between two definitions of a survey, and what that means for its trends.

Publishing a changed definition creates version N+1 and keeps every response with the version it
answered; `compare` tells the admin beforehand what will differ, question by question, and which
trends that breaks. A change has a `trend` note when it affects how answers before and after can be
compared:

| change                          | trend note                                                     |
|---------------------------------|----------------------------------------------------------------|
| question added / removed        | its series starts / ends at the new version                    |
| text reworded (any language)    | answers may not be comparable across the versions              |
| scale min/max, or kind changed  | the trend breaks: versions are shown separately                |
| choices or matrix rows changed  | shares before and after are not comparable                     |
| display condition changed       | the question is asked of other respondents                     |
| end labels changed              | answers may shift                                              |
| question order changed          | order effects                                                  |
| required, help text             | none (listed only)                                             |

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> old = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n- {key: a, kind: csat, text: Happy}")
    >>> new = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n"
    ...                  "- {key: a, kind: csat, text: Happy, scale: {min: 1, max: 7, labels: [No, Yes]}}")
    >>> [c.kind for c in compare(old, new)]
    ['scale', 'end_labels']
"""

from __future__ import annotations

from dataclasses import dataclass

from survey import messages
from survey.definitions.definition import Question, Survey


@dataclass(frozen=True)
class Change:
    """One difference: its kind, the question key ('' for the survey), a description, a trend note."""

    kind: str
    key: str
    description: str
    trend: str | None = None


def _scale_text(question: Question) -> str:
    return f"{question.scale.min}-{question.scale.max}" if question.scale is not None else "no scale"


def _question_changes(old: Question, new: Question) -> list[Change]:
    key = new.key
    found: list[Change] = []
    if old.kind != new.kind:
        trend = messages.TREND_KIND if old.metric != new.metric else messages.TREND_SCALE
        found.append(Change("kind", key, messages.CHANGE_KIND.format(key=key, old=old.kind, new=new.kind),
                            trend.format(key=key)))
    for language in sorted(set(old.text) | set(new.text)):
        before, after = old.text.get(language, ""), new.text.get(language, "")
        if before != after and before and after:
            found.append(Change("reworded", key, messages.CHANGE_REWORDED.format(
                key=key, language=language, old=before, new=after), messages.TREND_REWORDED.format(key=key)))
    if old.help != new.help:
        found.append(Change("help", key, messages.CHANGE_HELP.format(key=key)))
    if old.kind == new.kind and _scale_text(old) != _scale_text(new):
        found.append(Change("scale", key, messages.CHANGE_SCALE.format(
            key=key, old=_scale_text(old), new=_scale_text(new)), messages.TREND_SCALE.format(key=key)))
    if old.scale is not None and new.scale is not None and dict(old.scale.labels) != dict(new.scale.labels):
        found.append(Change("end_labels", key, messages.CHANGE_END_LABELS.format(key=key),
                            messages.TREND_END_LABELS.format(key=key)))
    for name, what in (("choices", "choices"), ("attributes", "matrix rows")):
        before = [item.value for item in getattr(old, name)]
        after = [item.value for item in getattr(new, name)]
        if before != after:
            added = ", ".join(v for v in after if v not in before) or "none"
            removed = ", ".join(v for v in before if v not in after) or "none"
            found.append(Change(name, key, messages.CHANGE_CHOICES.format(
                what=what, key=key, added=added, removed=removed), messages.TREND_CHOICES.format(what=what, key=key)))
    if old.show_if != new.show_if:
        found.append(Change("condition", key, messages.CHANGE_CONDITION.format(
            key=key, old=old.show_if or "always shown", new=new.show_if or "always shown"),
            messages.TREND_CONDITION.format(key=key)))
    if old.required != new.required:
        found.append(Change("required", key, messages.CHANGE_REQUIRED.format(
            key=key, state="required" if new.required else "optional")))
    return found


def compare(old: Survey, new: Survey) -> list[Change]:
    """Every difference from `old` (the published version) to `new` (the draft), in survey order:
    survey-level fields, then removed questions, then each question of `new` in turn."""
    found: list[Change] = []
    for field in ("title", "languages", "intro", "thank_you", "touchpoint", "anonymous"):
        if getattr(old, field) != getattr(new, field):
            found.append(Change("survey", "", messages.CHANGE_SURVEY_FIELD.format(field=field.replace("_", " "))))
    old_by_key = {q.key: q for q in old.questions}
    new_keys = {q.key for q in new.questions}
    for question in old.questions:
        if question.key not in new_keys:
            found.append(Change("removed", question.key, messages.CHANGE_REMOVED.format(key=question.key),
                                messages.TREND_REMOVED.format(key=question.key)))
    for question in new.questions:
        if question.key not in old_by_key:
            found.append(Change("added", question.key, messages.CHANGE_ADDED.format(key=question.key),
                                messages.TREND_ADDED.format(key=question.key)))
        else:
            found += _question_changes(old_by_key[question.key], question)
    kept_old = [q.key for q in old.questions if q.key in new_keys]
    kept_new = [q.key for q in new.questions if q.key in old_by_key]
    if kept_old != kept_new:
        found.append(Change("order", "", messages.CHANGE_ORDER, messages.TREND_ORDER))
    return found


def trend_notes(changes: list[Change]) -> list[str]:
    """The distinct trend notes of `changes`, in order: what the new version means for trends."""
    return list(dict.fromkeys(change.trend for change in changes if change.trend))
