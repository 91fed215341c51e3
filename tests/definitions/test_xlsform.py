"""XLSForm import: real pyxform forms import or fail row by row, and every mapping rule holds.

The fixtures in tests/fixtures/xlsform/ come from the pyxform project (BSD licence, kept beside them
in LICENSE-pyxform.txt). Their expected outcomes below were worked out by opening each sheet with
openpyxl and applying the mapping rules in survey/definitions/xlsform.py's docstring.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook

from survey.definitions.definition import Condition, DefinitionError, dumps_yaml, loads_yaml, to_dict
from survey.definitions.xlsform import XLSFormError, XLSFormResult, normalise, read_workbook, read_xlsform
from tests.conftest import ROOT, SAMPLE_SURVEYS

FIXTURES = ROOT / "tests" / "fixtures" / "xlsform"
STORE_VISIT = SAMPLE_SURVEYS / "store_visit.xlsx"


# --- helpers ---------------------------------------------------------------------------------------


def make_xlsform(directory: Path, survey: list[list], choices: list[list] | None = None,
                 settings_rows: list[list] | None = None, name: str = "form.xlsx") -> Path:
    """Write a workbook whose sheets hold these rows (the first row of each is the header)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings_rows)):
        if rows is not None:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(row)
    path = directory / name
    book.save(path)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(path)
    return caught.value.problems


def only_problem(path: Path) -> str:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def rows_named(messages: list[str], sheet: str = "survey") -> set[int]:
    return {int(n) for n in re.findall(rf", {sheet} sheet, row (\d+):", "\n".join(messages))}


YES_NO = [["list_name", "name", "label"], ["yes_no", "yes", "Yes"], ["yes_no", "no", "No"]]
HEADER = ["type", "name", "label"]


# --- the shared pyxform fixtures -------------------------------------------------------------------


@dataclass(frozen=True)
class Imports:
    keys: tuple[str, ...]
    kinds: tuple[str, ...]
    languages: tuple[str, ...]
    warned_rows: tuple[int, ...] = ()  # survey-sheet rows skipped or changed with a warning


@dataclass(frozen=True)
class Fails:
    survey_rows: frozenset[int] = frozenset()   # every survey-sheet row named (exactly)
    choices_rows: frozenset[int] = frozenset()  # every choices-sheet row named (exactly)
    missing_sheet: bool = False


EXPECTED = {
    # SURVEY/CHOICES/SETTINGS sheets and LABEL::EN columns in capitals; q2 (select_one_external)
    # and q3 (osm) cannot be represented and are skipped with warnings.
    "case_insensitivity.xlsx": Imports(("q1",), ("single_choice",), ("en",), warned_rows=(3, 4)),
    # Cascading selects: choice_filter on rows 3 and 4, and 'king' twice in list counties.
    "choice_filter_test.xlsx": Fails(survey_rows=frozenset({3, 4}), choices_rows=frozenset({6})),
    # 6,587 mostly empty columns and 513 rows around one text question.
    "extra_columns.xlsx": Imports(("a",), ("text",), ("en",)),
    # A group (closed with end_group) flattened around one select; plain choice labels are English.
    "field-list.xlsx": Imports(("table_list_question",), ("single_choice",), ("english",)),
    # label:English (en) -> 'en'; 'phone number' (row 4) and an integer without metric (row 5) skipped.
    "group.xlsx": Imports(("family_name",), ("text",), ("en",), warned_rows=(4, 5)),
    # select one from sexes or specify other -> 'other' becomes a plain choice, with a warning.
    "specify_other.xlsx": Imports(("sex",), ("single_choice",), ("english",), warned_rows=(2,)),
    # The only sheet is 'Sheet1'.
    "survey_no_name.xlsx": Fails(missing_sheet=True),
    # The integer question has no metric column: skipped with a warning.
    "text_and_integer.xlsx": Imports(("your_name",), ("text",), ("english",), warned_rows=(3,)),
    # The kitchen sink: a complex group relevant (row 3), a repeat (row 15), names with hyphens,
    # labels missing in Chinese, choices a/b without any label.
    "xlsform_spec_test.xlsx": Fails(
        survey_rows=frozenset({2, 3, 4, 6, 11, 12, 15, 17, 18, 21, 22, 25, 27, 28, 54, 55}),
        choices_rows=frozenset({4, 5}),
    ),
    # The old 'select one from LIST' syntax and 'list name' column.
    "yes_or_no_question.xlsx": Imports(("good_day",), ("single_choice",), ("english",)),
}


