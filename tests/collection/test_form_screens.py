"""Screens of the respondent form: the layout cuts, the conditions decide, posted fields become answers."""

from __future__ import annotations

import pytest

from survey.collection.collect import check_answers
from survey.collection.form import screens
from survey.definitions.definition import DefinitionError, dumps_yaml, loads_yaml

QUESTIONS = """
questions:
  - {key: recommend, kind: nps, text: Recommend, required: true}
  - {key: why, kind: text, text: Why, show_if: recommend <= 6, group: low}
  - {key: fix, kind: text, text: Fix, group: low}
  - key: drivers
    kind: matrix
    text: Rate
    group: rate
    scale: {min: 1, max: 5, labels: [Poor, Good]}
    attributes: [{value: speed, label: Speed}, {value: price, label: Price}]
  - {key: liked, kind: multi_choice, text: Liked, group: rate, choices: [a, b]}
  - {key: more, kind: text, text: More}
"""


def survey(layout: str):
    return loads_yaml(f"slug: s\ntitle: S\nlayout: {layout}\n" + QUESTIONS)


def keys(found):
    return [[q.key for q in screen] for screen in found]


@pytest.mark.parametrize("layout, expected", [
    # one page, cut only before `why`, whose condition needs `recommend` sent first
    ("one_page", [["recommend"], ["why", "fix", "drivers", "liked", "more"]]),
    ("one_per_screen", [["recommend"], ["why"], ["fix"], ["drivers"], ["liked"], ["more"]]),
    ("one_group_per_screen", [["recommend"], ["why", "fix"], ["drivers", "liked"], ["more"]]),
])
def test_the_layout_cuts_the_questions_into_screens(layout, expected):
    assert keys(screens.screens(survey(layout))) == expected


def test_a_screen_is_cut_before_a_condition_on_its_own_question():
    grouped = loads_yaml("""
slug: s
title: S
layout: one_group_per_screen
questions:
  - {key: a, kind: nps, text: A, group: g}
  - {key: b, kind: text, text: B, group: g, show_if: a <= 6}
  - {key: c, kind: text, text: C, group: g}
""")
    assert keys(screens.screens(grouped)) == [["a"], ["b", "c"]]


def test_the_next_screen_is_the_first_a_condition_shows():
    one = survey("one_per_screen")
    assert screens.next_screen(one, 0, {"recommend": 9}) == 2  # `why` skipped
    assert screens.next_screen(one, 0, {"recommend": 3}) == 1
    assert screens.previous_screen(one, 2, {"recommend": 9}) == 0
    assert screens.next_screen(one, 5, {}) is None and screens.previous_screen(one, 0, {}) is None
    # a grouped screen is shown when one of its questions is: `fix` has no condition
    grouped = survey("one_group_per_screen")
    assert screens.next_screen(grouped, 0, {"recommend": 9}) == 1
    assert [q.key for q in screens.shown_questions(screens.screens(grouped)[1], {"recommend": 9})] == ["fix"]


def test_next_is_offered_while_a_later_screen_may_still_be_shown():
    ends_on_condition = loads_yaml("""
slug: s
title: S
layout: one_per_screen
questions:
  - {key: a, kind: nps, text: A}
  - {key: b, kind: text, text: B, show_if: a <= 6}
""")
    assert screens.may_continue(ends_on_condition, 0, {})  # not decided before `a` is sent
    assert not screens.may_continue(ends_on_condition, 1, {"a": 9})
    assert not screens.may_continue(survey("one_per_screen"), 5, {})


def test_posted_fields_become_the_answers_the_rule_book_takes_and_back():
    one = survey("one_page")
    fields = [("q.recommend", "3"), ("q.why", "  slow "), ("q.drivers.speed", "2"), ("q.liked", "a"),
              ("q.liked", "b"), ("q.more", "   "), ("q.nope", "x"), ("csrf", "t"), ("q.drivers.price", "")]
    answers = screens.answers_from_form(one, fields)
    assert answers == {"recommend": "3", "why": "  slow ", "drivers": {"speed": "2"}, "liked": ["a", "b"]}
    assert check_answers(one, answers) == ({"recommend": 3, "why": "  slow ", "drivers": {"speed": 2},
                                            "liked": ["a", "b"]}, {})
    carried = screens.form_fields(one, answers, keep=[one.question("why")])
    assert carried == [("q.recommend", "3"), ("q.drivers.speed", "2"), ("q.liked", "a"), ("q.liked", "b")]
    assert screens.answers_from_form(one, carried + [("q.why", "  slow ")]) == answers
    assert screens.screen_of(survey("one_per_screen"), "drivers.speed") == 3


@pytest.mark.parametrize("text, message", [
    ("layout: one_per_page\n", "layout 'one_per_page' is not known (expected one of: one_page, one_per_screen, "
                               "one_group_per_screen)"),
    ("questions:\n  - {key: a, kind: nps, text: A, group: g}\n  - {key: b, kind: nps, text: B}\n"
     "  - {key: c, kind: nps, text: C, group: g}\n", "question 'c' (line 6): group 'g' appeared earlier"),
    ("questions:\n  - {key: a, kind: nps, text: A, group: 'my group'}\n", "question 'a' (line 4): group 'my group' must"),
])
def test_a_bad_layout_or_group_is_refused_naming_it(text, message):
    base = "slug: s\ntitle: S\n" + (text if text.startswith("questions") else text + "questions:\n  - {key: a, kind: nps, text: A}\n")
    with pytest.raises(DefinitionError) as raised:
        loads_yaml(base)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_layout_and_groups_survive_a_round_trip_and_are_written_only_when_chosen():
    grouped = survey("one_group_per_screen")
    assert loads_yaml(dumps_yaml(grouped)) == grouped
    assert "layout" not in dumps_yaml(survey("one_page"))
    assert "group" not in dumps_yaml(loads_yaml("slug: s\ntitle: S\nquestions:\n  - {key: a, kind: nps, text: A}\n"))
