"""Privacy: erasure leaves no trace of the person in any table or export, retention erases the
inactive, audit events and case events resist edits, anonymous surveys hide small groups, and no
page renders raw HTML."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app_pages import common
from survey import cli
from survey.collection import collect
from survey.people import audit, privacy
from survey.storage import db, models, queries
from survey.people.access import AccessDenied, Actor
from survey.definitions.definition import load_yaml, loads_yaml
from survey.storage.filters import Filters
from survey.collection.invitations import create_invitations, export_invitations
from survey.definitions.publishing import publish, version_definition
from survey.integrations.webhooks import add_webhook
from tests.conftest import ROOT, SAMPLE_SURVEYS, run_page, signed_in_page

CLI = Actor.command_line()
NAME, EMAIL, PHONE, REF = "Zebulon Quistgaard", "zq@example.org", "+44 20 7946 0999", "CQ-777"
IDENTIFIERS = (NAME, EMAIL, PHONE, REF, "+442079460999")
ANSWERS = {"recommend": 2, "satisfaction": 3, "expectations": 3, "ideal": 2,
           "why_low": f"I am {NAME}, write to {EMAIL} or call {PHONE}", "comment": "slow deliveries"}


def _customer(session, ref=REF, name=NAME, email=EMAIL, phone=PHONE, created=None) -> models.Customer:
    customer = models.Customer(external_ref=ref, name=name, email=email, phone=phone, consent_to_contact=True,
                               region="North", tier="Gold", annual_value=120_000.0, tenure_start=date(2015, 1, 1),
                               attributes={"language": "en", "note": f"key account of {name}"})
    if created:
        customer.created_at = created
    session.add(customer)
    session.flush()
    return customer


@pytest.fixture
def history(engine):
    """A customer with an invitation, a draft, a response naming them, a case whose note has their phone,
    and webhook announcements of the response and the case naming them by reference."""
    with db.session_scope(engine) as session:
        version = publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
        add_webhook(session, "http://127.0.0.1:9/hook", ["response.created", "case.opened"])
        customer = _customer(session)
        _customer(session, ref="C-OTHER", name="Other Person", email="other@example.org", phone="+44 20 7946 0111")
        create_invitations(session, "relationship-nps")
        invitation = session.scalars(select(models.Invitation).where(models.Invitation.customer_id == customer.id)).one()
        session.add(models.ResponseDraft(invitation_id=invitation.id, answers={"why_low": f"draft by {NAME}"}))
        collect.submit(session, version, version_definition(version), ANSWERS, idempotency_key="k-1",
                       channel="web", customer_id=customer.id, invitation_id=invitation.id)
        # the low score opened a follow-up case (flagged on submission); a field manager's note names them
        case = session.scalars(select(models.FollowUpCase).where(models.FollowUpCase.customer_id == customer.id)).one()
        session.add(models.CaseEvent(case_id=case.id, from_status="open", to_status="contacted",
                                     note=f"Called {NAME} on {PHONE}; will call back"))
    return engine


def _every_value(engine) -> list[str]:
    """Every stored value of every table, as text (JSON columns serialised)."""
    found = []
    with engine.connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                found += [json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in row if v is not None]
    return found


def _traces(values: list[str]) -> list[str]:
    return [v for v in values for i in IDENTIFIERS if i.lower() in v.lower()]


def test_before_erasure_the_identifiers_are_there(history):
    assert len(_traces(_every_value(history))) >= 8  # the test would see them if they stayed
    with history.connect() as connection:  # the two announcements name the customer
        payloads = connection.execute(select(models.WebhookDelivery.payload)).scalars().all()
    assert sorted(p["customer_ref"] for p in payloads) == [REF, REF]


@pytest.mark.parametrize("delete_responses", [False, True])
def test_erasure_leaves_no_trace_in_any_table_or_export(history, delete_responses, tmp_path):
    done = privacy.erase_customer(history, CLI, REF, delete_responses=delete_responses)
    assert _traces(_every_value(history)) == []
    assert (done.responses_unlinked, done.responses_deleted) == ((0, 1) if delete_responses else (1, 0))
    assert done.cases_closed == 1 and done.texts_redacted == 2  # the comment and the case note
    with db.session_scope(history) as session:
        answers = session.scalar(select(func.count()).select_from(models.Response))
        case = session.scalars(select(models.FollowUpCase)).one()
        assert case.status == "declined" and case.closed_at is not None
        notes = [event.note for event in session.scalars(select(models.CaseEvent).order_by(models.CaseEvent.id))]
        assert "Called [erased] on [erased]; will call back" in notes
        other = session.scalars(select(models.Customer).where(models.Customer.external_ref == "C-OTHER")).one()
        assert other.name == "Other Person"  # only the erased customer changed
        export_invitations(session, "relationship-nps", tmp_path / "invitations.csv")
    assert answers == (0 if delete_responses else 1)  # kept as an anonymous answer unless deleted
    with history.connect() as connection:  # the content hash (over the customer id) was replaced too
        hashes = connection.execute(select(models.Response.content_hash, models.Response.idempotency_key)).all()
    assert all(key.startswith("erased-") and len(digest) == 64 for digest, key in hashes)
    with history.connect() as connection:  # nothing links a kept answer to the erased customer (id 1)
        assert connection.execute(select(func.count()).select_from(models.Answer)
                                  .where(models.Answer.customer_id == 1)).scalar_one() == 0
    exports = (tmp_path / "invitations.csv").read_text()
    exports += "".join(map(str, queries.iter_responses(history, CLI, Filters("relationship-nps"), ("why_low",))))
    columns = queries.survey_columns(history, "relationship-nps")
    exports += "".join(map(str, queries.iter_comments(history, CLI, Filters("relationship-nps"), columns)))
    assert not any(i.lower() in exports.lower() for i in IDENTIFIERS)
    logged = audit.events(history, CLI)
    assert list(logged["action"]) == ["erase"] and not _traces(list(logged["subject"]))


def test_erasure_is_for_admins_and_names_an_unknown_reference(history, capsys, monkeypatch):
    with pytest.raises(AccessDenied):
        privacy.erase_customer(history, Actor(user_id=1, email="m@example.com", role="manager"), REF)
    with pytest.raises(LookupError, match="customer: no customer with reference 'NOPE'"):
        privacy.erase_customer(history, CLI, "NOPE")
    assert len(_traces(_every_value(history))) >= 6  # nothing changed


def test_case_events_allow_only_the_erasure_redaction_and_audit_events_nothing(history):
    with history.begin() as connection:
        connection.execute(models.AuditEvent.__table__.insert().values(
            at=models.utc_now(), actor="x", action="export", subject="s"))
    with history.connect() as connection:
        for statement in ("update case_events set note = 'rewritten'",
                          "update case_events set to_status = 'resolved', note = 'x [erased]'",
                          "delete from case_events",
                          "update audit_events set actor = 'someone else'",
                          "delete from audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                with connection.begin():
                    connection.execute(text(statement))
        with connection.begin():  # the one change allowed: a note redacted to the marker
            connection.execute(text("update case_events set note = 'Called [erased]' where note like 'Called %'"))
        assert "Called [erased]" in connection.execute(text("select note from case_events")).scalars().all()


def test_retention_erases_only_customers_inactive_for_longer_than_the_period(engine, capsys, monkeypatch):
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    with db.session_scope(engine) as session:
        _customer(session, ref="OLD", name="Old Timer", email="old@example.org", phone=None,
                  created=now - timedelta(days=800))
        _customer(session, ref="RECENT", name="New Comer", email="new@example.org", phone=None,
                  created=now - timedelta(days=10))
        answered = _customer(session, ref="ANSWERED", name="Still Here", email="here@example.org", phone=None,
                             created=now - timedelta(days=900))
        version = publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
        collect.submit(session, version, version_definition(version), ANSWERS | {"why_low": ""}, idempotency_key="r",
                       channel="web", customer_id=answered.id, submitted_at=now - timedelta(days=100))
        old = session.scalars(select(models.Customer).where(models.Customer.external_ref == "OLD")).one()
        old.consent_to_contact = False  # no case: its events would be activity today
        add_webhook(session, "http://127.0.0.1:9/hook", ["response.created"])
        collect.submit(session, version, version_definition(version), ANSWERS | {"why_low": ""}, idempotency_key="o",
                       channel="web", customer_id=old.id, submitted_at=now - timedelta(days=799))
        collect.submit(session, version, version_definition(version), ANSWERS | {"why_low": ""}, idempotency_key="a",
                       channel="web", customer_id=answered.id, submitted_at=now - timedelta(days=99))
    listed = privacy.apply_retention(engine, CLI, days=730, dry_run=True, now=now)
    assert [i.external_ref for i in listed] == ["OLD"]
    with engine.connect() as connection:  # the dry run changed nothing
        assert connection.execute(select(func.count()).select_from(models.Customer)
                                  .where(models.Customer.erased_at.is_not(None))).scalar_one() == 0
    privacy.apply_retention(engine, CLI, days=730, now=now)
    with engine.connect() as connection:
        refs = dict(connection.execute(select(models.Customer.external_ref, models.Customer.erased_at)).all())
    assert set(refs) == {"erased-1", "RECENT", "ANSWERED"} and refs["erased-1"] is not None
    assert list(audit.events(engine, CLI)["action"]) == ["retention"]
    with engine.connect() as connection:  # the erased customer's announcement lost its reference, no other
        announced = connection.execute(select(models.WebhookDelivery.payload)
                                       .order_by(models.WebhookDelivery.id)).scalars().all()
    assert [payload["customer_ref"] for payload in announced] == [None, "ANSWERED"]


def test_retention_cli_dry_run_lists_and_bad_days_are_named(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        _customer(session, ref="OLD", name="Old Timer", email="old@example.org", phone=None,
                  created=datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert cli.main(["retention", "apply", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would erase OLD (last activity 2020-01-01)" in out and "nothing changed" in out
    monkeypatch.setenv("SURVEY_RETENTION_DAYS", "soon")
    assert cli.main(["retention", "apply"]) == 1
    assert "SURVEY_RETENTION_DAYS" in capsys.readouterr().err
    assert cli.main(["customer", "erase", "OLD"]) == 0
    assert "customer OLD erased" in capsys.readouterr().out


# Anonymous surveys: no group under 5 responses, nor one that subtraction from a total would reveal.


def test_hidden_groups_also_hide_a_complement():
    # by hand: 3 < 5 is hidden; alone it would be total - 40 - 22, so the smallest other (22) goes too
    assert privacy.hidden_groups([40, 3, 22]) == [False, True, True]
    assert privacy.hidden_groups([40, 3, 4, 22]) == [False, True, True, False]  # two hidden: only their sum shows
    assert privacy.hidden_groups([5, 6]) == [False, False]
    frame = pd.DataFrame({"period": ["a", "a", "b", "b", "b"], "score": [1, 2, 1, 2, 3], "count": [2, 1, 30, 10, 9]})
    kept = privacy.without_small_groups(frame, ["period"], "count")
    assert kept.empty  # a (3) is hidden, and so is b: with the total known, b would reveal a


KIOSK = """
slug: kiosk
title: Kiosk
anonymous: true
questions:
  - {key: csat, kind: csat, required: true, text: "How was your visit?"}
