"""Fair scheduling between keys across lanes (issue 19, point 6): a light key's piece is scored
before a heavy key's remaining pieces, and beside them while a model process is ready; the model
process scores exactly as the model in the server does, restarts after it dies and ends on
shutdown. The order of calls is recorded by fake lanes held at gates: no timing is asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from serve.batcher import MicroBatcher, ModelFailed
from serve.lanes import ProcessLane, ThreadLane, WorkerDied
from serve.limits import text_units

ROOT = Path(__file__).resolve().parents[2]
#: a wait that only a broken scheduler reaches (the test fails instead of hanging)
LIMIT = 10.0


class Model:
    """Any object: the lanes below score it (upper case)."""


class FakeLane:
    """Records each call (lane name, texts) in a shared list and holds it until its gate
    opens (a gate per call, opened by the test)."""

    def __init__(self, name: str, calls: list[tuple[str, list[str]]], *, bulk: bool,
                 ready: bool = True) -> None:
        self.name, self.calls, self.bulk, self.ready = name, calls, bulk, ready
        self.gates: list[asyncio.Event] = []
        self.wanted = 0
        self.closed = False

    def ready_for(self, model: object) -> bool:
        return self.ready

    def wants(self, model: object, notify) -> None:
        self.wanted += 1

    async def score(self, model: object, texts: list[str], explain: bool) -> list[str]:
        self.calls.append((self.name, list(texts)))
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        return [t.upper() for t in texts]

    async def close(self, timeout: float) -> None:
        self.closed = True

    async def release(self, n: int) -> None:
        """Wait for this lane's n-th call, then let it finish."""
        await until(lambda: len(self.gates) >= n)
        self.gates[n - 1].set()


async def until(condition, limit: float = LIMIT) -> None:
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0)


def batcher(*lanes: FakeLane, in_flight=lambda: 0) -> MicroBatcher:
    # a long max_wait: a batch that waited for requests that are not coming would time out
    # (by default no request is on its way to the batcher: none is waited for)
    return MicroBatcher(max_posts=4, max_wait_ms=60_000, max_queue=1000, max_units=2,
                        cost=text_units, lanes=list(lanes), in_flight=in_flight)


def drive(scheduler: MicroBatcher, body) -> None:
    """Run ``await body(scheduler)`` on the started scheduler, and stop it after."""
    async def main() -> None:
        await scheduler.start()
        try:
            await body(scheduler)
        finally:
            await scheduler.stop()

    asyncio.run(main())


HEAVY = [f"a{i}-" + "x" * 1995 for i in range(4)]  # 2 units each: a piece per text


def test_lanes_a_light_key_is_scored_beside_a_heavy_backlog_on_the_free_lane() -> None:
    calls: list[tuple[str, list[str]]] = []
    thread, process = FakeLane("thread", calls, bulk=False), FakeLane("process", calls, bulk=True)

    under_way = [1]  # the server's requests in flight (A's, then B's too)

    async def body(scheduler: MicroBatcher) -> None:
        heavy = asyncio.create_task(scheduler.submit(Model(), HEAVY, owner="A"))
        await until(lambda: len(calls) == 1)  # A's first piece is in the process
        opener = asyncio.create_task(thread.release(1))
        under_way[0] += 1
        light = await asyncio.wait_for(scheduler.submit(Model(), ["b"], owner="B"), LIMIT)
        assert light == ["B"] and opener.done()
        under_way[0] -= 1
        for n in range(1, len(HEAVY) + 1):
            await process.release(n)
        assert await asyncio.wait_for(heavy, LIMIT) == [t.upper() for t in HEAVY]

    drive(batcher(thread, process, in_flight=lambda: under_way[0]), body)
    # B's call went to the thread lane while A's first piece was still being scored, before
    # A's three other pieces; A's pieces never took the lane kept for light work
    assert calls[0] == ("process", [HEAVY[0]]) and calls[1] == ("thread", ["b"])
    assert [name for name, _ in calls[2:]] == ["process"] * 3
    assert process.wanted >= 1 and thread.closed and process.closed


def test_lanes_with_one_lane_a_light_key_waits_for_one_piece_not_the_backlog() -> None:
    """Without a model process (or while it starts) one lane scores all: a light key's
    piece comes right after the heavy key's piece in flight, before its remaining ones, and
    the lane that could take the heavy work is asked to start."""
    calls: list[tuple[str, list[str]]] = []
    thread = FakeLane("thread", calls, bulk=False)
    starting = FakeLane("process", calls, bulk=True, ready=False)

    async def body(scheduler: MicroBatcher) -> None:
        heavy = asyncio.create_task(scheduler.submit(Model(), HEAVY, owner="A"))
        await until(lambda: len(calls) == 1)
        light = asyncio.create_task(scheduler.submit(Model(), ["b"], owner="B"))
        await until(lambda: scheduler.depth == len(HEAVY))  # A's 3 pieces and B's
        for n in range(1, len(HEAVY) + 2):
            await thread.release(n)
        assert await asyncio.wait_for(light, LIMIT) == ["B"]
        assert await asyncio.wait_for(heavy, LIMIT) == [t.upper() for t in HEAVY]

    drive(batcher(thread, starting), body)
    assert [texts for _, texts in calls] == [[HEAVY[0]], ["b"], *[[t] for t in HEAVY[1:]]]
    assert {name for name, _ in calls} == {"thread"} and starting.wanted >= 1


