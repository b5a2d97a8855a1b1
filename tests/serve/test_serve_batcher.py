"""The micro-batcher on its own: coalescing, each request's results in its own order, error
isolation, back-pressure and shutdown (fake scorers, no model)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from serve.batcher import BatcherClosed, MicroBatcher, ModelFailed, QueueFull


class Echo:
    """Returns each text reversed, and records the texts of every call."""

    def __init__(self, bad: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.bad = bad

    def score(self, texts, explain=False):
        self.calls.append(list(texts))
        if self.bad is not None and self.bad in texts:
            raise ValueError(f"cannot score {self.bad!r}")  # a message that quotes a text
        return [text[::-1] for text in texts]


class Blocked(Echo):
    """Echo that holds each call until released, and says when a call has started."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def score(self, texts, explain=False):
        self.entered.set()
        assert self.release.wait(10), "the test never released the model"
        return super().score(texts, explain)


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.002)


def test_batcher_coalesces_and_returns_each_request_its_own_results_in_order() -> None:
    model = Echo()
    batches: list[tuple[int, int]] = []

    async def main() -> list[list[str]]:
        batcher = MicroBatcher(max_posts=16, max_wait_ms=50, max_queue=1000,
                               on_batch=lambda posts, requests, _: batches.append(
                                   (posts, requests)))
        await batcher.start()
        try:
            # 40 requests of 1 to 3 distinct texts, all in flight at once
            return await asyncio.gather(*[
                batcher.submit(model, [f"r{i}-t{j}" for j in range(1 + i % 3)])
                for i in range(40)])
        finally:
            await batcher.stop()

    results = asyncio.run(main())
    for i, result in enumerate(results):
        assert result == [f"r{i}-t{j}"[::-1] for j in range(1 + i % 3)]
    assert len(model.calls) < 40 and max(len(c) for c in model.calls) > 3  # coalesced
    assert all(len(c) <= 16 for c in model.calls)  # never past max_posts
    assert sum(posts for posts, _ in batches) == sum(1 + i % 3 for i in range(40))


def test_batcher_a_request_larger_than_a_batch_is_split_and_answered_whole() -> None:
    model = Echo()

    async def main() -> list[str]:
        batcher = MicroBatcher(max_posts=2, max_wait_ms=1, max_queue=3)
        await batcher.start()
        try:
            return await batcher.submit(model, ["a", "b", "c", "d", "e"])
        finally:
            await batcher.stop()

    # split into calls of at most max_posts, the results back in order as one answer
    assert asyncio.run(main()) == ["a", "b", "c", "d", "e"]
    assert model.calls == [["a", "b"], ["c", "d"], ["e"]]


def test_batcher_one_bad_text_fails_only_its_own_request() -> None:
    model = Echo(bad="BAD")

    async def main() -> list[object]:
        batcher = MicroBatcher(max_posts=64, max_wait_ms=100, max_queue=1000)
        await batcher.start()
        try:
            return await asyncio.gather(
                batcher.submit(model, ["ok-1", "ok-2"]), batcher.submit(model, ["x", "BAD"]),
                batcher.submit(model, ["ok-3"]), return_exceptions=True)
        finally:
            await batcher.stop()

    first, bad, third = asyncio.run(main())
    assert first == ["1-ko", "2-ko"] and third == ["3-ko"]
    assert isinstance(bad, ModelFailed) and isinstance(bad.__cause__, ValueError)
    assert "BAD" not in str(bad)  # the error names the exception type, never the text
    # one shared call that failed, then each request alone
    assert model.calls[0] == ["ok-1", "ok-2", "x", "BAD", "ok-3"]
    assert sorted(map(tuple, model.calls[1:])) == [("ok-1", "ok-2"), ("ok-3",), ("x", "BAD")]


def test_batcher_full_queue_refuses_at_once_then_recovers() -> None:
    model = Blocked()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=1, max_wait_ms=0, max_queue=2)
        await batcher.start()
        try:
            in_model = asyncio.create_task(batcher.submit(model, ["a"]))
            await wait_until(model.entered.is_set)
            queued = [asyncio.create_task(batcher.submit(model, [t])) for t in ("b", "c")]
            await wait_until(lambda: batcher.depth == 2)
            with pytest.raises(QueueFull) as info:
                await batcher.submit(model, ["d"])
            assert info.value.waiting == 2 and info.value.retry_after >= 1
            model.release.set()
            assert await in_model == ["a"]
            assert [await task for task in queued] == [["b"], ["c"]]
            assert await batcher.submit(model, ["e"]) == ["e"]  # room again
        finally:
            model.release.set()
            await batcher.stop()

    asyncio.run(main())


def test_batcher_stop_fails_waiting_requests_and_finishes_the_running_batch() -> None:
    model = Blocked()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=1, max_wait_ms=0, max_queue=10)
        await batcher.start()
        running = asyncio.create_task(batcher.submit(model, ["a"]))
        await wait_until(model.entered.is_set)
        waiting = asyncio.create_task(batcher.submit(model, ["b"]))
        await wait_until(lambda: batcher.depth == 1)
        stopping = asyncio.create_task(batcher.stop())
        with pytest.raises(BatcherClosed):
            await waiting
        assert not batcher.running
        model.release.set()
        await stopping
        assert await running == ["a"]  # the batch in the model was answered
        with pytest.raises(BatcherClosed):
            await batcher.submit(model, ["c"])
        assert model.calls == [["a"]]

    asyncio.run(main())


