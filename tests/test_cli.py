"""The command line: thin commands that print results, and one-line errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from survey.storage import db, models
from tests.conftest import ROOT, SAMPLE_SURVEYS


def run(*args: str, database: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "SURVEY_DATABASE_URL": database, "PYTHONPATH": str(ROOT)}
    env.pop("SURVEY_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "survey", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_publish_then_list_shows_the_survey_and_its_version(database):
    published = run("survey", "publish", str(SAMPLE_SURVEYS / "post_support.yaml"), database=database)
    assert published.returncode == 0, published.stderr
    assert published.stdout.strip() == "published post-support version 1"
    listed = run("survey", "list", database=database)
    assert listed.returncode == 0
    assert listed.stdout.split()[:3] == ["post-support", "open", "v1"]


def test_publishing_a_bad_definition_names_the_problem_and_writes_nothing(database, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: s\ntitle: S\nquestions:\n  - {key: q, kind: smiley, text: Q}\n")
    result = run("survey", "publish", str(bad), database=database)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: question 'q' (line 4): unknown kind 'smiley' (expected one of: nps, csat, ces, "
        "rating, index_item, matrix, single_choice, multi_choice, text, integer, decimal, date, time, note)"]
    engine = db.make_engine(database)
    db.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.Survey)).scalar_one() == 0


@pytest.mark.parametrize("args, message", [
    (("survey", "publish", "missing.yaml"), "error: argument file: no such file: missing.yaml"),
    (("nonsense",), "error: argument group: invalid choice: 'nonsense'"),
    (("demo", "--responses", "lots"), "error: argument --responses: invalid int value: 'lots'"),
    (("demo", "--customers", "0"), "error: --customers must be at least 1"),
    (("demo", "--end", "soon"), "error: argument --end: 'soon' is not a date (YYYY-MM-DD)"),
])
def test_bad_arguments_give_one_line_and_a_nonzero_exit(database, args, message):
    result = run(*args, database=database)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path):
    result = run("survey", "list", database=f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: database problem:")


def test_customers_import_reports_created_then_updated(database):
    csv_path = ROOT / "sample_data" / "csv" / "customers.csv"
    first = run("customers", "import", str(csv_path), database=database)
    assert first.stdout.strip() == "12 customers created, 0 updated (read as comma-separated)", first.stderr
    again = run("customers", "import", str(csv_path), database=database)
    assert again.stdout.strip() == "0 customers created, 12 updated (read as comma-separated)"


def test_every_command_has_help_with_an_example(database):
    for command in (["db", "upgrade"], ["demo"], ["survey", "publish"], ["survey", "import-xlsform"],
                    ["survey", "list"], ["customers", "import"], ["responses", "import"],
                    ["invitations", "create"], ["invitations", "export"], ["invitations", "send"],
                    ["apikey", "create"], ["apikey", "revoke"], ["followup", "flag"], ["followup", "digest"],
                    ["followup", "escalate"], ["followup", "reinvite"], ["followup", "check-settings"]):
        result = run(*command, "--help", database=database)
        assert result.returncode == 0
        assert "Example:" in result.stdout, command


def test_import_xlsform_proposes_metrics_and_declares_them_only_when_accepted(database, tmp_path):
    form = tmp_path / "visit.md"
    form.write_text("| survey |\n| | type | name | label | parameters |\n"
                    "| | range | rec | How likely are you to recommend us? | start=0 end=10 |\n", encoding="utf-8")
    proposed = run("survey", "import-xlsform", str(form), "--yaml", str(tmp_path / "plain.yaml"), database=database)
    assert proposed.returncode == 0, proposed.stderr
    assert ("warning: visit.md, survey sheet, row 2: 'rec' looks like an NPS question (a 0-10 scale and "
            "'recommend' in its label); to declare it, put 'nps' in the metric column of this row") in proposed.stderr
    assert "kind: rating" in (tmp_path / "plain.yaml").read_text()
    accepted = run("survey", "import-xlsform", str(form), "--yaml", str(tmp_path / "nps.yaml"),
                   "--accept-proposed-metrics", database=database)
    assert accepted.returncode == 0, accepted.stderr
    assert "declared as 'nps', as proposed" in accepted.stderr
    assert "kind: nps" in (tmp_path / "nps.yaml").read_text()
