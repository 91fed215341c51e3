"""XLSForm import through pyxform: every mapping rule of survey/definitions/xlsform.py's docstring.

The 92 real forms are tested in test_xlsform_corpus.py; these tests write small forms of their own.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook

from survey.definitions.definition import Condition, DefinitionError, dumps_yaml, loads_yaml, to_dict
from survey.definitions.xlsform import XLSFormError, XLSFormResult, normalise, read_form, read_xlsform
from tests.conftest import REAL_XLSFORMS, SAMPLE_SURVEYS

CORPUS = REAL_XLSFORMS
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
    assert normalise(read_form(STORE_VISIT)).data == to_dict(survey)


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


def test_plain_integer_decimal_date_time_and_note_are_kept(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["note", "hello", "Welcome"], ["integer", "age", "Age?"],
                                   ["decimal", "spend", "Spend?"], ["date", "visit", "Visit day?"],
                                   ["time", "arrival", "Arrival?"], ["text", "why", "Why?"]])
    result = read_xlsform(path)
    assert [(q.key, q.kind) for q in result.survey.questions] == [
        ("hello", "note"), ("age", "integer"), ("spend", "decimal"), ("visit", "date"), ("arrival", "time"),
        ("why", "text")]
    assert result.warnings == []
    assert result.survey.question("hello").answer_keys == ()


def test_misplaced_or_unknown_metric_is_an_error_naming_the_row(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["metric"], ["text", "q", "Q?", "nps"]])
    assert only_problem(path) == ("form.xlsx, survey sheet, row 2: the metric column applies to integer, range "
                                  "and select_one questions whose choices are consecutive whole numbers, not to 'text'")
    path = make_xlsform(tmp_path, [HEADER + ["metric"], ["integer", "q", "Q?", "happiness"]])
    assert "row 2: unknown metric 'happiness' (expected one of: nps, csat" in only_problem(path)


def test_rating_scale_problems_name_the_row(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label", "metric", "scale_min", "scale_max", "min_label"],
        ["integer", "a", "A?", "nps", 1, 5],
        ["integer", "b", "B?", "rating", 3, 3],
        ["integer", "c", "C?", "csat", None, None, "Low"],
    ])
    problems = problems_of(path)
    assert "form.xlsx, survey sheet, row 2: question 'a': a nps question is always on the 0-10 scale" in problems[0]
    assert rows_named(problems) == {2, 3, 4}


# --- rating scales and proposed metrics -------------------------------------------------------------

SCALE_CHOICES = [["list_name", "name", "label"], *[["five", str(n), label] for n, label in
                                                 enumerate(["Very unhappy", "Unhappy", "Neutral", "Happy",
                                                            "Very satisfied"], start=1)]]


def test_select_one_with_consecutive_whole_number_choices_is_a_rating_with_end_labels(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["select_one five", "mood", "How was it?"],
                                   ["select_one yn", "back", "Back?"]],
                        SCALE_CHOICES + [["yn", "1", "Yes"], ["yn", "2", "No"]])
    survey = read_xlsform(path).survey
    mood = survey.question("mood")
    assert (mood.kind, mood.scale.min, mood.scale.max) == ("rating", 1, 5)
    assert mood.scale.labels == {"en": ("Very unhappy", "Very satisfied")}
    assert survey.question("back").kind == "single_choice"  # two points are a choice, not a scale


def test_range_from_whole_number_to_whole_number_by_one_is_a_rating(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["parameters"], ["range", "slider", "Score?", "start=0 end=10 step=1"],
                                   ["range", "half", "Half?", "start=0 end=5 step=0.5"]])
    result = read_xlsform(path)
    slider = result.survey.question("slider")
    assert (slider.kind, slider.scale.min, slider.scale.max) == ("rating", 0, 10)
    assert slider.scale.labels == {"en": ("0", "10")}
    assert result.survey.question("half").kind == "decimal"
    assert result.warnings == ["form.xlsx, survey sheet, row 3: range 'half' (0 to 5 by 0.5) is not a whole-number "
                               "scale with step 1; imported as a decimal question without bounds"]


def test_metrics_are_proposed_with_the_column_value_never_guessed(tmp_path):
    path = make_xlsform(tmp_path, [
        HEADER + ["parameters"],
        ["range", "rec", "How likely are you to recommend us to a friend?", "start=0 end=10"],
        ["select_one five", "sat", "How satisfied are you with the visit?"],
        ["select_one five", "look", "How did the shop look?"],
    ], SCALE_CHOICES)
    result = read_xlsform(path)
    assert [q.kind for q in result.survey.questions] == ["rating", "rating", "rating"]
    assert result.warnings == [
        "form.xlsx, survey sheet, row 2: 'rec' looks like an NPS question (a 0-10 scale and 'recommend' in its "
        "label); to declare it, put 'nps' in the metric column of this row",
        "form.xlsx, survey sheet, row 3: 'sat' looks like a CSAT question (a 1-5 scale and 'satisf' in its "
        "label); to declare it, put 'csat' in the metric column of this row",
    ]
    assert [(p.key, p.row, p.metric) for p in result.proposals] == [("rec", 2, "nps"), ("sat", 3, "csat")]
    accepted = read_xlsform(path, accept_proposed_metrics=True)
    assert [q.kind for q in accepted.survey.questions] == ["nps", "csat", "rating"]
    assert accepted.survey.question("sat").scale.labels == {"en": ("Very unhappy", "Very satisfied")}
    # declaring the proposed value in the metric column gives the same survey, without proposals
    declared = make_xlsform(tmp_path, [
        HEADER + ["parameters", "metric"],
        ["range", "rec", "How likely are you to recommend us to a friend?", "start=0 end=10", "nps"],
        ["select_one five", "sat", "How satisfied are you with the visit?", None, "csat"],
        ["select_one five", "look", "How did the shop look?"],
    ], SCALE_CHOICES, name="declared.xlsx")
    declared_result = read_xlsform(declared)
    assert declared_result.proposals == []
    assert declared_result.survey.questions == accepted.survey.questions


# --- groups, repeats, conditions ---------------------------------------------------------------------


def test_group_relevant_is_joined_with_each_question_relevant(tmp_path):
    path = make_xlsform(tmp_path, [
        HEADER + ["relevant"],
        ["select_one yes_no", "visited", "Visited?"],
        ["integer", "nights", "Nights?"],
        ["begin group", "stay", "Your stay", "${visited} = 'yes'"],
        ["text", "room", "Room?"],
        ["text", "long", "Long stay?", "${nights} > 3"],
        ["end group"],
        ["text", "after", "After?"],
    ], YES_NO)
    survey = read_xlsform(path).survey
    assert [str(q.show_if) if q.show_if else None for q in survey.questions] == [
        None, None, "visited == yes", "${visited} = 'yes' and ${nights} > 3", None]
    assert survey.question("long").show_if.holds({"visited": "yes", "nights": 5})
    assert not survey.question("long").show_if.holds({"visited": "no", "nights": 5})


def test_repeat_questions_are_asked_once_with_one_warning_naming_the_group(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["text", "first", "First?"], ["begin repeat", "people", "People"],
                                   ["text", "person", "Name?"], ["integer", "age", "Age?"], ["end repeat"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["first", "person", "age"]
    assert result.warnings == ["form.xlsx, survey sheet, row 3: repeat 'people' cannot repeat here (a survey asks "
                               "each question once); its 2 question(s) are asked once, for the first repetition "
                               "only: person, age"]


@pytest.mark.parametrize("relevant, holds, fails", [
    ("${score} <= 6", {"score": 3}, {"score": 9}),
    ("${score} <= 6 and ${score} > 2", {"score": 3}, {"score": 1}),
    ("${score} = 1 or ${score} = 2", {"score": 2}, {"score": 3}),
    ("not(selected(${reason}, 'price'))", {"reason": "speed"}, {"reason": "price"}),
    ("string-length(${comment}) > 3", {"comment": "long"}, {"comment": "ok"}),
    ("${comment} != ''", {"comment": "x"}, {}),
    ("${score} + 1 >= 10", {"score": 9}, {"score": 8}),
    ("\u2018price\u2019 = ${reason}", {"reason": "price"}, {"reason": "speed"}),  # curly quotes
    ("count-selected(${many}) >= 2", {"many": ["a", "b"]}, {"many": ["a"]}),
])
def test_relevant_expressions_become_display_conditions(tmp_path, relevant, holds, fails):
    path = make_xlsform(tmp_path, [
        HEADER + ["relevant", "metric"],
        ["integer", "score", "Score?", None, "nps"],
        ["select_one why", "reason", "Why?"],
        ["select_multiple why", "many", "Which?"],
        ["text", "comment", "Comment?"],
        ["text", "more", "More?", relevant],
    ], [["list_name", "name", "label"], ["why", "price", "Price"], ["why", "speed", "Speed"],
        ["why", "a", "A"], ["why", "b", "B"]])
    result = read_xlsform(path)
    condition = result.survey.question("more").show_if
    assert condition.holds(holds) and not condition.holds(fails)
    assert result.warnings == []


def test_unreadable_relevant_skips_the_question_with_the_row_and_position(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant"], ["text", "a", "A?"],
                                   ["text", "b", "B?", "${a} != '' and today() > 3"], ["text", "c", "C?"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["a", "c"]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("form.xlsx, survey sheet, row 3: relevant \"${a} != '' and today() > 3\" "
                                         "of 'b' cannot be read (unknown function 'today()'")
    assert "at position 16); 'b' skipped" in result.warnings[0]


def test_condition_on_a_skipped_or_later_question_skips_it_with_a_warning(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant", "calculation"],
                                   ["calculate", "total", None, None, "1 + 1"],
                                   ["text", "a", "A?", "${total} > 1"],
                                   ["text", "b", "B?", "${c} = 'x'"],
                                   ["text", "c", "C?"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["c"]
    assert result.warnings == [
        "form.xlsx, survey sheet, row 2: 'calculate' row 'total' is not a question asked of the respondent; skipped",
        "form.xlsx, survey sheet, row 3: the relevant of 'a' refers to 'total' (row 2), which was skipped; "
        "'a' skipped too",
        "form.xlsx, survey sheet, row 4: the relevant of 'b' refers to 'c', which is not an earlier question; "
        "'b' skipped",
    ]


def test_names_with_dots_or_hyphens_become_keys_and_references_follow(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["relevant"], ["integer", "q1.age", "Age?"],
                                   ["text", "why-not", "Why?", "${q1.age} < 18"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["q1_age", "why_not"]
    assert str(result.survey.question("why_not").show_if) == "q1_age < 18"
    assert result.warnings == [
        "form.xlsx, survey sheet, row 2: name 'q1.age' is not a valid question key; imported as 'q1_age'",
        "form.xlsx, survey sheet, row 3: name 'why-not' is not a valid question key; imported as 'why_not'",
    ]


# --- languages ---------------------------------------------------------------------------------------


def test_label_language_columns_become_languages_with_the_default_first(tmp_path):
    path = make_xlsform(tmp_path, [["type", "name", "label::Français (fr)", "label::English (en)"],
                                   ["text", "q", "Nom ?", "Name?"]],
                        settings_rows=[["default_language"], ["English (en)"]])
    survey = read_xlsform(path).survey
    assert survey.languages == ("en", "fr")
    assert survey.question("q").text == {"en": "Name?", "fr": "Nom ?"}


def test_a_missing_translation_falls_back_to_the_default_language_with_a_warning(tmp_path):
    path = make_xlsform(tmp_path, [
        ["type", "name", "label::English (en)", "label::Kiswahili (sw)"],
        ["text", "a", "A?", "A sw?"],
        ["select_one yes_no", "b", "B?"],
    ], [["list_name", "name", "label::English (en)", "label::Kiswahili (sw)"],
        ["yes_no", "yes", "Yes", "Ndiyo"], ["yes_no", "no", "No"]])
    result = read_xlsform(path)
    assert result.survey.question("b").text == {"en": "B?", "sw": "B?"}
    assert result.survey.question("b").choices[1].label == {"en": "No", "sw": "No"}
    assert result.warnings == [
        "form.xlsx, survey sheet, row 3: label of 'b' has no text in language 'sw'; the 'en' text is used",
        "form.xlsx, choices sheet, row 3: choice 'no' has no text in language 'sw'; the 'en' text is used",
    ]


def test_column_and_sheet_names_are_case_insensitive(tmp_path):
    book = Workbook()
    book.active.title = "Survey"
    book.active.append(["TYPE", "Name", "LABEL", "Required", "HINT"])
    book.active.append(["select_one yn", "q", "Q?", "YES", "H"])
    choices = book.create_sheet("CHOICES")
    choices.append(["List Name", "NAME", "Label"])
    choices.append(["yn", "y", "Y"])
    path = tmp_path / "caps.xlsx"
    book.save(path)
    question = read_xlsform(path).survey.question("q")
    assert (question.kind, question.required, question.help, question.choices[0].label) == (
        "single_choice", True, {"en": "H"}, {"en": "Y"})


# --- what pyxform refuses, and other warnings ---------------------------------------------------------


@pytest.mark.parametrize("survey_rows, choices, message", [
    ([["txet", "b", "B?"]], None, "form.xlsx: pyxform rejects the form: Unknown question type 'txet'."),
    ([["select_one colours", "c", "C?"]], YES_NO,
     "form.xlsx: pyxform rejects the form: [row : 2] List name not in choices sheet: colours"),
    ([["text", None, "C?"]], None, "form.xlsx: pyxform rejects the form: [row : 2] Question or group with no name."),
])
def test_a_form_pyxform_rejects_is_refused_with_its_message_and_row(tmp_path, survey_rows, choices, message):
    assert only_problem(make_xlsform(tmp_path, [HEADER, *survey_rows], choices)) == message


def test_comment_rows_are_skipped_as_pyxform_skips_them(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["comment"], ["text", "a", "A?"], [None, None, None, "a note to self"],
                                   ["text", "b", "B?"]])
    assert [q.key for q in read_xlsform(path).survey.questions] == ["a", "b"]


def test_unsupported_questions_and_metadata_rows_are_skipped_with_warnings(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["start", "start"], ["geopoint", "where", "Where?"],
                                   ["image", "photo", "Photo?"], ["text", "a", "A?"]])
    result = read_xlsform(path)
    assert [q.key for q in result.survey.questions] == ["a"]
    assert rows_named(result.warnings) == {2, 3, 4}
    assert "row 3: 'geopoint' question 'where' cannot be represented in this toolkit; skipped" in result.warnings[1]


def test_or_other_keeps_the_specify_other_text(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["select_one yes_no or_other", "c", "C?"]], YES_NO)
    result = read_xlsform(path)
    assert [c.value for c in result.survey.question("c").choices] == ["yes", "no", "other"]
    other = result.survey.question("c_other")
    assert (other.kind, str(other.show_if)) == ("text", "selected(${c}, 'other')")
    assert other.show_if.holds({"c": "other"}) and not other.show_if.holds({"c": "yes"})
    assert result.warnings == ["form.xlsx, survey sheet, row 2: 'c' offers 'other'; its 'specify other' text is "
                               "kept as question 'c_other', shown when 'other' is chosen"]


def test_choice_filter_required_expression_and_constraint_are_warned(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["choice_filter", "required", "constraint"],
                                   ["select_one yes_no", "c", "C?", "name != 'no'"],
                                   ["text", "q", "Q?", None, "${c} = 'yes'", "string-length(.) < 10"]], YES_NO)
    result = read_xlsform(path)
    assert [c.value for c in result.survey.question("c").choices] == ["yes", "no"]
    assert not result.survey.question("q").required
    assert result.warnings == [
        "form.xlsx, survey sheet, row 2: choice_filter \"name != 'no'\" of 'c' cannot be represented; every choice "
        "of the list is offered",
        "form.xlsx, survey sheet, row 3: required \"${c} = 'yes'\" is an expression, which cannot be represented; "
        "'q' is imported as optional",
        "form.xlsx, survey sheet, row 3: constraint 'string-length(.) < 10' on 'q' is not carried over and will "
        "not be enforced",
    ]


@pytest.mark.parametrize("value, required", [("yes", True), ("TRUE", True), ("true()", True), ("no", False),
                                             (None, False)])
def test_required_column_accepts_xlsform_spellings(tmp_path, value, required):
    path = make_xlsform(tmp_path, [HEADER + ["required"], ["text", "q", "Q?", value]])
    assert read_xlsform(path).survey.question("q").required is required


def test_settings_give_slug_title_and_default_language(tmp_path):
    path = make_xlsform(tmp_path, [["type", "name", "label::en", "label::de"], ["text", "q", "Q?", "F?"]],
                        settings_rows=[["form_id", "form_title", "default_language"], ["exit_poll", "Exit", "de"]])
    survey = read_xlsform(path).survey
    assert (survey.slug, survey.languages, survey.title) == ("exit_poll", ("de", "en"), {"de": "Exit", "en": "Exit"})


def test_invalid_form_id_is_slugified_with_a_warning(tmp_path):
    path = make_xlsform(tmp_path, [HEADER, ["text", "q", "Q?"]], settings_rows=[["form_id"], ["Shop exit 2024"]])
    result = read_xlsform(path)
    assert result.survey.slug == "shop-exit-2024"
    assert result.warnings == ["form.xlsx, settings sheet, row 2: form_id 'Shop exit 2024' is not a valid survey "
                               "slug; using 'shop-exit-2024'"]


def test_a_form_with_nothing_to_answer_is_refused_and_carries_the_warnings(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["calculation"], ["note", "n", "Hi"], ["calculate", "c", None, "1"]])
    with pytest.raises(DefinitionError) as caught:
        read_xlsform(path)
    assert isinstance(caught.value, XLSFormError)
    assert caught.value.problems == ["form.xlsx, survey sheet: no row holds a question that can be imported"]
    assert caught.value.warnings == ["form.xlsx, survey sheet, row 3: 'calculate' row 'c' is not a question asked "
                                     "of the respondent; skipped"]


@pytest.mark.parametrize("name, content", [
    ("form.md", "| survey |\n| | type | name | label |\n| | integer | age | Age? |\n"),
    ("form.csv", "survey,,,\n,type,name,label\n,integer,age,Age?\n"),
])
def test_markdown_and_csv_forms_are_read_by_pyxform(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert [(q.key, q.kind) for q in read_xlsform(path).survey.questions] == [("age", "integer")]


def test_old_xls_workbooks_are_read(tmp_path):
    result = read_xlsform(CORPUS / "pyxform__example_xls__text_and_integer.xls")
    assert [(q.key, q.kind) for q in result.survey.questions] == [("your_name", "text"), ("your_age", "integer")]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


@pytest.mark.parametrize("name, make, message", [
    ("form.xlsx", lambda p: _write(p, b"not a workbook"), "form.xlsx: cannot read the form: "),
    ("form.xlsx", lambda p: _write(p, b""), "form.xlsx: cannot read the form: "),
    ("form.docx", lambda p: _zip(p, {"word/document.xml": "<w/>"}), "form.docx: cannot read the form: "),
    ("form.xlsx", lambda p: _zip(p, {"[Content_Types].xml": "<not xml", "xl/workbook.xml": "<<<"}),
     "form.xlsx: cannot read the form: "),
    ("missing.xlsx", lambda p: p, "missing.xlsx: no such file"),
    ("folder.xlsx", lambda p: p.mkdir(), "folder.xlsx: no such file"),
])
def test_a_file_that_is_not_a_readable_form_is_a_clear_xlsform_error(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    problem = only_problem(path)
    assert message in problem
    assert "Traceback" not in problem


def test_result_carries_survey_warnings_and_proposals():
    result = read_xlsform(STORE_VISIT)
    assert isinstance(result, XLSFormResult)
    assert (result.survey.slug, result.proposals) == ("store_visit", [])

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


def test_piped_answers_in_labels_follow_renamed_keys_and_others_are_warned(tmp_path):
    path = make_xlsform(tmp_path, [HEADER + ["calculation", "hint"],
                                   ["text", "first-name", "Your first name?"],
                                   ["calculate", "year", None, "2026"],
                                   ["integer", "age", "${first-name}, how old are you in ${year}?", None,
                                    "Thank you, ${first-name}"]])
    result = read_xlsform(path)
    age = result.survey.question("age")
    assert age.text == {"en": "${first_name}, how old are you in ...?"}
    assert age.help == {"en": "Thank you, ${first_name}"}
    assert age.piped == ("first_name",)
    assert ("form.xlsx, survey sheet, row 4: the label of 'age' shows ${year}, which is not an earlier question "
            "kept here; it is shown as '...'") in result.warnings
