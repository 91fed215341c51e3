"""Sending invitations through a real SMTP server (aiosmtpd on 127.0.0.1) and reading the mail back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from survey.storage import db, models
from survey.definitions.definition import load_yaml
from survey.collection.invitations import create_invitations, send_invitations
from survey.collection.mail import MailError, SmtpSettings
from survey.definitions.publishing import publish
from survey.settings import Settings
from tests.conftest import SAMPLE_SURVEYS, free_port

SLUG = "relationship-nps"  # titles: en "How are we doing?", fr "Comment nous trouvez-vous ?"
NOW = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)
BASE_URL = "https://survey.example.com"



class Inbox:
    """An aiosmtpd handler that keeps every delivered message and refuses addresses at refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def settings_for(port: int, **smtp) -> Settings:
    return Settings(public_url=BASE_URL,
                    smtp=SmtpSettings(host="127.0.0.1", port=port, sender="survey@company.example",
                                      security="none", timeout=5, **smtp))


def invite(engine, *customers: dict, now=NOW, valid_days=30) -> dict[str, str]:
    """Publish the survey, add customers, create their invitations; return token per external_ref."""
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml"))
        for customer in customers:
            session.add(models.Customer(consent_to_contact=True, **customer))
        session.flush()
        create_invitations(session, SLUG, now=now, valid_days=valid_days)
        return dict(session.execute(select(models.Customer.external_ref, models.Invitation.token)
                                    .join(models.Invitation)).all())


