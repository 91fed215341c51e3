"""Local accounts: scrypt password hashes, sign-in with throttling, and user management.

Passwords are hashed with scrypt (RFC 7914) and a random 16-byte salt per user; the stored text
names its parameters, so they can be raised later without invalidating older hashes. Repeated
failures make the account and the client address wait longer and longer before the next try
(`survey.people.throttle`): a guessing attack gets a few tries a minute, a person who mistyped is
barely slowed, and nobody can lock someone else out or learn which emails have an account.

Example:
    >>> stored = hash_password("correct horse")
    >>> verify_password("correct horse", stored), verify_password("wrong", stored)
    (True, False)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from survey import messages
from survey.people import audit
from survey.storage import db, models
from survey.people.access import MANAGE_USERS, ROLES, Actor, require
from survey.people.throttle import ACCOUNT, Throttle, account_key, address_key

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # OWASP's scrypt minimum: N=2^17 is stronger, 2^14 keeps sign-in fast
MIN_PASSWORD_LENGTH = 10
SLOW_DOWN_SECONDS = 0.5  # before answering any failed attempt, whoever it names
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SIGN_IN_FAILED = messages.SIGN_IN_FAILED  # the same text whether the email exists or not
SIGN_IN_WAIT = messages.SIGN_IN_WAIT  # likewise
SIGN_IN_THROTTLE = Throttle()  # this process's failure counts (see survey.people.throttle)


class AccountError(ValueError):
    """Bad input for an account operation; the message names the field."""


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the actor on success, else a message for the person."""

    actor: Actor | None
    message: str = ""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The scrypt hash of `password` with a fresh random salt (or `salt`: only the demo data passes
    one, so that its tables are reproducible), as `scrypt$N$r$p$salt$hash` (base64)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash (compared in constant time)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def random_password() -> str:
    """A new password of 20 URL-safe characters (about 120 bits), for first starts and resets."""
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    """AccountError when `password` is too weak to store."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters, please")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")


def normal_email(email: str) -> str:
    """`email` trimmed and lower-cased; AccountError naming the field when it is not an address."""
    email = (email or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 320 or "\x00" in email:
        raise AccountError(f"email: {email[:80]!r} is not an email address")
    return email


def _short_text(field: str, value: str | None, longest: int) -> str | None:
    """`value` trimmed, or AccountError naming `field` when it is too long or holds a NUL character."""
    value = (value or "").strip()
    if len(value) > longest or "\x00" in value:
        raise AccountError(f"{field}: at most {longest} characters of ordinary text")
    return value or None


def sign_in(engine: Engine, email: str, password: str, now: datetime | None = None,
            sleep: Callable[[float], None] = time.sleep, client: str | None = None,
            throttle: Throttle | None = None) -> SignIn:
    """Check a local sign-in from the client address `client` (None when unknown).

    Repeated failures make the account (whether it exists or not) and the address wait longer
    before their next try (`survey.people.throttle`), instead of locking the account; an attempt
    made before its wait is over is refused unchecked. Every failure pauses the answer the same
    SLOW_DOWN_SECONDS, and unknown, disabled and real accounts get the same messages, so sign-in
    never tells who has an account. A success clears the account's count.
    """
    now = now or models.utc_now()
    throttle = SIGN_IN_THROTTLE if throttle is None else throttle
    keys = [address_key(client)] if client else []
    try:
        email = normal_email(email)
    except AccountError:
        email = None
    if email is not None:
        keys.append(account_key(email))
    wait = throttle.wait(keys, now)
    if wait > 0:
        return SignIn(None, SIGN_IN_WAIT.format(seconds=math.ceil(wait)))
    user_found = None
    if email is not None:
        with db.session_scope(engine) as session:
            user = session.scalars(select(models.User).where(models.User.email == email)).first()
            if user is None or user.disabled_at is not None:
                verify_password(password, _dummy_hash())  # the same work, so timing does not tell who exists
            elif verify_password(password, user.password_hash):
                user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, now
                user_found = Actor.of(user)
            else:
                throttle.failed(keys, now)
                keys = []  # counted
                if throttle.wait([account_key(email)], now) == ACCOUNT.first:  # its waits begin now
                    audit.record(session, Actor.of(user), "sign_in.throttled", f"user {user.id}")
    if user_found is not None:
        throttle.forget([account_key(email)])
        return SignIn(user_found)
    if keys:
        throttle.failed(keys, now)
    sleep(SLOW_DOWN_SECONDS)  # outside the transaction, the same for every failure
    return SignIn(None, SIGN_IN_FAILED)


def actor_for_email(engine: Engine, email: str | None) -> Actor | None:
    """The actor for an identity verified elsewhere (single sign-on); None for an unknown or disabled user."""
    return _active_actor(engine, models.User.email == email.strip().lower()) if email else None


def actor_for_user_id(engine: Engine, user_id: int) -> Actor | None:
    """The actor for a signed-in user as the database has them now; None when disabled or removed."""
    return _active_actor(engine, models.User.id == user_id)


def _active_actor(engine: Engine, condition) -> Actor | None:
    with engine.connect() as connection:
        row = connection.execute(select(models.User.id, models.User.email, models.User.role)
                                 .where(condition, models.User.disabled_at.is_(None))).first()
    return Actor(*row) if row else None


def add_user(engine: Engine, actor: Actor, email: str, role: str, name: str = "", region: str | None = None,
             password: str | None = None) -> tuple[models.User, str]:
    """Create a user; returns it with its password (a random one when none is given: show it once)."""
    require(actor, MANAGE_USERS)
    email = normal_email(email)
    if role not in ROLES:
        raise AccountError(f"role: {role!r} is not a role (expected one of: {', '.join(ROLES)})")
    name, region = _short_text("name", name, 200), _short_text("region", region, 100)
    password = password if password is not None else random_password()
    check_password(password)
    with db.session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(models.User).where(models.User.email == email)):
            raise AccountError(f"email: a user {email} already exists")
        user = models.User(email=email, name=name or email.split("@")[0], role=role, region=region,
                           password_hash=hash_password(password))
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.add", f"user {user.id} as {role}")
        session.expunge(user)
    return user, password


def _user(session: Session, email: str) -> models.User:
    user = session.scalars(select(models.User).where(models.User.email == normal_email(email))).first()
    if user is None:
        raise AccountError(f"email: no user {email}")
    return user


def reset_password(engine: Engine, actor: Actor, email: str, password: str | None = None) -> str:
    """Set a new password (random when none is given) and unlock the account; returns the password."""
    require(actor, MANAGE_USERS)
    password = password if password is not None else random_password()
    check_password(password)
    with db.session_scope(engine) as session:
        user = _user(session, email)
        user.password_hash, user.failed_sign_ins, user.locked_until = hash_password(password), 0, None
        SIGN_IN_THROTTLE.forget([account_key(user.email)])
        _end_sessions(session, user.id)  # a new password signs the user out everywhere
        audit.record(session, actor, "user.reset_password", f"user {user.id}")
    return password


def update_user(engine: Engine, actor: Actor, email: str, role: str | None = None, disabled: bool | None = None,
                unlock: bool = False) -> None:
    """Change a user's role, disable or enable them, or lift a lockout. An admin cannot demote or
    disable themselves (so there is always someone who can undo a mistake)."""
    require(actor, MANAGE_USERS)
    if role is not None and role not in ROLES:
        raise AccountError(f"role: {role!r} is not a role (expected one of: {', '.join(ROLES)})")
    with db.session_scope(engine) as session:
        user = _user(session, email)
        if user.id == actor.user_id and (disabled or (role is not None and role != user.role)):
            raise AccountError("email: you cannot demote or disable your own account")
        changes = []
        if role is not None and role != user.role:
            user.role = role
            changes.append(f"role {role}")
        if disabled is not None and disabled != (user.disabled_at is not None):
            user.disabled_at = models.utc_now() if disabled else None
            changes.append("disabled" if disabled else "enabled")
            if disabled:
                _end_sessions(session, user.id)
        if unlock:
            user.failed_sign_ins, user.locked_until = 0, None
            SIGN_IN_THROTTLE.forget([account_key(user.email)])
            changes.append("unlocked")
        if changes:
            audit.record(session, actor, "user.change", f"user {user.id}: {', '.join(changes)}")


def _end_sessions(session: Session, user_id: int) -> None:
    """Revoke the user's sign-in sessions in the same transaction as the change that ends them."""
    session.execute(update(models.UserSession).where(models.UserSession.user_id == user_id,
                                                     models.UserSession.revoked_at.is_(None))
                    .values(revoked_at=models.utc_now()))


def list_users(engine: Engine, actor: Actor) -> list[dict]:
    """Every user with role, region and sign-in state (admins only); never the password hash."""
    require(actor, MANAGE_USERS)
    columns = (models.User.id, models.User.email, models.User.name, models.User.role, models.User.region,
               models.User.is_demo, models.User.last_sign_in_at, models.User.locked_until, models.User.disabled_at)
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(models.User.role, models.User.email)).all()
    return [row._asdict() for row in rows]


def ensure_first_admin(engine: Engine) -> tuple[str, str] | None:
    """On a database with no users, create an admin with a random password and return (email, password)
    to be shown once; None when users exist."""
    with db.session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(models.User)):
            return None
    email = "admin@localhost.localdomain"
    _, password = add_user(engine, Actor.command_line(), email, "admin", name="Administrator")
    return email, password


@functools.cache
def _dummy_hash() -> str:
    # made on first need, not at import: every command line run would pay for a scrypt hash
    return hash_password(secrets.token_urlsafe(8))
