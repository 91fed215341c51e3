"""Sign-in sessions that last: a random id in an HttpOnly cookie, the session kept server-side.

`start` makes a session for a signed-in user and returns the cookie's value (a random 256-bit
token); only its SHA-256 is stored. `actor_for` turns a cookie value back into the user, as the
database has them now, or None when the session was revoked (`end`, `end_all`), has been idle
longer than the idle timeout, is older than the absolute one (the app passes the settings
`SURVEY_SESSION_IDLE_MINUTES` and `SURVEY_SESSION_MAX_HOURS`), or its user
has been disabled or has changed their password since (the session keeps a stamp of the password
hash it began with). Each accepted use moves the idle clock on.

Example:
    >>> from survey.storage.db import make_engine, upgrade
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> actor_for(engine, "not-a-session", idle=timedelta(hours=8), longest=timedelta(days=7)) is None
    True
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from survey.people.access import Actor
from survey.storage import db, models

COOKIE = "survey_session"
TOUCH_EVERY = timedelta(seconds=60)  # the idle clock is written at most once a minute per session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def password_stamp(password_hash: str | None) -> str:
    """A stamp of the user's password hash: a new password gives a new stamp, ending older sessions."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


def start(engine: Engine, user_id: int, now: datetime | None = None) -> str:
    """A new session for the user `user_id`; returns the cookie value (never stored as such)."""
    now = now or models.utc_now()
    token = secrets.token_urlsafe(32)
    with db.session_scope(engine) as session:
        user = session.get(models.User, user_id)
        if user is None or user.disabled_at is not None:
            raise ValueError(f"user {user_id} cannot sign in")
        session.add(models.UserSession(token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                                       password_stamp=password_stamp(user.password_hash)))
    return token


def actor_for(engine: Engine, token: str | None, idle: timedelta, longest: timedelta,
              now: datetime | None = None) -> Actor | None:
    """The signed-in user behind the cookie value `token`, or None when it names no live session:
    revoked, unused for longer than `idle`, begun longer than `longest` ago, its user disabled, or
    their password changed since. (The app passes the settings' timeouts, see `survey.settings`.)"""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    now = now or models.utc_now()
    s, u = models.UserSession, models.User
    with db.session_scope(engine) as session:
        row = session.execute(
            select(s.id, s.created_at, s.last_seen_at, s.password_stamp, u.id, u.email, u.role, u.password_hash)
            .join(u, u.id == s.user_id)
            .where(s.token_hash == _digest(token), s.revoked_at.is_(None), u.disabled_at.is_(None))).first()
        if row is None:
            return None
        session_id, created, seen, stamp, user_id, email, role, password_hash = row
        created, seen = models.as_utc(created), models.as_utc(seen)
        if now - seen > idle or now - created > longest or stamp != password_stamp(password_hash):
            session.execute(update(s).where(s.id == session_id).values(revoked_at=now))
            return None
        if now - seen >= TOUCH_EVERY:
            session.execute(update(s).where(s.id == session_id).values(last_seen_at=now))
        return Actor(user_id, email, role)


def end(engine: Engine, token: str | None, now: datetime | None = None) -> None:
    """Revoke the session behind `token` (signing out); nothing happens for an unknown one."""
    if not isinstance(token, str) or not token:
        return
    with db.session_scope(engine) as session:
        session.execute(update(models.UserSession).where(models.UserSession.token_hash == _digest(token),
                                                         models.UserSession.revoked_at.is_(None))
                        .values(revoked_at=now or models.utc_now()))


def end_all(engine: Engine, user_id: int, now: datetime | None = None) -> int:
    """Revoke every live session of the user `user_id` (e.g. when an admin disables them); returns how many."""
    with db.session_scope(engine) as session:
        return session.execute(update(models.UserSession).where(models.UserSession.user_id == user_id,
                                                                models.UserSession.revoked_at.is_(None))
                               .values(revoked_at=now or models.utc_now())).rowcount


# Handing a new session to the browser. The sign-in form runs in the Streamlit script, which cannot
# set an HttpOnly cookie; it leaves the new session's token here under a one-time code, and the page
# posts that code (in a request body, never a URL) to the `/auth/session` route, which answers with
# the cookie. A code works once, for HANDOFF_SECONDS, and only in this process (the one serving both).
HANDOFF_SECONDS = 60
_handoffs: dict[str, tuple[str, datetime]] = {}
_handoff_lock = __import__("threading").Lock()


def hand_off(token: str, now: datetime | None = None) -> str:
    """A one-time code that `redeem` turns into `token` within HANDOFF_SECONDS."""
    now = now or models.utc_now()
    code = secrets.token_urlsafe(32)
    with _handoff_lock:
        for stale in [key for key, (_, until) in _handoffs.items() if until < now]:
            del _handoffs[stale]
        _handoffs[_digest(code)] = (token, now + timedelta(seconds=HANDOFF_SECONDS))
    return code


def redeem(code: str | None, now: datetime | None = None) -> str | None:
    """The token left under `code`, once; None for an unknown, used or expired code."""
    if not code or len(code) > 200:
        return None
    now = now or models.utc_now()
    with _handoff_lock:
        found = _handoffs.pop(_digest(code), None)
    return found[0] if found and found[1] >= now else None
