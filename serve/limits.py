"""Per-key rate limits (a token bucket per key id) and the request-body size limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``per_minute``.

    Args:
        per_minute: Sustained requests per minute per key.
        burst: Bucket size: requests a key may make at once.
        clock: Seconds, monotonic (injectable for tests).

    Example:
        >>> limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: 0.0)
        >>> limiter.acquire("k"), limiter.acquire("k")
        (0.0, 1.0)
    """

    #: Buckets kept before refilled ones are dropped.
    max_buckets = 10_000

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) > self.max_buckets and key not in self._buckets:
                self._forget_full(now)
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a new bucket would not (this
        bounds the memory of an open server, whose buckets are per client address)."""
        full = [k for k, (tokens, last) in self._buckets.items()
                if tokens + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]

    @staticmethod
    def retry_after(wait: float) -> str:
        """The ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))
