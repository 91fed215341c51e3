"""Sign-in throttling: growing waits after repeated failures, per account and per client address.

A hard lock after N failures lets anyone who knows an email lock its owner out, and answering
"locked" only for real accounts tells an outsider which emails have one. Instead each key (an
account's email, whether or not such a user exists, and the client's address) counts its recent
failures; past a few free ones, the next attempt must wait a delay that doubles with each further
failure, up to a ceiling. An attempt made before then is refused unchecked (and not counted, so
waiting attempts do not lengthen the wait). The owner of an attacked account waits at most the
account's ceiling, never a quarter of an hour. An address guessing across many accounts meets its
own, longer, ceiling. Counts are forgotten after `FORGET_AFTER` without failures, and an account's
on a successful sign-in (an address's are not: an attacker could otherwise clear theirs by signing
into an account of their own between guesses).

The counts live in the server process's memory: the app is one `streamlit run app.py` process, and a
restart forgets them, which costs an attacker a restart they cannot cause.

Example:
    >>> from datetime import datetime, timezone
    >>> throttle, at = Throttle(), datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> [throttle.failed(["account:ann@example.com"], at) for _ in range(5)]
    [0.0, 0.0, 0.0, 1.0, 2.0]
    >>> throttle.wait(["account:ann@example.com"], at)
    2.0
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

FORGET_AFTER = timedelta(minutes=15)
MAX_TRACKED = 100_000  # keys kept at most; the oldest are forgotten first


@dataclass(frozen=True)
class Rule:
    """Failures allowed without a wait, the first wait, and the longest, in seconds."""

    free: int
    first: float
    longest: float

    def delay(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.longest, self.first * 2 ** (failures - self.free - 1))


ACCOUNT = Rule(free=3, first=1.0, longest=30.0)
ADDRESS = Rule(free=10, first=1.0, longest=300.0)


class Throttle:
    """Failure counts and the time each key may next try; thread-safe."""

    def __init__(self):
        self._state: dict[str, tuple[int, datetime, datetime]] = {}  # key -> (failures, last, not_before)
        self._lock = threading.Lock()

    @staticmethod
    def rule(key: str) -> Rule:
        return ADDRESS if key.startswith("address:") else ACCOUNT

    def wait(self, keys: Iterable[str], now: datetime) -> float:
        """Seconds before any of `keys` may try again (0.0: now)."""
        with self._lock:
            longest = 0.0
            for key in keys:
                state = self._current(key, now)
                if state is not None:
                    longest = max(longest, (state[2] - now).total_seconds())
            return longest

    def failed(self, keys: Iterable[str], now: datetime) -> float:
        """Count a failure for each key; the longest wait it now imposes, in seconds."""
        with self._lock:
            longest = 0.0
            for key in keys:
                failures = (self._current(key, now) or (0, now, now))[0] + 1
                delay = self.rule(key).delay(failures)
                self._state[key] = (failures, now, now + timedelta(seconds=delay))
                longest = max(longest, delay)
            if len(self._state) > MAX_TRACKED:
                for key, _ in sorted(self._state.items(), key=lambda item: item[1][1])[:len(self._state) // 10]:
                    del self._state[key]
            return longest

    def forget(self, keys: Iterable[str]) -> None:
        """Clear the counts of `keys` (a successful sign-in, an admin lifting a wait)."""
        with self._lock:
            for key in keys:
                self._state.pop(key, None)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self._lock:
            self._state.clear()

    def _current(self, key: str, now: datetime) -> tuple[int, datetime, datetime] | None:
        state = self._state.get(key)
        if state is not None and now - state[1] > FORGET_AFTER:
            del self._state[key]
            return None
        return state


def account_key(email: str) -> str:
    return f"account:{email}"


def address_key(address: str) -> str:
    return f"address:{address}"
