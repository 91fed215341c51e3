"""The condition language: XForm's subset of expressions, parsed once into a small AST.

One language for every display condition: YAML ``show_if``, the Designer, XLSForm ``relevant``
(a group's ``relevant`` is joined to each of its questions' with ``and``), the respondent form,
the JSON API and CSV imports. ``parse`` turns text into a tree of frozen dataclasses; ``evaluate``
walks the tree (never ``eval``); ``to_text`` writes the canonical text back.

Grammar (lowest precedence first, as in XPath 1.0)::

    or_expr   := and_expr ("or" and_expr)*
    and_expr  := equality ("and" equality)*
    equality  := relation (("=" | "==" | "!=") relation)*
    relation  := additive (("<" | "<=" | ">" | ">=") additive)*
    additive  := term (("+" | "-") term)*
    term      := unary (("*" | "div" | "mod") unary)*
    unary     := "-" unary | primary
    primary   := number | 'string' | "string" | ${name} | name | function "(" args ")" | "(" or_expr ")"

A bare ``name`` is a reference too (``recommend <= 6`` means ``${recommend} <= 6``). Functions:
``not``, ``selected``, ``count-selected``, ``string-length``, ``true``, ``false``, ``number``,
``int``, ``string``. Curly quotes (as word processors type them) count as straight ones.

Semantics, chosen so that the older one-comparison conditions keep their meaning:
an unanswered question (no value, blank text, empty selection) never meets a comparison, except
``${q} = ''`` (true when unanswered) and ``${q} != ''`` (true when answered). A multi choice meets
a comparison when any selected value does. Two values compare as numbers when both read as
numbers, otherwise as text. Arithmetic on an unanswered or non-numeric value gives NaN, which
meets no comparison. ``and``/``or``/``not()`` take the truth of their operands: a number other than
0 and NaN, non-empty text, a non-empty selection.

Example:
    >>> expression = parse("${recommend} <= 6 and not(selected(${reasons}, 'price'))")
    >>> evaluate(expression, {"recommend": 4, "reasons": ["speed"]})
    True
    >>> references(expression)
    ('recommend', 'reasons')
    >>> to_text(expression)
    "${recommend} <= 6 and not(selected(${reasons}, 'price'))"
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
FUNCTIONS = {  # name -> number of arguments
    "not": 1, "selected": 2, "count-selected": 1, "string-length": 1, "true": 0, "false": 0,
    "number": 1, "int": 1, "string": 1,
}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


class ConditionError(ValueError):
    """An expression that cannot be parsed; `position` is the 1-based character where it fails."""

    def __init__(self, message: str, position: int):
        self.position = position
        super().__init__(f"{message} at position {position}")


@dataclass(frozen=True)
class Literal:
    value: float | int | str


@dataclass(frozen=True)
class Ref:
    key: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic:
    op: str  # "and" or "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Arith:
    op: str  # + - * div mod
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Union[Literal, Ref, Compare, Logic, Arith, Negate, Call]


# --- tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<ref>\$\{\s*(?P<refname>[^\s{}]+)\s*\})
  | (?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)
  | (?P<op><=|>=|!=|==|=|<|>|\+|-|\*|\(|\)|,)
""", re.VERBOSE)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int  # 1-based


