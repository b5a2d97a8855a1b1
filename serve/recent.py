"""Recent scoring responses, kept in the feedback database, so that a moderator can send
feedback on a response by its ``id`` instead of pasting the post again, through any replica
that shares the database (DESIGN.md, "Scale": replicas share nothing but the database).

Bounded (``WARNING_RESPONSE_MEMORY`` responses, the oldest deleted first) and time-limited
(``WARNING_RESPONSE_MEMORY_SECONDS``; a response past it is deleted); kept only while
feedback is on; never written to the log. The texts lie in the feedback database for that
long, on its encrypted storage: ``WARNING_RESPONSE_MEMORY=0`` keeps none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from warning.feedback import FeedbackStore, StoredResponse

__all__ = ["RecentResponse", "RecentResponses", "ResponseExpired", "ResponseUnknown"]

#: What feedback needs from a scoring response (text, lang, scores, model, times).
RecentResponse = StoredResponse


class ResponseUnknown(KeyError):
    """No response with that id is kept (never made, dropped for room, or long expired)."""


class ResponseExpired(KeyError):
    """The response is older than its lifetime."""


class RecentResponses:
    """Recent responses by id, in the feedback store's database: the same on every replica.

    Args:
        store: The feedback store (its database keeps the responses).
        max_items: Most responses kept; the oldest is deleted first.
        max_age_s: Seconds a response is kept.
        clock: Seconds since the epoch (tests inject one; replicas on several machines need
            synchronised clocks, as any database-backed expiry does).

    Example:
        >>> import tempfile, pathlib
        >>> store = FeedbackStore(pathlib.Path(tempfile.mkdtemp()) / "f.db")
        >>> memory = RecentResponses(store, max_items=2, max_age_s=60)
        >>> rid = memory.add("post", "en", {"hate": 0.1}, "fake@1")
        >>> memory.get(rid).model
        'fake@1'
    """

    def __init__(self, store: FeedbackStore, max_items: int, max_age_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.max_items = max_items
        self.max_age_s = max_age_s
        self.clock = clock

    def __len__(self) -> int:
        return self.store.count_responses()

    def add_many(self, responses: Sequence[tuple[str, str | None, Mapping[str, float | None],
                                                 str]]) -> list[str]:
        """Keep ``(text, lang, scores, model)`` per scored text, in one transaction; returns
        their new ids (``resp-`` + 32 hex digits), in order."""
        if not responses:
            return []
        return self.store.add_responses(responses, now=self.clock(),
                                        lifetime_s=self.max_age_s, max_items=self.max_items)

    def add(self, text: str, lang: str | None, scores: Mapping[str, float | None],
            model: str) -> str:
        """Keep one scored text; returns its new response id."""
        return self.add_many([(text, lang, scores, model)])[0]

    def get(self, rid: str) -> RecentResponse:
        """The response with this id, from whichever replica made it.

        Raises:
            ResponseExpired: It is older than its lifetime (it is deleted now).
            ResponseUnknown: No such id is kept.
        """
        try:
            found, expired = self.store.get_response(rid, now=self.clock())
        except KeyError:
            raise ResponseUnknown(rid) from None
        if expired:
            raise ResponseExpired(rid)
        return found