def test_batcher_skips_requests_whose_client_went_away() -> None:
    model = Blocked()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=8, max_wait_ms=0, max_queue=10)
        await batcher.start()
        try:
            running = asyncio.create_task(batcher.submit(model, ["a"]))
            await wait_until(model.entered.is_set)
            gone = asyncio.create_task(batcher.submit(model, ["gone"]))
            kept = asyncio.create_task(batcher.submit(model, ["kept"]))
            await wait_until(lambda: batcher.depth == 2)
            gone.cancel()
            model.release.set()
            assert await running == ["a"] and await kept == ["tpek"]
        finally:
            await batcher.stop()
        assert ["gone"] not in model.calls and ["kept"] in model.calls

    asyncio.run(main())


def test_batcher_keeps_explain_requests_apart() -> None:
    calls: list[tuple[list[str], bool]] = []

    class Recorder:
        def score(self, texts, explain=False):
            calls.append((list(texts), explain))
            return list(texts)

    async def main() -> None:
        batcher = MicroBatcher(max_posts=8, max_wait_ms=50, max_queue=10)
        await batcher.start()
        try:
            model = Recorder()
            await asyncio.gather(batcher.submit(model, ["a"]),
                                 batcher.submit(model, ["b"], explain=True),
                                 batcher.submit(model, ["c"]))
        finally:
            await batcher.stop()

    asyncio.run(main())
    assert all(explain == (texts == ["b"]) for texts, explain in calls)
    assert (["b"], True) in calls


def test_batcher_stop_that_times_out_still_answers_the_running_batch() -> None:
    model = Blocked()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=1, max_wait_ms=0, max_queue=10)
        await batcher.start()
        running = asyncio.create_task(batcher.submit(model, ["a"]))
        await wait_until(model.entered.is_set)
        await batcher.stop(timeout=0.05)  # the model call is still running
        model.release.set()
        with pytest.raises(BatcherClosed):
            await asyncio.wait_for(running, 5)

    try:
        asyncio.run(main())
    finally:
        model.release.set()


def test_batcher_does_not_wait_when_no_other_request_is_under_way() -> None:
    """One client sending one request at a time is not made to wait ``max_wait_ms``; with
    other requests under way the batch waits for them."""
    model = Echo()
    in_flight = [1]

    async def timed(batcher: MicroBatcher) -> float:
        start = asyncio.get_running_loop().time()
        assert await batcher.submit(model, ["ab"]) == ["ba"]
        return asyncio.get_running_loop().time() - start

    async def main() -> tuple[float, float]:
        batcher = MicroBatcher(max_posts=8, max_wait_ms=300, max_queue=10,
                               in_flight=lambda: in_flight[0])
        await batcher.start()
        try:
            alone = await timed(batcher)
            in_flight[0] = 3  # two more requests on their way, which never come here
            waited = await timed(batcher)
        finally:
            await batcher.stop()
        return alone, waited

    alone, waited = asyncio.run(main())
    assert alone < 0.2 and waited >= 0.29


class FailsThenBlocks(Echo):
    """Raises on the first (batched) call; holds every later call until released."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def score(self, texts, explain=False):
        if not self.calls:
            self.calls.append(list(texts))
            raise ValueError("the batch fails")
        self.entered.set()
        assert self.release.wait(10), "the test never released the model"
        return super().score(texts, explain)


def test_batcher_stop_during_isolation_answers_every_request_of_the_batch() -> None:
    """stop() gives up while the requests of a failed batch are scored one by one: none of
    them may hang (each future is answered, BatcherClosed or its result)."""
    model = FailsThenBlocks()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=8, max_wait_ms=200, max_queue=10)
        await batcher.start()
        first = asyncio.create_task(batcher.submit(model, ["a"]))
        second = asyncio.create_task(batcher.submit(model, ["b"]))
        await wait_until(model.entered.is_set)  # the batch failed; "a" is scored alone
        await batcher.stop(timeout=0.05)
        model.release.set()
        for task in (first, second):
            try:
                await asyncio.wait_for(task, 5)
            except BatcherClosed:
                pass

    try:
        asyncio.run(main())
    finally:
        model.release.set()


def test_batcher_a_failing_batch_callback_neither_fails_nor_hangs_requests() -> None:
    """The metrics callback raising must not kill the worker: later requests are answered."""
    model = Echo()

    def on_batch(posts: int, requests: int, seconds: float) -> None:
        raise RuntimeError("metrics broke")

    async def main() -> list[list[str]]:
        batcher = MicroBatcher(max_posts=1, max_wait_ms=0, max_queue=10, on_batch=on_batch)
        await batcher.start()
        try:
            return [await asyncio.wait_for(batcher.submit(model, [t]), 5) for t in ("ab", "cd")]
        finally:
            await batcher.stop()

    assert asyncio.run(main()) == [["ba"], ["dc"]]


def test_batcher_requests_whose_client_went_away_free_their_queue_room() -> None:
    """Clients that time out under load must not keep the queue 'full' while the model is
    busy: their posts stop counting at once, and new requests are let in."""
    model = Blocked()

    async def main() -> None:
        batcher = MicroBatcher(max_posts=1, max_wait_ms=0, max_queue=2)
        await batcher.start()
        try:
            running = asyncio.create_task(batcher.submit(model, ["a"]))
            await wait_until(model.entered.is_set)
            gone = [asyncio.create_task(batcher.submit(model, [t])) for t in ("b", "c")]
            await wait_until(lambda: batcher.depth == 2)
            for task in gone:
                task.cancel()
            await asyncio.gather(*gone, return_exceptions=True)
            assert batcher.depth == 0
            later = asyncio.create_task(batcher.submit(model, ["d", "e"]))  # not QueueFull
            await asyncio.sleep(0.01)
            model.release.set()
            assert await running == ["a"] and await later == ["d", "e"]
        finally:
            model.release.set()
            await batcher.stop()

    asyncio.run(main())