def _tokens(text: str) -> list[_Token]:
    tokens, index = [], 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:
            raise ConditionError(f"unexpected character {text[index]!r}", index + 1)
        kind = match.lastgroup if match.lastgroup != "refname" else "ref"
        if kind != "space":
            value = match.group("refname") if kind == "ref" else match.group(0)
            if kind == "name" and value in ("and", "or", "div", "mod"):
                kind = "op"
            tokens.append(_Token(kind, value, index + 1))
        index = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# --- parse ----------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *ops: str) -> _Token | None:
        token = self.peek()
        if token.kind == "op" and token.text in ops:
            return self.take()
        return None

    def expect(self, op: str) -> None:
        token = self.peek()
        if not (token.kind == "op" and token.text == op):
            found = f"{token.text!r}" if token.kind != "end" else "the end"
            raise ConditionError(f"expected {op!r} but found {found}", token.position)
        self.take()

    def binary(self, ops: tuple[str, ...], lower: Callable[[], Node], make: Callable[[str, Node, Node], Node]) -> Node:
        node = lower()
        while (token := self.accept(*ops)) is not None:
            node = make(token.text, node, lower())
        return node

    def or_expr(self) -> Node:
        return self.binary(("or",), self.and_expr, Logic)

    def and_expr(self) -> Node:
        return self.binary(("and",), self.equality, Logic)

    def equality(self) -> Node:
        return self.binary(("=", "==", "!="), self.relation, lambda op, a, b: Compare("=" if op == "==" else op, a, b))

    def relation(self) -> Node:
        return self.binary(("<", "<=", ">", ">="), self.additive, Compare)

    def additive(self) -> Node:
        return self.binary(("+", "-"), self.term, Arith)

    def term(self) -> Node:
        return self.binary(("*", "div", "mod"), self.unary, Arith)

    def unary(self) -> Node:
        if self.accept("-"):
            operand = self.unary()
            if isinstance(operand, Literal) and isinstance(operand.value, (int, float)):
                return Literal(-operand.value)
            return Negate(operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.kind == "string":
            return Literal(token.text[1:-1])
        if token.kind == "ref":
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", token.text):
                raise ConditionError(f"{token.text!r} is not a question name", token.position)
            return Ref(token.text)
        if token.kind == "name":
            if self.accept("("):
                return self.call(token)
            return Ref(token.text)
        if token.kind == "op" and token.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        found = "the end of the expression" if token.kind == "end" else f"{token.text!r}"
        raise ConditionError(f"expected a value, a question or '(' but found {found}", token.position)

    def call(self, name: _Token) -> Node:
        if name.text not in FUNCTIONS:
            raise ConditionError(f"unknown function {name.text + '()'!r} (known: "
                                 f"{', '.join(f + '()' for f in FUNCTIONS)})", name.position)
        args: list[Node] = []
        if not self.accept(")"):
            args.append(self.or_expr())
            while self.accept(","):
                args.append(self.or_expr())
            self.expect(")")
        if len(args) != FUNCTIONS[name.text]:
            raise ConditionError(f"{name.text}() takes {FUNCTIONS[name.text]} argument(s), not {len(args)}",
                                 name.position)
        if name.text in ("selected", "count-selected") and not isinstance(args[0], Ref):
            raise ConditionError(f"the first argument of {name.text}() must be a question", name.position)
        return Call(name.text, tuple(args))


def parse(text: str) -> Node:
    """Parse an expression into its AST; ConditionError names the position of the first fault."""
    text = str(text).translate(_QUOTES)
    if not text.strip():
        raise ConditionError("the expression is empty", 1)
    parser = _Parser(text)
    node = parser.or_expr()
    token = parser.peek()
    if token.kind != "end":
        raise ConditionError(f"unexpected {token.text!r}", token.position)
    return node


# --- inspect and rewrite --------------------------------------------------------------------------


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Compare, Logic, Arith)):
        return (node.left, node.right)
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


def references(node: Node) -> tuple[str, ...]:
    """The question keys the expression refers to, once each, in order of appearance."""
    found: list[str] = []

    def walk(item: Node) -> None:
        if isinstance(item, Ref) and item.key not in found:
            found.append(item.key)
        for child in _children(item):
            walk(child)

    walk(node)
    return tuple(found)


def rename(node: Node, names: Mapping[str, str]) -> Node:
    """The same expression with references renamed by `names` (others kept)."""
    if isinstance(node, Ref):
        return Ref(names.get(node.key, node.key))
    if isinstance(node, (Compare, Logic, Arith)):
        return type(node)(node.op, rename(node.left, names), rename(node.right, names))
    if isinstance(node, Negate):
        return Negate(rename(node.operand, names))
    if isinstance(node, Call):
        return Call(node.name, tuple(rename(arg, names) for arg in node.args))
    return node