def test_every_shared_fixture_has_an_expected_outcome_and_its_licence():
    assert sorted(p.name for p in FIXTURES.glob("*.xlsx")) == sorted(EXPECTED)
    assert "Redistribution and use" in (FIXTURES / "LICENSE-pyxform.txt").read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pyxform_fixture_imports_or_fails_row_by_row(name):
    expected = EXPECTED[name]
    path = FIXTURES / name
    if isinstance(expected, Imports):
        result = read_xlsform(path)
        assert tuple(q.key for q in result.survey.questions) == expected.keys
        assert tuple(q.kind for q in result.survey.questions) == expected.kinds
        assert result.survey.languages == expected.languages
        assert rows_named(result.warnings) == set(expected.warned_rows)
        assert all(f"{name}, survey sheet, row " in warning for warning in result.warnings)
        assert loads_yaml(dumps_yaml(result.survey)) == result.survey  # a sound, publishable definition
        return
    problems = problems_of(path)
    if expected.missing_sheet:
        assert problems == [f"{name}: the workbook has no sheet named 'survey' (sheets found: 'Sheet1')"]
        return
    assert all(re.search(rf"^{re.escape(name)}, (survey|choices) sheet, row \d+: ", p) for p in problems), problems
    assert rows_named(problems, "survey") == expected.survey_rows
    assert rows_named(problems, "choices") == expected.choices_rows


def test_fixture_choices_and_languages_come_through_intact():
    field_list = read_xlsform(FIXTURES / "field-list.xlsx").survey.question("table_list_question")
    assert [(c.value, dict(c.label)) for c in field_list.choices] == [
        ("yes", {"english": "Yes"}), ("no", {"english": "No"})]  # Chinese is not a survey language
    assert field_list.help == {"english": "hint"}
    other = read_xlsform(FIXTURES / "specify_other.xlsx").survey.question("sex")
    assert [c.value for c in other.choices] == ["male", "female", "other"]
    case = read_xlsform(FIXTURES / "case_insensitivity.xlsx").survey
    assert (case.slug, case.title) == ("YesNo", {"en": "Yes or no"})


def test_spec_fixture_names_the_repeat_and_the_complex_group_condition():
    problems = problems_of(FIXTURES / "xlsform_spec_test.xlsx")
    assert any(p.startswith("xlsform_spec_test.xlsx, survey sheet, row 15: 'begin repeat' 'repeat_test'")
               for p in problems)
    assert any(p.startswith("xlsform_spec_test.xlsx, survey sheet, row 3: relevant \"not(selected(") for p in problems)
    assert ("xlsform_spec_test.xlsx, survey sheet, row 21: question 'label-test': key 'label-test' must start "
            "with a letter and hold only letters, digits and _") in problems
    assert ("xlsform_spec_test.xlsx, choices sheet, row 4: choice 'a' of list 'a_b' has no label for "
            "language 'english'") in problems


# --- the sample store-visit form -------------------------------------------------------------------


def test_store_visit_sample_imports_with_declared_metrics_two_languages_and_conditions():
    result = read_xlsform(STORE_VISIT)
    survey = result.survey
    assert result.warnings == []
    assert (survey.slug, survey.languages) == ("store_visit", ("en", "es"))
    assert survey.title == {"en": "Your visit to our store", "es": "Su visita a nuestra tienda"}
    assert [(q.key, q.kind) for q in survey.questions] == [
        ("visit_reason", "single_choice"), ("satisfaction", "csat"), ("effort", "ces"),
        ("found_everything", "single_choice"), ("missing_items", "text"), ("recommend", "nps"),
        ("improve", "text"),
    ]
    assert [q.key for q in survey.metric_questions("nps")] == ["recommend"]
    assert survey.question("satisfaction").scale.labels["es"] == ("Muy insatisfecho", "Muy satisfecho")
    assert (survey.question("effort").scale.min, survey.question("effort").scale.max) == (1, 7)
    assert (survey.question("recommend").scale.min, survey.question("recommend").scale.max) == (0, 10)
    assert survey.question("missing_items").show_if == Condition("found_everything", "==", "no")
    assert survey.question("improve").show_if == Condition("recommend", "<=", 6)
    assert survey.question("missing_items").help["es"] == "Nombres de productos o secciones"
    assert [c.value for c in survey.question("visit_reason").choices] == ["purchase", "return", "pickup", "browse"]
    assert survey.question("recommend").required and not survey.question("improve").required