"""


def test_anonymous_survey_pages_hide_small_groups(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'anon.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    # 60 web answers and 3 kiosk answers in October, 2 web answers in September
    with db.session_scope(engine) as session:
        version = publish(session, loads_yaml(KIOSK))
        definition = version_definition(version)
        plan = [("web", 10, 60), ("kiosk", 20, 3), ("web", 5, 2)]
        for channel, day, count in plan:
            for k in range(count):
                month = 9 if (day == 5) else 10
                collect.submit(session, version, definition, {"csat": 1 + k % 5}, idempotency_key=f"{channel}{day}{k}",
                               channel=channel, submitted_at=datetime(2026, month, day, 12, tzinfo=timezone.utc))
    monkeypatch.chdir(ROOT)
    app = run_page("overview", url, monkeypatch)
    volume = common.response_counts(Filters("kiosk"))
    # October: kiosk 3 is hidden, and web 60 with it (else 63 - 60 would give it away); September's
    # lone group of 2 is hidden too
    assert volume.empty
    captions = " ".join(c.value for c in app.caption)
    assert "n = 65" in captions  # the whole survey is not a small group
    app.sidebar.multiselect(key=common.FILTER_CHANNELS).set_value(["kiosk"]).run()
    captions = " ".join(c.value for c in app.caption)
    assert "n = fewer than 5" in captions and not re.search(r"n = 3\b", captions)  # the 3 kiosk answers
    filtered = Filters("kiosk", channels=("kiosk",))
    assert common.histogram(filtered, "csat", "month").empty
    rows = common.histogram(Filters("kiosk"), "csat", by=("channel",))
    assert rows.empty  # kiosk (3) hidden, and web (62) as its complement
    listing = signed_in_page("responses", url=url)
    listing.session_state[common.FILTER_CHANNELS] = ["kiosk"]
    listing.run()
    assert not listing.dataframe and "Fewer than 5 answers match" in listing.info[0].value


def test_no_page_renders_raw_html_and_xsrf_protection_stays_on():
    # One exception: sign-in's POST to the session routes (app_pages/identity.py), one st.html call
    # in one function that takes only a route from a fixed list and a server-made code it checks.
    identity = (ROOT / "app_pages" / "identity.py").read_text()
    assert identity.count("st.html(") == 1 and "def _post_from_the_browser(" in identity
    offenders = [str(path.relative_to(ROOT)) for folder in ("app_pages", "survey", "analysis")
                 for path in (ROOT / folder).rglob("*.py") if path.name != "identity.py" or path.parent.name != "app_pages"
                 if re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.v1\.html", path.read_text())]
    offenders += ["app.py"] if "unsafe_allow_html" in (ROOT / "app.py").read_text() else []
    assert offenders == []
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"^enableXsrfProtection\s*=\s*true", config, re.MULTILINE)
