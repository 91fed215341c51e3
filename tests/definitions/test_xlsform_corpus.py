"""The 92 real XLSForms of ../shared/fixtures/real_xlsforms/ (never copied into the project).

`manifest.csv` records, for each form, whether pyxform 4.5.0 accepts it or the message it rejects
it with. Of the 75 forms pyxform accepts at least 70 must import; none may crash, and none may lose
a question of a kind this toolkit keeps without a warning naming its row. The 17 it rejects are
refused with pyxform's own message. The counts are printed: run

    python -m pytest -q -s tests/definitions/test_xlsform_corpus.py
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from survey.definitions.definition import dumps_yaml, loads_yaml
from survey.definitions.xlsform import XLSFormError, read_form, read_xlsform
from tests.conftest import REAL_XLSFORMS

CORPUS = REAL_XLSFORMS
KEPT_TYPES = {"text", "string", "integer", "int", "decimal", "date", "time", "range", "select_one",
              "select_multiple", "select", "note"}


def manifest() -> list[dict[str, str]]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def kept_kind_rows(path) -> list[tuple[int, str]]:
    """(row, name) of every survey row whose type is one this toolkit keeps (text, numbers, selects...)."""
    found = []
    for index, row in enumerate(read_form(path).rows["survey"]):
        cells = {str(k).strip().lower(): str(v).strip() for k, v in row.items() if v is not None}
        kind = " ".join(cells.get("type", "").lower().split())
        first = kind.replace("select one", "select_one").replace("select all that apply", "select_multiple")
        first = first.replace("select multiple", "select_multiple").split(" ")[0] if first else ""
        if first in KEPT_TYPES and cells.get("name"):
            found.append((index + 2, cells["name"]))
    return found


def test_the_corpus_is_where_the_manifest_says():
    rows = manifest()
    assert len(rows) == 92
    assert sum(row["pyxform"] == "ok" for row in rows) == 75
    assert all((CORPUS / row["file"]).is_file() for row in rows)


def test_real_forms_import_as_pyxform_reads_them_and_nothing_is_lost_silently():
    counts: Counter[str] = Counter()
    refused_accepted, silent_losses, wrong_messages = [], [], []
    for entry in manifest():
        path = CORPUS / entry["file"]
        accepted = entry["pyxform"] == "ok"
        try:
            result = read_xlsform(path)
        except XLSFormError as error:
            if accepted:
                counts["accepted by pyxform, refused here"] += 1
                refused_accepted.append((entry["file"], error.problems[:2]))
                continue
            counts["rejected by pyxform, refused with its message"] += 1
            # manifest: "rejects: PyXFormError: <message>" (its text cut at 160 characters)
            expected = " ".join(entry["pyxform"].split(": ", 2)[-1].split())[:60]
            if not any(expected in problem for problem in error.problems):
                wrong_messages.append((entry["file"], expected, error.problems))
            continue
        if not accepted:
            wrong_messages.append((entry["file"], "imported a form pyxform rejects", []))
            continue
        counts["accepted by pyxform, imported"] += 1
        counts["questions imported"] += len(result.survey.questions)
        counts["warnings"] += len(result.warnings)
        keys = {q.key for q in result.survey.questions}
        warned_rows = {int(n) for n in re.findall(r", survey sheet, row (\d+):", "\n".join(result.warnings))}
        for row, name in kept_kind_rows(path):
            if name not in keys and row not in warned_rows:
                silent_losses.append((entry["file"], row, name))
        assert loads_yaml(dumps_yaml(result.survey)) == result.survey  # a sound, publishable definition
    print("\nreal XLSForm corpus:", dict(counts))
    for file, problems in refused_accepted:
        print("  refused:", file, problems)
    assert counts["accepted by pyxform, imported"] >= 70, refused_accepted
    assert counts["accepted by pyxform, imported"] + counts["accepted by pyxform, refused here"] == 75
    assert counts["rejected by pyxform, refused with its message"] == 17
    assert silent_losses == []
    assert wrong_messages == []


@pytest.mark.parametrize("name, keys", [
    # the 'specify other' text of or_other is kept, shown when 'other' is chosen
    ("pyxform__example_xls__or_other.xlsx", {"fav_color", "fav_color_other", "fav_pastel"}),
    ("correlaid__fixtures__all_types_survey.xlsx", {"q_integer", "q_decimal", "q_date", "q_time", "q_note",
                                                    "q_sel1_other_other", "q_relevant"}),
])
def test_kept_kinds_of_real_forms_come_through(name, keys):
    result = read_xlsform(CORPUS / name)
    found = {q.key for q in result.survey.questions}
    assert keys <= found
    assert all(f"{name}, " in warning for warning in result.warnings)