def test_store_visit_sample_is_what_its_builder_script_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("builder", SAMPLE_SURVEYS / "build_store_visit_xlsx.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    rebuilt = builder.build(tmp_path / "store_visit.xlsx")
    assert read_xlsform(rebuilt).survey == read_xlsform(STORE_VISIT).survey


def test_normalise_produces_the_canonical_plain_data_of_the_survey():
    survey = read_xlsform(STORE_VISIT).survey
    assert normalise(read_workbook(STORE_VISIT)).data == to_dict(survey)


# --- metric column ---------------------------------------------------------------------------------


def test_metric_column_declares_the_kind_of_integer_questions(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label", "metric", "scale_min", "scale_max", "min_label", "max_label"],
        ["integer", "rec", "Recommend?", "nps"],
        ["integer", "sat", "Satisfied?", "CSAT"],
        ["integer", "easy", "Easy?", "ces"],
        ["integer", "stars", "Stars?", "rating", 1, 5, "Poor", "Great"],
        ["integer", "trust", "Trust?", "index_item"],
    ])
    survey = read_xlsform(path).survey
    assert [(q.kind, q.metric) for q in survey.questions] == [
        ("nps", "nps"), ("csat", "csat"), ("ces", "ces"), ("rating", "rating"), ("index_item", "index")]
    assert [(q.scale.min, q.scale.max) for q in survey.questions] == [(0, 10), (1, 5), (1, 7), (1, 5), (1, 10)]
    assert survey.question("stars").scale.labels == {"en": ("Poor", "Great")}
    assert survey.question("sat").scale.labels == {"en": ("Very dissatisfied", "Very satisfied")}  # default


def test_integer_with_scale_columns_but_no_metric_is_a_rating(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label", "scale_min", "scale_max", "min_label", "max_label"],
        ["integer", "quality", "Quality?", 0, 4, "Bad", "Good"],
    ])
    question = read_xlsform(path).survey.question("quality")
    assert (question.kind, question.scale.min, question.scale.max) == ("rating", 0, 4)


def test_integer_without_metric_is_skipped_with_a_warning_naming_the_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["text", "name_q", "Name?"], ["integer", "age", "Age?"],
                                   ["decimal", "spend", "Spend?"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["name_q"]
    assert result.warnings[0].startswith("form.xlsx, survey sheet, row 3: integer question 'age' has no metric")
    assert result.warnings[1] == ("form.xlsx, survey sheet, row 4: decimal question 'spend' cannot be "
                                  "represented as a rated question; skipped")


@pytest.mark.parametrize("row, message", [
    (["text", "q", "Q?", "nps"], "row 2: the metric column applies to integer questions, not to 'text'"),
    (["select_one yes_no", "q", "Q?", "csat"], "row 2: the metric column applies to integer questions"),
    (["integer", "q", "Q?", "happiness"], "row 2: unknown metric 'happiness' (expected one of: nps, csat"),
])
def test_misplaced_or_unknown_metric_is_an_error_naming_the_row(tmp_path, row, message):
    path = make_xlsform(tmp_path, [HEADER + ["metric"], row], YES_NO)
    assert message in only_problem(path)


def test_rating_scale_problems_name_the_row(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label", "metric", "scale_min", "scale_max", "min_label", "max_label"],
        ["text", "intro", "Hello"],
        ["integer", "stars", "Stars?", "rating", 1, 5],
        ["integer", "rec", "Rec?", "nps", 1, 5, "lo", "hi"],
        ["integer", "sat", "Sat?", "csat", None, None, "Only the low end"],
    ])
    problems = problems_of(path)
    assert problems == [
        "form.xlsx, survey sheet, row 3: question 'stars': a rating scale needs end labels (scale.labels)",
        "form.xlsx, survey sheet, row 4: question 'rec': a nps question is always on the 0-10 scale",
        "form.xlsx, survey sheet, row 5: min_label and max_label go together; only min_label is given "
        "for language 'en'",
    ]


