"""Recent scoring responses, in memory, so that a moderator can send feedback on a response by
its ``id`` instead of pasting the post again.

Bounded (``WARNING_RESPONSE_MEMORY`` responses, oldest dropped first) and time-limited
(``WARNING_RESPONSE_MEMORY_SECONDS``); kept only while feedback is on; never written to disk or
to the log; lost on restart and not shared between worker processes (a response id is good on
the worker that answered it: with several workers, send the text instead).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from warning.feedback import new_id

__all__ = ["RecentResponse", "RecentResponses", "ResponseExpired", "ResponseUnknown"]


@dataclass(frozen=True)
class RecentResponse:
    """What feedback needs from a scoring response."""

    text: str
    lang: str | None
    scores: dict[str, float | None]
    model: str
    stored_at: float


class ResponseUnknown(KeyError):
    """No response with that id is remembered (never made, dropped for room, or restarted)."""


class ResponseExpired(KeyError):
    """The response is older than the memory's lifetime."""


class RecentResponses:
    """A bounded, time-limited map of response id -> :class:`RecentResponse`, thread-safe.

    Args:
        max_items: Most responses kept; the oldest is dropped first.
        max_age_s: Seconds a response is kept.
        clock: Monotonic seconds (tests inject one).

    Example:
        >>> memory = RecentResponses(max_items=2, max_age_s=60)
        >>> rid = memory.add("post", "en", {"hate": 0.1}, "fake@1")
        >>> memory.get(rid).model
        'fake@1'
    """

    def __init__(self, max_items: int, max_age_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_items = max_items
        self.max_age_s = max_age_s
        self.clock = clock
        self._items: OrderedDict[str, RecentResponse] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, text: str, lang: str | None, scores: dict[str, float | None],
            model: str) -> str:
        """Remember a scored text; returns its new response id (``resp-`` + 32 hex digits)."""
        rid = new_id("resp")
        with self._lock:
            now = self.clock()
            self._drop_expired(now)
            self._items[rid] = RecentResponse(text, lang, dict(scores), model, now)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return rid

    def get(self, rid: str) -> RecentResponse:
        """The response with this id.

        Raises:
            ResponseExpired: It is older than ``max_age_s`` (it is dropped now).
            ResponseUnknown: No such id is remembered.
        """
        with self._lock:
            item = self._items.get(rid)
            if item is None:
                raise ResponseUnknown(rid)
            if self.clock() - item.stored_at > self.max_age_s:
                del self._items[rid]
                raise ResponseExpired(rid)
            return item

    def _drop_expired(self, now: float) -> None:
        while self._items:
            rid, item = next(iter(self._items.items()))
            if now - item.stored_at <= self.max_age_s:
                break
            del self._items[rid]
