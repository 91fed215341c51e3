"""Every regular expression that guards input is applied as a full match (issue 16, finding 5).

`pattern.match(text)` with a pattern ending in `$` accepts `text` with a trailing newline, since
`$` also matches just before a final "\\n": the API took `"channel": "kiosk\\n"`. The rule: a guard
is applied with `fullmatch`. This test enumerates every regular expression in the application code
(`survey/`, `app_pages/`, `app.py`), so a new one must be classified here: a guard (with a value it
accepts) or a pattern that searches or parses text and guards nothing (with the reason).
"""

from __future__ import annotations

import ast
import importlib
import re

import pytest

from tests.conftest import ROOT

SOURCES = sorted([*(ROOT / "survey").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py"), ROOT / "app.py"])
SOURCES = [path for path in SOURCES if "migrations" not in path.parts]

# (module, name) of each guard -> a value the guard accepts. The guards of expressions end in `\s*`
# on purpose (surrounding blanks are allowed), so for them a newline followed by more text is the test.
GUARDS = {
    ("survey.collection.api", "CHANNEL_PATTERN"): "kiosk",
    ("survey.collection.api", "SLUG_PATTERN"): "post-support",
    ("survey.collection.response_import", "CHANNEL_PATTERN"): "kiosk",
    ("survey.collection.respondent", "VISIT_KEY"): "0123456789abcdef0123456789abcdef",
    ("survey.definitions.definition", "KEY_PATTERN"): "csat",
    ("survey.definitions.definition", "_LEGACY_CONDITION"): "csat <= 2",
    ("survey.definitions.xlsform", "_END_CONTROL"): "end group",
    ("survey.followup.settings", "EMAIL"): "fm@example.com",
    ("survey.people.accounts", "EMAIL"): "someone@example.com",
}
# (module, name or enclosing function) -> why it guards nothing
NOT_GUARDS = {
    ("app_pages.identity", "_post_from_the_browser"): "a guard of the one-time sign-in code, applied with re.fullmatch",
    ("app_pages.labels", "P_VALUE_COLUMNS"): "finds p-value columns among our own column names",
    ("app_pages.labels", "_KIND_NAMES"): "finds question kinds inside our own recorded notes, to put them in words",
    ("app_pages.labels", "_RULE_NAMES"): "finds rule names inside our own recorded notes, to put them in words",
    ("app_pages.labels", "cell"): "splits our own list of rule names",
    ("app_pages.labels", "header"): "tells our own column names from words already written for people",
    ("app_pages.my_followups", "_apply"): "tells a field name in our own problem text",
    ("survey.definitions.xlsform", "_FROM_DICT_WHERE"): "splits our own message text",
    ("survey.definitions.xlsform", "_ROW_IN_MESSAGE"): "finds a row number in our own message text",
    ("survey.definitions.xlsform", "_language"): "takes the code out of a label such as 'English (en)'",
    ("survey.definitions.xlsform", "scale"): "a guard of a whole number, applied with re.fullmatch",
    ("survey.definitions.xlsform", "plain_question"): "a guard of a whole number, applied with re.fullmatch",
    ("survey.definitions.xlsform", "choice_scale"): "guards of whole numbers, applied with re.fullmatch",
    ("survey.definitions.xlsform", "key_for"): "replaces characters to make a key (then checked with KEY_PATTERN)",
    ("survey.definitions.xlsform", "parse_relevant"): "rewrites ../name references as ${name} before parsing",
    ("survey.definitions.xlsform", "propose"): "searches a question's wording to propose a metric",
    ("survey.definitions.conditions", "_TOKEN"): "reads one token at a position; the parser checks the whole text",
    ("survey.definitions.conditions", "primary"): "a guard of a name, applied with re.fullmatch",
    ("survey.definitions.definition", "PIPE_PATTERN"): "finds ${q} references in a label or hint",
    ("survey.definitions.definition", "_plain_value"): "guards of a plain value, applied with re.fullmatch",
    ("survey.definitions.xlsform", "_slugify"): "replaces characters to make a slug",
    ("survey.definitions.wording", "check_question"): "searches a question's text for leading phrases",
    ("survey.definitions.wording", "_normalised"): "replaces punctuation by spaces",
    ("survey.definitions.wording", "_words"): "splits text into words",
    ("survey.followup.digest", "_file_stem"): "replaces characters to make a file name",
    ("survey.followup.rules", "_word_pattern"): "searches comments for negative words",
    ("survey.exports", "AFTER_DELIMITER"): "finds formula starts to neutralise in exported cells",
    ("survey.response_export", "NAME_PATTERN"): "replaces characters to make a variable name",
    ("survey.response_export", "_codes"): "a guard of whole-number choice values, applied with re.fullmatch",
    ("app_pages.report", "_ACTIVE_SVG"): "searches an SVG for active content",
    ("app_pages.text", "MARKDOWN_SPECIAL"): "escapes characters in outside text",
    ("app_pages.text", "LIST_MARKER"): "escapes list markers in outside text",
}
RE_FUNCTIONS = {"compile", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split"}


def module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def regular_expressions() -> dict[tuple[str, str], int]:
    """(module, assigned name or enclosing function) -> line, for every `re.<function>(...)` call."""
    found: dict[tuple[str, str], int] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = module_name(path)

        def visit(node, owner: str | None) -> None:
            for child in ast.iter_child_nodes(node):
                name = owner
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = owner or child.name
                elif isinstance(child, ast.Assign) and owner is None and len(child.targets) == 1 \
                        and isinstance(child.targets[0], ast.Name):
                    name = child.targets[0].id
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                        and isinstance(child.func.value, ast.Name) and child.func.value.id == "re" \
                        and child.func.attr in RE_FUNCTIONS and not _escapes_only(child):
                    found.setdefault((module, name or "<module>"), child.lineno)  # noqa: B023 - called at once
                visit(child, name)

        visit(tree, None)
    return found


def _escapes_only(call: ast.Call) -> bool:
    # `re.sub(re.escape(identifier), ...)` and the like replace a literal: not a pattern of ours
    return bool(call.args) and isinstance(call.args[0], ast.Call) and isinstance(call.args[0].func, ast.Attribute) \
        and call.args[0].func.attr == "escape"


def test_every_regular_expression_is_classified_as_a_guard_or_not():
    found = set(regular_expressions())
    unclassified = found - set(GUARDS) - set(NOT_GUARDS)
    assert not unclassified, f"classify these in GUARDS or NOT_GUARDS: {sorted(unclassified)}"
    stale = (set(GUARDS) | set(NOT_GUARDS)) - found
    assert not stale, f"no longer in the code: {sorted(stale)}"


def test_every_guard_is_applied_with_fullmatch_and_never_match_or_search():
    wrong = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("match", "search", "findall", "finditer") \
                    and isinstance(node.value, ast.Name) and node.value.id in {n for _, n in GUARDS}:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr == "match" \
                    and isinstance(node.value, ast.Name) and node.value.id == "re":
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: re.match (use re.fullmatch or re.search)")
    assert not wrong, "guards must use fullmatch: " + "; ".join(wrong)


@pytest.mark.parametrize("module, name", sorted(GUARDS))
def test_each_guard_accepts_its_value_and_refuses_it_with_a_trailing_newline(module, name):
    pattern = getattr(importlib.import_module(module), name)
    assert isinstance(pattern, re.Pattern)
    sample = GUARDS[(module, name)]
    assert pattern.fullmatch(sample)
    assert not pattern.fullmatch(sample + "\nx")
    if not pattern.pattern.endswith(r"\s*$"):
        assert not pattern.fullmatch(sample + "\n")


def test_definition_keys_and_visit_keys_with_a_trailing_newline_are_refused():
    from survey.collection.respondent import visit_idempotency_key
    from survey.definitions.definition import DefinitionError, from_dict

    assert visit_idempotency_key("0123456789abcdef0123456789abcdef") is not None
    assert visit_idempotency_key("0123456789abcdef0123456789abcdef\n") is None
    with pytest.raises(DefinitionError, match="key 'csat\\\\n' must start with a letter"):
        from_dict({"slug": "s", "title": "T", "questions": [
            {"key": "csat\n", "kind": "csat", "text": "How satisfied are you?"}]})