def test_lanes_a_key_is_light_again_once_its_backlog_is_scored() -> None:
    """Heavy is a state, not a mark: A's later one-text request takes the light lane."""
    calls: list[tuple[str, list[str]]] = []
    thread, process = FakeLane("thread", calls, bulk=False), FakeLane("process", calls, bulk=True)

    async def body(scheduler: MicroBatcher) -> None:
        heavy = asyncio.create_task(scheduler.submit(Model(), HEAVY[:2], owner="A"))
        for n in (1, 2):
            await process.release(n)
        await asyncio.wait_for(heavy, LIMIT)
        later = asyncio.create_task(scheduler.submit(Model(), ["a-short"], owner="A"))
        await thread.release(1)
        assert await asyncio.wait_for(later, LIMIT) == ["A-SHORT"]

    drive(batcher(thread, process), body)
    assert calls[-1] == ("thread", ["a-short"])
    assert [name for name, _ in calls[:2]] == ["process", "process"]


def test_lanes_one_long_text_is_heavy_even_alone() -> None:
    """A single text past ``max_units`` is never scored in the lane kept for light work while
    a process is ready: it would hold that lane as long as a backlog does."""
    calls: list[tuple[str, list[str]]] = []
    thread, process = FakeLane("thread", calls, bulk=False), FakeLane("process", calls, bulk=True)

    async def body(scheduler: MicroBatcher) -> None:
        long = asyncio.create_task(scheduler.submit(Model(), ["y" * 5000], owner="C"))
        await process.release(1)
        await asyncio.wait_for(long, LIMIT)

    drive(batcher(thread, process), body)
    assert calls == [("process", ["y" * 5000])]


def test_lanes_a_process_call_is_larger_and_shared_between_heavy_keys_in_turn() -> None:
    """A model process's calls hold up to ``bulk_max_units`` (they never delay a light key),
    taken from the heavy keys in turn, piece by piece."""
    calls: list[tuple[str, list[str]]] = []
    thread, process = FakeLane("thread", calls, bulk=False), FakeLane("process", calls, bulk=True)
    a = [f"a{i}-" + "x" * 1995 for i in range(4)]
    c = [f"c{i}-" + "x" * 1995 for i in range(4)]

    async def body(scheduler: MicroBatcher) -> None:
        first = asyncio.create_task(scheduler.submit(Model(), ["x" * 5000], owner="X"))
        await until(lambda: len(calls) == 1)  # the process is busy with X's long text
        model = Model()  # one model: calls may hold several keys' pieces
        heavy = [asyncio.create_task(scheduler.submit(model, texts, owner=key))
                 for texts, key in ((a, "A"), (c, "C"))]
        await until(lambda: scheduler.depth == 8)
        for n in range(1, 4):
            await process.release(n)
        await asyncio.wait_for(asyncio.gather(first, *heavy), LIMIT)

    drive(MicroBatcher(max_posts=32, max_wait_ms=60_000, max_queue=1000, max_units=2,
                       cost=text_units, lanes=[thread, process], in_flight=lambda: 0,
                       bulk_max_units=8), body)
    # four pieces of 2 units (8 units) a call, the keys alternating, the one that arrived
    # last taking the first turn; nothing of theirs in the thread lane
    assert calls[1:] == [("process", [c[0], a[0], c[1], a[1]]),
                         ("process", [c[2], a[2], c[3], a[3]])]


def test_lanes_the_thread_lane_scores_in_a_thread() -> None:
    class Upper:
        def score(self, texts, explain=False):
            return [t.upper() for t in texts]

    async def main() -> list[str]:
        return await ThreadLane().score(Upper(), ["ab"], False)

    assert asyncio.run(main()) == ["AB"]


# ---- the model process, with the committed baseline model --------------------------------


@pytest.fixture(scope="module")
def baseline():
    from warning.models.classifier import Classifier

    return Classifier.load(ROOT / "models" / "baseline")


TEXTS = ["Ты тупой идиот", "Бүгүн Ошко барам", "you are vermin, I will burn your house",
         ("Сен эмне деп жатасың, бул жерде баары бирге жашайт. " * 300)[:15_000], "   "]


