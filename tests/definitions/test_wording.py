"""Wording checks: each check with a question that trips it and one that does not."""

from __future__ import annotations

import pytest

from survey.definitions.definition import Choice, Question, Scale, Survey
from survey.definitions.wording import MAX_WORDS, check_wording

LABELS = {"en": ("Very poor", "Excellent")}


def survey_of(*questions: Question, languages=("en",)) -> Survey:
    return Survey(slug="s", title={lang: "S" for lang in languages}, questions=questions, languages=languages)


def rating(key: str, text: str, labels=LABELS, kind: str = "rating") -> Question:
    return Question(key=key, kind=kind, text={"en": text}, scale=Scale(1, 5, labels))


def checks(survey: Survey) -> dict[str, list[str]]:
    return {key: [w.check for w in warnings] for key, warnings in check_wording(survey).items()}


def test_a_question_over_25_words_is_too_long_and_one_of_25_is_not():
    long_text = " ".join(["word"] * (MAX_WORDS + 1))
    short_text = " ".join(["other"] * MAX_WORDS)
    found = check_wording(survey_of(Question("a", "text", {"en": long_text}), Question("b", "text", {"en": short_text})))
    assert [w.check for w in found["a"]] == ["too_long"] and "26 words" in found["a"][0].message
    assert "b" not in found


@pytest.mark.parametrize("text, warned", [
    ("How satisfied are you with our prices and our delivery?", True),
    ("Was the staff friendly or helpful?", True),
    ("How satisfied are you with our delivery?", False),
    ("How likely are you to recommend us to a friend or colleague?", False),  # the standard NPS wording
    ("How would you rate the brandy?", False),  # 'and' inside a word is no conjunction
])
def test_and_or_in_a_rated_question_asks_two_things(text, warned):
    assert ("double_barrelled" in checks(survey_of(rating("q", text))).get("q", [])) == warned


def test_and_in_a_free_text_question_is_fine_but_in_a_matrix_row_it_is_not():
    text_question = Question("why", "text", {"en": "What did you like and dislike?"})
    matrix = Question("rows", "matrix", {"en": "Rate each"}, scale=Scale(1, 5, LABELS),
                      attributes=(Choice("speed", {"en": "Speed and price"}),))
    assert checks(survey_of(text_question, matrix)) == {"rows": ["double_barrelled"]}


def test_french_conjunctions_are_checked_in_french():
    question = Question("q", "csat", {"en": "How satisfied are you with the price?",
                                      "fr": "Êtes-vous satisfait du prix et du délai ?"},
                        scale=Scale(1, 5, {"en": ("Bad", "Good"), "fr": ("Mauvais", "Bon")}))
    found = check_wording(survey_of(question, languages=("en", "fr")))["q"]
    assert [(w.check, w.message[:4]) for w in found] == [("double_barrelled", "[fr]")]


@pytest.mark.parametrize("text, warned", [
    ("Don't you agree that our service is excellent?", True),
    ("Surely you were pleased with the result?", True),
    ("Wouldn\u2019t you agree the staff were helpful?", True),  # typographic apostrophe
    ("Do you agree that the service was quick?", False),
])
def test_leading_wording_is_flagged(text, warned):
    assert ("leading" in checks(survey_of(Question("q", "text", {"en": text}))).get("q", [])) == warned


def test_duplicate_and_near_duplicate_questions_are_flagged_on_the_later_one():
    found = check_wording(survey_of(
        rating("a", "How satisfied are you with our delivery?"),
        rating("b", "How satisfied are you with our delivery?"),
        rating("c", "How satisfied were you with our delivery?"),
        rating("d", "How easy was it to reach us by phone?"),
    ))
    assert [w.message for w in found["b"]] == ["the same question as 'a'"]
    assert found["c"][0].check == "duplicate" and "nearly the same question as 'a'" in found["c"][0].message
    assert "a" not in found and "d" not in found


def test_a_scale_without_end_labels_is_flagged():
    found = checks(survey_of(rating("bare", "How was it?", labels={}), rating("labelled", "How was it today?")))
    assert found == {"bare": ["no_end_labels"]}


def test_the_templates_and_samples_have_no_wording_warnings():
    from survey.definitions.templates import templates

    assert {t.name: check_wording(t.survey) for t in templates()} == {t.name: {} for t in templates()}