# --- groups ------------------------------------------------------------------------------------------


def test_groups_are_flattened_and_their_relevant_applies_to_each_question(tmp_path):
    path = make_xlsform(tmp_path, [
        HEADER + ["relevant"],
        ["select_one yes_no", "visited", "Visited?"],
        ["begin group", "visit", "About the visit", "${visited} = 'yes'"],
        ["text", "where", "Where?"],
        ["begin_group", "inner", None],
        ["text", "when", "When?"],
        ["end_group"],
        ["end group", "visit"],
        ["text", "other", "Anything else?"],
    ], YES_NO)
    survey = read_xlsform(path).survey
    assert [q.key for q in survey.questions] == ["visited", "where", "when", "other"]
    assert [str(q.show_if) if q.show_if else None for q in survey.questions] == [
        None, "visited == yes", "visited == yes", None]


def test_question_with_its_own_and_its_group_relevant_is_an_error_naming_both_rows(tmp_path):
    path = make_xlsform(tmp_path, [
        HEADER + ["relevant"],
        ["integer", "score", "Score?"] + [None],
        ["select_one yes_no", "visited", "Visited?"],
        ["begin group", "visit", None, "${visited} = 'yes'"],
        ["text", "where", "Where?", "${visited} != 'no'"],
        ["end group"],
    ], YES_NO)
    problem = only_problem(path)
    assert problem.startswith("form.xlsx, survey sheet, row 5: question 'where' has a relevant of its own "
                              "and from its group (row 4)")


@pytest.mark.parametrize("rows, row, text", [
    ([["end group"]], 2, "'end group' without a matching 'begin group'"),
    ([["begin group", "g"], ["text", "t", "T"]], 2, "'begin group' 'g' is never closed"),
    ([["begin repeat", "r", "R"], ["text", "t", "T"], ["end repeat"]], 2,
     "'begin repeat' 'r' cannot be represented"),
    ([["begin group", "g"], ["text", "t", "T"], ["end repeat"], ["end group"]], 4,
     "'end repeat' without a matching 'begin repeat'"),
])
def test_repeats_and_unbalanced_groups_are_errors_naming_the_row(tmp_path, rows, row, text):
    path = make_xlsform(tmp_path, [HEADER, *rows, ["text", "last", "Last?"]])
    assert only_problem(path).startswith(f"form.xlsx, survey sheet, row {row}: {text}")


# --- languages -------------------------------------------------------------------------------------


def test_label_language_columns_become_languages_with_the_default_first(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label::English (en)", "label::Español (es)", "hint::English (en)", "hint::Español (es)"],
        ["select_one yes_no", "ok", "OK?", "¿Bien?", "Pick one", "Elija una"],
    ], [
        ["list_name", "name", "label::English (en)", "label::Español (es)"],
        ["yes_no", "yes", "Yes", "Sí"],
        ["yes_no", "no", "No", "No"],
    ], [["form_title", "default_language"], ["Check", "Español (es)"]])
    survey = read_xlsform(path).survey
    question = survey.question("ok")
    assert survey.languages == ("es", "en")
    assert question.text == {"en": "OK?", "es": "¿Bien?"}
    assert question.help == {"en": "Pick one", "es": "Elija una"}
    assert question.choices[0].label == {"en": "Yes", "es": "Sí"}
    assert survey.title == {"es": "Check", "en": "Check"}


def test_plain_label_column_is_in_the_default_language(tmp_path):
    path = make_xlsform(tmp_path, [["type", "name", "label", "label::fr"], ["text", "q", "Name?", "Nom ?"]],
                        settings_rows=[["default_language"], ["en"]])
    survey = read_xlsform(path).survey
    assert survey.languages == ("en", "fr")
    assert survey.question("q").text == {"en": "Name?", "fr": "Nom ?"}


def test_older_single_colon_language_columns_are_understood(tmp_path):
    path = make_xlsform(tmp_path, [["type", "name", "label:Deutsch (de)"], ["text", "q", "Name?"]])
    assert read_xlsform(path).survey.languages == ("de",)


