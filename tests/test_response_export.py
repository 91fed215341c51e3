"""Response exports read back: SPSS and Stata files through pyreadstat, XLSX through openpyxl, CSV as text.

Every variable label, value label and value written is found again in the file; no cell of the
CSV or XLSX export is a live formula; a field manager exports only their own customers.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey import messages
from survey.collection.collect import submit
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.exports import FORMULA_PREFIXES
from survey.people.access import Actor
from survey.response_export import ExportProblem, export_columns, write_export
from survey.storage import db, models
from survey.storage.filters import Filters

DEFINITION = """
slug: export-check
title: {en: Export check, fr: Vérification}
languages: [en, fr]
questions:
  - key: recommend
    kind: nps
    required: true
    text: {en: "How likely are you to recommend us?", fr: Recommanderiez-vous}
    scale: {min: 0, max: 10, labels: {en: [Not at all likely, Extremely likely], fr: [Pas du tout, Tout à fait]}}
  - key: drivers
    kind: matrix
    text: {en: Rate each of these, fr: Notez}
    scale: {min: 1, max: 5, labels: {en: [Very poor, Excellent], fr: [Mauvais, Excellent]}}
    attributes:
      - {value: support, label: {en: Support, fr: Assistance}}
      - {value: price, label: {en: Price, fr: Prix}}
  - key: plan
    kind: single_choice
    text: {en: "Which plan do you have?", fr: Quelle offre}
    choices:
      - {value: basic, label: {en: Basic plan, fr: Offre de base}}
      - {value: pro, label: {en: Pro plan, fr: Offre pro}}
  - key: size
    kind: single_choice
    text: {en: Company size, fr: Taille}
    choices:
      - {value: "10", label: {en: Up to 10, fr: au plus 10}}
      - {value: "50", label: {en: 11 to 50, fr: 11 à 50}}
  - key: channels
    kind: multi_choice
    text: {en: "How do you reach us?", fr: Comment nous joindre}
    choices:
      - {value: phone, label: {en: By phone, fr: Téléphone}}
      - {value: chat, label: {en: By chat, fr: Discussion}}
      - {value: e-mail, label: {en: By email, fr: Courriel}}
  - key: seats
    kind: integer
    text: {en: "How many seats?", fr: Combien de postes}
  - key: why
    kind: text
    text: {en: "Why?", fr: Pourquoi}
