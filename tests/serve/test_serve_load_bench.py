"""The load benchmark's client and table (benchmarks/load.py), against a live server with the
fake model: answers are counted right, errors are counted as errors."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
from fixtures.benchmarks import benchmark_module


@pytest.fixture(scope="module")
def load():
    with benchmark_module("load.py") as module:
        yield module


@pytest.fixture
def app(make_app):
    """The fake-model app, open (as the benchmark runs it), for ``live_server``."""
    return make_app(api_keys="", open_access=True, max_text_chars=100)


@pytest.mark.parametrize("client", ["raw", "httpx"])
def test_load_bench_counts_answers_and_latencies(load, live_server, client) -> None:
    cell = asyncio.run(load.drive(live_server, ["ты идиот", "привет, как дела?"], 4, 0.3,
                                  "batching", client))
    # every client has at least its first answer counted however slow the machine (a loaded
    # CI machine answered each client once in 0.95 s); a latency lies within the run's time
    assert cell.ok >= 4 and cell.errors == 0
    assert len(cell.latencies_ms) == cell.ok
    assert 0 < min(cell.latencies_ms) and max(cell.latencies_ms) <= cell.seconds * 1000
    assert cell.rps == pytest.approx(cell.ok / cell.seconds)


def test_load_bench_counts_refusals_as_errors(load, live_server) -> None:
    cell = asyncio.run(load.drive(live_server, ["x" * 101], 2, 0.2, "batching"))
    assert cell.ok == 0 and cell.errors > 0 and set(cell.error_kinds) == {"HTTP 422"}


def test_load_bench_table_states_the_targets(load) -> None:
    def cell(mode: str, clients: int, ok: int, errors: int = 0):
        return load.Cell(mode, clients, 10.0, ok, errors, [10.0, 20.0], {}, 1.0)

    args = argparse.Namespace(clients=[1, 32], model=Path("models/baseline"), threads=2,
                              batch_max_posts=32, batch_max_wait_ms=2.0, queue_max_posts=256,
                              n_posts=36, posts="examples/posts.txt", seconds=10.0, warmup=1.0,
                              client="raw")
    cells = [cell("batching", 32, 400), cell("one call per request", 32, 100)]
    text = load.report(args, cells, cell("batching, soak", 32, 2000, errors=1), "baseline@x",
                       (1.0, 1.0, 1.0), (2.0, 2.0, 2.0), "2026-01-01 00:00")
    assert "4.0x" in text and "at least 3x: met" in text
    assert "ended with 1 errors (target: zero: NOT met)" in text
    assert "| batching | 32 | 400 | 0 | 40.0 |" in text


def test_load_bench_proxy_table_compares_one_replica_with_two(load) -> None:
    def cell(replicas: int, ok: int, errors: int = 0):
        return load.ProxyCell(replicas, 2 // replicas,
                              load.Cell(f"{replicas} replica(s)", 32, 10.0, ok, errors,
                                        [10.0, 30.0], {"HTTP 502": errors} if errors else {},
                                        8.0),
                              {"replicas": 15.0, "nginx": 1.0, "postgresql": 0.5,
                               "load generator": 3.0})

    args = argparse.Namespace(clients=[32], model=Path("models/default"), threads=2,
                              batch_max_posts=32, batch_max_wait_ms=2.0, n_posts=36,
                              posts="examples/posts.txt", seconds=10.0, warmup=1.0)
    text = load.report_proxy(args, [cell(1, 1000), cell(2, 1250, errors=2)], "default@x",
                             (1.0, 1.0, 1.0), (2.0, 2.0, 2.0), "2026-01-01 00:00")
    assert "two replicas answer 1.25x the requests per second of one" in text
    assert "| 2 | 1 | 32 | 1250 | 2 | 125.0 |" in text and "15.0 / 1.0 / 0.5 / 3.0" in text
    assert "Errors in all cells: 2: 2 replica(s) x32: {'HTTP 502': 2}." in text
