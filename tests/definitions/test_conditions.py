"""The condition language: parsing, errors with positions, the evaluator, and its round trip."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.definitions.conditions import (
    Arith, Call, Compare, ConditionError, Literal, Logic, Ref, evaluate, parse, references, rename, to_text,
)
from survey.definitions.definition import Condition, DefinitionError, loads_yaml


# --- parsing ---------------------------------------------------------------------------------------


def test_precedence_follows_xpath_or_below_and_below_comparison_below_arithmetic():
    assert parse("${a} = 1 or ${b} = 2 and ${c} = 3") == Logic(
        "or", Compare("=", Ref("a"), Literal(1)),
        Logic("and", Compare("=", Ref("b"), Literal(2)), Compare("=", Ref("c"), Literal(3))))
    assert parse("${a} + 2 * 3 > 7") == Compare(
        ">", Arith("+", Ref("a"), Arith("*", Literal(2), Literal(3))), Literal(7))


def test_real_form_expressions_parse():
    expressions = [
        "${consent} = 'yes' and ${age} >= 18",
        "not(selected(${reasons}, 'other'))",
        "count-selected(${fruits}) > 1",
        "string-length(${comment}) > 0",
        "${name} != ''",
        "(${a} = 1 or ${b} = 2) and not(${c} = 3)",
        "${nights} div 2 mod 3 = 1",
        "${Q1.a} = 1 and ${q-2} = 'x'",
        "selected(${q}, \u2018yes\u2019)",  # curly quotes, as a word processor types them
    ]
    for text in expressions:
        assert parse(to_text(parse(text))) == parse(text)


@pytest.mark.parametrize("text, message, position", [
    ("${a} = ", "expected a value", 8),
    ("(${a} = 1", "expected ')'", 10),
    ("${a} @ 1", "unexpected character '@'", 6),
    ("foo(${a})", "unknown function 'foo()'", 1),
    ("${a} = 1 ${b}", "unexpected 'b'", 10),
    ("selected('x', 'y')", "first argument of selected() must be a question", 1),
    ("not(${a}, ${b})", "not() takes 1 argument(s), not 2", 1),
    ("", "the expression is empty", 1),
])
def test_parse_errors_name_the_position(text, message, position):
    with pytest.raises(ConditionError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert f"at position {position}" in str(caught.value)


def test_references_are_listed_once_in_order_and_can_be_renamed():
    expression = parse("${b} = 1 and (${a} > ${b} or selected(${c}, 'x'))")
    assert references(expression) == ("b", "a", "c")
    assert references(rename(expression, {"b": "z"})) == ("z", "a", "c")


# --- evaluation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, answers, expected", [
    ("${a} = ''", {}, True),
    ("${a} = ''", {"a": "x"}, False),
    ("${a} != ''", {"a": "x"}, True),
    ("${a} != ''", {"a": "  "}, False),
    ("${a} != 'no'", {}, False),           # an unanswered question meets no comparison
    ("not(${a} = 'no')", {}, True),
    ("${a} < 5", {"a": "3"}, True),         # text that reads as a number compares as one
    ("${a} = 'b'", {"a": ["a", "b"]}, True),  # a multi choice: any selected value
    ("selected(${a}, 'b')", {"a": ["a", "b"]}, True),
    ("selected(${a}, 'b')", {"a": "a b"}, True),  # XForm's space-separated spelling
    ("count-selected(${a}) = 2", {"a": ["a", "b"]}, True),
    ("count-selected(${a}) = 0", {}, True),
    ("string-length(${a}) = 5", {"a": "hello"}, True),
    ("${a} + 1 > 2", {}, False),            # NaN meets no comparison
    ("${a} div 0 > 1000", {"a": 3}, True),  # XPath: 3 div 0 is Infinity
    ("${a} mod 2 = 1", {"a": 7}, True),
    ("-${a} = -4", {"a": 4}, True),
    ("true() and not(false())", {}, True),
])
def test_evaluation_rules(text, answers, expected):
    assert evaluate(parse(text), answers) is expected


def test_older_simple_conditions_keep_their_meaning_and_spelling():
    condition = Condition.parse("recommend <= 6")
    assert condition == Condition("recommend", "<=", 6)
    assert str(condition) == "recommend <= 6"
    assert condition.holds({"recommend": 3}) and not condition.holds({"recommend": 9})
    assert not condition.holds({})
    assert Condition.parse("resolved = 'no'") == Condition("resolved", "==", "no")
    assert str(Condition.parse("${recommend} <= 6")) == "recommend <= 6"


def test_yaml_show_if_takes_the_whole_language_and_round_trips():
    survey = loads_yaml("""
slug: s
title: S
questions:
  - {key: a, kind: nps, text: A}
  - {key: b, kind: multi_choice, text: B, choices: [x, y]}
  - {key: c, kind: text, text: C, show_if: "a <= 6 and (selected(b, 'x') or count-selected(b) > 1)"}
