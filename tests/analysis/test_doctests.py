"""The docstring examples of every analysis module run and pass, whatever the pytest configuration."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import analysis

MODULES = sorted(["analysis", *(f"analysis.{info.name}" for info in pkgutil.iter_modules(analysis.__path__))])


def test_every_module_is_checked():
    assert {"analysis.nps", "analysis.groups", "analysis.weighting", "analysis.index"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)  # the module object, even where a function shares its name
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"
    assert result.attempted > 0, f"{name} has no doctest examples"


@pytest.mark.parametrize("name", [name for name in analysis.__all__ if not isinstance(getattr(analysis, name), type)])
def test_public_functions_document_formula_reference_and_example(name):
    docstring = getattr(analysis, name).__doc__ or ""
    for section in ("Parameters", "Returns", "Notes", "References", "Examples"):
        if section in ("Parameters", "Returns") and name in ("agree_share", "ces"):
            continue  # thin wrappers: their parameters are those of csat and mean_score
        assert f"{section}\n    ---" in docstring, f"{name} has no {section} section"
