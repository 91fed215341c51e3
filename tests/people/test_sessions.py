"""Server-side sign-in sessions: a random cookie value, only its hash stored; revoked at sign-out, when the
user is disabled or their password changes, and ended by the idle and absolute timeouts (settings)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.requests import Request

from survey import settings
from survey.people import accounts, sessions
from survey.people.access import Actor
from survey.people.session_routes import secure_request
from survey.storage import db, models

CLI = Actor.command_line()
IDLE, LONGEST = timedelta(minutes=30), timedelta(hours=12)


def who(engine, token, now=None):
    """The session's user under this module's timeouts (30 minutes idle, 12 hours in all)."""
    return sessions.actor_for(engine, token, idle=IDLE, longest=LONGEST, now=now)


@pytest.fixture
def ann(engine):
    user, _ = accounts.add_user(engine, CLI, "ann@example.com", "manager", name="Ann")
    return user.id


def test_a_session_names_its_user_and_only_a_hash_of_the_cookie_is_stored(engine, ann):
    token = sessions.start(engine, ann)
    actor = who(engine, token)
    assert (actor.user_id, actor.email, actor.role) == (ann, "ann@example.com", "manager")
    with db.session_scope(engine) as session:
        stored = session.scalars(select(models.UserSession)).one()
        assert stored.token_hash != token and token not in stored.token_hash and len(token) >= 43  # 256 bits
    assert who(engine, token + "x") is None and who(engine, "") is None
    assert sessions.start(engine, ann) != token  # random, never reused


def test_signing_out_revokes_the_session_and_only_that_one(engine, ann):
    first, second = sessions.start(engine, ann), sessions.start(engine, ann)
    sessions.end(engine, first)
    assert who(engine, first) is None
    assert who(engine, second) is not None


def test_the_idle_timeout_ends_a_session_and_each_use_moves_its_clock(engine, ann):
    start = models.utc_now()
    token = sessions.start(engine, ann, now=start)
    assert who(engine, token, now=start + timedelta(minutes=25))
    # used at 25 minutes: 50 minutes after the start is only 25 idle
    assert who(engine, token, now=start + timedelta(minutes=50))
    assert who(engine, token, now=start + timedelta(minutes=81)) is None
    # and once ended it stays ended
    assert who(engine, token, now=start + timedelta(minutes=82)) is None


def test_the_absolute_timeout_ends_a_session_however_active(engine, ann):
    start = models.utc_now()
    token = sessions.start(engine, ann, now=start)
    moment = start
    while moment < start + LONGEST - timedelta(minutes=20):
        moment += timedelta(minutes=20)
        assert who(engine, token, now=moment) is not None
    assert who(engine, token, now=start + LONGEST + timedelta(minutes=1)) is None


def test_disabling_the_user_or_changing_their_password_ends_their_sessions(engine, ann):
    admin, _ = accounts.add_user(engine, CLI, "root@example.com", "admin")
    admin_actor = Actor(admin.id, admin.email, "admin")
    kept, reset = sessions.start(engine, admin.id), sessions.start(engine, ann)
    accounts.reset_password(engine, admin_actor, "ann@example.com")
    assert who(engine, reset) is None
    disabled = sessions.start(engine, ann)
    accounts.update_user(engine, admin_actor, "ann@example.com", disabled=True)
    assert who(engine, disabled) is None
    accounts.update_user(engine, admin_actor, "ann@example.com", disabled=False)
    assert who(engine, disabled) is None  # enabling again does not bring old sessions back
    assert who(engine, kept) is not None  # other users are untouched
    with pytest.raises(ValueError):
        accounts.update_user(engine, admin_actor, "ann@example.com", disabled=True)
        sessions.start(engine, ann)


def test_a_password_changed_outside_the_app_still_ends_older_sessions(engine, ann):
    token = sessions.start(engine, ann)
    with db.session_scope(engine) as session:  # e.g. `python -m survey users ...` or a restored backup
        session.get(models.User, ann).password_hash = accounts.hash_password("an entirely new password")
    assert who(engine, token) is None


def test_end_all_revokes_every_live_session_of_a_user(engine, ann):
    tokens = [sessions.start(engine, ann) for _ in range(3)]
    sessions.end(engine, tokens[0])
    assert sessions.end_all(engine, ann) == 2
    assert all(who(engine, token) is None for token in tokens)


def test_a_hand_off_code_gives_the_token_once_and_only_while_fresh():
    now = models.utc_now()
    code = sessions.hand_off("the-token", now=now)
    assert code != "the-token"
    assert sessions.redeem(code, now=now + timedelta(seconds=5)) == "the-token"
    assert sessions.redeem(code, now=now + timedelta(seconds=6)) is None  # used
    late = sessions.hand_off("other", now=now)
    assert sessions.redeem(late, now=now + timedelta(seconds=sessions.HANDOFF_SECONDS + 1)) is None
    assert sessions.redeem("made-up") is None and sessions.redeem(None) is None


def test_timeouts_are_settings_with_defaults_and_clear_errors():
    assert settings.session_idle_minutes({}) == settings.DEFAULT_SESSION_IDLE_MINUTES
    assert settings.session_max_hours({"SURVEY_SESSION_MAX_HOURS": "2"}) == 2
    with pytest.raises(ValueError, match="SURVEY_SESSION_IDLE_MINUTES"):
        settings.session_idle_minutes({"SURVEY_SESSION_IDLE_MINUTES": "soon"})
    with pytest.raises(ValueError, match="SURVEY_SESSION_MAX_HOURS"):
        settings.session_max_hours({"SURVEY_SESSION_MAX_HOURS": "0"})


@pytest.mark.parametrize("scheme, forwarded, secure", [("http", None, False), ("https", None, True),
                                                       ("http", "https", True), ("http", "http", False)])
def test_the_cookie_is_secure_when_the_browser_came_over_https(scheme, forwarded, secure):
    headers = [(b"x-forwarded-proto", forwarded.encode())] if forwarded else []
    request = Request({"type": "http", "scheme": scheme, "method": "POST", "path": "/auth/session",
                       "headers": headers, "server": ("127.0.0.1", 8501), "query_string": b""})
    assert secure_request(request) is secure