def test_missing_translations_name_the_survey_and_choices_rows(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label::en", "label::es"],
        ["text", "a", "A?", "¿A?"],
        ["select_one yes_no", "b", "B?"],
    ], [["list_name", "name", "label::en", "label::es"], ["yes_no", "yes", "Yes", "Sí"], ["yes_no", "no", "No"]])
    assert problems_of(path) == [
        "form.xlsx, survey sheet, row 3: question 'b' text: missing text for language 'es'",
        "form.xlsx, choices sheet, row 3: choice 'no' of list 'yes_no' has no label for language 'es'",
    ]


def test_column_and_sheet_names_are_case_insensitive(tmp_path):
    book = Workbook()
    book.active.title = "Survey"
    book.active.append(["TYPE", "Name", "LABEL::EN", "Required", "HINT"])
    book.active.append(["select_one yn", "q", "Q?", "YES", "H"])
    choices = book.create_sheet("CHOICES")
    choices.append(["List Name", "NAME", "Label::En"])
    choices.append(["yn", "y", "Y"])
    path = tmp_path / "caps.xlsx"
    book.save(path)
    question = read_xlsform(path).survey.question("q")
    assert (question.kind, question.required, question.help, question.choices[0].label) == (
        "single_choice", True, {"en": "H"}, {"en": "Y"})


# --- relevant -> show_if ---------------------------------------------------------------------------


@pytest.mark.parametrize("relevant, condition", [
    ("${score} <= 6", Condition("score", "<=", 6)),
    ("${score}>=9", Condition("score", ">=", 9)),
    ("${score} < 7.5", Condition("score", "<", 7.5)),
    ("${score} > -1", Condition("score", ">", -1)),
    ("${reason} = 'price'", Condition("reason", "==", "price")),
    ('${reason} != "price"', Condition("reason", "!=", "price")),
    ("selected(${reason}, 'price')", Condition("reason", "==", "price")),
])
def test_simple_relevant_becomes_the_display_condition(tmp_path, relevant, condition):
    path = make_xlsform(tmp_path, [
        HEADER + ["relevant", "metric"],
        ["integer", "score", "Score?", None, "nps"],
        ["select_one reasons", "reason", "Why?"],
        ["text", "more", "Tell us more", relevant],
    ], [["list_name", "name", "label"], ["reasons", "price", "Price"], ["reasons", "staff", "Staff"]])
    assert read_xlsform(path).survey.question("more").show_if == condition


@pytest.mark.parametrize("relevant", [
    "${score} <= 6 and ${score} > 2",
    "${score} = 1 or ${score} = 2",
    "not(selected(${score}, '1'))",
    "string-length(${score}) > 0",
    "${score} = yes",          # an unquoted word is an XPath path, not a value
    "${score} = ''",           # 'is unanswered' cannot be expressed
    "${score} = ${other}",
    "6 >= ${score}",
])
def test_unrepresentable_relevant_is_an_error_naming_the_row(tmp_path, relevant):
    path = make_xlsform(tmp_path, [HEADER + ["relevant", "metric"],
                                   ["integer", "score", "Score?", None, "nps"],
                                   ["text", "more", "Tell us more", relevant]])
    problem = only_problem(path)
    assert problem.startswith(f"form.xlsx, survey sheet, row 3: relevant {relevant!r} cannot be represented")


def test_condition_on_a_skipped_question_is_an_error_naming_both_rows(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant"],
                                   ["integer", "age", "Age?"],
                                   ["calculate", "adult"],
                                   ["text", "why", "Why?", "${age} >= 18"],
                                   ["text", "how", "How?", "${adult} = 1"]])
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(path)
    assert caught.value.problems == [
        "form.xlsx, survey sheet, row 4: the relevant refers to 'age' (row 2), which was skipped",
        "form.xlsx, survey sheet, row 5: the relevant refers to 'adult' (row 3), which was skipped",
    ]
    assert rows_named(caught.value.warnings) == {2, 3}


