"""Rate limits for the JSON API: a token bucket per API key and per client address.

Each bucket holds up to `burst` requests and refills at `per_second`; a request takes one token,
and one that finds the bucket empty is answered 429 with `Retry-After` (whole seconds until a
token is back). The buckets live in the server process's memory: the API is served by the one
`streamlit run app.py` process, so no shared store is needed, and a restart starts them full.
Our own ~50 lines rather than `limits`/`slowapi`: those bring a storage layer and decorators for
FastAPI-style apps, while the API is plain Starlette routes and needs only these two checks.

Example:
    >>> clock = iter([0.0, 0.0, 0.0, 0.5]).__next__
    >>> buckets = TokenBuckets(per_second=2, burst=2, clock=clock)
    >>> [buckets.take("k") for _ in range(4)]
    [0.0, 0.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

MAX_TRACKED = 100_000  # buckets kept at most; full ones are forgotten first (a full bucket is a new one)


class TokenBuckets:
    """Token buckets by key; `take(key)` returns 0.0 when allowed, else the seconds to wait."""

    def __init__(self, per_second: float, burst: float, clock: Callable[[], float] = time.monotonic):
        if per_second <= 0 or burst < 1:
            raise ValueError(f"rate limit: per_second must be positive and burst at least 1, got {per_second}, {burst}")
        self.per_second, self.burst, self._clock = float(per_second), float(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token from `key`'s bucket: 0.0 if there was one, else the seconds until there is."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > MAX_TRACKED:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.per_second

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.per_second >= self.burst:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    """The `Retry-After` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