_PRECEDENCE = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "+": 5, "-": 5, "*": 6, "div": 6, "mod": 6}


def _literal_text(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return repr(value) if isinstance(value, float) else str(value)


def to_text(node: Node, parent: int = 0) -> str:
    """The canonical XForm text of an expression; `parse(to_text(e)) == e`."""
    if isinstance(node, Literal):
        text = _literal_text(node.value)
        return f"({text})" if text.startswith("-") and parent >= 5 else text
    if isinstance(node, Ref):
        return f"${{{node.key}}}"
    if isinstance(node, Negate):
        return f"-{to_text(node.operand, 7)}"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(to_text(arg) for arg in node.args)})"
    level = _PRECEDENCE[node.op]
    # left-associative: the right operand needs brackets at the same level
    text = f"{to_text(node.left, level)} {node.op} {to_text(node.right, level + 1)}"
    return f"({text})" if level < parent else text


# --- evaluate -------------------------------------------------------------------------------------

_UNANSWERED = None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple, set, frozenset)) and not value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return math.nan
    return math.nan


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    if _blank(value):
        return False
    return True


def _scalar_compare(op: str, left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if not (math.isnan(a) or math.isnan(b)):
        pair: tuple[Any, Any] = (a, b)
    elif isinstance(left, (int, float)) and not isinstance(left, bool) or (
            isinstance(right, (int, float)) and not isinstance(right, bool)):
        return False  # a number against text that is not one: NaN, which meets nothing
    else:
        pair = (str(left), str(right))
    x, y = pair
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _compare(op: str, left: Any, right: Any) -> bool:
    if (isinstance(right, str) and right == "") or (isinstance(left, str) and left == ""):
        other = left if isinstance(right, str) and right == "" else right
        if op == "=":
            return _blank(other)
        if op == "!=":
            return not _blank(other)
    if _blank(left) or _blank(right):
        return False
    lefts = list(left) if isinstance(left, (list, tuple, set, frozenset)) else [left]
    rights = list(right) if isinstance(right, (list, tuple, set, frozenset)) else [right]
    return any(_scalar_compare(op, a, b) for a in lefts for b in rights)


def _arith(op: str, left: Any, right: Any) -> float:
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:  # XPath: x div 0 is +-Infinity (NaN for 0 div 0); x mod 0 is NaN
        return math.copysign(math.inf, a) if op == "div" and a != 0 and not math.isnan(a) else math.nan
    return a / b if op == "div" else math.fmod(a, b)


def _value(node: Node, answers: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        value = answers.get(node.key)
        return _UNANSWERED if _blank(value) else value
    if isinstance(node, Compare):
        return _compare(node.op, _value(node.left, answers), _value(node.right, answers))
    if isinstance(node, Logic):
        left = _truth(_value(node.left, answers))
        if node.op == "and":
            return left and _truth(_value(node.right, answers))
        return left or _truth(_value(node.right, answers))
    if isinstance(node, Arith):
        return _arith(node.op, _value(node.left, answers), _value(node.right, answers))
    if isinstance(node, Negate):
        return -_number(_value(node.operand, answers))
    return _call(node, answers)


def _call(node: Call, answers: Mapping[str, Any]) -> Any:
    name = node.name
    if name == "true":
        return True
    if name == "false":
        return False
    value = _value(node.args[0], answers)
    if name == "not":
        return not _truth(value)
    if name == "selected":
        wanted = str(_value(node.args[1], answers))
        if _blank(value):
            return False
        items = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split()
        return wanted in {str(item) for item in items}
    if name == "count-selected":
        if _blank(value):
            return 0
        return len(value) if isinstance(value, (list, tuple, set, frozenset)) else len(str(value).split())
    if name == "string-length":
        return 0 if value is None else len(_string(value))
    if name == "number":
        return _number(value)
    if name == "int":
        number = _number(value)
        return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))
    return "" if value is None else _string(value)


def _string(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def evaluate(node: Node, answers: Mapping[str, Any]) -> bool:
    """Whether the expression holds for these answers (see the module docstring for the rules)."""
    return _truth(_value(node, answers))
