"""Imports flow one way: app -> survey, analysis; survey -> analysis; analysis imports neither."""

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