def test_condition_on_a_later_or_unknown_question_names_the_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant", "metric"],
                                   ["text", "why", "Why?", "${score} <= 6"],
                                   ["integer", "score", "Score?", None, "nps"],
                                   ["text", "how", "How?", "${nothing} = 1"]])
    assert problems_of(path) == [
        "form.xlsx, survey sheet, row 2: question 'why': the display condition refers to 'score', which comes "
        "later in the survey",
        "form.xlsx, survey sheet, row 4: question 'how': the display condition refers to unknown question "
        "'nothing'",
    ]


# --- types, choices and other columns ----------------------------------------------------------------


def test_unknown_type_is_an_error_naming_the_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["text", "a", "A?"], ["txet", "b", "B?"], [None, "c", "C?"]])
    assert problems_of(path) == [
        "form.xlsx, survey sheet, row 3: unknown type 'txet'",
        "form.xlsx, survey sheet, row 4: the row has a name or label but no type",
    ]


def test_unsupported_questions_and_metadata_rows_are_skipped_with_warnings(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["start", "start"], ["geopoint", "where", "Where?"],
                                   ["date", "when", "When?"], ["note", "hello", "Hi"], ["text", "a", "A?"],
                                   ["calculate", "c"], ["uri:username", "u"], ["select_one_from_file x.csv", "s", "S"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["a"]
    assert rows_named(result.warnings) == {2, 3, 4, 5, 7, 8, 9}
    assert ("form.xlsx, survey sheet, row 3: 'geopoint' question 'where' cannot be represented in this "
            "toolkit; skipped") in result.warnings


def test_select_multiple_and_old_select_spellings_take_choices_from_their_list(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["select_multiple yes_no", "a", "A?"],
                                   ["select all that apply from yes_no", "b", "B?"],
                                   ["select one from yes_no", "c", "C?"],
                                   ["select_one yes_no or_other", "d", "D?"]], YES_NO)
    result = read_xlsform(path)
    assert [q.kind for q in result.survey.questions] == ["multi_choice", "multi_choice", "single_choice",
                                                         "single_choice"]
    assert [c.value for c in result.survey.question("d").choices] == ["yes", "no", "other"]
    assert rows_named(result.warnings) == {5}


@pytest.mark.parametrize("survey_rows, choices, message", [
    ([["select_one colours", "c", "C?"]], YES_NO,
     "form.xlsx, survey sheet, row 2: choice list 'colours' is not on the choices sheet"),
    ([["select_one yes_no", "c", "C?"]], None,
     "form.xlsx, survey sheet, row 2: choice list 'yes_no' is used, but the workbook has no choices sheet"),
    ([["select_one", "c", "C?"]], YES_NO,
     "form.xlsx, survey sheet, row 2: 'select_one' needs the name of a choice list, e.g. 'select_one yes_no'"),
])
def test_missing_choice_list_names_the_survey_row(tmp_path, survey_rows, choices, message):
    path = make_xlsform(tmp_path, [HEADER, *survey_rows], choices)
    assert only_problem(path) == message


def test_choice_problems_name_the_choices_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["select_one yes_no", "c", "C?"]], [
        ["list_name", "name", "label"],
        ["yes_no", "yes", "Yes"],
        ["yes_no", None, "Maybe"],
        [None, "no", "No"],
        ["yes_no", "yes", "Yes again"],
        ["yes_no", "no", None],
    ])
    assert problems_of(path) == [
        "form.xlsx, choices sheet, row 3: a choice of list 'yes_no' has no name",
        "form.xlsx, choices sheet, row 4: choice 'no' has no list_name",
        "form.xlsx, choices sheet, row 5: choice 'yes' appears twice in list 'yes_no' (first at row 2)",
        "form.xlsx, choices sheet, row 6: choice 'no' of list 'yes_no' has no label for language 'en'",
    ]


def test_choice_filter_is_an_error_because_every_choice_would_be_offered(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["choice_filter"], ["select_one yes_no", "c", "C?", "name != 'no'"]],
                        YES_NO)
    assert only_problem(path).startswith("form.xlsx, survey sheet, row 2: choice_filter \"name != 'no'\"")


@pytest.mark.parametrize("value, required", [
    ("yes", True), ("TRUE()", True), ("true", True), (1, True), (True, True),
    ("no", False), ("false()", False), (0, False), (None, False), (False, False),
])
def test_required_column_accepts_xlsform_spellings(tmp_path, value, required):
    path = make_xlsform(tmp_path, [HEADER + ["required"], ["text", "q", "Q?", value]])
    assert read_xlsform(path).survey.question("q").required is required


