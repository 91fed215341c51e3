"""The change summary between two definitions, on hand-built pairs."""

from __future__ import annotations

from dataclasses import replace

from survey.definitions.changes import compare, trend_notes
from survey.definitions.definition import Choice, Condition, Question, Scale, Survey

BASE = Survey(slug="s", title={"en": "S"}, questions=(
    Question("recommend", "nps", {"en": "How likely are you to recommend us?"}, required=True,
             scale=Scale(0, 10, {"en": ("No", "Yes")})),
    Question("stars", "rating", {"en": "How do you rate the checkout?"}, scale=Scale(1, 5, {"en": ("Bad", "Good")})),
    Question("reason", "single_choice", {"en": "Why did you come?"},
             choices=(Choice("buy", {"en": "To buy"}), Choice("browse", {"en": "To browse"}))),
    Question("why", "text", {"en": "Why?"}, show_if=Condition("recommend", "<=", 6), max_length=500),
))


def changed(**questions: Question) -> Survey:
    return replace(BASE, questions=tuple(questions.get(q.key, q) for q in BASE.questions))


def test_an_unchanged_definition_has_no_changes():
    assert compare(BASE, BASE) == []


def test_added_and_removed_questions_start_and_end_their_trends():
    new = replace(BASE, questions=BASE.questions[:3] + (Question("effort", "ces", {"en": "Easy?"}, scale=Scale(1, 7)),))
    changes = compare(BASE, new)
    assert [(c.kind, c.key) for c in changes] == [("removed", "why"), ("added", "effort")]
    assert trend_notes(changes) == [
        "the trend of 'why' ends with the current version; its earlier answers stay",
        "'effort' has no trend before the new version: its series starts there"]


def test_a_reworded_question_is_shown_with_old_and_new_text():
    new = changed(recommend=replace(BASE.questions[0], text={"en": "Would you recommend us?"}))
    (change,) = compare(BASE, new)
    assert change.kind == "reworded"
    assert change.description == ("question 'recommend' reworded [en]: 'How likely are you to recommend us?' -> "
                                  "'Would you recommend us?'")
    assert "may not be comparable" in change.trend


def test_a_changed_scale_breaks_the_trend():
    new = changed(stars=replace(BASE.questions[1], scale=Scale(1, 7, {"en": ("Bad", "Good")})))
    (change,) = compare(BASE, new)
    assert change.description == "scale of 'stars' changed from 1-5 to 1-7"
    assert change.trend == "a changed scale breaks the trend of 'stars': versions are shown separately"


def test_changed_choices_condition_kind_required_and_order_are_each_listed():
    new_questions = (
        replace(BASE.questions[0], required=False),
        replace(BASE.questions[2], choices=BASE.questions[2].choices[:1] + (Choice("return", {"en": "To return"}),)),
        replace(BASE.questions[1], kind="csat"),
        replace(BASE.questions[3], show_if=Condition("recommend", "<=", 8)),
    )
    changes = compare(BASE, replace(BASE, questions=new_questions))
    by_kind = {c.kind: c for c in changes}
    assert set(by_kind) == {"required", "choices", "kind", "condition", "order"}
    assert by_kind["choices"].description == "choices of 'reason' changed (added: return; removed: browse)"
    assert by_kind["kind"].description == "question 'stars' changed from rating to csat"
    assert "now feeds a different metric" in by_kind["kind"].trend
    assert by_kind["condition"].description == (
        "display condition of 'why' changed from recommend <= 6 to recommend <= 8")
    assert by_kind["required"].trend is None and by_kind["required"].description == "question 'recommend' is now optional"


def test_relabelled_scale_ends_and_survey_fields_are_listed():
    new = replace(changed(stars=replace(BASE.questions[1], scale=Scale(1, 5, {"en": ("Poor", "Great")}))),
                  title={"en": "Another"})
    assert [(c.kind, c.key) for c in compare(BASE, new)] == [("survey", ""), ("end_labels", "stars")]
