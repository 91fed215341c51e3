"""XLSForm export: download -> upload gives the same survey through the existing importer."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from survey.definitions.definition import DefinitionError, Question, Scale, Survey, load_yaml
from survey.definitions.definition_files import read_upload
from survey.definitions.templates import templates
from survey.definitions.xlsform import read_xlsform
from survey.definitions.xlsform_export import xlsform_bytes
from tests.conftest import SAMPLE_SURVEYS

SURVEYS = {**{f"template {t.name}": t.survey for t in templates()},
           **{f"sample {p.name}": load_yaml(p) for p in sorted(SAMPLE_SURVEYS.glob("*.yaml"))}}


@pytest.mark.parametrize("name", list(SURVEYS))
def test_every_template_and_sample_round_trips_through_the_importer(name, tmp_path):
    survey = SURVEYS[name]
    path = tmp_path / "form.xlsx"
    path.write_bytes(xlsform_bytes(survey))
    result = read_xlsform(path)
    assert result.survey == survey
    assert result.warnings == []


def test_a_matrix_is_a_group_of_integer_rows_with_the_metric_matrix():
    survey = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
    sheet = load_workbook(io.BytesIO(xlsform_bytes(survey)))["survey"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    types = [(row[header.index("type")], row[header.index("name")], row[header.index("metric")]) for row in rows[1:]]
    start = types.index(("begin group", "drivers", "matrix"))
    assert types[start + 1:start + 7] == [("integer", a, None) for a in
                                          ("product_quality", "delivery", "support", "billing", "value_for_money")] + [
        ("end group", "drivers", None)]
    assert "label::fr" in header and "relevant" in header
    assert rows[1 + [t[1] for t in types].index("why_low")][header.index("relevant")] == "${recommend} <= 6"


def test_wording_that_looks_like_a_formula_is_written_as_text(tmp_path):
    survey = Survey(slug="s", title={"en": "=HYPERLINK(\"http://x\")"}, questions=(
        Question("q", "rating", {"en": "=1+1"}, scale=Scale(1, 5, {"en": ("=bad", "good")})),))
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsform_bytes(survey))
    book = load_workbook(path)
    written = [cell for row in book["survey"].iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert "=1+1" in [cell.value for cell in written] and all(cell.data_type == "s" for cell in written)
    assert read_xlsform(path).survey == survey


def test_uploads_are_read_by_their_format_and_refused_with_every_problem():
    survey = SURVEYS["template exit"]
    assert read_upload("exit.xlsx", xlsform_bytes(survey)) == (survey, [])
    with pytest.raises(DefinitionError) as caught:
        read_upload("notes.txt", b"hello")
    assert caught.value.problems == ["notes.txt: upload a .yaml/.yml definition or an XLSForm (.xlsx, .xls, .csv or .md)"]
    with pytest.raises(DefinitionError) as caught:
        read_upload("bad.yaml", b"slug: s\ntitle: S\nquestions:\n  - {key: a, kind: nps}\n  - {key: b, kind: what, text: B}\n")
    assert caught.value.problems == ["bad.yaml: question 'a' (line 4) text: missing text for language 'en'",
                                     "bad.yaml: question 'b' (line 5): unknown kind 'what' (expected one of: "
                                     "nps, csat, ces, rating, index_item, matrix, single_choice, multi_choice, text, integer, decimal, date, time, note)"]
    with pytest.raises(DefinitionError, match="bad.xlsx: cannot read the form"):
        read_upload("bad.xlsx", b"not a workbook")


def test_new_kinds_and_expressions_round_trip_in_two_languages(tmp_path):
    from survey.definitions.definition import loads_yaml

    survey = loads_yaml("""
slug: stay
title: {en: Your stay, fr: Votre séjour}
languages: [en, fr]
questions:
  - {key: welcome, kind: note, text: {en: Thanks for staying, fr: Merci}}
  - {key: nights, kind: integer, text: {en: "Nights?", fr: "Nuits?"}, required: true}
  - {key: spend, kind: decimal, text: {en: "Spend?", fr: "Dépense?"}}
  - {key: arrived, kind: date, text: {en: "Arrival day?", fr: "Jour?"}}
  - {key: at, kind: time, text: {en: "Arrival time?", fr: "Heure?"}, show_if: "nights > 0"}
  - key: extras
    kind: multi_choice
    text: {en: "Extras?", fr: "Extras?"}
    choices:
      - {value: spa, label: {en: Spa, fr: Spa}}
      - {value: gym, label: {en: Gym, fr: Salle}}
  - key: why
    kind: text
    text: {en: "Why?", fr: "Pourquoi?"}
    show_if: "(nights >= 3 or spend > 100.5) and not(selected(extras, 'spa')) and count-selected(extras) < 2"
""")
    path = tmp_path / "stay.xlsx"
    path.write_bytes(xlsform_bytes(survey))
    result = read_xlsform(path)
    assert result.survey == survey
    assert result.warnings == []
    sheet = load_workbook(path)["survey"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert [row[header.index("type")] for row in rows[1:6]] == ["note", "integer", "decimal", "date", "time"]
    assert rows[-1][header.index("relevant")] == (
        "(${nights} >= 3 or ${spend} > 100.5) and not(selected(${extras}, 'spa')) and count-selected(${extras}) < 2")
