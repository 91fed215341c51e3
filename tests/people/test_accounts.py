"""Local accounts: scrypt hashes, sign-in with throttling (no lockout), user management, the first
admin, and single sign-on's mapping of a verified email to a user and role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from survey import cli
from survey.people import accounts, audit
from survey.storage import db, models
from survey.people.access import AccessDenied, Actor
from survey.people.throttle import Throttle
from survey.bootstrap import prepare_database
from tests.conftest import ROOT

CLI = Actor.command_line()
PASSWORD = "a long enough password"


class Pauses:
    """Records the pauses sign_in asks for instead of sleeping."""

    def __init__(self):
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def test_hashes_are_scrypt_with_a_salt_per_user():
    first, second = accounts.hash_password(PASSWORD), accounts.hash_password(PASSWORD)
    assert first.startswith("scrypt$16384$8$1$") and first != second  # same password, different salts
    assert accounts.verify_password(PASSWORD, first) and accounts.verify_password(PASSWORD, second)
    assert not accounts.verify_password(PASSWORD + "x", first)
    assert not accounts.verify_password(PASSWORD, "md5$whatever") and not accounts.verify_password(PASSWORD, None)


def test_sign_in_succeeds_only_with_the_right_password(engine):
    accounts.add_user(engine, CLI, "Ann@Example.com", "manager", password=PASSWORD)
    pauses = Pauses()
    assert accounts.sign_in(engine, "ann@example.com", PASSWORD, sleep=pauses).actor.role == "manager"
    assert accounts.sign_in(engine, " ANN@example.com ", PASSWORD, sleep=pauses).actor is not None
    wrong = accounts.sign_in(engine, "ann@example.com", "not the password", sleep=pauses)
    unknown = accounts.sign_in(engine, "nobody@example.com", PASSWORD, sleep=pauses)
    # the same answer whether the account exists or not, so sign-in does not reveal who has one
    assert wrong.actor is None and wrong.message == unknown.message == accounts.SIGN_IN_FAILED
    assert pauses.seconds == [accounts.SLOW_DOWN_SECONDS, accounts.SLOW_DOWN_SECONDS]


# Finding 10 of issue 16: after 5 failures a real account answered "locked" and an unknown email never did,
# so accounts could be enumerated, and anyone knowing an email could lock its owner out for 15 minutes.
def test_failures_get_the_same_answers_for_a_real_and_an_unknown_account(engine):
    accounts.add_user(engine, CLI, "ann@example.com", "manager", password=PASSWORD)
    now = models.utc_now()
    real = [accounts.sign_in(engine, "ann@example.com", "guess", now=now, sleep=Pauses()).message for _ in range(12)]
    unknown = [accounts.sign_in(engine, "nobody@example.com", "guess", now=now, sleep=Pauses()).message
               for _ in range(12)]
    assert real == unknown
    assert not any("lock" in message.lower() for message in real)
    assert real[:4] == [accounts.SIGN_IN_FAILED] * 4  # three free failures, then the waits begin
    assert real[4] == "Too many failed sign-ins: wait 1 second(s), then try again."
    # and the owner is not locked out: once the longest wait has passed, the right password works
    later = accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now + timedelta(seconds=31), sleep=Pauses())
    assert later.actor is not None


def test_failures_make_the_next_try_wait_longer_and_longer_up_to_a_ceiling_never_a_lockout(engine):
    accounts.add_user(engine, CLI, "ann@example.com", "manager", password=PASSWORD)
    throttle, now = Throttle(), models.utc_now()
    waits = []
    for _ in range(12):  # an attacker who always waits just long enough, from ever new addresses
        waits.append(throttle.wait(["account:ann@example.com"], now))
        now += timedelta(seconds=waits[-1])
        assert accounts.sign_in(engine, "ann@example.com", "guess", now=now, sleep=Pauses(), client=None,
                                throttle=throttle).message == accounts.SIGN_IN_FAILED
    # the waits before each try: none for the first four, then doubling from 1 s to the 30 s ceiling
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30]
    refused = accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now, sleep=Pauses(), throttle=throttle)
    assert refused.actor is None and refused.message == accounts.SIGN_IN_WAIT.format(seconds=30)
    # the owner signs in once the ceiling has passed: nobody else can keep them out for long
    owner = accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now + timedelta(seconds=31), sleep=Pauses(),
                             throttle=throttle)
    assert owner.actor is not None
    assert throttle.wait(["account:ann@example.com"], now + timedelta(seconds=31)) == 0  # a success clears it
    with engine.connect() as connection:
        user = connection.execute(select(models.User).where(models.User.email == "ann@example.com")).one()
    assert user.locked_until is None and user.last_sign_in_at is not None
    assert list(audit.events(engine, CLI)["action"]).count("sign_in.throttled") == 1


def test_one_address_guessing_across_accounts_is_throttled_and_others_are_not(engine):
    accounts.add_user(engine, CLI, "ann@example.com", "manager", password=PASSWORD)
    throttle, now = Throttle(), models.utc_now()
    for number in range(11):  # a different email each time: no account reaches its own limit
        accounts.sign_in(engine, f"guess{number}@example.com", "guess", now=now, sleep=Pauses(),
                         client="192.0.2.9", throttle=throttle)
    blocked = accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now, sleep=Pauses(), client="192.0.2.9",
                               throttle=throttle)
    assert blocked.actor is None and blocked.message == accounts.SIGN_IN_WAIT.format(seconds=1)
    elsewhere = accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now, sleep=Pauses(), client="192.0.2.10",
                                 throttle=throttle)
    assert elsewhere.actor is not None


def test_an_admin_can_lift_the_wait_and_disable_a_user(engine):
    accounts.add_user(engine, CLI, "ann@example.com", "manager", password=PASSWORD)
    now = models.utc_now()
    for _ in range(6):
        accounts.sign_in(engine, "ann@example.com", "guess", now=now, sleep=Pauses())
    assert accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now, sleep=Pauses()).actor is None
    accounts.update_user(engine, CLI, "ann@example.com", unlock=True)
    assert accounts.sign_in(engine, "ann@example.com", PASSWORD, now=now, sleep=Pauses()).actor is not None
    accounts.update_user(engine, CLI, "ann@example.com", disabled=True)
    assert accounts.sign_in(engine, "ann@example.com", PASSWORD, sleep=Pauses()).actor is None
    assert accounts.actor_for_email(engine, "ann@example.com") is None  # nor through single sign-on


def test_user_management_refuses_bad_input_and_non_admins(engine):
    admin, _ = accounts.add_user(engine, CLI, "boss@example.com", "admin", password=PASSWORD)
    manager = Actor(user_id=None, email="m@example.com", role="manager")
    with pytest.raises(AccessDenied):
        accounts.add_user(engine, manager, "x@example.com", "admin")
    with pytest.raises(accounts.AccountError, match="^name: at most 200"):
        accounts.add_user(engine, CLI, "x@example.com", "manager", name="n" * 201, password=PASSWORD)
    with pytest.raises(accounts.AccountError, match="^region:"):
        accounts.add_user(engine, CLI, "x@example.com", "field_manager", region="North\x00", password=PASSWORD)
    for email, role, password, field in [("not-an-email", "manager", PASSWORD, "email"),
                                         ("x@example.com", "boss", PASSWORD, "role"),
                                         ("x@example.com", "manager", "short", "password"),
                                         ("BOSS@example.com", "manager", PASSWORD, "email")]:
        with pytest.raises(accounts.AccountError, match=f"^{field}:"):
            accounts.add_user(engine, CLI, email, role, password=password)
    with pytest.raises(accounts.AccountError, match="your own account"):
        accounts.update_user(engine, Actor.of(admin), "boss@example.com", role="manager")
    with engine.connect() as connection:  # nothing was written by the refused calls
        assert connection.execute(select(func.count()).select_from(models.User)).scalar_one() == 1


def test_the_first_start_creates_one_admin_and_shows_its_password_once(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'first.db'}")
    said: list[str] = []
    prepare_database(engine, with_demo_data=False, announce=said.append)
    prepare_database(engine, with_demo_data=False, announce=said.append)  # a restart creates nothing
    assert len(said) == 1
    password = said[0].split("with password ")[1].split()[0]
    assert accounts.sign_in(engine, "admin@localhost.localdomain", password, sleep=Pauses()).actor.role == "admin"
    with engine.connect() as connection:
        stored = connection.execute(select(models.User.password_hash)).scalar_one()
    assert password not in stored  # only the hash is kept


def test_cli_adds_users_and_resets_passwords(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    assert cli.main(["user", "add", "--role", "field_manager", "--region", "North", "Fm@Example.com"]) == 0
    first = capsys.readouterr().out.splitlines()[-1]
    assert cli.main(["user", "reset-password", "fm@example.com"]) == 0
    second = capsys.readouterr().out.splitlines()[-1]
    engine = db.make_engine(url)
    assert accounts.sign_in(engine, "fm@example.com", first, sleep=Pauses()).actor is None
    assert accounts.sign_in(engine, "fm@example.com", second, sleep=Pauses()).actor.role == "field_manager"
    assert cli.main(["user", "add", "--role", "field_manager", "fm@example.com"]) == 1
    assert "email: a user fm@example.com already exists" in capsys.readouterr().err
    assert cli.main(["user", "reset-password", "nobody@example.com"]) == 1
    assert "email: no user nobody@example.com" in capsys.readouterr().err
    assert cli.main(["user", "list"]) == 0
    assert "fm@example.com\tfield_manager\tNorth\tactive" in capsys.readouterr().out


# Single sign-on: st.user as AppTest provides it, with [auth] in the secrets.


@pytest.fixture
def sso_app(demo_database_url, monkeypatch):
    monkeypatch.setenv("SURVEY_DATABASE_URL", demo_database_url)
    monkeypatch.chdir(ROOT)

    def start(user: dict) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                               "client_id": "id", "client_secret": "secret",
                               "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
        app.user = user
        app.run()
        assert not app.exception, app.exception
        return app
    return start


def test_sso_maps_a_verified_email_to_its_user_and_role(sso_app):
    app = sso_app({"is_logged_in": True, "email": "fm.north.1@demo.example", "email_verified": True})
    assert any("fm.north.1@demo.example (Field manager)" in c.value for c in app.sidebar.caption)
    assert any(m.label == "NPS" for m in app.metric)  # the Overview, which field managers may open


def test_sso_gives_an_unknown_or_unverified_email_no_access(sso_app):
    for user in ({"is_logged_in": True, "email": "stranger@example.com", "email_verified": True},
                 {"is_logged_in": True, "email": "admin@demo.example", "email_verified": False},
                 {"is_logged_in": False}):
        app = sso_app(user)
        assert not app.metric and app.title[0].value == "Sign in"
    assert "stranger@example.com has no access" in sso_app(
        {"is_logged_in": True, "email": "stranger@example.com"}).error[0].value
