"""Flagging: which answers of one response call for a follow-up, and why (pure functions, no database).

A rule applies to a question because of its declared kind (`nps`, `csat`, `ces`, `index_item`),
never because of the shape of its scale; thresholds come from the rules file
(`survey.followup.settings`).

| rule                | fires when                                                                   |
|---------------------|------------------------------------------------------------------------------|
| nps_detractor       | an NPS answer at or below `max_score` (0-6)                                  |
| csat_bottom         | a CSAT answer in the bottom `bottom_points` of its scale (1-2 on 1-5)        |
| ces_bottom          | a CES answer in the bottom `bottom_points` of its scale (1-3 on 1-7)         |
| index_item_low      | a satisfaction-index item at or below `max_score` (4)                        |
| score_drop          | any rated answer `min_drop` (3) or more below the customer's previous answer |
| negative_comment    | a text answer holding a word or phrase of the response language's list      |
| silent_dissatisfied | one of the first four rules fired and the response has no comment at all     |

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> from survey.followup.settings import load_settings
    >>> survey = loads_yaml('''
    ... slug: s
    ... title: S
    ... questions:
    ...   - {key: recommend, kind: nps, text: Recommend}
    ...   - {key: comment, kind: text, text: Why}
    ... ''')
    >>> [f.rule for f in evaluate(survey, {"recommend": 3}, {}, {}, "en", load_settings())]
    ['nps_detractor', 'silent_dissatisfied']
    >>> [f.rule for f in evaluate(survey, {"recommend": 9}, {"comment": "Delivery was late"}, {}, "en",
    ...                           load_settings())]
    ['negative_comment']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from survey.definitions.definition import Question, Survey, per_definition
from survey.followup.settings import SCORE_RULES, FollowUpSettings

HEADLINE_KINDS = ("nps", "csat", "ces", "index_item")  # the score recovery is measured on, in this order


@dataclass(frozen=True)
class Flag:
    """One rule that fired on a response: which, on which question, the score (if any) and a short why."""

    rule: str
    question_key: str
    score: float | None = None
    detail: str = ""

    @property
    def is_low_score(self) -> bool:
        return self.rule in SCORE_RULES


def _rated_keys(survey: Survey) -> list[tuple[str, Question]]:
    return [(key, question) for question in survey.questions if question.scale is not None
            for key in question.answer_keys]


def low_score_threshold(question: Question, settings: FollowUpSettings) -> tuple[str, float] | None:
    """(rule, highest flagged score) for a question a score rule applies to, else None."""
    scale = question.scale
    if scale is None:
        return None
    if question.kind == "nps":
        return "nps_detractor", settings.nps_detractor_max
    if question.kind == "csat":
        return "csat_bottom", scale.min + settings.csat_bottom_points - 1
    if question.kind == "ces":
        return "ces_bottom", scale.min + settings.ces_bottom_points - 1
    if question.kind == "index_item":
        return "index_item_low", settings.index_item_max
    return None


def enabled_low_score_threshold(question: Question, settings: FollowUpSettings) -> tuple[str, float] | None:
    """`low_score_threshold` when that rule is enabled in `settings`, else None."""
    threshold = low_score_threshold(question, settings)
    return threshold if threshold is not None and threshold[0] in settings.enabled else None


@dataclass(frozen=True)
class _Plan:
    """What the rules look at in one survey under one set of settings, worked out once: a flagging
    run evaluates thousands of responses to the same survey."""

    score_rules: tuple[tuple[Question, str, float], ...]  # (question, rule, highest flagged score)
    rated_keys: tuple[str, ...]  # every answer key with a scale, matrix rows included
    comment_keys: tuple[str, ...]  # the text questions


@per_definition
def _plan(survey: Survey, settings: FollowUpSettings) -> _Plan:
    score_rules = []
    for question in survey.questions:
        threshold = enabled_low_score_threshold(question, settings)
        if threshold is not None:
            score_rules.append((question, *threshold))
    return _Plan(tuple(score_rules), tuple(key for key, _ in _rated_keys(survey)),
                 tuple(q.key for q in survey.questions if q.kind == "text"))


def low_scores(survey: Survey, numeric: Mapping[str, float], settings: FollowUpSettings) -> list[Flag]:
    """The score-rule flags of one response (NPS detractor, bottom CSAT/CES, low index items)."""
    return _low_scores(_plan(survey, settings), numeric)


def _low_scores(plan: _Plan, numeric: Mapping[str, float]) -> list[Flag]:
    flags = []
    for question, rule, highest in plan.score_rules:
        value = numeric.get(question.key)
        if value is not None and value <= highest:
            flags.append(Flag(rule, question.key, float(value), f"{question.kind} {value:g} (at most {highest:g})"))
    return flags


@lru_cache(maxsize=64)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def negative_words_in(text: str, language: str, settings: FollowUpSettings) -> list[str]:
    """The negative words or phrases of `language`'s list found in `text` (case-insensitive, whole words)."""
    pattern = _word_pattern(settings.words(language))
    if pattern is None or not text:
        return []
    return sorted({match.group(0).casefold() for match in pattern.finditer(text.casefold())})


def evaluate(survey: Survey, numeric: Mapping[str, float], texts: Mapping[str, str],
             previous: Mapping[str, float], language: str, settings: FollowUpSettings) -> list[Flag]:
    """Every flag for one response: `numeric` rated answers and `texts` text answers by answer key,
    `previous` the customer's previous rated answers to the same survey by answer key."""
    plan = _plan(survey, settings)
    flags = _low_scores(plan, numeric)
    if "score_drop" in settings.enabled and previous:
        for key in plan.rated_keys:
            now, before = numeric.get(key), previous.get(key)
            if now is not None and before is not None and before - now >= settings.min_drop:
                flags.append(Flag("score_drop", key, float(now), f"{before:g} -> {now:g}"))
    comments = {key: texts.get(key, "") for key in plan.comment_keys}
    if "negative_comment" in settings.enabled:
        for key, text in comments.items():
            found = negative_words_in(text, language, settings)
            if found:
                flags.append(Flag("negative_comment", key, None, ", ".join(found)[:300]))
    has_low = any(f.is_low_score for f in flags)
    if "silent_dissatisfied" in settings.enabled and has_low and not any(t.strip() for t in comments.values()):
        first = next(f for f in flags if f.is_low_score)
        flags.append(Flag("silent_dissatisfied", first.question_key, first.score, "a low score and no comment"))
    return flags


def headline(survey: Survey, numeric: Mapping[str, float], flags: list[Flag]) -> tuple[str, float] | None:
    """The question and score a case's recovery is measured on: the first low-score flag, else the
    response's first answered NPS, CSAT, CES or index question, else the first flag with a score."""
    for flag in flags:
        if flag.is_low_score and flag.score is not None:
            return flag.question_key, flag.score
    for kind in HEADLINE_KINDS:
        for question in survey.questions:
            if question.kind == kind and numeric.get(question.key) is not None:
                return question.key, float(numeric[question.key])
    for flag in flags:
        if flag.score is not None:
            return flag.question_key, flag.score
    return None


def severity(survey: Survey, flags: list[Flag]) -> float | None:
    """The lowest flagged score as a share of its scale (0 = the bottom point), over low-score flags."""
    shares = []
    for flag in flags:
        if not flag.is_low_score or flag.score is None:
            continue
        scale = survey.question(flag.question_key).scale
        shares.append((flag.score - scale.min) / (scale.max - scale.min))
    return min(shares) if shares else None
