"""The installable package and the style check: `pip install .` ships every package folder and
data file and gives a `survey` command; ruff finds nothing with the configured rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def package_folders() -> set[str]:
    """Every folder of survey/ and analysis/ that holds Python files, as a dotted package name."""
    found = set()
    for top in ("survey", "analysis"):
        for path in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in path.parts:
                found.add(".".join(path.parent.relative_to(ROOT).parts))
    return found


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert package_folders() <= listed, sorted(package_folders() - listed)
    assert listed - package_folders() == {"survey_sample_surveys"}


def test_the_wheel_holds_the_data_files_and_the_survey_command(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("survey", "analysis", "sample_data/surveys"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "wheel"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "wheel").glob("survey_toolkit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    data_files = {str(p.relative_to(ROOT)) for top in ("survey", "analysis") for p in (ROOT / top).rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert data_files and data_files <= names, sorted(data_files - names)
    assert {f"survey_sample_surveys/{p.name}" for p in (ROOT / "sample_data" / "surveys").glob("*.yaml")} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "survey = survey.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requirements = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    assert all(f"Requires-Dist: {line}" in metadata for line in requirements)


def test_ruff_finds_nothing_with_the_configured_rules():
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
