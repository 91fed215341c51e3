"""API keys for the JSON API: created once, stored only as a hash, checked in constant time.

A key looks like `sk_<prefix>_<secret>`: the 8-character prefix is public (it is stored in
clear, identifies the key in lists and logs, and finds its row with one indexed lookup); the secret
is `secrets.token_urlsafe(32)`, 256 random bits. The full key is shown once, at creation.

Why SHA-256 and not a slow password hash (scrypt, bcrypt): slow hashes protect *low-entropy*
secrets that people choose, by making each guess expensive. A 256-bit random key cannot be
guessed whatever the hash costs, so a single SHA-256 is as safe for it, and costs microseconds
instead of the ~50 ms of scrypt on every API call (the API must take hundreds of calls a second).
The stored value is `sha256$<hex digest>`; the scheme prefix leaves room to change it later.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     created = create_key(session, "kiosk in Lyon")
    >>> created.key.startswith(f"sk_{created.prefix}_")
    True
    >>> with session_scope(engine) as session:
    ...     verify_key(session, created.key).name, verify_key(session, created.key + "x")
    ('kiosk in Lyon', None)
    >>> with session_scope(engine) as session:
    ...     revoke_key(session, created.prefix)
    >>> with session_scope(engine) as session:
    ...     verify_key(session, created.key) is None
    True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import messages
from survey.storage import models
from survey.storage.models import utc_now

KEY_SCHEME = "sk"
PREFIX_LENGTH = 8
SECRET_BYTES = 32
HASH_SCHEME = "sha256"
MAX_NAME_LENGTH = 200
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `key` is the only time the secret is ever available."""

    id: int
    name: str
    prefix: str
    key: str


@dataclass(frozen=True)
class VerifiedKey:
    """The key a request presented, once checked."""

    id: int
    name: str
    prefix: str


def hash_key(key: str) -> str:
    """The stored form of `key`: `sha256$<hex>` (see the module docstring for why SHA-256)."""
    return f"{HASH_SCHEME}${hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def key_prefix(key: str) -> str | None:
    """The public prefix of a presented key, or None when it is not shaped like one of ours."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if (scheme != KEY_SCHEME or len(prefix) != PREFIX_LENGTH or not secret
            or any(c not in _PREFIX_ALPHABET for c in prefix)):
        return None
    return prefix


def create_key(session: Session, name: str) -> CreatedKey:
    """Create and store a key named `name`; return it with its secret (shown once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise ValueError(messages.API_KEY_NAME_REQUIRED)
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(messages.API_KEY_NAME_TOO_LONG.format(limit=MAX_NAME_LENGTH))
    while True:  # 36^8 prefixes: a clash is rare, but the column is unique
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if session.scalar(select(models.ApiKey.id).where(models.ApiKey.prefix == prefix)) is None:
            break
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    stored = models.ApiKey(name=name, prefix=prefix, key_hash=hash_key(key))
    session.add(stored)
    session.flush()
    return CreatedKey(stored.id, name, prefix, key)


def verify_key(session: Session, presented: str) -> VerifiedKey | None:
    """The stored, unrevoked key matching `presented`, or None (unknown, wrong or revoked)."""
    prefix = key_prefix(presented or "")
    if prefix is None:
        return None
    row = session.execute(select(models.ApiKey.id, models.ApiKey.name, models.ApiKey.key_hash,
                                 models.ApiKey.revoked_at)
                          .where(models.ApiKey.prefix == prefix)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash.encode("ascii"), hash_key(presented).encode("ascii")):
        return None
    return VerifiedKey(row.id, row.name, prefix)


def revoke_key(session: Session, prefix: str) -> None:
    """Revoke the key with `prefix` (effective for the API within `api.KEY_CACHE_SECONDS`)."""
    stored = session.scalar(select(models.ApiKey).where(models.ApiKey.prefix == prefix))
    if stored is None:
        raise LookupError(messages.API_KEY_UNKNOWN.format(prefix=prefix))
    if stored.revoked_at is None:
        stored.revoked_at = utc_now()
