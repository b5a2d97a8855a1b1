"""Micro-batching: concurrent requests are coalesced into one model call.

One worker task takes requests off a queue, in arrival order, until the batch holds
``max_posts`` posts or the first one has waited ``max_wait_ms``, and scores them in one call in
a worker thread (the event loop never blocks). A request with several texts enters as one group
and gets its results back in its own order. If the batched call raises, each request of the
batch is scored again on its own, so a text the model fails on fails only its own request.
When ``max_queue`` posts are already waiting, a new request is refused at once
(:class:`QueueFull`, answered 503 with ``Retry-After``) instead of growing the queue.

Example:
    >>> import asyncio
    >>> class Upper:
    ...     def score(self, texts, explain=False):
    ...         return [t.upper() for t in texts]
    >>> async def main():
    ...     batcher = MicroBatcher(max_posts=8, max_wait_ms=5, max_queue=64)
    ...     await batcher.start()
    ...     try:
    ...         return await asyncio.gather(batcher.submit(Upper(), ["a", "b"]),
    ...                                     batcher.submit(Upper(), ["c"]))
    ...     finally:
    ...         await batcher.stop()
    >>> asyncio.run(main())
    [['A', 'B'], ['C']]
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

__all__ = ["BatcherClosed", "MicroBatcher", "ModelFailed", "QueueFull"]

log = logging.getLogger("serve")


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


class Scorer(Protocol):
    def score(self, texts: Sequence[str], explain: bool = False) -> Sequence[Any]: ...


@dataclass(eq=False)
class _Job:
    model: Scorer
    texts: list[str]
    explain: bool
    future: asyncio.Future[list[Any]]
    queued_at: float = field(default_factory=time.monotonic)

    def key(self) -> tuple[int, bool]:
        """Jobs with the same key may share a model call."""
        return id(self.model), self.explain


class MicroBatcher:
    """Coalesces concurrent scoring requests into model calls.

    Args:
        max_posts: Most posts in one model call (a larger request is scored alone).
        max_wait_ms: How long the first request of a batch waits for others.
        max_queue: Most posts waiting; a request that would pass it is refused, unless the
            queue is empty (so a large request is never refused for ever).
        limiter: Bounds concurrent model calls in worker threads (shared with the app).
        on_batch: Called after each model call with (posts, requests, seconds).
        in_flight: The number of requests the server is handling now, those in the batch
            included; when no other is under way the batch goes at once instead of waiting
            ``max_wait_ms`` for requests that are not coming (one client sending one request
            at a time). None: always wait.
    """

    def __init__(self, max_posts: int, max_wait_ms: float, max_queue: int, *,
                 limiter: anyio.CapacityLimiter | None = None,
                 on_batch: Callable[[int, int, float], None] | None = None,
                 in_flight: Callable[[], int] | None = None) -> None:
        self.max_posts = max_posts
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.limiter = limiter
        self.on_batch = on_batch
        self.in_flight = in_flight
        self._queue: collections.deque[_Job] = collections.deque()
        self._depth = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        #: seconds per post, smoothed over recent calls (for Retry-After)
        self._per_post = 0.05

    @property
    def depth(self) -> int:
        """Posts waiting for the model (not counting the batch being scored)."""
        return self._depth

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done() and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> None:
        """Start the worker in the running event loop."""
        if self._task is not None:
            raise RuntimeError("the batcher is already started")
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._work(), name="micro-batcher")

    async def stop(self, timeout: float = 30.0) -> None:
        """Refuse new requests, fail the waiting ones with :class:`BatcherClosed`, let the
        batch being scored finish (up to ``timeout`` s) and stop the worker."""
        self._closed = True
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(BatcherClosed("the server is shutting down"))
        self._depth = 0
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                log.warning("the batcher's model call did not end within %.0f s", timeout)

    async def submit(self, model: Scorer, texts: Sequence[str],
                     explain: bool = False) -> list[Any]:
        """Score ``texts`` with ``model`` in a shared call; their results, in their order.

        Raises:
            QueueFull: ``max_queue`` posts are waiting already.
            BatcherClosed: The batcher is stopped or stops before the texts are scored.
            ModelFailed: The model raised on these texts.
        """
        if self._closed or self._wakeup is None:
            raise BatcherClosed("the batcher is not running")
        texts = list(texts)
        if self._depth and self._depth + len(texts) > self.max_queue:
            raise QueueFull(self._depth, self.retry_after())
        job = _Job(model, texts, explain, asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self._depth += len(texts)
        self._wakeup.set()
        try:
            return await job.future
        except asyncio.CancelledError:
            # the client went away: its posts stop holding room in the queue at once (a
            # timed-out client must not keep the queue 'full' while the model is busy)
            try:
                self._queue.remove(job)
            except ValueError:
                pass  # already taken into a batch, or dropped by stop()
            else:
                self._depth -= len(job.texts)
            raise

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained (at least 1)."""
        return max(1, math.ceil(self._depth * self._per_post))

    def _take(self) -> _Job | None:
        """The next live job off the queue (cancelled ones are dropped)."""
        while self._queue:
            job = self._queue.popleft()
            self._depth -= len(job.texts)
            if not job.future.done():
                return job
        return None

    async def _work(self) -> None:
        assert self._wakeup is not None
        while not self._closed:
            first = self._take()
            if first is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = [first]
            size = len(first.texts)
            deadline = first.queued_at + self.max_wait
            while size < self.max_posts and not self._closed:
                if self._queue:
                    head = self._queue[0]
                    if head.future.done():
                        self._take()
                        continue
                    if head.key() != first.key() or size + len(head.texts) > self.max_posts:
                        break
                    job = self._take()
                    assert job is not None
                    batch.append(job)
                    size += len(job.texts)
                    continue
                left = deadline - time.monotonic()
                if left <= 0 or (self.in_flight is not None
                                 and self.in_flight() <= len(batch)):
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), left)
                except TimeoutError:
                    break
            await self._run(batch)
        self._fail_waiting()

    def _fail_waiting(self) -> None:
        while (job := self._take()) is not None:
            job.future.set_exception(BatcherClosed("the server is shutting down"))

    async def _call(self, model: Scorer, texts: list[str], explain: bool) -> list[Any]:
        start = time.perf_counter()
        results = list(await anyio.to_thread.run_sync(model.score, texts, explain,
                                                      limiter=self.limiter))
        seconds = time.perf_counter() - start
        if len(results) != len(texts):
            raise RuntimeError(f"the model gave {len(results)} results for {len(texts)} texts")
        self._per_post = 0.8 * self._per_post + 0.2 * seconds / max(1, len(texts))
        return results

    async def _run(self, batch: list[_Job]) -> None:
        try:
            await self._run_batch(batch)
        except asyncio.CancelledError:
            # stop() gave up waiting for this batch (in its shared call, or while its requests
            # were scored one by one after a failure): none of its requests may hang
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(BatcherClosed("the server is shutting down"))
            raise

    async def _run_batch(self, batch: list[_Job]) -> None:
        texts = [text for job in batch for text in job.texts]
        start = time.perf_counter()
        try:
            results = await self._call(batch[0].model, texts, batch[0].explain)
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0], exc)
            else:
                # isolate the failure: each request on its own, so one bad text fails alone
                log.warning("a batch of %d requests failed (%s); scoring each on its own",
                            len(batch), type(exc).__name__)
                for job in batch:
                    await self._run_alone(job)
        else:
            at = 0
            for job in batch:
                if not job.future.done():
                    job.future.set_result(results[at:at + len(job.texts)])
                at += len(job.texts)
        finally:
            if self.on_batch is not None:
                try:
                    self.on_batch(len(texts), len(batch), time.perf_counter() - start)
                except Exception as exc:
                    # the worker must live on: a dead worker leaves every queued request hanging
                    log.error("the batch callback failed (%s)", type(exc).__name__)

    async def _run_alone(self, job: _Job) -> None:
        if job.future.done():
            return
        try:
            results = await self._call(job.model, job.texts, job.explain)
        except Exception as exc:
            self._fail(job, exc)
        else:
            if not job.future.done():
                job.future.set_result(results)

    @staticmethod
    def _fail(job: _Job, exc: Exception) -> None:
        if not job.future.done():
            error = ModelFailed(f"the model failed on this request's texts "
                                f"({type(exc).__name__})")
            error.__cause__ = exc
            job.future.set_exception(error)