def sent_at(engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        return dict(connection.execute(select(models.Customer.external_ref, models.Invitation.sent_at)
                                       .join(models.Invitation)).all())


def test_each_customer_receives_one_message_in_their_language_with_their_link(engine, smtp_server):
    inbox, port = smtp_server
    tokens = invite(engine,
                    {"external_ref": "ADA", "name": "Ada Lovelace", "email": "ada@example.com"},
                    {"external_ref": "REMI", "name": "Rémi Dupont", "email": "remi@example.fr",
                     "attributes": {"language": "fr"}})
    with db.session_scope(engine) as session:
        report = send_invitations(session, SLUG, settings_for(port), now=NOW)

    assert (report.sent, report.refused) == (2, ())
    delivered = {recipients: message for recipients, message in inbox.messages}
    assert set(delivered) == {("ada@example.com",), ("remi@example.fr",)}

    english, french = delivered[("ada@example.com",)], delivered[("remi@example.fr",)]
    assert english["Subject"] == "How are we doing?"
    assert french["Subject"] == "Comment nous trouvez-vous ?"
    assert english["To"].addresses[0].display_name == "Ada Lovelace"
    assert french["To"].addresses[0].display_name == "Rémi Dupont"
    assert english["From"] == "survey@company.example"
    assert (english["Content-Language"], french["Content-Language"]) == ("en", "fr")

    english_text = english.get_body(("plain",)).get_content().replace("\r\n", "\n")
    french_text = french.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"{BASE_URL}/?t={tokens['ADA']}\n" in english_text
    assert f"{BASE_URL}/?t={tokens['REMI']}\n" in french_text
    assert tokens["REMI"] not in english_text
    assert "valid until 2026-05-31" in english_text
    assert "Bonjour Rémi Dupont" in french_text and "valable jusqu'au 2026-05-31" in french_text
    assert f'href="{BASE_URL}/?t={tokens["ADA"]}"' in english.get_body(("html",)).get_content()


def test_sent_invitations_are_marked_and_a_second_run_sends_nothing(engine, smtp_server):
    inbox, port = smtp_server
    invite(engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with db.session_scope(engine) as session:
        assert send_invitations(session, SLUG, settings_for(port), now=NOW).sent == 1
    marked = sent_at(engine)["ADA"]
    assert marked is not None and marked.replace(tzinfo=None) == NOW.replace(tzinfo=None)

    with db.session_scope(engine) as session:
        again = send_invitations(session, SLUG, settings_for(port), now=NOW + timedelta(hours=1))
    assert (again.sent, again.refused) == (0, ())
    assert len(inbox.messages) == 1


def test_a_refused_recipient_is_reported_and_the_others_are_sent(engine, smtp_server):
    inbox, port = smtp_server
    invite(engine,
           {"external_ref": "GONE", "name": "Gone", "email": "gone@refused.example"},
           {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with db.session_scope(engine) as session:
        report = send_invitations(session, SLUG, settings_for(port), now=NOW)
    assert report.sent == 1
    assert [(r.email, r.reason) for r in report.refused] == [("gone@refused.example", "550 5.1.1 no such mailbox")]
    assert [recipients for recipients, _ in inbox.messages] == [("ada@example.com",)]
    marks = sent_at(engine)
    assert marks["GONE"] is None and marks["ADA"] is not None


def test_expired_answered_and_withdrawn_invitations_are_not_sent(engine, smtp_server):
    inbox, port = smtp_server
    invite(engine,
           {"external_ref": "OLD", "name": "Old", "email": "old@example.com"},
           {"external_ref": "DONE", "name": "Done", "email": "done@example.com"},
           {"external_ref": "WITHDRAWN", "name": "W", "email": "w@example.com"},
           {"external_ref": "OK", "name": "Ok", "email": "ok@example.com"})
    with db.session_scope(engine) as session:
        invitations = {ref: invitation for ref, invitation in session.execute(
            select(models.Customer.external_ref, models.Invitation).join(models.Invitation))}
        invitations["OLD"].expires_at = NOW + timedelta(days=1)
        done = invitations["DONE"]
        version = session.scalar(select(models.SurveyVersion))
        session.add(models.Response(idempotency_key="k", content_hash="h", survey_id=done.survey_id,
                                    survey_version_id=version.id, customer_id=done.customer_id,
                                    invitation_id=done.id, channel="web"))
        session.scalar(select(models.Customer).where(models.Customer.external_ref == "WITHDRAWN")
                       ).consent_to_contact = False
    with db.session_scope(engine) as session:
        report = send_invitations(session, SLUG, settings_for(port), now=NOW + timedelta(days=2))
    assert (report.sent, report.skipped_no_consent) == (1, 1)
    assert [recipients for recipients, _ in inbox.messages] == [("ok@example.com",)]


def test_a_name_with_line_breaks_cannot_add_headers_or_markup(engine, smtp_server):
    inbox, port = smtp_server
    invite(engine, {"external_ref": "EVE", "name": "Eve <b>\r\nBcc: thief@example.com",
                    "email": "eve@example.com"})
    with db.session_scope(engine) as session:
        assert send_invitations(session, SLUG, settings_for(port), now=NOW).sent == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ("eve@example.com",)
    assert message["Bcc"] is None
    html_body = message.get_body(("html",)).get_content()
    assert "Eve &lt;b&gt; Bcc: thief@example.com" in html_body and "<b>" not in html_body


class FailingInbox(Inbox):
    """Accepts `accept` messages, then answers like a server shutting down."""

    def __init__(self, accept: int):
        super().__init__()
        self.accept = accept

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.accept:
            return "421 4.3.0 shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_a_run_that_fails_half_way_keeps_what_it_sent_and_the_next_run_sends_the_rest(engine, smtp_server):
    inbox, port = smtp_server
    invite(engine, *({"external_ref": f"C{k}", "name": f"C{k}", "email": f"c{k}@example.com"} for k in range(3)))
    failing = FailingInbox(accept=1)
    controller = Controller(failing, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with db.session_scope(engine) as session:
            with pytest.raises(MailError, match=rf"127\.0\.0\.1:{controller.port} failed: 421"):
                send_invitations(session, SLUG, settings_for(controller.port), now=NOW)
    finally:
        controller.stop()
    assert sorted(ref for ref, at in sent_at(engine).items() if at is not None) == ["C0"]

    with db.session_scope(engine) as session:
        assert send_invitations(session, SLUG, settings_for(port), now=NOW).sent == 2
    delivered = [recipients for recipients, _ in failing.messages + inbox.messages]
    assert sorted(delivered) == [("c0@example.com",), ("c1@example.com",), ("c2@example.com",)]


def test_unreachable_server_gives_a_clear_error_naming_host_and_port_and_marks_nothing(engine):
    port = free_port()  # nothing listens here
    invite(engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with db.session_scope(engine) as session:
        with pytest.raises(MailError, match=rf"^cannot connect to the SMTP server 127\.0\.0\.1:{port}: "):
            send_invitations(session, SLUG, settings_for(port), now=NOW)
    assert sent_at(engine) == {"ADA": None}


def test_no_smtp_settings_is_a_clear_error(engine):
    invite(engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with db.session_scope(engine) as session:
        with pytest.raises(ValueError, match="no SMTP server configured: set SURVEY_SMTP_HOST"):
            send_invitations(session, SLUG, Settings(public_url=BASE_URL), now=NOW)


class Authenticator:
    def __init__(self):
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        # handled=False: let the server send its 535 reply on failure
        return AuthResult(success=auth_data.login == b"survey" and auth_data.password == b"s3cret", handled=False)


@pytest.fixture
def authenticating_server():
    inbox, authenticator = Inbox(), Authenticator()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    yield inbox, authenticator, controller.port
    controller.stop()


def test_configured_credentials_are_used_and_a_wrong_password_is_a_clear_error(sqlite_engine, authenticating_server):
    inbox, authenticator, port = authenticating_server
    invite(sqlite_engine, {"external_ref": "ADA", "name": "Ada", "email": "ada@example.com"})
    with db.session_scope(sqlite_engine) as session:
        with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port} refused the sign-in of user 'survey'"):
            send_invitations(session, SLUG, settings_for(port, user="survey", password="wrong"), now=NOW)
    assert sent_at(sqlite_engine) == {"ADA": None}
    with db.session_scope(sqlite_engine) as session:
        assert send_invitations(session, SLUG, settings_for(port, user="survey", password="s3cret"), now=NOW).sent == 1
    assert authenticator.logins[-1] == (b"survey", b"s3cret")
    assert len(inbox.messages) == 1


def test_settings_come_from_the_environment_and_bad_values_name_the_variable():
    settings = Settings.from_env({"SURVEY_PUBLIC_URL": "https://survey.example.com/", "SURVEY_SMTP_HOST": "smtp.x",
                                  "SURVEY_SMTP_SECURITY": "ssl", "SURVEY_SMTP_USER": "u",
                                  "SURVEY_SMTP_PASSWORD": "pw", "SURVEY_SMTP_FROM": "s@x",
                                  "SURVEY_INVITATION_VALID_DAYS": "14"})
    assert settings.public_url == "https://survey.example.com"
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == ("smtp.x", 465, "ssl")
    assert settings.invitation_valid_days == 14 and settings.invitation_quiet_days == 90
    assert "pw" not in repr(settings)
    assert Settings.from_env({}).smtp is None
    for environment, message in [
        ({"SURVEY_SMTP_HOST": "h", "SURVEY_SMTP_FROM": "s@x", "SURVEY_SMTP_PORT": "smtp"}, "SURVEY_SMTP_PORT='smtp'"),
        ({"SURVEY_SMTP_HOST": "h", "SURVEY_SMTP_FROM": "s@x", "SURVEY_SMTP_SECURITY": "tls"},
         "SURVEY_SMTP_SECURITY='tls': expected one of none, starttls, ssl"),
        ({"SURVEY_SMTP_HOST": "h"}, "no sender address configured: set SURVEY_SMTP_FROM"),
        ({"SURVEY_INVITATION_QUIET_DAYS": "-1"}, "SURVEY_INVITATION_QUIET_DAYS='-1'"),
    ]:
        with pytest.raises(ValueError) as error:
            Settings.from_env(environment)
        assert str(error.value).startswith(message)


def test_two_runs_at_the_same_time_send_each_invitation_once(engine, smtp_server):
    """Two `invitations send` at once (a scheduled job overlapping a manual run): every customer
    gets exactly one message, because each invitation is claimed in the database before sending."""
    inbox, port = smtp_server
    invite(engine, *({"external_ref": f"C{k:02d}", "name": f"C{k}", "email": f"c{k}@example.com"} for k in range(40)))
    start = threading.Barrier(2)

    def run() -> int:
        with db.session_scope(engine) as session:
            start.wait()
            return send_invitations(session, SLUG, settings_for(port), now=NOW).sent

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda _: run(), range(2)))
    delivered = sorted(recipients for recipients, _ in inbox.messages)
    assert delivered == sorted({(f"c{k}@example.com",) for k in range(40)})  # 40 messages, none twice
    assert sum(counts) == 40 and all(at is not None for at in sent_at(engine).values())
