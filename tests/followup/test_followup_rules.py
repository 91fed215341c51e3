"""Flagging rules (pure) and the rules file: each rule on its declared kind, thresholds from the file,
and a bad file refused with the key named."""

from __future__ import annotations

import pytest

from survey.definitions.definition import load_yaml
from survey.followup.rules import evaluate, negative_words_in
from survey.followup.settings import FollowUpSettingsError, load_settings, parse_settings
from tests.conftest import SAMPLE_SURVEYS

RELATIONSHIP = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
SUPPORT = load_yaml(SAMPLE_SURVEYS / "post_support.yaml")
GOOD = {"recommend": 9, "satisfaction": 8, "expectations": 8, "ideal": 8}
SETTINGS = load_settings()


def rules_of(survey, numeric, texts=None, previous=None, language="en", settings=SETTINGS):
    return [(f.rule, f.question_key, f.score) for f in evaluate(survey, numeric, texts or {}, previous or {},
                                                               language, settings)]


@pytest.mark.parametrize("score, flagged", [(0, True), (6, True), (7, False), (10, False)])
def test_nps_detractors_are_0_to_6(score, flagged):
    found = rules_of(RELATIONSHIP, {**GOOD, "recommend": score}, {"comment": "ok"})
    assert (("nps_detractor", "recommend", float(score)) in found) is flagged
    assert len(found) == int(flagged)


@pytest.mark.parametrize("csat, effort, expected", [
    (2, 5, [("csat_bottom", "csat", 2.0)]),          # CSAT 1-5: bottom two points are 1 and 2
    (3, 5, []),
    (4, 3, [("ces_bottom", "effort", 3.0)]),         # CES 1-7: bottom three points are 1, 2, 3
    (4, 4, []),
])
def test_csat_bottom_two_and_ces_bottom_three(csat, effort, expected):
    assert rules_of(SUPPORT, {"csat": csat, "effort": effort}, {"comment": "fine"}) == expected


def test_any_index_item_at_4_or_below_is_flagged_each():
    found = rules_of(RELATIONSHIP, {**GOOD, "expectations": 4, "ideal": 5, "satisfaction": 1}, {"comment": "ok"})
    assert found == [("index_item_low", "satisfaction", 1.0), ("index_item_low", "expectations", 4.0)]


def test_a_drop_of_three_points_versus_the_previous_answer():
    # recommend 10 -> 7 is a drop of 3 (flagged, though 7 is no detractor); driver support 8 -> 6 only 2
    found = rules_of(RELATIONSHIP, {**GOOD, "recommend": 7, "drivers.support": 6}, {"comment": "ok"},
                     previous={"recommend": 10, "drivers.support": 8})
    assert found == [("score_drop", "recommend", 7.0)]


@pytest.mark.parametrize("language, text, words", [
    ("en", "Deliveries keep arriving LATE and nobody called back", ["late", "nobody called"]),
    ("fr", "Livraison en retard, très déçu", ["déçu", "en retard"]),
    ("de", "Wir sind nicht zufrieden", ["nicht zufrieden"]),
    ("es", "Un servicio pésimo", ["pésimo"]),
    ("en", "Translated flawlessly, no latency", []),  # whole words only: 'latency' is not 'late'
])
def test_negative_wording_per_language(language, text, words):
    assert negative_words_in(text, language, SETTINGS) == words


def test_a_negative_comment_flags_even_a_good_score():
    assert rules_of(RELATIONSHIP, GOOD, {"comment": "Invoices are always wrong"}) == [
        ("negative_comment", "comment", None)]


def test_a_low_score_without_any_comment_is_silent_dissatisfied():
    assert rules_of(SUPPORT, {"csat": 1, "effort": 6}) == [("csat_bottom", "csat", 1.0),
                                                           ("silent_dissatisfied", "csat", 1.0)]
    assert ("silent_dissatisfied", "csat", 1.0) not in rules_of(SUPPORT, {"csat": 1, "effort": 6},
                                                                {"comment": "meh"})


def test_rules_follow_the_declared_kind_not_the_scale():
    # drivers.* are rated 1-10 like the index items but are matrix ratings: a 2 is not an index-item flag
    assert rules_of(RELATIONSHIP, {**GOOD, "drivers.billing": 2}, {"comment": "ok"}) == []


def test_thresholds_and_switches_come_from_the_file():
    stricter = parse_settings({"rules": {"nps_detractor": {"max_score": 8}, "silent_dissatisfied": {"enabled": False}}})
    assert rules_of(RELATIONSHIP, {**GOOD, "recommend": 8}, settings=stricter) == [("nps_detractor", "recommend", 8.0)]


@pytest.mark.parametrize("data, message", [
    ({"rules": {"nps_detractor": {"max_score": "six"}}}, "f.yaml: rules.nps_detractor.max_score: expected a whole number"),
    ({"rules": {"nps_detractr": {}}}, "f.yaml: rules.nps_detractr: unknown key"),
    ({"due": {"top_priority_hours": 0}}, "f.yaml: due.top_priority_hours: must be at least 1, got 0"),
    ({"root_causes": "price"}, "f.yaml: root_causes: expected a list of non-empty texts"),
    ({"region_owners": {"North": "not an email"}}, "f.yaml: region_owners.North: expected a user's email address"),
    ({"negative_words": {"en": [""]}}, "f.yaml: negative_words.en: expected a list of non-empty texts"),
    ({"rules": {"csat_bottom": {"enabled": "yes"}}}, "f.yaml: rules.csat_bottom.enabled: expected true or false"),
])
def test_a_bad_rules_file_names_the_key(data, message):
    with pytest.raises(FollowUpSettingsError) as caught:
        parse_settings(data, "f.yaml")
    assert caught.value.problems[0].startswith(message), caught.value.problems


def test_the_environment_variable_points_at_an_admins_copy(tmp_path, monkeypatch):
    copy = tmp_path / "rules.yaml"
    copy.write_text("reinvite_after_days: 45\nregion_owners: {East: a@x.example}\n", encoding="utf-8")
    monkeypatch.setenv("SURVEY_FOLLOWUP_SETTINGS", str(copy))
    settings = load_settings()
    assert (settings.reinvite_after_days, settings.owner_email("East")) == (45, "a@x.example")
    copy.write_text("rules: [1, 2\n", encoding="utf-8")
    with pytest.raises(FollowUpSettingsError, match="rules.yaml.*not valid YAML"):
        load_settings()


def test_the_shipped_file_lists_words_for_each_sample_language():
    assert {"en", "de", "fr", "es"} <= {language for language, _ in SETTINGS.negative_words}
    assert SETTINGS.root_causes == ("product", "delivery", "billing", "staff attitude",
                                    "customer did not understand how to use the product", "price", "other")