def test_required_expression_is_an_error_naming_the_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["required"], ["text", "q", "Q?", "${x} = 'yes'"]])
    assert only_problem(path) == ("form.xlsx, survey sheet, row 2: required \"${x} = 'yes'\" cannot be "
                                  "represented; use yes or no")


def test_constraint_is_dropped_with_a_warning(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["constraint"], ["text", "q", "Q?", "string-length(.) < 10"]])
    assert read_xlsform(path).warnings == [
        "form.xlsx, survey sheet, row 2: constraint 'string-length(.) < 10' on 'q' is not carried over and "
        "will not be enforced"]


def test_every_problem_in_the_form_is_reported_at_once_in_row_order(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant"],
                                   ["select_one nope", "a", "A?"],
                                   ["text", "b-b", "B?"],
                                   ["begin repeat", "r"],
                                   ["text", "c", None, "count(${a}) > 1"],
                                   ["end repeat"]], YES_NO)
    assert rows_named(problems_of(path)) == {2, 3, 4, 5}
    assert len(problems_of(path)) == 5  # row 5: no label, and a complex relevant


# --- settings ----------------------------------------------------------------------------------------


def test_settings_give_slug_title_and_default_language(tmp_path):
    path = make_xlsform(tmp_path, [["type", "name", "label::en", "label::de"], ["text", "q", "Q?", "F?"]],
                        settings_rows=[["form_id", "form_title", "default_language", "version"],
                                       ["shop-exit", "Shop exit", "de", "3"]])
    survey = read_xlsform(path).survey
    assert (survey.slug, survey.title, survey.languages) == ("shop-exit", {"de": "Shop exit", "en": "Shop exit"},
                                                             ("de", "en"))


def test_invalid_form_id_is_slugified_with_a_warning_and_file_name_is_the_fallback(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["text", "q", "Q?"]], settings_rows=[["form_id"], ["Shop exit 2024"]])
    result = read_xlsform(path)
    assert result.survey.slug == "shop-exit-2024"
    assert result.warnings == ["form.xlsx, settings sheet, row 2: form_id 'Shop exit 2024' is not a valid survey "
                               "slug; using 'shop-exit-2024'"]
    fallback = read_xlsform(make_xlsform(tmp_path, [HEADER, ["text", "q", "Q?"]], name="2024 Exit Poll.xlsx"))
    assert (fallback.survey.slug, fallback.survey.title) == ("form-2024-exit-poll", {"en": "2024 Exit Poll"})


# --- files that are not XLSForms ---------------------------------------------------------------------


def test_workbook_without_survey_sheet_names_the_missing_sheet(tmp_path):
    book = Workbook()
    book.active.title = "questions"
    book.save(tmp_path / "wrong.xlsx")
    assert only_problem(tmp_path / "wrong.xlsx") == (
        "wrong.xlsx: the workbook has no sheet named 'survey' (sheets found: 'questions')")


