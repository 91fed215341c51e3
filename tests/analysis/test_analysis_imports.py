"""analysis/ stays a pure library: pandas, numpy, scipy, statsmodels and the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ANALYSIS = Path(__file__).resolve().parents[2] / "analysis"
ALLOWED = {"pandas", "numpy", "scipy", "statsmodels", "analysis"} | set(sys.stdlib_module_names)


def imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:  # relative imports stay inside analysis
            names.add(node.module.split(".")[0])
    return names


def test_analysis_imports_nothing_outside_the_scientific_stack_and_stdlib():
    modules = sorted(ANALYSIS.rglob("*.py"))
    assert len(modules) >= 10  # the scan really looked at the package
    offending = {str(path.relative_to(ANALYSIS)): sorted(imported_top_level_names(path) - ALLOWED)
                 for path in modules}
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_import_check_catches_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import streamlit as st\nfrom sqlalchemy import select\nfrom survey import db\nimport numpy\n")
    assert imported_top_level_names(module) - ALLOWED == {"streamlit", "sqlalchemy", "survey"}
