"""The paired comparison benchmark (benchmarks/paired_dev.py): the same resamples for both
models, differences that are zero when the models agree and one-sided when one is better."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from fixtures.benchmarks import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("paired_dev.py") as module:
        yield module


def _share(idx, hits):
    return hits[idx].mean()


def test_paired_equal_models_differ_by_nothing(bench):
    hits = np.array([True, False, True, True, False, True])
    result = bench.paired(hits, hits.copy(), _share, resamples=200)
    assert result["a"] == result["b"] == pytest.approx(4 / 6)
    assert result["diff"] == result["low"] == result["high"] == 0.0
    assert result["ahead"] == 0.5


def test_paired_resamples_both_models_alike(bench):
    # B is right on every case A is right on, and on two more: every paired resample has B
    # ahead or level, never behind (unpaired resamples would put B behind in some)
    a = np.array([True] * 10 + [False] * 10)
    b = a.copy()
    b[[12, 15]] = True
    result = bench.paired(a, b, _share, resamples=500)
    assert result["diff"] == pytest.approx(0.1)
    assert result["low"] >= 0.0 and result["high"] > 0.0
    assert 0.5 < result["ahead"] <= 1.0


def test_paired_strata_keep_both_classes(bench):
    y = np.array([1] * 3 + [0] * 30)
    seen = []

    def positives(idx, _):
        seen.append(int(y[idx].sum()))
        return 0.0

    bench.paired(np.zeros(33), np.zeros(33), positives, resamples=100, strata=y)
    assert min(seen) == max(seen) == 3


def test_source_rows_pair_the_same_posts(bench, tiny_model, tiny_corpus):
    strict = copy.deepcopy(tiny_model)
    strict.config.thresholds["hate"] = 1.0  # flags no hate: F1 0, ranking unchanged
    strict.config.by_language = {}
    tiny_model.config.by_language = {}
    rows = bench.source_rows({"a": tiny_model, "b": strict}, tiny_corpus, "test", 200,
                             sources=("fixture_en",))
    by_name = {r["what"]: r for r in rows}
    f1, auc = by_name["fixture_en `hate` F1"], by_name["fixture_en `hate` ROC-AUC"]
    assert f1["a"] > 0.5 and f1["b"] == 0.0 and f1["high"] < 0.0 and f1["ahead"] == 0.0
    assert auc["diff"] == 0.0 and auc["low"] == auc["high"] == 0.0
    assert "fixture_en `offensive` F1" in by_name
    # no source named: nothing scored, nothing invented
    assert bench.source_rows({"a": tiny_model, "b": strict}, tiny_corpus, "test", 200,
                             sources=("no_such_source",)) == []


def test_markdown_lists_every_figure(bench):
    row = {"what": "x `hate` F1", "n": "10 (3)", "a": 0.5, "b": 0.6, "diff": 0.1,
           "low": -0.05, "high": 0.2, "ahead": 0.8}
    text = bench.markdown([row], ["A (`m@1`)", "B (`m@2`)"], "python benchmarks/paired_dev.py")
    assert "| x `hate` F1 | 10 (3) | 0.500 | 0.600 | +0.100 | [-0.050, +0.200] | 80% |" in text