@pytest.mark.slow
def test_lanes_the_model_process_scores_as_the_server_model_restarts_and_ends(baseline) -> None:
    import os

    lane = ProcessLane(ROOT / "models" / "baseline", mirrors=lambda: baseline, nice=3)

    async def main() -> None:
        woken = asyncio.Event()
        assert not lane.ready_for(baseline)
        lane.wants(Model(), woken.set)  # not the model it mirrors: nothing starts
        assert lane.state == "idle"
        lane.wants(baseline, woken.set)
        await asyncio.wait_for(woken.wait(), 120)
        assert lane.ready_for(baseline) and not lane.ready_for(Model())
        # a lower CPU priority than the server's
        assert os.getpriority(os.PRIO_PROCESS, lane._process.pid) == \
            min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)
        remote = await lane.score(baseline, TEXTS, False)
        local = baseline.score(TEXTS)
        assert [p.to_dict() for p in remote] == [p.to_dict() for p in local]
        explained = await lane.score(baseline, TEXTS[:1], True)
        assert explained[0].to_dict() == baseline.score(TEXTS[:1], True)[0].to_dict()
        # the process dies (killed, out of memory): the call fails, a new one starts
        lane._process.kill()
        with pytest.raises(WorkerDied):
            await lane.score(baseline, TEXTS[:1], False)
        assert lane.state == "idle"
        woken = asyncio.Event()
        lane.wants(baseline, woken.set)
        await asyncio.wait_for(woken.wait(), 120)
        process = lane._process
        assert (await lane.score(baseline, TEXTS[:1], False))[0].to_dict() == \
            local[0].to_dict()
        await lane.close(30)
        assert not process.is_alive() and process.exitcode == 0  # ended on request

    asyncio.run(main())


@pytest.mark.slow
def test_lanes_a_dead_model_process_fails_its_requests_not_the_server(baseline) -> None:
    """The batch in a process that dies fails (500 for its requests), is not scored again in
    the server (the text that killed the process could kill the server), and later heavy
    work is still scored (in the server's thread until a new process is ready)."""

    async def main() -> None:
        lane = ProcessLane(ROOT / "models" / "baseline", mirrors=lambda: baseline)
        scheduler = MicroBatcher(max_posts=4, max_wait_ms=0, max_queue=1000, max_units=2,
                                 cost=text_units, lanes=[ThreadLane(), lane])
        await scheduler.start()
        try:
            await asyncio.wait_for(scheduler.submit(baseline, HEAVY, owner="A"), 120)
            await until(lambda: lane.state == "ready", 120)
            lane._process.kill()
            lane._process.join()
            with pytest.raises(ModelFailed) as failed:
                await asyncio.wait_for(scheduler.submit(baseline, HEAVY, owner="A"), 120)
            assert isinstance(failed.value.__cause__, WorkerDied)
            results = await asyncio.wait_for(scheduler.submit(baseline, HEAVY, owner="A"), 120)
            assert [p.to_dict() for p in results] == [p.to_dict() for p in baseline.score(HEAVY)]
            await until(lambda: lane.state == "ready", 120)  # the new process
        finally:
            await scheduler.stop()
        assert lane.state == "idle" and lane._process is None

    asyncio.run(main())


# ---- the app -------------------------------------------------------------------------------


def test_lanes_the_app_adds_model_processes_only_for_a_model_it_loads(key, fake_classifier
                                                                      ) -> None:
    from serve.app import create_app
    from serve.settings import ServeSettings

    def lanes(app) -> list[str]:
        return [type(lane).__name__ for lane in app.state.batcher.lanes]

    assert lanes(create_app(ServeSettings(api_keys=key, model_processes=2))) == [
        "ThreadLane", "ProcessLane", "ProcessLane"]
    assert lanes(create_app(ServeSettings(api_keys=key))) == ["ThreadLane", "ProcessLane"]
    assert lanes(create_app(ServeSettings(api_keys=key, model_processes=0))) == ["ThreadLane"]
    # a model object handed in: no folder a process could load it from
    assert lanes(create_app(ServeSettings(api_keys=key), classifier=fake_classifier)) == [
        "ThreadLane"]


@pytest.mark.slow
def test_lanes_the_api_scores_heavy_work_in_its_model_process(key) -> None:
    import time

    from fastapi.testclient import TestClient

    from serve.app import create_app
    from serve.settings import ServeSettings

    app = create_app(ServeSettings(api_keys=key, model=ROOT / "models" / "baseline"))
    texts = [TEXTS[3][:4000], *TEXTS[:3]]  # 4.3 units: heavy
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        lane = app.state.batcher.lanes[1]
        in_process = client.post("/v1/score", json={"texts": texts})  # starts the process
        deadline = time.monotonic() + 120
        while lane.state != "ready":
            assert lane.state == "starting" and time.monotonic() < deadline
            time.sleep(0.05)
        calls = []
        score = lane.score

        async def counted(model, batch, explain):
            calls.append(len(batch))
            return await score(model, batch, explain)

        lane.score = counted
        in_child = client.post("/v1/score", json={"texts": texts})
        light = client.post("/v1/score", json={"texts": ["Ты тупой идиот"]})
    assert in_process.status_code == in_child.status_code == light.status_code == 200
    assert in_child.json()["results"] == in_process.json()["results"]
    assert sum(calls) == len(texts)  # the heavy request in the process, the light one not
    assert lane.state == "idle"  # the process ended with the app
