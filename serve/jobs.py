"""What the micro-batcher (:mod:`serve.batcher`) queues: a request (:class:`Job`) split into
pieces (:class:`Piece`) of bounded size, and the errors a request can end with.

Example:
    >>> import asyncio
    >>> loop = asyncio.new_event_loop()
    >>> job = Job(model=None, texts=["a", "bb", "ccc"], explain=False,
    ...           future=loop.create_future(), owner="k1")
    >>> [p.texts for p in split(job, max_posts=2, max_units=10, cost=len)]
    [['a', 'bb'], ['ccc']]
    >>> loop.close()
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BatcherClosed", "Job", "ModelFailed", "Piece", "QueueFull", "split"]


class QueueFull(Exception):
    """Too many posts are waiting for the model; retry after ``retry_after`` seconds."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} posts are waiting for the model")
        self.waiting = waiting
        self.retry_after = retry_after


class BatcherClosed(Exception):
    """The batcher has stopped (the server is shutting down)."""


class ModelFailed(Exception):
    """The model raised on this request's texts, scored on their own. The original exception is
    the ``__cause__``; its message is never logged (it could quote a text)."""


@dataclass(eq=False)
class Job:
    """One request: its texts, the results as its pieces are scored, and its future."""

    model: Any
    texts: list[str]
    explain: bool
    future: asyncio.Future[list[Any]]
    owner: str = "-"
    queued_at: float = field(default_factory=time.monotonic)
    results: list[Any] = field(default_factory=list)
    pending: int = 0
    #: pieces the request was split into
    pieces: int = 0

    def key(self) -> tuple[int, bool]:
        """Jobs with the same key may share a model call."""
        return id(self.model), self.explain


@dataclass(eq=False)
class Piece:
    """Consecutive texts of one job, scored in one call: ``job.texts[start:start+len]``."""

    job: Job
    start: int
    texts: list[str]
    units: float

    @property
    def live(self) -> bool:
        return not self.job.future.done()


def split(job: Job, max_posts: int, max_units: float,
          cost: Callable[[str], float]) -> list[Piece]:
    """``job``'s texts as consecutive pieces of at most ``max_posts`` texts and ``max_units``
    units (a text's units from ``cost``); one text is never split, so a text larger than
    ``max_units`` is a piece of its own."""
    pieces: list[Piece] = []
    current: list[str] = []
    units = 0.0
    start = 0
    for i, text in enumerate(job.texts):
        text_cost = float(cost(text))
        if current and (len(current) >= max_posts or units + text_cost > max_units):
            pieces.append(Piece(job, start, current, units))
            current, units, start = [], 0.0, i
        current.append(text)
        units += text_cost
    if current:
        pieces.append(Piece(job, start, current, units))
    return pieces
