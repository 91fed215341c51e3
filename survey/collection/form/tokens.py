"""The form's anti-forgery token: a signature over the link, the visit's idempotency key and the time.

A page of the form carries the token in a hidden field and every POST must bring it back, so
another site cannot make a respondent's browser post answers through their link (the form has no
session cookie to steal, but a link is a credential of sorts). The key is `SURVEY_FORM_SECRET` when
set (several processes behind one address must share it), else random per process: a restart then
makes the open pages' tokens stale, and the form answers a stale token by showing the same screen
again with the answers kept and a fresh token, never by losing anything.

Example:
    >>> signer = FormTokens(b"k" * 32, clock=lambda: 1000.0)
    >>> token = signer.issue("s:kiosk", "web-" + "0" * 32)
    >>> signer.valid(token, "s:kiosk", "web-" + "0" * 32), signer.valid(token, "s:other", "web-" + "0" * 32)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from typing import Callable

MAX_AGE_SECONDS = 24 * 3600  # a form left open over a day asks for one more press, nothing more


class FormTokens:
    """Issues and checks tokens bound to (link, idempotency key), valid for `max_age` seconds."""

    def __init__(self, key: bytes | None = None, max_age: float = MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.time):
        configured = os.environ.get("SURVEY_FORM_SECRET", "").encode("utf-8")
        self._key = key or configured or secrets.token_bytes(32)
        self._max_age, self._clock = max_age, clock

    def _signature(self, link: str, idempotency_key: str, issued: int) -> str:
        message = f"{link}\x1f{idempotency_key}\x1f{issued}".encode("utf-8", "backslashreplace")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, link: str, idempotency_key: str) -> str:
        """A token for a page of `link`'s form in the visit of `idempotency_key`."""
        issued = int(self._clock())
        return f"{issued}.{self._signature(link, idempotency_key, issued)}"

    def valid(self, token: str | None, link: str, idempotency_key: str) -> bool:
        """Whether `token` was issued by this key for this link and visit, and is recent enough."""
        issued_text, _, signature = (token or "").partition(".")
        if not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        if not 0 <= self._clock() - issued <= self._max_age:
            return False
        return hmac.compare_digest(signature, self._signature(link, idempotency_key, issued))