@pytest.mark.parametrize("survey_rows, message", [
    ([], "form.xlsx, survey sheet: the sheet is empty; its first row must hold the column names"),
    ([["type", "label"], ["text", "Q?"]], "form.xlsx, survey sheet: missing column 'name'"),
    ([HEADER, ["note", "n", "Hello"]], "form.xlsx, survey sheet: no row holds a question that can be imported"),
])
def test_survey_sheet_without_columns_or_questions_is_a_clear_error(tmp_path, survey_rows, message):
    assert problems_of(make_xlsform(tmp_path, survey_rows)) == [message]


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("name, make, message", [
    ("form.csv", lambda p: _write(p, b"type,name,label\ntext,q,Q?\n"),
     "form.csv: not an .xlsx workbook (not a zip archive); XLSForms must be saved as Excel .xlsx files"),
    ("form.xls", lambda p: _write(p, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
     "form.xls: the old .xls format (or a password-protected workbook) is not supported"),
    ("form.xlsx", lambda p: _write(p, b""),
     "form.xlsx: not an .xlsx workbook (not a zip archive); XLSForms must be saved as Excel .xlsx files"),
    ("form.xlsx", lambda p: _write(p, (FIXTURES / "group.xlsx").read_bytes()[:3000]),
     "form.xlsx: not an .xlsx workbook (not a zip archive)"),
    ("form.docx", lambda p: _zip(p, {"word/document.xml": "<w/>"}),
     "form.docx: not an .xlsx workbook (the archive holds no workbook)"),
    ("form.xlsx", lambda p: _zip(p, {"[Content_Types].xml": "<not xml", "xl/workbook.xml": "<<<"}),
     "form.xlsx: cannot read the workbook: "),
    ("missing.xlsx", lambda p: p, "missing.xlsx: no such file"),
    ("folder.xlsx", lambda p: p.mkdir(), "folder.xlsx: cannot read the workbook: "),
])
def test_a_file_that_is_not_a_readable_xlsx_is_a_clear_xlsform_error(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    problem = only_problem(path)
    assert message in problem
    assert "Traceback" not in problem


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def test_xlsform_error_is_a_definition_error_carrying_the_warnings(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["note", "n", "Hi"], ["txet", "q", "Q?"]])
    with pytest.raises(DefinitionError) as caught:
        read_xlsform(path)
    assert isinstance(caught.value, XLSFormError)
    assert caught.value.warnings == ["form.xlsx, survey sheet, row 2: 'note' row 'n' is not a question asked of "
                                     "the respondent; skipped"]
    assert str(caught.value) == "form.xlsx, survey sheet, row 3: unknown type 'txet'"


def test_result_carries_survey_and_warnings():
    result = read_xlsform(STORE_VISIT)
    assert isinstance(result, XLSFormResult)
    assert result.survey.slug == "store_visit"


# --- property: no input crashes the import -----------------------------------------------------------

CELL_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=12)
CELLS = st.one_of(st.none(), CELL_TEXT, st.integers(-5, 12), st.floats(allow_nan=False, allow_infinity=False),
                  st.booleans())
NAMES = st.sampled_from(["a", "b", "c", "d", "b-x"])
NOISY_ROW = st.tuples(
    st.one_of(st.sampled_from(["text", "integer", "decimal", "select_one yn", "select_multiple zz", "begin group",
                               "end group", "begin repeat", "end repeat", "note", "geopoint", "select_one",
                               "rank yn"]), CELLS),
    st.one_of(NAMES, CELLS), CELLS,
    st.one_of(st.sampled_from(["${a} = 1", "${b} <= 'x'", "selected(${c}, 'y')"]), CELLS),
    st.one_of(st.sampled_from(["nps", "csat", "rating"]), CELLS), CELLS, CELLS, CELLS)
SOUND_ROW = st.tuples(  # rows that import on their own, so that whole forms sometimes import too
    st.sampled_from(["text", "select_one yn", "select_multiple yn", "integer", "note"]), NAMES,
    st.just("Question?"), st.one_of(st.none(), st.just("${a} = 'y'")),
    st.one_of(st.none(), st.sampled_from(["nps", "csat", "ces", "index_item"])), st.none(), st.none(),
    st.sampled_from([None, "yes", "no"]))
SOUND_CHOICES = [["yn", "y", "Yes"], ["yn", "n", "No"]]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.one_of(SOUND_ROW, SOUND_ROW, NOISY_ROW), max_size=6),
       choices=st.lists(st.tuples(st.one_of(st.just("yn"), CELLS), CELLS, CELLS), max_size=3))
def test_any_sheet_content_imports_soundly_or_fails_with_messages_naming_the_file(rows, choices):
    with tempfile.TemporaryDirectory() as directory:
        path = make_xlsform(Path(directory), [
            ["type", "name", "label::en", "relevant", "metric", "scale_min", "min_label", "required"], *rows,
        ], [["list_name", "name", "label::en"], *SOUND_CHOICES, *choices])
        try:
            result = read_xlsform(path)
        except XLSFormError as error:
            assert error.problems
            assert all(problem.startswith("form.xlsx") for problem in error.problems)
        else:
            assert result.survey.questions
            assert loads_yaml(dumps_yaml(result.survey)) == result.survey
            assert all(", row " in warning for warning in result.warnings)
