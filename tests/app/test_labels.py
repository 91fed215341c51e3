"""People's words and numbers (`app_pages.labels`) and the chart conventions (`app_pages.charts`), on
hand-worked values."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from app_pages import charts, labels
from survey import demo
from survey.followup.settings import RULES
from survey.people.access import ROLES


@pytest.mark.parametrize("p, shown", [(0.0004, "< 0.001"), (0.001, "0.001"), (0.0312, "0.031"), (0.5, "0.500"),
                                      (float("nan"), "—"), (None, "—")])
def test_p_values_read_below_a_thousandth_as_less_than(p, shown):
    assert labels.p_value(p) == shown


def test_numbers_dates_and_periods():
    assert labels.number(63122070, 0) == "63,122,070" and labels.number(-3.14159, 2, signed=True) == "-3.14"
    assert labels.number(float("nan")) == "—" and labels.count(np.int64(12345)) == "12,345"
    assert labels.day(pd.Timestamp("2024-11-01 00:00:00")) == "2024-11-01"  # no midnight time
    assert labels.day(datetime(2024, 11, 1, 14, 5, 9)) == "2024-11-01 14:05"
    assert labels.day(pd.NaT) == "—"
    assert labels.period(pd.Timestamp("2024-11-01"), "month") == "Nov 2024"
    assert labels.period(pd.Timestamp("2024-10-01"), "quarter") == "Q4 2024"
    assert labels.period(date(2024, 11, 4), "week") == "Week of 2024-11-04"


def test_recorded_notes_and_flag_details_name_rules_and_kinds_in_words():
    assert labels.cell("opened for response 5569: ces_bottom, score_drop", "note") == \
        "opened for response 5569: High effort (CES), Score dropped"
    assert labels.cell("index_item 3 (at most 4)", "detail") == "Satisfaction rating 3 (at most 4)"
    assert labels.cell("nps 4 (at most 6)", "detail") == "NPS 4 (at most 6)"


def test_headers_turn_names_into_words_and_leave_words_alone():
    assert labels.header("last_sign_in_at") == "Last sign-in" and labels.header("root_cause") == "Root cause"
    assert labels.header("p (BH-adjusted)") == "p (BH-adjusted)" and labels.header("n (recent)") == "n (recent)"
    assert labels.header("2026-09 to 2026-12") == "2026-09 to 2026-12"
    assert labels.header("difference from rest") == "Difference from rest"


def test_every_rule_and_role_has_words():
    for name in RULES:
        assert name in labels.RULES and "_" not in labels.rule(name)
    assert all("_" not in labels.role(role) for role in ROLES)
    assert labels.role("field_manager") == "Field manager"


def test_readable_turns_a_raw_table_into_what_a_person_reads():
    raw = pd.DataFrame({"period": [pd.Timestamp("2024-11-01"), pd.Timestamp("2024-12-01")],
                        "value": [18.83116883, np.nan], "n": [154, 3], "change_p_value": [np.nan, 0.00002],
                        "out_of_control": [False, True], "role": ["field_manager", "admin"],
                        "reasons": ["nps_detractor; score_drop", ""], "region": [None, "North"]})
    shown = labels.readable(raw, freq="month")
    assert list(shown.columns) == ["Period", "Value", "n", "p (change)", "Out of control", "Role", "Why flagged",
                                   "Region"]
    assert shown.iloc[0].tolist() == ["Nov 2024", "18.8", "154", "—", "No", "Field manager",
                                      "NPS detractor (0-6); Score dropped", "—"]
    assert shown.iloc[1].tolist() == ["Dec 2024", "—", "3", "< 0.001", "Yes", "Admin", "", "North"]


def test_displayable_keeps_whole_numeric_columns_and_spells_out_the_rest():
    raw = pd.DataFrame({"last_sign_in_at": [pd.NaT, pd.Timestamp("2026-11-30 09:15")], "is_demo": [True, False],
                        "n": [1234, 5], "score": [9.0, np.nan], "role": ["field_manager", "admin"]})
    shown, config = labels.displayable(raw, digits=0)
    assert list(shown.columns) == list(raw.columns)  # tests and sorting read the same columns
    assert shown["n"].tolist() == [1234, 5]  # numbers stay numbers, drawn with separators
    assert shown["last_sign_in_at"].tolist() == ["—", "2026-11-30 09:15"]
    assert shown["is_demo"].tolist() == ["Yes", "No"] and shown["score"].tolist() == ["9", "—"]
    assert shown["role"].tolist() == ["Field manager", "Admin"]
    assert {column: entry["label"] for column, entry in config.items()} == {
        "last_sign_in_at": "Last sign-in", "is_demo": "Demo user", "n": "n", "score": "Score", "role": "Role"}
    assert config["n"]["type_config"]["format"] == "%,d"


def test_question_labels_are_short_words_not_keys():
    relationship = next(s for s in demo.sample_surveys() if s.slug == demo.RELATIONSHIP)
    assert labels.question_label(relationship, "recommend") == "NPS"
    assert labels.question_label(relationship, "drivers.support") == "Customer support"
    assert labels.question_label(relationship, "why_low") == "What is the main thing we should fix?"
    assert labels.question_label(relationship, "expectations").endswith("…")  # cut at a word, under ~40
    assert len(labels.question_label(relationship, "expectations")) <= 41


def test_a_zoomed_axis_covers_the_data_with_a_margin_and_says_where_it_starts():
    # drivers between 6.8 and 7.6: span 0.8 < 1, so the domain is widened to 1 and padded by 0.15:
    # pad = 0.15 * 1 + (1 - 0.8) / 2 = 0.25 -> [6.55, 7.85], rounded outward to [6.5, 7.9]
    scale = charts.zoomed([6.8, 7.1, 7.6])
    assert scale.domain == [6.5, 7.9]
    assert charts.baseline_note(scale) == "The value axis starts at 6.5, not 0, to show the differences."
    assert charts.zoomed([]).to_dict() == {"zero": False}
