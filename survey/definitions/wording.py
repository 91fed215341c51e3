"""Wording checks: warnings (never errors) about how questions are asked, per question key.

A survey with warnings can be published; these are the classic faults of questionnaire wording
that bias or muddle answers, shown beside the question in the designer.

| check            | warns when                                                                      |
|------------------|---------------------------------------------------------------------------------|
| `too_long`       | a question text has more than `MAX_WORDS` (25) words, in any language           |
| `double_barrelled` | a rated question (or a matrix row) joins two things with a conjunction of    |
|                  | `CONJUNCTIONS` ("and"/"or" in English): the answer cannot say which one it rates |
|                  | (standard wordings such as NPS's "a friend or colleague" excepted)             |
| `leading`        | the text holds a phrase of `LEADING_PHRASES` ("don't you agree"...)             |
| `duplicate`      | the text (first language, lower-cased, punctuation and spacing ignored) is the  |
|                  | same as an earlier question's, or similar with `difflib.SequenceMatcher.ratio()` |
|                  | >= `NEAR_DUPLICATE_RATIO` (0.85): twice the characters in common over the total |
| `no_end_labels`  | a rated question has a scale without end labels, so respondents must guess     |
|                  | which end is good                                                               |

Word lists exist for en, fr, de, es and nl; a language without a list is checked for length,
duplicates and end labels only.

Example:
    >>> from survey.definitions.definition import loads_yaml
    >>> s = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n"
    ...                "- {key: a, kind: csat, text: How satisfied are you with price and speed}")
    >>> [w.check for w in check_wording(s)["a"]]
    ['double_barrelled']
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from survey import messages
from survey.definitions.definition import RATED_KINDS, Question, Survey

MAX_WORDS = 25
NEAR_DUPLICATE_RATIO = 0.85
# Conjunctions that join two things in one rated question, per language (whole words only).
CONJUNCTIONS = {
    "en": ("and", "or"),
    "fr": ("et", "ou"),
    "de": ("und", "oder"),
    "es": ("y", "o", "e", "u"),
    "nl": ("en", "of"),
}
# Standard wordings whose conjunction joins two examples of one thing, not two questions (the NPS
# question's "a friend or colleague"): removed before looking for conjunctions.
STANDARD_PHRASES = {
    "en": ("friend or colleague",),
    "fr": ("ami ou un collègue", "ami ou collègue"),
    "de": ("freunden oder kollegen", "freund oder kollegen"),
    "es": ("amigo o colega",),
    "nl": ("vriend of collega",),
}
# Phrases that push the respondent towards an answer, per language (matched case-insensitively,
# with typographic apostrophes read as plain ones).
LEADING_PHRASES = {
    "en": ("don't you agree", "do you not agree", "wouldn't you agree", "would you not agree",
           "don't you think", "isn't it true", "surely", "as everyone knows", "most people agree"),
    "fr": ("n'êtes-vous pas d'accord", "ne pensez-vous pas", "ne trouvez-vous pas", "n'est-il pas vrai",
           "comme chacun sait"),
    "de": ("stimmen sie nicht zu", "finden sie nicht auch", "sicherlich"),
    "es": ("no está de acuerdo", "no cree que", "seguramente"),
    "nl": ("bent u het niet eens", "vindt u ook niet", "zeker weten"),
}


@dataclass(frozen=True)
class WordingWarning:
    """One warning about question `key`: which check, and a message saying what and why."""

    key: str
    check: str
    message: str


def _normalised(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w' -]+", " ", text).split())


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.replace("\u2019", "'"))


def check_question(question: Question, languages: tuple[str, ...]) -> list[WordingWarning]:
    """The warnings about one question on its own (length, two-in-one, leading, end labels)."""
    found: list[WordingWarning] = []
    key = question.key
    for language in languages:
        text = question.text.get(language, "")
        count = len(_words(text))
        if count > MAX_WORDS:
            found.append(WordingWarning(key, "too_long", messages.WORDING_TOO_LONG.format(
                language=language, words=count, limit=MAX_WORDS)))
        if question.kind in RATED_KINDS:
            rated = [text] + [item.label.get(language, "") for item in question.attributes]
            for wording in rated:
                stripped = _normalised(wording)
                for standard in STANDARD_PHRASES.get(language, ()):
                    stripped = stripped.replace(standard, " ")
                lowered = _words(stripped)
                joined = [word for word in CONJUNCTIONS.get(language, ()) if word in lowered]
                if joined:
                    found.append(WordingWarning(key, "double_barrelled", messages.WORDING_DOUBLE_BARRELLED.format(
                        language=language, word=joined[0], text=wording)))
        normalised = _normalised(text)
        for phrase in LEADING_PHRASES.get(language, ()):
            if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", normalised):
                found.append(WordingWarning(key, "leading", messages.WORDING_LEADING.format(
                    language=language, phrase=phrase)))
                break
    if question.scale is not None and not any(all(end.strip() for end in pair)
                                              for pair in question.scale.labels.values()):
        found.append(WordingWarning(key, "no_end_labels", messages.WORDING_NO_END_LABELS.format(
            low=question.scale.min, high=question.scale.max)))
    return found


def near_duplicates(survey: Survey) -> list[WordingWarning]:
    """A warning on each question whose first-language text repeats or nearly repeats an earlier one's."""
    language = survey.languages[0]
    found: list[WordingWarning] = []
    seen: list[tuple[str, str]] = []  # (key, normalised text)
    for question in survey.questions:
        text = _normalised(question.text.get(language, ""))
        if not text:
            continue
        for earlier_key, earlier in seen:
            ratio = difflib.SequenceMatcher(None, earlier, text).ratio()
            if ratio >= NEAR_DUPLICATE_RATIO:
                template = messages.WORDING_DUPLICATE if ratio == 1 else messages.WORDING_NEAR_DUPLICATE
                found.append(WordingWarning(question.key, "duplicate", template.format(
                    other=earlier_key, ratio=ratio)))
                break
        seen.append((question.key, text))
    return found


def check_wording(survey: Survey) -> dict[str, list[WordingWarning]]:
    """Every wording warning of the survey by question key (keys without warnings left out)."""
    by_key: dict[str, list[WordingWarning]] = {}
    for warning in [w for q in survey.questions for w in check_question(q, survey.languages)] + near_duplicates(survey):
        by_key.setdefault(warning.key, []).append(warning)
    return by_key
