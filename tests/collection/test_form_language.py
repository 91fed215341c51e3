"""One catalogue for the words around the questions: every language holds every phrase, with the
same placeholders, and every problem code the rule book reports has its phrase. (The browser test
tests/app/test_form_browser.py checks that French and German screens show no English word.)"""

from __future__ import annotations

import re
import string

import pytest

from survey import messages
from tests.conftest import ROOT

LANGUAGES = ("en", "fr", "de", "es", "nl")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_phrase_with_the_same_placeholders(language):
    english, local = messages.RESPONDENT_PHRASES["en"], messages.RESPONDENT_PHRASES[language]
    assert set(local) == set(english)
    assert {k: placeholders(v) for k, v in local.items()} == {k: placeholders(v) for k, v in english.items()}
    assert set(messages.RESPONDENT_PROBLEMS[language]) == set(messages.RESPONDENT_PROBLEMS["en"])
    if language != "en":  # translated, not copied (the scale's "0 = a · 10 = b" has no words)
        copied = [k for k, v in local.items() if v == english[k] and re.search(r"[^\W\d_]{3,}", re.sub(r"\{[^}]*\}", "", v))]
        assert copied == []


def test_every_problem_code_the_rule_book_reports_has_a_phrase():
    # every code raised or reported in collect.py, found in its source so a new one cannot be missed
    source = (ROOT / "survey" / "collection" / "collect.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'_AnswerError\("([a-z_]+)"', source)) | set(re.findall(r'Problem\([^)]*?"([a-z_]+)"\)', source))
    answerable = codes - {"unknown_question", "not_answerable"}  # the form never posts either
    assert {"required", "incomplete", "out_of_range", "too_long"} <= answerable
    for language in LANGUAGES:
        assert answerable - set(messages.RESPONDENT_PROBLEMS[language]) == set(), language
        assert "invalid" in messages.RESPONDENT_PROBLEMS[language]
