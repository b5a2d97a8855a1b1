"""The benchmarks' logits cache (benchmarks/default_model.py ``logits_store``): named by the
model folder's contents, so a run retrained into the same folder never reads the last run's
logits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.benchmarks import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("default_model.py") as module:
        yield module


def test_store_follows_the_folder_contents(bench, tiny_model, tiny_model_dir, tmp_path):
    cache = tmp_path / "logits"
    first = bench.logits_store(cache, tiny_model, tiny_model_dir)
    assert cache.is_dir() and first.parent == cache
    assert first.name.startswith(f"{tiny_model.name}-") and first.name.endswith(".npz")
    assert bench.logits_store(cache, tiny_model, tiny_model_dir) == first
    # the same files elsewhere: the same logits, the same store
    copy = shutil.copytree(tiny_model_dir, tmp_path / "elsewhere")
    assert bench.logits_store(cache, tiny_model, copy) == first
    # a retrained member in the same folder, same name and version: a new store
    weights = max((p for p in Path(tiny_model_dir).rglob("*") if p.is_file()),
                  key=lambda p: p.stat().st_size)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert bench.logits_store(cache, tiny_model, tiny_model_dir) != first
