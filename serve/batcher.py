"""Micro-batching, shared fairly between keys: concurrent requests are coalesced into model
calls, and no key can starve another.

Each request is split into *pieces* of at most ``max_posts`` texts and ``max_units`` work
units (a text's units come from ``cost``; one text is never split), queued under its key
(``owner``). Model calls run in *lanes* (:mod:`serve.lanes`): a thread of the server process,
and optionally model processes. Each lane has a worker task that builds its next call from the
keys in turn (round robin): a pass takes the next piece of every key that has one, the key
served last going to the back, until the call holds ``max_posts`` posts or ``max_units`` units
(``bulk_max_units`` in a model process), or the first piece has waited ``max_wait_ms`` (it does
not wait when every request under way is already here).

A key is *light* when its only request waiting is one piece of at most ``max_units`` units and
nothing of it is being scored (a moderator's one-text request), else *heavy* (a backlog, a
request of several pieces, or one long text). A light key's pieces are never batched with a
heavy key's: its call is as short as its own work. While a model process is ready, heavy keys
are scored there only and the thread keeps for light keys, so a one-text request is scored at
once, beside another key's flood, not after the call in flight; without one, a flood of long
texts from one key delays another key's one-text request by at most one call (one piece).

Each request gets its results back in its own order once all its pieces are scored. If a
batched call raises, each piece of it is scored again on its own, so a text the model fails on
fails only its own request. When ``max_queue`` posts are already waiting, a new request is
refused at once (:class:`QueueFull`, answered 503 with ``Retry-After``) instead of growing the
queue.

Example:
    >>> import asyncio
    >>> class Upper:
    ...     def score(self, texts, explain=False):
    ...         return [t.upper() for t in texts]
    >>> async def main():
    ...     batcher = MicroBatcher(max_posts=8, max_wait_ms=5, max_queue=64)
    ...     await batcher.start()
    ...     try:
    ...         return await asyncio.gather(batcher.submit(Upper(), ["a", "b"], owner="k1"),
    ...                                     batcher.submit(Upper(), ["c"], owner="k2"))
    ...     finally:
    ...         await batcher.stop()
    >>> asyncio.run(main())
    [['A', 'B'], ['C']]
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .jobs import BatcherClosed, Job, ModelFailed, Piece, QueueFull, split
from .lanes import Lane, ThreadLane, WorkerDied

__all__ = ["BatcherClosed", "MicroBatcher", "ModelFailed", "QueueFull"]

log = logging.getLogger("serve")


class MicroBatcher:
    """Coalesces concurrent scoring requests into model calls, fairly between keys.

    Args:
        max_posts: Most posts in one model call (a larger request is split).
        max_wait_ms: How long the first request of a batch waits for others.
        max_queue: Most posts waiting; a request that would pass it is refused, unless the
            queue is empty (so a large request is never refused for ever).
        limiter: Bounds concurrent model calls in worker threads (shared with the app); used
            by the default thread lane.
        on_batch: Called after each model call with (posts, requests, seconds).
        in_flight: The number of requests the server is handling now; while some of them
            have not reached the batcher yet, a batch waits up to ``max_wait_ms`` for them,
            else it goes at once (one client sending one request at a time is not made to
            wait for requests that are not coming). None: always wait.
        max_units: Most work units in one model call (None: no bound but ``max_posts``).
        cost: A text's work units (default: 1 per text).
        lanes: Where model calls run (default: one :class:`~serve.lanes.ThreadLane` through
            ``limiter``). With a bulk lane (a model process) ready, heavy keys are scored
            only there, and the other lanes take light keys only.
        bulk_max_units: Most work units in one call of a bulk lane (None: ``max_units``).
            Its calls never delay a light key, so they may be larger (less overhead per
            unit); the keys still take turns, piece by piece, within a call.
    """

    def __init__(self, max_posts: int, max_wait_ms: float, max_queue: int, *,
                 limiter: anyio.CapacityLimiter | None = None,
                 on_batch: Callable[[int, int, float], None] | None = None,
                 in_flight: Callable[[], int] | None = None,
                 max_units: float | None = None,
                 cost: Callable[[str], float] | None = None,
                 lanes: Sequence[Lane] | None = None,
                 bulk_max_units: float | None = None) -> None:
        self.max_posts = max_posts
        self.max_units = max_units if max_units is not None else math.inf
        self.bulk_max_units = max(self.max_units, bulk_max_units if bulk_max_units is not None
                                  else self.max_units)
        self.cost = cost or (lambda _text: 1.0)
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.limiter = limiter
        self.on_batch = on_batch
        self.in_flight = in_flight
        self.lanes: list[Lane] = list(lanes) if lanes else [ThreadLane(limiter)]
        #: pieces waiting, per key, and the keys in their turn order (next first)
        self._queues: dict[str, collections.deque[Piece]] = {}
        self._turns: collections.deque[str] = collections.deque()
        #: pieces of each key taken into a model call and not yet answered
        self._busy: dict[str, int] = {}
        #: requests submitted and not yet answered
        self._jobs = 0
        self._depth = 0
        self._wakeups: list[asyncio.Event] = []
        #: lanes holding a batch (being filled or scored)
        self._occupied: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        #: seconds per post, smoothed over recent calls (for Retry-After)
        self._per_post = 0.05

    @property
    def depth(self) -> int:
        """Posts waiting for the model (not counting the batches being scored)."""
        return self._depth

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks) \
            and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> None:
        """Start a worker per lane in the running event loop."""
        if self._tasks:
            raise RuntimeError("the batcher is already started")
        self._wakeups = [asyncio.Event() for _ in self.lanes]
        self._tasks = [asyncio.create_task(self._work(i), name=f"micro-batcher-{i}")
                       for i in range(len(self.lanes))]

    async def stop(self, timeout: float = 30.0) -> None:
        """Refuse new requests, fail the waiting ones with :class:`BatcherClosed`, let the
        batches being scored finish (up to ``timeout`` s), stop the workers and the lanes."""
        self._closed = True
        self._fail_waiting()
        self._notify()
        if self._tasks:
            workers = asyncio.gather(*self._tasks, return_exceptions=True)
            try:
                await asyncio.wait_for(asyncio.shield(workers), timeout)
            except TimeoutError:
                for task in self._tasks:
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await workers
                log.warning("the batcher's model calls did not end within %.0f s", timeout)
        for lane in self.lanes:
            try:
                await lane.close(timeout)
            except Exception as exc:
                log.error("a model lane did not close cleanly (%s)", type(exc).__name__)

    def _notify(self) -> None:
        for event in self._wakeups:
            event.set()

    async def submit(self, model: Any, texts: Sequence[str], explain: bool = False,
                     owner: str = "-") -> list[Any]:
        """Score ``texts`` with ``model`` in shared calls; their results, in their order.

        Args:
            model: The scorer (an object with ``score(texts, explain)``).
            texts: The request's texts.
            explain: Ask for explanations.
            owner: Whose request it is (the key id): calls are shared fairly between owners.

        Raises:
            QueueFull: ``max_queue`` posts are waiting already.
            BatcherClosed: The batcher is stopped or stops before the texts are scored.
            ModelFailed: The model raised on these texts.
        """
        if self._closed or not self._tasks:
            raise BatcherClosed("the batcher is not running")
        texts = list(texts)
        if self._depth and self._depth + len(texts) > self.max_queue:
            raise QueueFull(self._depth, self.retry_after())
        job = Job(model, texts, explain, asyncio.get_running_loop().create_future(), owner)
        if not texts:
            return []
        pieces = split(job, self.max_posts, self.max_units, self.cost)
        job.results = [None] * len(texts)
        job.pending = job.pieces = len(pieces)
        queue = self._queues.get(owner)
        if queue is None:
            # a key with nothing waiting takes the next turn: the others have been served
            # meanwhile (as in fair queuing, a key gains no credit while idle, and loses none)
            queue = self._queues[owner] = collections.deque()
            self._turns.appendleft(owner)
        queue.extend(pieces)
        self._depth += len(texts)
        self._jobs += 1
        job.future.add_done_callback(self._answered)
        if not self._is_light(owner):
            for lane in self.lanes:  # a model process that starts on first need starts now
                lane.wants(model, self._notify)
        self._notify()
        try:
            return await job.future
        except asyncio.CancelledError:
            # the client went away: its posts stop holding room in the queue at once (a
            # timed-out client must not keep the queue 'full' while the model is busy)
            self._drop(job)
            raise

    def _answered(self, _future: asyncio.Future[list[Any]]) -> None:
        self._jobs -= 1

    def _is_light(self, owner: str) -> bool:
        """A request of one piece of at most ``max_units`` waiting, and nothing else of the
        key's waiting or being scored (the last piece of a large request is not light)."""
        queue = self._queues.get(owner)
        if not queue or len(queue) != 1 or self._busy.get(owner):
            return False
        return queue[0].job.pieces == 1 and queue[0].units <= self.max_units

    def _drop(self, job: Job) -> None:
        queue = self._queues.get(job.owner)
        if queue is None:
            return
        for piece in [p for p in queue if p.job is job]:
            queue.remove(piece)
            self._depth -= len(piece.texts)
        if not queue:
            self._forget(job.owner)
        self._notify()  # the key may be light again

    def _forget(self, owner: str) -> None:
        self._queues.pop(owner, None)
        try:
            self._turns.remove(owner)
        except ValueError:
            pass

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained (at least 1)."""
        return max(1, math.ceil(self._depth * self._per_post))

    def _head(self, owner: str) -> Piece | None:
        """The owner's next live piece (dead ones dropped), or None."""
        queue = self._queues.get(owner)
        while queue:
            if queue[0].live:
                return queue[0]
            self._depth -= len(queue.popleft().texts)
        return None

    def _may(self, lane: Lane, piece: Piece, light: bool) -> bool:
        """Whether ``lane`` may score ``piece`` (of a key that was ``light``) now. A bulk
        lane (a model process) takes any heavy piece of a model it is ready for, and a light
        one only while every other lane that could take it is occupied; another lane takes a
        light piece, and a heavy one only while no bulk lane is ready for its model."""
        model = piece.job.model
        if not lane.ready_for(model):
            return False
        if lane.bulk:
            return not light or all(i in self._occupied for i, other in enumerate(self.lanes)
                                    if not other.bulk and other.ready_for(model))
        if light:
            return True
        return not any(other.bulk and other.ready_for(model) for other in self.lanes)

    def _fill(self, batch: list[Piece], light: dict[str, bool], lane: Lane) -> bool:
        """Add pieces that ``lane`` may score to ``batch``, from the keys in turn (one per key
        per pass) while they fit (``bulk_max_units`` on a bulk lane, else ``max_units``);
        True when the batch is full. ``light`` holds each key's class
        as it was when the key was first seen by this batch."""
        posts = sum(len(p.texts) for p in batch)
        units = sum(p.units for p in batch)
        max_units = self.bulk_max_units if lane.bulk else self.max_units
        while True:
            took = False
            for owner in list(self._turns):
                piece = self._head(owner)
                if piece is None:
                    self._forget(owner)
                    continue
                is_light = light.setdefault(owner, self._is_light(owner))
                if not self._may(lane, piece, is_light):
                    continue
                queue = self._queues[owner]
                if batch:
                    full = (posts + len(piece.texts) > self.max_posts
                            or units + piece.units > max_units)
                    if (full or piece.job.key() != batch[0].job.key()
                            or is_light != light[batch[0].job.owner]):
                        continue
                queue.popleft()
                self._depth -= len(piece.texts)
                self._busy[owner] = self._busy.get(owner, 0) + 1
                batch.append(piece)
                posts += len(piece.texts)
                units += piece.units
                took = True
                self._turns.remove(owner)
                if queue:
                    self._turns.append(owner)  # served: to the back of the turns
                else:
                    del self._queues[owner]
                if posts >= self.max_posts or units >= max_units:
                    return True
            if not took:
                return False

    async def _work(self, index: int) -> None:
        lane, wakeup = self.lanes[index], self._wakeups[index]
        while not self._closed:
            batch: list[Piece] = []
            light: dict[str, bool] = {}
            full = self._fill(batch, light, lane)
            if not batch:
                wakeup.clear()
                await wakeup.wait()
                continue
            self._occupied.add(index)
            try:
                if not full:
                    await self._gather(batch, light, lane, wakeup)
                await self._run(batch, lane)
            finally:
                self._occupied.discard(index)
                self._notify()  # the lane is free
        self._fail_waiting()

    async def _gather(self, batch: list[Piece], light: dict[str, bool], lane: Lane,
                      wakeup: asyncio.Event) -> None:
        """Let more pieces join ``batch`` until it is full or its first piece has waited
        ``max_wait``; no wait when every request under way is here already."""
        deadline = batch[0].job.queued_at + self.max_wait
        while not self._closed:
            left = deadline - time.monotonic()
            if left <= 0 or (self.in_flight is not None and self.in_flight() <= self._jobs):
                return
            wakeup.clear()
            try:
                await asyncio.wait_for(wakeup.wait(), left)
            except TimeoutError:
                return
            if self._fill(batch, light, lane):
                return

    def _fail_waiting(self) -> None:
        for queue in self._queues.values():
            for piece in queue:
                if piece.live:
                    piece.job.future.set_exception(BatcherClosed("the server is shutting down"))
        self._queues.clear()
        self._turns.clear()
        self._depth = 0

    async def _call(self, lane: Lane, model: Any, texts: list[str],
                    explain: bool) -> list[Any]:
        start = time.perf_counter()
        results = await lane.score(model, texts, explain)
        seconds = time.perf_counter() - start
        if len(results) != len(texts):
            raise RuntimeError(f"the model gave {len(results)} results for {len(texts)} texts")
        self._per_post = 0.8 * self._per_post + 0.2 * seconds / max(1, len(texts))
        return results

    async def _run(self, batch: list[Piece], lane: Lane) -> None:
        try:
            await self._run_batch(batch, lane)
        except asyncio.CancelledError:
            # stop() gave up waiting for this batch (in its shared call, or while its pieces
            # were scored one by one after a failure): none of its requests may hang
            for piece in batch:
                if piece.live:
                    piece.job.future.set_exception(BatcherClosed("the server is shutting down"))
            raise
        finally:
            for piece in batch:
                left = self._busy.get(piece.job.owner, 0) - 1
                if left > 0:
                    self._busy[piece.job.owner] = left
                else:
                    self._busy.pop(piece.job.owner, None)
            self._notify()  # keys may be light again

    @staticmethod
    def _done(piece: Piece, results: list[Any]) -> None:
        job = piece.job
        if job.future.done():
            return
        job.results[piece.start:piece.start + len(piece.texts)] = results
        job.pending -= 1
        if job.pending == 0:
            job.future.set_result(job.results)

    async def _run_batch(self, batch: list[Piece], lane: Lane) -> None:
        texts = [text for piece in batch for text in piece.texts]
        start = time.perf_counter()
        try:
            results = await self._call(lane, batch[0].job.model, texts, batch[0].job.explain)
        except WorkerDied as exc:
            # not scored again: a text that ended the model process must not end the server
            for piece in batch:
                self._fail(piece.job, exc)
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0].job, exc)
            else:
                # isolate the failure: each piece on its own, so one bad text fails alone
                log.warning("a batch of %d requests failed (%s); scoring each on its own",
                            len(batch), type(exc).__name__)
                for piece in batch:
                    await self._run_alone(piece, lane)
        else:
            at = 0
            for piece in batch:
                self._done(piece, results[at:at + len(piece.texts)])
                at += len(piece.texts)
        finally:
            if self.on_batch is not None:
                try:
                    self.on_batch(len(texts), len({id(p.job) for p in batch}),
                                  time.perf_counter() - start)
                except Exception as exc:
                    # the worker must live on: a dead worker leaves every queued request hanging
                    log.error("the batch callback failed (%s)", type(exc).__name__)

    async def _run_alone(self, piece: Piece, lane: Lane) -> None:
        if not piece.live:
            return
        try:
            results = await self._call(lane, piece.job.model, piece.texts, piece.job.explain)
        except Exception as exc:
            self._fail(piece.job, exc)
        else:
            self._done(piece, results)

    @staticmethod
    def _fail(job: Job, exc: Exception) -> None:
        if not job.future.done():
            error = ModelFailed(f"the model failed on this request's texts "
                                f"({type(exc).__name__})")
            error.__cause__ = exc
            job.future.set_exception(error)