""")
    condition = survey.question("c").show_if
    assert condition.references == ("a", "b")
    assert condition.holds({"a": 3, "b": ["x"]}) and not condition.holds({"a": 9, "b": ["x"]})
    assert Condition.parse(str(condition)) == condition


@pytest.mark.parametrize("show_if, message", [
    ("a <= 6 and later = 'x'", "refers to 'later', which comes later"),
    ("a <= 6 or nobody > 1", "unknown question 'nobody'"),
    ("c = 1", "refers to the question itself"),
    ("a <= 6 and (b = 1", "expected ')' but found the end at position 18"),
])
def test_bad_references_and_syntax_are_errors_naming_the_question(show_if, message):
    text = f"""
slug: s
title: S
questions:
  - {{key: a, kind: nps, text: A}}
  - {{key: c, kind: text, text: C, show_if: "{show_if}"}}
  - {{key: later, kind: text, text: L}}
"""
    with pytest.raises(DefinitionError) as caught:
        loads_yaml(text)
    problem = next(p for p in caught.value.problems if message in p)
    assert "question 'c'" in problem


# --- the property: evaluator against a reference evaluation ---------------------------------------

KEYS = ("n", "m", "s", "multi")
WORDS = ("a", "b", "c")


def _answers():
    number = st.one_of(st.none(), st.integers(-5, 5))
    return st.fixed_dictionaries({
        "n": number, "m": number,
        "s": st.one_of(st.none(), st.sampled_from(WORDS)),
        "multi": st.lists(st.sampled_from(WORDS), unique=True, max_size=3),
    })


def _is_blank(value):
    return value is None or value == "" or value == []


def _numeric():
    """(text, reference) pairs for number-valued expressions; reference(answers) -> float."""
    leaf = st.one_of(
        st.integers(-9, 9).map(lambda v: (str(v) if v >= 0 else f"({v})", lambda a, v=v: float(v))),
        st.sampled_from(("n", "m")).map(lambda k: (
            f"${{{k}}}", lambda a, k=k: math.nan if a[k] is None else float(a[k]))),
        st.just(("count-selected(${multi})", lambda a: float(len(a["multi"])))),
        st.just(("string-length(${s})", lambda a: float(len(a["s"] or "")))),
    )

    def extend(inner):
        def combine(op, left, right):
            (lt, lf), (rt, rf) = left, right
            python = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y}[op]
            return (f"({lt} {op} {rt})", lambda a: python(lf(a), rf(a)))
        return st.builds(combine, st.sampled_from(("+", "-", "*")), inner, inner)

    return st.recursive(leaf, extend, max_leaves=4)


def _boolean():
    """(text, reference) pairs for true/false expressions, with the reference written directly."""
    ops = {"=": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
           "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}

    def numeric_comparison(op, left, right):
        (lt, lf), (rt, rf) = left, right

        def reference(a):
            x, y = lf(a), rf(a)
            return not (math.isnan(x) or math.isnan(y)) and ops[op](x, y)
        return (f"{lt} {op} {rt}", reference)

    def text_comparison(op, word):
        def reference(a):
            if _is_blank(a["s"]):
                return False
            return ops[op](a["s"], word)
        return (f"${{s}} {op} '{word}'", reference)

    leaf = st.one_of(
        st.builds(numeric_comparison, st.sampled_from(tuple(ops)), _numeric(), _numeric()),
        st.builds(text_comparison, st.sampled_from(("=", "!=")), st.sampled_from(WORDS)),
        st.sampled_from(WORDS).map(lambda w: (f"selected(${{multi}}, '{w}')", lambda a, w=w: w in a["multi"])),
        st.sampled_from(KEYS).map(lambda k: (f"${{{k}}} != ''", lambda a, k=k: not _is_blank(a[k]))),
        st.sampled_from(KEYS).map(lambda k: (f"${{{k}}} = ''", lambda a, k=k: _is_blank(a[k]))),
    )

    def extend(inner):
        def both(left, right):
            return (f"({left[0]} and {right[0]})", lambda a: left[1](a) and right[1](a))

        def either(left, right):
            return (f"({left[0]} or {right[0]})", lambda a: left[1](a) or right[1](a))

        def negation(item):
            return (f"not({item[0]})", lambda a: not item[1](a))
        return st.one_of(st.builds(both, inner, inner), st.builds(either, inner, inner), inner.map(negation))

    return st.recursive(leaf, extend, max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(_boolean(), _answers())
def test_evaluator_agrees_with_a_reference_evaluation_on_random_expressions(expression, answers):
    text, reference = expression
    parsed = parse(text)
    assert evaluate(parsed, answers) is reference(answers), text
    # and the canonical text means the same thing
    assert parse(to_text(parsed)) == parsed
    assert evaluate(parse(to_text(parsed)), answers) is reference(answers)


def test_call_nodes_are_plain_data():
    assert parse("not(${a})") == Call("not", (Ref("a"),))


def test_piping_refers_to_earlier_questions_only():
    with pytest.raises(DefinitionError) as caught:
        loads_yaml("""
slug: s
title: S
questions:
  - {key: a, kind: text, text: "Hello ${b}"}
  - {key: b, kind: text, text: "Name?"}
""")
    assert caught.value.problems == ["<yaml>: question 'a' (line 5): the text shows ${b}, which is not an earlier "
                                     "question of the survey"]
