"""Survey templates: every file is listed, valid, bilingual and declares its metrics and roles."""

from __future__ import annotations

import pytest

from survey.definitions.definition import dumps_yaml, loads_yaml, validate
from survey.definitions.editing import missing_translations
from survey.definitions.templates import FOLDER, TITLES, template, templates


def test_every_yaml_file_is_a_listed_template():
    assert sorted(path.stem for path in FOLDER.glob("*.yaml")) == sorted(TITLES)


@pytest.mark.parametrize("name", list(TITLES))
def test_each_template_is_valid_in_english_and_french_with_an_overall_question(name):
    survey = template(name).survey
    assert validate(survey) == [] and survey.languages == ("en", "fr")
    assert missing_translations(survey) == []
    assert [q.key for q in survey.questions if q.role == "overall"], "key-driver analysis needs an outcome"
    assert loads_yaml(dumps_yaml(survey)) == survey


def test_templates_declare_the_metrics_the_issue_lists():
    metrics = {t.name: sorted({q.kind for q in t.survey.questions}) for t in templates()}
    assert {"nps", "matrix", "text"} <= set(metrics["relationship_nps"])
    assert {"csat", "ces"} <= set(metrics["post_interaction"])
    index = template("satisfaction_index").survey
    assert [(q.kind, q.scale.min, q.scale.max) for q in index.questions] == [("index_item", 1, 10)] * 3
    quality = template("service_quality").survey
    assert [q.key for q in quality.questions if q.kind == "matrix"] == ["importance", "performance"]
    assert [a.value for a in quality.question("performance").attributes] == [
        "reliability", "responsiveness", "assurance", "empathy", "tangibles"]
    reasons = [c.value for c in template("exit").survey.question("reasons").choices]
    assert reasons == ["better_value", "point_of_purchase", "moved_away", "complaint_not_handled", "other"]
    assert template("competitors").survey.question("compared").metric == "rating"


def test_an_unknown_template_is_named():
    with pytest.raises(KeyError, match="no survey template 'nope'"):
        template("nope")
