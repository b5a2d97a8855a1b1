import math

import numpy as np
import pytest

from training.metrics import (
    adaptive_ece,
    binary_metrics,
    bootstrap_metrics,
    brier_score,
    reliability_bins,
    roc_auc,
)

# 6 rows, hand-computed: threshold 0.5 flags rows 0, 1, 3
Y = [1, 1, 0, 0, 1, 0]
P = [0.9, 0.8, 0.4, 0.6, 0.3, 0.1]


def test_binary_metrics_against_hand_computed_values() -> None:
    m = binary_metrics(Y, P, 0.5)
    # tp = 2 (rows 0, 1), fp = 1 (row 3), fn = 1 (row 4)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # pairs (pos, neg) where pos outscores neg: 0.9 > all 3, 0.8 > all 3, 0.3 > 0.1 only: 7/9
    assert m["roc_auc"] == pytest.approx(7 / 9)
    assert m["n"] == 6 and m["positives"] == 3 and m["flag_rate"] == pytest.approx(0.5)


def test_roc_auc_counts_ties_as_half() -> None:
    assert roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([1, 1, 0], [0.7, 0.5, 0.5]) == pytest.approx(0.75)


def test_roc_auc_matches_scikit_learn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) * 0.5 + y * 0.3, 2)  # with ties
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_unknown_labels_are_masked_out() -> None:
    m = binary_metrics([1, np.nan, 0, np.nan], [0.9, 0.9, 0.1, 0.1], 0.5)
    assert m["n"] == 2 and m["precision"] == 1.0 and m["recall"] == 1.0


def test_undefined_metrics_are_nan() -> None:
    m = binary_metrics([0, 0], [0.1, 0.2], 0.5)
    assert math.isnan(m["precision"]) and math.isnan(m["recall"]) and math.isnan(m["roc_auc"])
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        binary_metrics([2, 0], [0.1, 0.2], 0.5)


def test_brier_and_adaptive_ece_against_hand_computed_values() -> None:
    assert brier_score([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)
    # two equal-mass bins: {0.1, 0.2} with rate 0 -> |0 - 0.15|; {0.7, 0.9} rate 1 -> |1 - 0.8|
    y, p = [0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9]
    assert adaptive_ece(y, p, n_bins=2) == pytest.approx(0.5 * 0.15 + 0.5 * 0.2)
    bins = reliability_bins(y, p, n_bins=2)
    assert [b["count"] for b in bins] == [2, 2]


def test_perfectly_calibrated_scores_have_small_ece() -> None:
    rng = np.random.default_rng(1)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(float)
    assert adaptive_ece(y, p) < 0.02


def test_bootstrap_interval_contains_the_point_and_is_deterministic() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400).astype(float)
    p = np.clip(y * 0.4 + rng.random(400) * 0.6, 0, 1)
    a = bootstrap_metrics(y, p, 0.5, n_boot=200, seed=3)
    b = bootstrap_metrics(y, p, 0.5, n_boot=200, seed=3)
    assert a == b
    for metric in ("precision", "recall", "f1", "roc_auc"):
        assert a[metric]["low"] <= a[metric]["value"] <= a[metric]["high"]
        assert a[metric]["high"] - a[metric]["low"] < 0.2
