"""The digest: each field manager's open cases as formula-safe CSV and XLSX, audited, and mailed
through a real SMTP server on 127.0.0.1; and the `followup` commands."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from sqlalchemy import select

from survey.storage import db, models
from survey.followup import cases as cases_module
from survey.followup.digest import COLUMNS, send_digests, write_digests
from survey.collection.mail import SmtpSettings
from tests.followup_data import GOOD, RELATIONSHIP, SUPPORT, answer, build, utc
from tests.test_cli import run
from tests.collection.test_mail import smtp_server  # noqa: F401 - a fixture: a real SMTP server on 127.0.0.1

NOW = utc(2026, 5, 1, 10)


@pytest.fixture
def world(engine, monkeypatch):
    monkeypatch.setattr(cases_module, "utc_now", lambda: NOW)
    found = build(engine)
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, found.customers["ANNA"])
    answer(engine, SUPPORT, {"csat": 1, "effort": 6}, NOW, found.customers["EMIL"])
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 0, "comment": "+cmd|' /C calc'!A0"}, NOW,
           found.customers["BERT"])
    return found


def test_each_field_manager_gets_their_own_cases_formula_safe(engine, world, tmp_path):
    digests = write_digests(engine, world.admin, tmp_path, now=NOW)
    assert [(d.owner_email, d.rows) for d in digests] == [("a@x.example", 2), ("b@x.example", 1)]
    b = next(d for d in digests if d.owner_email == "b@x.example")
    with open(b.csv_path, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == COLUMNS
    assert rows[1][COLUMNS.index("customer")] == "'=HYPERLINK(\"http://x\")"  # the customer's name, neutralised
    a = next(d for d in digests if d.owner_email == "a@x.example")
    with open(a.csv_path, encoding="utf-8-sig", newline="") as stream:
        refs = [row[COLUMNS.index("customer_ref")] for row in csv.reader(stream)][1:]
    # A's only. ANNA: NPS 3 (not severe), Gold: 3 - 1 = 2; EMIL: CSAT 1 (severe), Silver 30,000: 3 - 1 = 2;
    # both due three working days later, so the older case (ANNA's) comes first
    assert refs == ["ANNA", "EMIL"]
    assert oct(b.csv_path.stat().st_mode & 0o777) == "0o600"


def test_the_xlsx_has_no_formula_cell(engine, world, tmp_path):
    digests = write_digests(engine, world.admin, tmp_path, now=NOW)
    b = next(d for d in digests if d.owner_email == "b@x.example")
    sheet = openpyxl.load_workbook(b.xlsx_path).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [cell.value for cell in cells[:len(COLUMNS)]] == COLUMNS
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = [cell.value for cell in cells]
    assert "'=HYPERLINK(\"http://x\")" in values
    # numbers stay numbers: BERT's annual value, and priority 2 (NPS 0 is severe: 3 - 1; Bronze, 5,000)
    assert 5000 in values and 2 in values and "'5000.0" not in values


def test_every_digest_is_an_audit_event_without_personal_data(engine, world, tmp_path):
    write_digests(engine, world.admin, tmp_path, now=NOW)
    with engine.connect() as connection:
        events = connection.execute(select(models.AuditEvent.actor, models.AuditEvent.action,
                                           models.AuditEvent.subject, models.AuditEvent.rows)
                                    .order_by(models.AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [
        ("admin@x.example", "export", f"follow-up digest of user {world.fm_a.user_id} (CSV and XLSX)", 2),
        ("admin@x.example", "export", f"follow-up digest of user {world.fm_b.user_id} (CSV and XLSX)", 1)]


def test_a_field_manager_running_it_gets_only_their_own(engine, world, tmp_path):
    assert [(d.owner_email, d.rows) for d in write_digests(engine, world.fm_b, tmp_path, now=NOW)] == [
        ("b@x.example", 1)]


def test_a_disabled_field_manager_gets_no_digest(engine, world, tmp_path):
    """Someone who left (disabled) receives no list of customers, even while cases still name them."""
    from survey.people import accounts

    accounts.update_user(engine, world.admin, "a@x.example", disabled=True)
    assert [d.owner_email for d in write_digests(engine, world.admin, tmp_path, now=NOW)] == ["b@x.example"]
    assert not (tmp_path / "a_x.example.csv").exists() and not list(tmp_path.glob("a*"))


def test_digests_are_mailed_to_their_owners(engine, world, tmp_path, smtp_server):
    inbox, port = smtp_server
    digests = write_digests(engine, world.admin, tmp_path, now=NOW)
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="survey@company.example", security="none", timeout=5)
    assert send_digests(engine, world.admin, digests, smtp, now=NOW) == []
    delivered = {recipients: message for recipients, message in inbox.messages}
    assert set(delivered) == {("a@x.example",), ("b@x.example",)}
    message = delivered[("b@x.example",)]
    assert message["Subject"] == "Your follow-ups: 1 open case"
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == ["followups-b_x.example.csv", "followups-b_x.example.xlsx"]
    csv_part = next(p for p in message.iter_attachments() if p.get_filename().endswith(".csv"))
    content = csv_part.get_content()
    assert "'=HYPERLINK" in (content if isinstance(content, str) else content.decode("utf-8-sig"))
    assert "ANNA" not in str(message.get_body(("plain",)).get_content())


def test_the_digest_command_writes_and_mails(tmp_path, smtp_server, monkeypatch):
    inbox, port = smtp_server
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    world = build(engine)
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, world.customers["ANNA"])
    engine.dispose()
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("SURVEY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SURVEY_SMTP_PORT", str(port))
    monkeypatch.setenv("SURVEY_SMTP_SECURITY", "none")
    monkeypatch.setenv("SURVEY_SMTP_FROM", "survey@company.example")
    result = run("followup", "digest", "--out", str(out), "--send", database=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1 digests mailed, 0 refused"
    assert sorted(p.name for p in out.iterdir()) == ["followups-a_x.example.csv", "followups-a_x.example.xlsx"]
    assert [recipients for recipients, _ in inbox.messages] == [("a@x.example",)]


@pytest.mark.parametrize("args, message", [
    (("followup", "digest", "--out", "no/such/dir"), "error: argument --out: no such directory: no/such/dir"),
    (("followup", "flag", "--since", "yesterday"), "error: --since: 'yesterday' is not a date (YYYY-MM-DD)"),
    (("followup", "flag", "--survey", "nope"), "error: survey: no survey 'nope'"),
])
def test_bad_followup_arguments_give_one_line(tmp_path, args, message):
    result = run(*args, database=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_check_settings_names_the_bad_key(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("due: {top_priority_hours: soon}\n", encoding="utf-8")
    result = run("followup", "check-settings", str(bad), database=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {bad}: due.top_priority_hours: expected a whole number, got 'soon'"
    good = run("followup", "check-settings", database=f"sqlite:///{tmp_path / 'x.db'}")
    assert good.returncode == 0 and "valid" in good.stdout