"""

ANSWERS = [
    ({"recommend": 9, "drivers": {"support": 5, "price": 2}, "plan": "pro", "size": "50",
      "channels": ["chat", "e-mail"], "seats": 12, "why": '=HYPERLINK("http://evil.example","click")'}, "own"),
    ({"recommend": 3, "plan": "basic", "why": "Slow; =1+1 and -2"}, "other"),
    ({"recommend": 0, "drivers": {"support": 1}, "size": "10", "channels": ["phone"]}, None),
]


@pytest.fixture
def stored(engine):
    survey = loads_yaml(DEFINITION)
    with db.session_scope(engine) as session:
        fm = models.User(email="fm@example.com", name="FM", role="field_manager")
        other = models.User(email="fm2@example.com", name="FM2", role="field_manager")
        session.add_all([fm, other])
        session.flush()
        customers = {
            "own": models.Customer(external_ref="C-1", name="Ada Own", email="ada@example.com", region="North",
                                   tier="Gold", industry="Retail", field_manager_id=fm.id),
            "other": models.Customer(external_ref="C-2", name="Bo Other", email="bo@example.com", region="South",
                                     tier="Silver", industry="Energy", field_manager_id=other.id)}
        session.add_all(customers.values())
        session.flush()
        version = publish(session, survey)
        for number, (answers, who) in enumerate(ANSWERS):
            submit(session, version, survey, answers, idempotency_key=f"k{number}", channel="web",
                   language="fr" if number == 2 else "en",
                   customer_id=customers[who].id if who else None,
                   submitted_at=datetime(2026, 3, 1 + number, 12, 30, tzinfo=timezone.utc))
        fm_actor = Actor(fm.id, fm.email, "field_manager")
    return survey, fm_actor


EXPECTED_LABELS = {
    "response_id": "Response id", "submitted_at": "Submitted at (UTC)", "version": "Survey version",
    "channel": "Channel", "language": "Language", "customer_ref": "Customer reference", "region": "Region",
    "tier": "Tier", "industry": "Industry",
    "recommend": "How likely are you to recommend us?",
    "drivers_support": "Rate each of these: Support", "drivers_price": "Rate each of these: Price",
    "plan": "Which plan do you have?", "size": "Company size",
    "channels_phone": "How do you reach us?: By phone", "channels_chat": "How do you reach us?: By chat",
    "channels_e_mail": "How do you reach us?: By email",
    "seats": "How many seats?", "why": "Why?",
}
EXPECTED_VALUE_LABELS = {
    "recommend": {0: "Not at all likely", 10: "Extremely likely"},
    "drivers_support": {1: "Very poor", 5: "Excellent"}, "drivers_price": {1: "Very poor", 5: "Excellent"},
    "plan": {1: "Basic plan", 2: "Pro plan"},
    "size": {10: "Up to 10", 50: "11 to 50"},  # whole-number choice values are their own codes
    **{f"channels_{o}": {0: "not chosen", 1: "chosen"} for o in ("phone", "chat", "e_mail")},
}
NAN = math.nan
# One row per response, oldest first; coded as in SPSS and Stata (choices as codes)
EXPECTED_VALUES = {
    "recommend": [9, 3, 0], "drivers_support": [5, NAN, 1], "drivers_price": [2, NAN, NAN],
    "plan": [2, 1, NAN], "size": [50, NAN, 10],
    "channels_phone": [0, NAN, 1], "channels_chat": [1, NAN, 0], "channels_e_mail": [1, NAN, 0],
    "seats": [12, NAN, NAN], "version": [1, 1, 1],
    "why": ['=HYPERLINK("http://evil.example","click")', "Slow; =1+1 and -2", ""],
    "channel": ["web", "web", "web"], "language": ["en", "en", "fr"],
    "customer_ref": ["C-1", "C-2", ""], "region": ["North", "South", ""], "tier": ["Gold", "Silver", ""],
    "industry": ["Retail", "Energy", ""],
}


def same(found, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return found is None or (isinstance(found, float) and math.isnan(found))
    return found == expected


@pytest.mark.parametrize("fmt, reader", [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)])
def test_spss_and_stata_files_read_back_with_every_label_and_value(engine, stored, tmp_path, fmt, reader):
    path = tmp_path / f"out.{fmt}"
    summary = write_export(engine, Actor.command_line(), Filters("export-check"), fmt, path)
    assert summary.rows == 3
    frame, meta = reader(str(path), user_missing=fmt == "sav")
    assert list(frame.columns) == list(EXPECTED_LABELS)
    assert dict(zip(meta.column_names, meta.column_labels)) == EXPECTED_LABELS
    assert {name: {int(k): v for k, v in labels.items()} for name, labels in meta.variable_value_labels.items()} \
        == EXPECTED_VALUE_LABELS
    for name, expected in EXPECTED_VALUES.items():
        found = frame[name].tolist()
        assert all(same(f, e) for f, e in zip(found, expected)), (name, found, expected)
    assert frame["submitted_at"].tolist()[0].to_pydatetime() == datetime(2026, 3, 1, 12, 30)
    assert frame["response_id"].is_monotonic_increasing
    # no contact details, whatever the format
    assert not {"name", "email", "phone"} & set(frame.columns)
    if fmt == "sav":  # empty strings are declared missing for string variables
        assert meta.missing_user_values.get("why") == [""] or "why" in meta.missing_ranges


def test_xlsx_has_a_description_sheet_and_no_live_formula(engine, stored, tmp_path):
    path = tmp_path / "out.xlsx"
    write_export(engine, Actor.command_line(), Filters("export-check"), "xlsx", path)
    book = load_workbook(path)
    assert book.sheetnames == ["responses", "columns"]
    rows = list(book["responses"].iter_rows(values_only=True))
    header, data = list(rows[0]), rows[1:]
    assert header == list(EXPECTED_LABELS)
    assert len(data) == 3
    assert data[0][header.index("plan")] == "pro"  # the stored value; codes are for SPSS and Stata
    assert data[0][header.index("channels_chat")] == 1 and data[0][header.index("channels_phone")] == 0
    assert data[1][header.index("channels_chat")] is None
    assert data[0][header.index("why")] == "'" + EXPECTED_VALUES["why"][0]
    assert data[1][header.index("why")] == "Slow; '=1+1 and -2"
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_PREFIXES)]
    described = {row[0]: row for row in book["columns"].iter_rows(min_row=2, values_only=True)}
    assert set(described) == set(EXPECTED_LABELS)
    assert described["plan"][1] == "Which plan do you have?"
    assert described["plan"][5] == "basic = Basic plan; pro = Pro plan"


def test_csv_cells_never_start_a_formula(engine, stored, tmp_path):
    path = tmp_path / "out.csv"
    write_export(engine, Actor.command_line(), Filters("export-check"), "csv", path)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == list(EXPECTED_LABELS)
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
    assert rows[1][rows[0].index("why")].startswith("'=HYPERLINK")


def test_a_field_manager_exports_only_their_customers_and_the_export_is_audited(engine, stored, tmp_path):
    _, fm = stored
    path = tmp_path / "mine.csv"
    summary = write_export(engine, fm, Filters("export-check"), "csv", path)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert summary.rows == 1 and [row["customer_ref"] for row in rows] == ["C-1"]
    with db.session_scope(engine) as session:
        events = session.execute(select(models.AuditEvent.actor, models.AuditEvent.subject,
                                        models.AuditEvent.rows)).all()
    assert [tuple(e) for e in events] == [("fm@example.com", "responses of survey export-check (csv)", 1)]


def test_dates_and_version_narrow_the_export(engine, stored, tmp_path):
    from datetime import date

    path = tmp_path / "narrow.csv"
    summary = write_export(engine, Actor.command_line(),
                           Filters("export-check", versions=(1,), start=date(2026, 3, 2), end=date(2026, 3, 2)),
                           "csv", path)
    assert summary.rows == 1


@pytest.mark.parametrize("filters, fmt, message", [
    (Filters("nowhere"), "csv", messages.EXPORT_NO_SURVEY.format(slug="nowhere")),
    (Filters("export-check", versions=(4,)), "csv",
     messages.EXPORT_NO_SUCH_VERSION.format(slug="export-check", version=4, versions="1")),
    (Filters("export-check"), "pdf", messages.EXPORT_BAD_FORMAT.format(format="pdf", formats="csv, xlsx, sav, dta")),
])
def test_bad_requests_name_the_field_and_write_nothing(engine, stored, tmp_path, filters, fmt, message):
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ExportProblem) as raised:
        write_export(engine, Actor.command_line(), filters, fmt, folder / "out.file")
    assert str(raised.value) == message
    assert list(folder.iterdir()) == []
    with db.session_scope(engine) as session:
        assert session.scalar(select(models.AuditEvent.id)) is None


def test_clashing_names_get_a_numbered_suffix():
    survey = loads_yaml("""
slug: clash
title: Clash
questions:
  - {key: region, kind: text, text: Your region}
  - key: a
    kind: multi_choice
    text: A
    choices: [{value: b, label: B}, {value: B, label: Big B}]
  - {key: a_b, kind: text, text: AB}
""")
    names = [c.name for c in export_columns([survey])]
    assert names[-4:] == ["region_2", "a_b", "a_B_2", "a_b_3"]


def test_the_command_line_exports_with_a_progress_bar_and_names_a_bad_version(tmp_path):
    from tests.test_cli import run
    from tests.conftest import SAMPLE_SURVEYS

    database = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("survey", "publish", str(SAMPLE_SURVEYS / "post_support.yaml"), database=database).returncode == 0
    out = tmp_path / "support.sav"
    done = run("export", "post-support", "--format", "sav", "--out", str(out), database=database)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("wrote 0 responses (") and "exporting" in done.stderr
    frame, meta = pyreadstat.read_sav(str(out))
    assert len(frame) == 0 and meta.column_names[:2] == ["response_id", "submitted_at"]
    wrong = run("export", "post-support", "--version", "3", database=database)
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "error: " + messages.EXPORT_NO_SUCH_VERSION.format(
        slug="post-support", version=3, versions="1")
