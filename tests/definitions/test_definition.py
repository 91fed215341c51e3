"""Survey definitions: the YAML format round-trips, and every validation error names where it is."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from survey.definitions.definition import (
    Condition, DefinitionError, Question, Scale, Survey, dumps_yaml, load_yaml, loads_yaml,
)
from tests.conftest import SAMPLE_SURVEYS


def yaml_survey(questions: str, header: str = "slug: s\ntitle: S\n") -> str:
    return header + "questions:\n" + textwrap.indent(textwrap.dedent(questions).lstrip("\n"), "  ")


def problems_of(text: str, source: str = "form.yaml") -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        loads_yaml(text, source)
    return caught.value.problems


@pytest.mark.parametrize("path", sorted(SAMPLE_SURVEYS.glob("*.yaml")), ids=lambda p: p.name)
def test_sample_surveys_round_trip_through_yaml_without_loss(path):
    survey = load_yaml(path)
    dumped = dumps_yaml(survey)
    assert loads_yaml(dumped) == survey
    assert dumps_yaml(loads_yaml(dumped)) == dumped  # the dumped text is a fixed point


def test_round_trip_keeps_every_field_of_every_kind():
    survey = Survey(
        slug="all-kinds", title={"en": "All", "fr": "Tout"}, languages=("en", "fr"), anonymous=True,
        touchpoint="store visit", intro={"en": "Hi", "fr": "Salut"}, thank_you={"en": "Thanks", "fr": "Merci"},
        questions=(
            Question("q_nps", "nps", {"en": "R?", "fr": "R ?"}, required=True,
                     scale=Scale(0, 10, {"en": ("no", "yes"), "fr": ("non", "oui")})),
            Question("q_text", "text", {"en": "Why?", "fr": "Pourquoi ?"}, help={"en": "h", "fr": "a"},
                     show_if=Condition("q_nps", "<=", 6), max_length=500),
            Question("q_matrix", "matrix", {"en": "Rate", "fr": "Notez"}, role="driver",
                     scale=Scale(1, 5, {"en": ("bad", "good"), "fr": ("mal", "bien")}),
                     attributes=(__import__("survey.definitions.definition").definitions.definition.Choice("speed", {"en": "Speed", "fr": "Vitesse"}),)),
        ),
    )
    assert loads_yaml(dumps_yaml(survey)) == survey


def test_metric_is_declared_by_kind_not_guessed_from_the_scale():
    survey = loads_yaml(yaml_survey("""
        - {key: a, kind: rating, text: A, scale: {min: 0, max: 10, labels: [lo, hi]}}
        - {key: b, kind: nps, text: B}
    """))
    assert survey.question("a").metric == "rating"  # a 0-10 rating is not an NPS
    assert survey.question("b").metric == "nps"


def test_unknown_kind_names_file_key_and_line():
    problems = problems_of(yaml_survey("""
        - key: recommend
          kind: nps
          text: R
        - key: mood
          kind: smiley
          text: M
    """))
    assert problems == ["form.yaml: question 'mood' (line 7): unknown kind 'smiley' "
                        "(expected one of: nps, csat, ces, rating, index_item, matrix, single_choice, "
                        "multi_choice, text, integer, decimal, date, time, note)"]


def test_duplicate_key_is_reported_at_the_second_occurrence():
    problems = problems_of(yaml_survey("""
        - {key: q, kind: text, text: A}
        - {key: q, kind: text, text: B}
    """))
    assert problems == ["form.yaml: question 'q' (line 5): duplicate key 'q' (keys must be unique within a survey)"]


def test_condition_on_a_later_question_is_an_error():
    problems = problems_of(yaml_survey("""
        - {key: why, kind: text, text: Why, show_if: "score <= 6"}
        - {key: score, kind: nps, text: Score}
    """))
    assert problems == ["form.yaml: question 'why' (line 4): the display condition refers to 'score', "
                        "which comes later in the survey"]


def test_condition_on_an_unknown_question_is_an_error():
    problems = problems_of(yaml_survey("""
        - {key: why, kind: text, text: Why, show_if: "nothing == 1"}
    """))
    assert problems == ["form.yaml: question 'why' (line 4): the display condition refers to unknown question 'nothing'"]


def test_malformed_condition_names_the_expression():
    problems = problems_of(yaml_survey("""
        - {key: a, kind: nps, text: A}
        - {key: why, kind: text, text: Why, show_if: "a is low"}
    """))
    assert len(problems) == 1 and "question 'why' (line 5)" in problems[0] and "'a is low'" in problems[0]


@pytest.mark.parametrize("low, high", [(5, 5), (7, 1)])
def test_scale_min_not_below_max_is_an_error(low, high):
    problems = problems_of(yaml_survey(f"""
        - {{key: r, kind: rating, text: R, scale: {{min: {low}, max: {high}, labels: [a, b]}}}}
    """))
    assert problems == [f"form.yaml: question 'r' (line 4): scale min ({low}) must be below max ({high})"]


def test_missing_label_for_a_declared_language_is_an_error():
    problems = problems_of(yaml_survey("""
        - key: r
          kind: csat
          text: {en: Satisfied, fr: Satisfait}
          scale: {min: 1, max: 5, labels: {en: [no, yes]}}
        - key: c
          kind: single_choice
          text: {en: Pick, fr: Choisir}
          choices: [{value: a, label: {en: A}}]
    """, header="slug: s\ntitle: {en: S, fr: S}\nlanguages: [en, fr]\n"))
    assert problems == [
        "form.yaml: question 'r' (line 5): scale end labels missing for language 'fr'",
        "form.yaml: question 'c' (line 9) choice 'a': missing text for language 'fr'",
    ]


def test_missing_question_text_translation_is_an_error():
    problems = problems_of(yaml_survey("""
        - {key: q, kind: text, text: {en: Hello}}
    """, header="slug: s\ntitle: {en: S, de: S}\nlanguages: [en, de]\n"))
    assert problems == ["form.yaml: question 'q' (line 5) text: missing text for language 'de'"]


def test_nps_scale_cannot_be_redeclared():
    problems = problems_of(yaml_survey("""
        - {key: n, kind: nps, text: N, scale: {min: 1, max: 10}}
    """))
    assert problems == ["form.yaml: question 'n' (line 4): a nps question is always on the 0-10 scale"]


def test_every_problem_is_reported_at_once():
    problems = problems_of(yaml_survey("""
        - {key: a, kind: bogus, text: A}
        - {key: a, kind: single_choice, text: B}
        - {kind: text, text: C}
    """))
    assert len(problems) == 4  # unknown kind, duplicate key, missing choices, missing key
    assert any("question #3 (line 6): the question has no key" in p for p in problems)


def test_yaml_syntax_error_names_file_and_line():
    problems = problems_of("slug: s\ntitle: [unclosed\nquestions: []\n")
    assert len(problems) == 1 and problems[0].startswith("form.yaml (line 3): not valid YAML")


def test_unreadable_file_is_a_definition_error(tmp_path):
    with pytest.raises(DefinitionError, match="missing.yaml: cannot read the file"):
        load_yaml(tmp_path / "missing.yaml")


def test_conditions_compare_numbers_and_treat_unanswered_as_false():
    condition = Condition.parse("recommend <= 6")
    assert condition.holds({"recommend": 6}) and not condition.holds({"recommend": 7})
    assert not condition.holds({})
    assert Condition.parse("resolved = 'no'").holds({"resolved": "no"})


keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
wording = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(keys, min_size=1, max_size=6, unique=True), texts=st.lists(wording, min_size=6, max_size=6),
       lows=st.lists(st.integers(-5, 5), min_size=6, max_size=6), required=st.booleans())
def test_any_valid_rating_survey_round_trips(keys, texts, lows, required):
    questions = tuple(
        Question(key, "rating", {"en": texts[i]}, required=required,
                 scale=Scale(lows[i], lows[i] + 4, {"en": (texts[i], texts[-1])}))
        for i, key in enumerate(keys))
    survey = Survey(slug="generated", title={"en": texts[0]}, questions=questions)
    assert loads_yaml(dumps_yaml(survey)) == survey
