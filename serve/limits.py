"""Per-key limits: requests (a token bucket per key id) and model work (a second bucket,
charged by what each request asks of the model: texts and their length).

A request's **work** is counted in units (:func:`work_units`): a text costs one unit per
:data:`UNIT_CHARS` characters, and at least :data:`MIN_TEXT_UNITS` (a 20,000-character text
costs 20, a 200-character post 0.2, a one-word post 0.1), since the model's time grows with
the length of what it reads; with explanations, each text costs once more per word explained
(occlusion scores the text again without each word, at most ``explain_max_words`` times). The
same units bound each batched model call (``WARNING_BATCH_MAX_UNITS``), so a key's share of
the model is measured the way it is charged.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

__all__ = ["UNIT_CHARS", "RateLimiter", "WorkLimiter", "text_units", "work_units"]

#: Characters of text that cost one unit of work.
UNIT_CHARS = 1000
#: The least a text costs (a model call has a cost per text, however short).
MIN_TEXT_UNITS = 0.1


def text_units(text: str) -> float:
    """A text's work units: one per :data:`UNIT_CHARS` characters, at least
    :data:`MIN_TEXT_UNITS`.

    Example:
        >>> text_units("short"), text_units("x" * 20_000), text_units("x" * 250)
        (0.1, 20.0, 0.25)
    """
    return max(MIN_TEXT_UNITS, len(text) / UNIT_CHARS)


def work_units(texts: Sequence[str], explain: bool = False,
               explain_max_words: int | None = None) -> float:
    """What scoring ``texts`` asks of the model, in units (see the module docstring).

    Example:
        >>> work_units(["a b c", "x" * 2500]), work_units(["a b c"], explain=True)
        (2.6, 0.4)
    """
    units = sum(text_units(t) for t in texts)
    if explain:
        cap = explain_max_words if explain_max_words is not None else math.inf
        units += sum(min(len(t.split()), cap) * text_units(t) for t in texts)
    return round(float(units), 6)


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


class WorkLimiter:
    """A bucket of work units per key: ``burst`` units at once, refilled at ``per_minute``.

    A request is let in while the key's bucket holds more than nothing, and its whole cost is
    then taken, even past empty (a debt the refill pays back before the key's next request):
    a request larger than the burst is never refused for ever, and it delays its key's next
    ones by what it cost.

    Args:
        per_minute: Units refilled per minute.
        burst: Bucket size.
        clock: Seconds, monotonic (injectable for tests).

    Example:
        >>> limiter = WorkLimiter(per_minute=60, burst=10, clock=lambda: 0.0)
        >>> limiter.charge("k", 25), limiter.charge("k", 1)
        (0.0, 15.0)
    """

    #: Buckets kept before refilled ones are dropped.
    max_buckets = 10_000

    def __init__(self, per_minute: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def charge(self, key: str, units: float) -> float:
        """Take ``units`` from ``key``'s bucket: 0.0 when let in, else the seconds until the
        bucket holds more than nothing again (nothing is taken then)."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) > self.max_buckets and key not in self._buckets:
                full = [k for k, (tokens, last) in self._buckets.items()
                        if tokens + (now - last) * self.rate >= self.burst]
                for k in full:
                    del self._buckets[k]
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens > 0:
                self._buckets[key] = (tokens - units, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return max(-tokens / self.rate, 1e-3)
