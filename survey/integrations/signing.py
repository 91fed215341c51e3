"""Signing webhook deliveries, and checking a signature as a receiver would.

Each delivery is a JSON body signed with HMAC-SHA256 over its raw bytes with the webhook's
secret, sent as `X-Survey-Signature: sha256=<hex>`. The body carries the event's `id` (the same
for every try: receivers drop duplicates by it) and `sent_at`, the moment of this try, which the
`X-Survey-Timestamp` header repeats: since the signature covers the body, a replayed delivery
cannot be given a fresh time, so receivers drop deliveries older than a few minutes.

Example:
    >>> body = b'{"id": "e1", "sent_at": 1700000000, "type": "case.opened", "data": {}}'
    >>> header = signature("s3cret", body)
    >>> header
    'sha256=...'
    >>> verify("s3cret", body, header, "1700000000", now=1700000030)
    True
    >>> verify("s3cret", body, header, "1700000000", now=1700009999)  # too old: a replay
    False
    >>> verify("other", body, header, "1700000000", now=1700000030)
    False
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

SIGNATURE_HEADER = "X-Survey-Signature"
EVENT_HEADER = "X-Survey-Event-Id"
TIMESTAMP_HEADER = "X-Survey-Timestamp"
EVENT_TYPE_HEADER = "X-Survey-Event"
TOLERANCE_SECONDS = 300  # how old a delivery a receiver should still accept


def new_secret() -> str:
    """A fresh signing secret (shown once when a webhook is added)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """The `X-Survey-Signature` value of `body`: `sha256=` and the hex HMAC-SHA256 under `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature_header: str | None, timestamp_header: str | None, *,
           now: float | None = None, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: the signature is right (compared in constant time), the timestamp
    header is the body's `sent_at`, and it is at most `tolerance` seconds old (or ahead)."""
    if not signature_header or not timestamp_header:
        return False
    if not hmac.compare_digest(signature(secret, body), signature_header):
        return False
    try:
        sent_at = json.loads(body).get("sent_at")
        stamp = int(timestamp_header)
    except (ValueError, AttributeError):
        return False
    if sent_at != stamp:
        return False
    return abs((time.time() if now is None else now) - stamp) <= tolerance
