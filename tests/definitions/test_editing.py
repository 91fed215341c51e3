"""Editing helpers: each returns a new Survey and leaves the old one as it was."""

from __future__ import annotations

import pytest

from survey.definitions.definition import Condition, load_yaml, validate
from survey.definitions.editing import (
    add_question, condition_values, delete_question, earlier_questions, missing_translations, move_question,
    new_question, replace_question, set_languages, set_text, text_items,
)
from tests.conftest import SAMPLE_SURVEYS

RELATIONSHIP = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")


def keys(survey) -> list[str]:
    return [q.key for q in survey.questions]


def test_add_move_delete_return_new_surveys_and_keep_the_original():
    added = add_question(RELATIONSHIP, new_question("csat", "speed", "Speed?", RELATIONSHIP.languages), position=1)
    assert keys(added)[:3] == ["recommend", "speed", "satisfaction"]
    assert keys(move_question(added, "speed", -5))[:2] == ["speed", "recommend"]  # clamped at the top
    assert keys(move_question(added, "speed", 100))[-1] == "speed"
    assert "speed" not in keys(delete_question(added, "speed"))
    assert "speed" not in keys(RELATIONSHIP)
    with pytest.raises(KeyError, match="no question 'nope'"):
        move_question(RELATIONSHIP, "nope", 1)


def test_a_new_question_in_a_two_language_survey_lists_its_missing_french():
    survey = add_question(RELATIONSHIP, new_question("single_choice", "visit", "Why?", RELATIONSHIP.languages))
    missing = missing_translations(survey)
    assert ("visit: text", "fr") in missing and ("visit: choice option_1", "fr") in missing
    assert all(label.startswith("visit") for label, _ in missing)
    assert missing_translations(RELATIONSHIP) == []


def test_renaming_a_question_renames_it_in_the_conditions_that_use_it():
    renamed = replace_question(RELATIONSHIP, "recommend",
                               RELATIONSHIP.question("recommend").__class__(**{**RELATIONSHIP.question("recommend").__dict__,
                                                                             "key": "nps"}))
    assert renamed.question("why_low").show_if == Condition("nps", "<=", 6)
    assert validate(renamed) == []


def test_deleting_a_question_a_condition_uses_leaves_a_validation_error():
    problems = validate(delete_question(RELATIONSHIP, "recommend"))
    assert any("unknown question 'recommend'" in p for p in problems)


def test_set_text_sets_each_kind_of_text_in_one_language():
    survey = set_text(RELATIONSHIP, ("question", "recommend", "text"), "fr", "Nous recommanderiez-vous ?")
    survey = set_text(survey, ("question", "recommend", "low"), "fr", "Jamais")
    survey = set_text(survey, ("question", "drivers", "attribute", "billing"), "fr", "Factures")
    survey = set_text(survey, ("thank_you",), "fr", "")
    recommend = survey.question("recommend")
    assert recommend.text["fr"] == "Nous recommanderiez-vous ?"
    assert recommend.scale.labels["fr"] == ("Jamais", "Très probable")
    assert [a.label["fr"] for a in survey.question("drivers").attributes][3] == "Factures"
    assert "fr" not in survey.thank_you and ("survey thank you", "fr") in missing_translations(survey)
    assert RELATIONSHIP.question("recommend").text["fr"].startswith("Quelle")


def test_text_items_cover_every_translatable_text():
    labels = [item.label for item in text_items(RELATIONSHIP)]
    assert labels[:3] == ["survey title", "survey intro", "survey thank you"]
    assert "recommend: low end label" in labels and "drivers: attribute delivery" in labels


def test_dropping_a_language_removes_its_wording_and_adding_one_lists_it_as_missing():
    english = set_languages(RELATIONSHIP, ("en",))
    assert validate(english) == [] and all("fr" not in q.text for q in english.questions)
    german = set_languages(RELATIONSHIP, ("en", "fr", "de"))
    assert {language for _, language in missing_translations(german)} == {"de"}


def test_conditions_offer_only_earlier_answerable_questions_and_their_values():
    earlier = earlier_questions(RELATIONSHIP, "comment")
    assert [q.key for q in earlier] == ["recommend", "satisfaction", "expectations", "ideal"]  # no text, no matrix
    assert condition_values(RELATIONSHIP.question("recommend")) == list(range(11))
    assert earlier_questions(RELATIONSHIP, "recommend") == ()
