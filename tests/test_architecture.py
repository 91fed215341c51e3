"""Imports flow one way: app -> survey, analysis; survey -> analysis; analysis imports neither.

Within `survey`, each subpackage may import only what its docstring allows (`ALLOWED_IMPORTS`).
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT


def imported_top_level_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package, forbidden", [
    ("survey", {"streamlit", "app_pages", "altair"}),
    ("analysis", {"streamlit", "sqlalchemy", "survey", "app_pages", "altair"}),
])
def test_lower_layers_never_import_upper_ones(package, forbidden):
    offenders = {module: sorted(names & forbidden)
                 for module, names in imported_top_level_modules(package).items() if names & forbidden}
    assert offenders == {}


# What each part of `survey` may import of `survey` (a module, or a package and all below it).
# Kept equal to the "May import" paragraph of each subpackage's docstring.
ALLOWED_IMPORTS = {
    "survey.storage.models": {"survey.storage.count_upkeep"},
    "survey.storage.count_upkeep": set(),
    "survey.messages": set(),
    "survey.exports": set(),
    "survey.definitions": {"survey.messages", "survey.definitions", "survey.storage.models",
                           "survey.storage.count_upkeep"},
    "survey.people": {"survey.messages", "survey.people", "survey.storage.models", "survey.storage.db"},
    "survey.storage": {"survey.messages", "survey.storage", "survey.definitions.definition", "survey.people.access",
                       "survey.followup.queries"},
    "survey.collection": {"survey.messages", "survey.settings", "survey.exports", "survey.definitions",
                          "survey.storage.models", "survey.storage.db", "survey.storage.bulk", "survey.storage.counts",
                          "survey.people",
                          "survey.collection",
                          "survey.followup.cases", "survey.retention.events", "survey.integrations.outbox"},
    "survey.followup": {"survey.messages", "survey.settings", "survey.exports", "survey.definitions",
                        "survey.storage.models", "survey.storage.db", "survey.storage.bulk", "survey.people",
                        "survey.followup",
                        "survey.collection.collect", "survey.collection.invitations", "survey.collection.mail",
                        "survey.integrations.outbox"},
    "survey.retention": {"survey.messages", "survey.settings", "survey.storage", "survey.people",
                         "survey.retention", "survey.collection.csvfiles"},
    # webhooks sit just above storage, so that collection and followup write outbox rows in their transactions
    "survey.integrations": {"survey.messages", "survey.storage.models", "survey.storage.db", "survey.integrations"},
    "survey.response_export": {"survey.messages", "survey.exports", "survey.definitions.definition", "survey.people",
                               "survey.storage.models", "survey.storage.db", "survey.storage.filters"},
}
SUBPACKAGES = ("definitions", "storage", "people", "collection", "followup", "retention", "integrations")


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_survey_modules(path) -> set[str]:
    """Every survey module a file imports, `from survey.storage import db` counted as survey.storage.db."""
    def resolve(package: str, name: str) -> str:
        candidate = ROOT.joinpath(*package.split("."), name)
        return f"{package}.{name}" if candidate.with_suffix(".py").exists() or candidate.is_dir() else package

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "survey":
            found |= {resolve(node.module, alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "survey"}
    return found


def rule_for(module: str) -> tuple[str, set[str]] | None:
    owners = [name for name in ALLOWED_IMPORTS if module == name or module.startswith(name + ".")]
    return (max(owners, key=len), ALLOWED_IMPORTS[max(owners, key=len)]) if owners else None


def test_each_survey_subpackage_imports_only_what_it_may():
    checked, offenders = 0, {}
    for path in sorted((ROOT / "survey").rglob("*.py")):
        module = module_name(path)
        rule = rule_for(module)
        if rule is None or ".migrations.versions." in module:
            continue
        checked += 1
        allowed = rule[1]
        bad = sorted(name for name in imported_survey_modules(path)
                     if not any(name == ok or name.startswith(ok + ".") for ok in allowed))
        if bad:
            offenders[module] = bad
    assert checked > 30, "every module of the subpackages is checked"
    assert offenders == {}


def test_survey_top_level_is_small_and_each_subpackage_says_what_it_may_import():
    top_modules = sorted(p.name for p in (ROOT / "survey").glob("*.py"))
    assert len(top_modules) <= 10, top_modules
    for name in SUBPACKAGES:
        docstring = ast.get_docstring(ast.parse((ROOT / "survey" / name / "__init__.py").read_text(encoding="utf-8")))
        assert docstring and "May import:" in docstring, name
        assert f"survey.{name}" in ALLOWED_IMPORTS, name


def test_old_top_level_module_paths_still_import_the_moved_modules():
    import importlib
    import subprocess
    import sys
    import warnings

    import survey

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for old, new in survey.MOVED_MODULES.items():
            assert importlib.import_module(old) is importlib.import_module(new), old
            assert importlib.import_module(new).__spec__.name == new
    # A fresh interpreter: the README's old spelling works and says where the module lives now
    run = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c",
                          "from survey.definition import load_yaml; from survey import db; print(db.__name__)"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "survey.storage.db"
    assert "survey.definition moved to survey.definitions.definition" in run.stderr


def test_no_page_renders_html_unescaped():
    sources = [p for p in [ROOT / "app.py", *(ROOT / "app_pages").rglob("*.py")]]
    assert sources, "the app has pages"
    assert [str(p.relative_to(ROOT)) for p in sources if "unsafe_allow_html" in p.read_text()] == []


def test_text_from_outside_shows_literally_in_markdown():
    from app_pages.text import plain

    # Markdown that would make bold text, a link or an image (loading a remote URL) is escaped
    assert plain("**big** [x](http://a) ![](http://b) <b>") == (
        r"\*\*big\*\* \[x\](http://a) \!\[\](http://b) \<b\>")
    assert plain("1. first\n- second") == "1\\. first\n\\- second"
