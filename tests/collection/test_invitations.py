"""Invitations: who gets one, their tokens and languages, the exported links, and the response rate."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from survey.storage import db, models
from survey.definitions.definition import load_yaml, loads_yaml
from survey.collection.invitations import TOKEN_BYTES, create_invitations, export_invitations, personal_link
from survey.definitions.publishing import get_survey, publish
from survey.storage.queries import response_rate
from tests.conftest import ROOT, SAMPLE_SURVEYS

SLUG = "relationship-nps"  # languages en, fr
NOW = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def add_customer(session, ref: str, *, consent=True, email: str | None = "default", language=None,
                 region="North", tier="Gold", industry="Retail", field_manager=None, name=None):
    customer = models.Customer(
        external_ref=ref, name=name or f"Customer {ref}",
        email=f"{ref.lower()}@example.com" if email == "default" else email,
        consent_to_contact=consent, region=region, tier=tier, industry=industry,
        field_manager=field_manager, attributes={"language": language} if language else {})
    session.add(customer)
    session.flush()
    return customer


@pytest.fixture
def survey_engine(engine):
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
    return engine


def invitations_of(session, ref: str) -> list[models.Invitation]:
    return list(session.scalars(select(models.Invitation).join(models.Customer)
                                .where(models.Customer.external_ref == ref).order_by(models.Invitation.id)))


def test_customers_without_consent_get_no_invitation(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "YES")
        add_customer(session, "NO", consent=False)
        batch = create_invitations(session, SLUG, now=NOW)
        assert (batch.created, batch.skipped_no_consent) == (1, 1)
        assert len(invitations_of(session, "YES")) == 1
        assert invitations_of(session, "NO") == []


def test_quiet_period_blocks_a_new_invitation_until_it_has_fully_passed(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        assert create_invitations(session, SLUG, now=NOW, quiet_days=90).created == 1
        just_inside = create_invitations(session, SLUG, now=NOW + timedelta(days=90, seconds=-1), quiet_days=90)
        assert (just_inside.created, just_inside.skipped_quiet_period) == (0, 1)
        at_the_end = create_invitations(session, SLUG, now=NOW + timedelta(days=90), quiet_days=90)
        assert (at_the_end.created, at_the_end.skipped_quiet_period) == (1, 0)
        assert [i.created_at.replace(tzinfo=None) for i in invitations_of(session, "C1")] == [
            NOW.replace(tzinfo=None), (NOW + timedelta(days=90)).replace(tzinfo=None)]


def test_quiet_period_counts_only_invitations_to_the_same_survey(survey_engine):
    with db.session_scope(survey_engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        add_customer(session, "C1")
        assert create_invitations(session, "post-support", now=NOW).created == 1
        assert create_invitations(session, SLUG, now=NOW + timedelta(days=1)).created == 1


def test_quiet_period_defaults_to_the_setting(survey_engine, monkeypatch):
    monkeypatch.setenv("SURVEY_INVITATION_QUIET_DAYS", "2")
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        create_invitations(session, SLUG, now=NOW)
        assert create_invitations(session, SLUG, now=NOW + timedelta(days=1)).skipped_quiet_period == 1
        assert create_invitations(session, SLUG, now=NOW + timedelta(days=2)).created == 1


def test_email_channel_skips_customers_without_an_address_but_link_channel_invites_them(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "MAIL")
        add_customer(session, "NOMAIL", email=None)
        add_customer(session, "BLANK", email="  ")
        by_email = create_invitations(session, SLUG, channel="email", now=NOW)
        assert (by_email.created, by_email.skipped_no_email) == (1, 2)
    with db.session_scope(survey_engine) as session:
        by_link = create_invitations(session, SLUG, channel="link", now=NOW, quiet_days=0)
        assert (by_link.created, by_link.skipped_no_email) == (3, 0)
        assert {i.channel for i in invitations_of(session, "NOMAIL")} == {"link"}


def test_filters_select_customers_by_segment_and_field_manager(survey_engine):
    with db.session_scope(survey_engine) as session:
        manager = models.User(email="fm.north@example.com", name="FM", role="field_manager")
        session.add(manager)
        add_customer(session, "N-GOLD", region="North", tier="Gold", field_manager=manager)
        add_customer(session, "N-BRONZE", region="North", tier="Bronze")
        add_customer(session, "E-GOLD", region="East", tier="Gold")
        add_customer(session, "S-GOLD", region="South", tier="Gold")
        batch = create_invitations(session, SLUG, {"region": ["North", "East"], "tier": "Gold"}, now=NOW)
        invited = session.scalars(select(models.Customer.external_ref).join(models.Invitation)
                                  .where(models.Invitation.id.in_(batch.invitation_ids))).all()
        assert sorted(invited) == ["E-GOLD", "N-GOLD"]
        assert create_invitations(session, SLUG, {"field_manager": "fm.north@example.com"},
                                  now=NOW, quiet_days=0).created == 1


@pytest.mark.parametrize("filters, message", [
    ({"country": "FR"}, "unknown invitation filter 'country' (expected one of: region, tier, industry, field_manager)"),
    ({"region": []}, "invitation filter 'region' has no values"),
])
def test_bad_filters_are_refused_by_name(survey_engine, filters, message):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        with pytest.raises(ValueError) as error:
            create_invitations(session, SLUG, filters, now=NOW)
        assert str(error.value) == message


def test_anonymous_survey_cannot_have_personal_invitations(survey_engine):
    with db.session_scope(survey_engine) as session:
        publish(session, loads_yaml("slug: anon\ntitle: A\nanonymous: true\n"
                                    "questions:\n- {key: q, kind: nps, text: Q}"))
        add_customer(session, "C1")
        with pytest.raises(ValueError, match="'anon' is anonymous: it cannot have personal invitations"):
            create_invitations(session, "anon", now=NOW)
    with survey_engine.connect() as connection:
        assert connection.execute(select(models.Invitation.id)).all() == []


def test_closed_survey_takes_no_new_invitations(survey_engine):
    with db.session_scope(survey_engine) as session:
        get_survey(session, SLUG).status = "closed"
        add_customer(session, "C1")
        with pytest.raises(ValueError, match="'relationship-nps' is closed"):
            create_invitations(session, SLUG, now=NOW)


def test_unknown_survey_and_channel_are_named(survey_engine):
    with db.session_scope(survey_engine) as session:
        with pytest.raises(LookupError, match="no survey with slug 'nope'"):
            create_invitations(session, "nope", now=NOW)
        with pytest.raises(ValueError, match="unknown invitation channel 'fax'"):
            create_invitations(session, SLUG, channel="fax", now=NOW)


def test_tokens_are_unguessable_url_safe_and_unique(survey_engine):
    with db.session_scope(survey_engine) as session:
        for k in range(60):
            add_customer(session, f"C{k}")
        create_invitations(session, SLUG, now=NOW)
        tokens = session.scalars(select(models.Invitation.token)).all()
    assert TOKEN_BYTES * 8 >= 128
    assert len(tokens) == 60 == len(set(tokens))
    # token_urlsafe(24) encodes 24 random bytes as 32 base64url characters: 192 bits
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)


def test_language_is_the_customers_when_the_survey_has_it_else_the_first(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "FR", language="fr")
        add_customer(session, "DE", language="de")
        add_customer(session, "NONE")
        create_invitations(session, SLUG, now=NOW)
        assert [invitations_of(session, ref)[0].language for ref in ("FR", "DE", "NONE")] == ["fr", "en", "en"]


def test_invitations_expire_valid_days_after_creation(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        create_invitations(session, SLUG, now=NOW, valid_days=14)
        invitation = invitations_of(session, "C1")[0]
    expires = invitation.expires_at.replace(tzinfo=invitation.expires_at.tzinfo or timezone.utc)
    assert expires == NOW + timedelta(days=14)


def test_personal_link_puts_the_token_after_the_public_url():
    assert personal_link("tok", "https://survey.example.com/") == "https://survey.example.com/?t=tok"


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_export_lists_open_invitations_with_links_and_escapes_formulas(survey_engine, tmp_path):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "EVIL", name='=HYPERLINK("http://x")', language="fr")
        add_customer(session, "ANSWERED")
        add_customer(session, "EXPIRED")
        create_invitations(session, SLUG, now=NOW, valid_days=30)
        invitations_of(session, "ANSWERED")[0].responded_at = NOW + timedelta(days=1)
        invitations_of(session, "EXPIRED")[0].expires_at = NOW + timedelta(days=1)
        token = invitations_of(session, "EVIL")[0].token
        path = tmp_path / "links.csv"
        count = export_invitations(session, SLUG, path, base_url="https://survey.example.com",
                                   now=NOW + timedelta(days=2))
    assert count == 1
    assert read_csv(path) == [{
        "customer_ref": "EVIL", "name": '\'=HYPERLINK("http://x")', "email": "evil@example.com",
        "language": "fr", "personal_link": f"https://survey.example.com/?t={token}",
        "expires_at": "2026-05-31T09:30:00+00:00"}]


def test_export_records_nothing(survey_engine, tmp_path):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        create_invitations(session, SLUG, now=NOW)
        export_invitations(session, SLUG, tmp_path / "links.csv", base_url="https://x", now=NOW)
    with db.session_scope(survey_engine) as session:
        assert [i.sent_at for i in invitations_of(session, "C1")] == [None]


def respond(session, invitation: models.Invitation) -> None:
    version = session.scalar(select(models.SurveyVersion).where(models.SurveyVersion.survey_id == invitation.survey_id))
    session.add(models.Response(idempotency_key=f"k-{invitation.id}", content_hash="h",
                                survey_id=invitation.survey_id, survey_version_id=version.id,
                                customer_id=invitation.customer_id, invitation_id=invitation.id, channel="web"))
    invitation.responded_at = NOW + timedelta(days=1)


def test_response_rate_per_survey_and_per_region_counts_invited_and_responded(survey_engine):
    with db.session_scope(survey_engine) as session:
        for ref, region in (("N1", "North"), ("N2", "North"), ("N3", "North"), ("S1", "South")):
            add_customer(session, ref, region=region)
        create_invitations(session, SLUG, now=NOW)
        respond(session, invitations_of(session, "N2")[0])  # a response and responded_at: counted once
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))  # other survey: not counted
        create_invitations(session, "post-support", now=NOW)

    overall = response_rate(survey_engine, SLUG)
    assert overall.to_dict("records") == [{"invited": 4, "responded": 1, "rate": 0.25}]
    by_region = response_rate(survey_engine, SLUG, by="region")
    assert by_region.to_dict("records") == [
        {"region": "North", "invited": 3, "responded": 1, "rate": pytest.approx(1 / 3)},
        {"region": "South", "invited": 1, "responded": 0, "rate": 0.0}]


def test_response_rate_counts_a_response_even_before_responded_at_is_set(survey_engine):
    with db.session_scope(survey_engine) as session:
        add_customer(session, "C1")
        add_customer(session, "C2")
        create_invitations(session, SLUG, now=NOW)
        invitation = invitations_of(session, "C1")[0]
        respond(session, invitation)
        invitation.responded_at = None
    assert response_rate(survey_engine, SLUG)[["invited", "responded"]].values.tolist() == [[2, 1]]


def test_response_rate_of_a_survey_without_invitations_has_n_zero(survey_engine):
    frame = response_rate(survey_engine, SLUG)
    assert frame[["invited", "responded"]].values.tolist() == [[0, 0]]
    assert frame["rate"].isna().all()
    assert response_rate(survey_engine, SLUG, by="tier").empty
    with pytest.raises(ValueError, match="by must be one of region, tier, industry"):
        response_rate(survey_engine, SLUG, by="email")


def run_cli(*args: str, database: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SURVEY_DATABASE_URL": database, "PYTHONPATH": str(ROOT), **env}
    for name in ("SURVEY_DEBUG", "SURVEY_SMTP_HOST", "SURVEY_PUBLIC_URL"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", "survey", *args], capture_output=True, text=True,
                          env=environment, cwd=ROOT, timeout=120)


def test_cli_creates_and_exports_invitations_and_reports_errors_in_one_line(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(database)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
        add_customer(session, "N1", region="North")
        add_customer(session, "N2", region="North", consent=False)
        add_customer(session, "S1", region="South")
    engine.dispose()

    created = run_cli("invitations", "create", SLUG, "--region", "North", database=database)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == ("1 invitations created; skipped 1 without consent, "
                                      "0 invited recently, 0 without an email address")
    out = tmp_path / "links.csv"
    exported = run_cli("invitations", "export", SLUG, str(out), database=database,
                       SURVEY_PUBLIC_URL="https://survey.example.com")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"wrote 1 invitations to {out}"
    assert [row["customer_ref"] for row in read_csv(out)] == ["N1"]
    assert read_csv(out)[0]["personal_link"].startswith("https://survey.example.com/?t=")
    with engine.connect() as connection:  # the export of personal data is in the audit log
        logged = connection.execute(select(models.AuditEvent.actor, models.AuditEvent.action,
                                           models.AuditEvent.subject, models.AuditEvent.rows)).all()
    assert logged == [("command line", "export", f"invitations of survey {SLUG}", 1)]

    for args, message in [
        (("invitations", "create", SLUG, "--channel", "fax"), "error: argument --channel: invalid choice: 'fax'"),
        (("invitations", "create", "nope"), "error: no survey with slug 'nope'"),
        (("invitations", "send", SLUG), "error: no SMTP server configured: set SURVEY_SMTP_HOST"),
    ]:
        result = run_cli(*args, database=database)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith(message), result.stderr
