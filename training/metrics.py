"""Evaluation metrics: precision, recall, F1, ROC-AUC with bootstrap intervals; adaptive ECE;
Brier score; reliability bins.

Rows with an unknown label (NaN) are dropped before anything is computed: a label a source does
not annotate never counts as a negative. The bootstrap resamples rows with replacement and
computes every metric on the same resamples (as per-row counts, so each replicate is a weighted
pass over the data rather than a copy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "adaptive_ece",
    "binary_metrics",
    "bootstrap_auc",
    "bootstrap_metrics",
    "brier_score",
    "reliability_bins",
    "roc_auc",
]


def _clean(y: Sequence[float], p: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {p.shape}")
    keep = ~np.isnan(y) & ~np.isnan(p)
    y, p = y[keep], p[keep]
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0, 1 or NaN")
    return y, p


def _flags(y: Sequence[float], p: Sequence[float], threshold: float | Sequence[float]
           ) -> np.ndarray:
    """``p >= threshold`` on the rows :func:`_clean` keeps; ``threshold`` is one number or
    one per row (a model with per-language thresholds)."""
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    t = np.broadcast_to(np.asarray(threshold, dtype=float), p.shape)
    keep = ~np.isnan(y) & ~np.isnan(p)
    return (p[keep] >= t[keep]).astype(float)


def _weighted_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC-AUC for each row of weights ``w`` ([k, n]); ties count one half."""
    order = np.argsort(p, kind="stable")
    y, p, w = y[order], p[order], w[:, order]
    # group tied scores
    starts = np.r_[0, np.nonzero(np.diff(p))[0] + 1]
    pos_w = np.add.reduceat(w * y, starts, axis=1)
    neg_w = np.add.reduceat(w * (1 - y), starts, axis=1)
    neg_below = np.cumsum(neg_w, axis=1) - neg_w
    total_pos, total_neg = pos_w.sum(axis=1), neg_w.sum(axis=1)
    u = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((total_pos > 0) & (total_neg > 0), u / (total_pos * total_neg), np.nan)


def roc_auc(y: Sequence[float], p: Sequence[float]) -> float:
    """ROC-AUC (the probability that a positive outscores a negative); NaN with one class."""
    y, p = _clean(y, p)
    if len(y) == 0:
        return math.nan
    return float(_weighted_auc(y, p, np.ones((1, len(y))))[0])


def _counts_metrics(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    tp = (w * (y * pred)).sum(axis=1)
    fp = (w * ((1 - y) * pred)).sum(axis=1)
    fn = (w * (y * (1 - pred))).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1}


def binary_metrics(y: Sequence[float], p: Sequence[float],
                   threshold: float | Sequence[float]) -> dict[str, float]:
    """Precision, recall and F1 of ``p >= threshold``, ROC-AUC, counts and the flag rate.
    ``threshold`` is one number or one per row.

    Undefined values (no positives, nothing flagged) are NaN.
    """
    pred = _flags(y, p, threshold)
    y, p = _clean(y, p)
    ones = np.ones((1, len(y)))
    counts = {k: float(v[0]) for k, v in _counts_metrics(y, pred, ones).items()}
    return {
        **counts,
        "roc_auc": roc_auc(y, p),
        "n": len(y),
        "positives": int(y.sum()),
        "flag_rate": float(pred.mean()) if len(y) else math.nan,
    }


def bootstrap_metrics(
    y: Sequence[float], p: Sequence[float], threshold: float | Sequence[float],
    n_boot: int = 1000,
    seed: int = 0, alpha: float = 0.05, chunk: int = 100,
) -> dict[str, dict[str, float]]:
    """Point estimates with percentile bootstrap intervals for precision, recall, F1, ROC-AUC.

    Returns:
        ``{metric: {"value": v, "low": lo, "high": hi}}``; the interval is NaN when too few
        replicates define the metric.
    """
    point = binary_metrics(y, p, threshold)
    pred = _flags(y, p, threshold)
    y, p = _clean(y, p)
    names = ("precision", "recall", "f1", "roc_auc")
    out = {name: {"value": point[name], "low": math.nan, "high": math.nan} for name in names}
    n = len(y)
    if n == 0 or n_boot <= 0:
        return out
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=k).astype(float)
        for name, values in _counts_metrics(y, pred, w).items():
            draws[name].append(values)
        draws["roc_auc"].append(_weighted_auc(y, p, w))
    for name in names:
        values = np.concatenate(draws[name])
        values = values[~np.isnan(values)]
        if len(values) >= 0.5 * n_boot:
            lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
            out[name]["low"], out[name]["high"] = float(lo), float(hi)
    return out


def bootstrap_auc(y: Sequence[float], p: Sequence[float], n_boot: int = 1000, seed: int = 0,
                  alpha: float = 0.05, chunk: int = 100) -> dict[str, float]:
    """ROC-AUC with a percentile bootstrap interval over rows.

    Returns:
        ``{"value", "low", "high"}``; all NaN without both classes, the interval NaN when
        fewer than half of the replicates have both classes.
    """
    y, p = _clean(y, p)
    out = {"value": roc_auc(y, p) if len(y) else math.nan, "low": math.nan, "high": math.nan}
    n = len(y)
    if math.isnan(out["value"]) or n_boot <= 0:
        return out
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, n_boot, chunk):
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=min(chunk, n_boot - start))
        draws.append(_weighted_auc(y, p, w.astype(float)))
    values = np.concatenate(draws)
    values = values[~np.isnan(values)]
    if len(values) >= 0.5 * n_boot:
        out["low"], out["high"] = (float(v) for v in np.quantile(values, [alpha / 2,
                                                                           1 - alpha / 2]))
    return out


def brier_score(y: Sequence[float], p: Sequence[float]) -> float:
    """Mean squared error of the probabilities."""
    y, p = _clean(y, p)
    return float(np.mean((p - y) ** 2)) if len(y) else math.nan


def reliability_bins(y: Sequence[float], p: Sequence[float], n_bins: int = 15
                     ) -> list[dict[str, float]]:
    """Equal-mass bins (adaptive): each holds about the same number of rows, sorted by score.

    Returns:
        Per bin: ``mean_score``, ``positive_rate`` and ``count``.
    """
    y, p = _clean(y, p)
    if len(y) == 0:
        return []
    order = np.argsort(p, kind="stable")
    bins = []
    for idx in np.array_split(order, min(n_bins, len(y))):
        if len(idx):
            bins.append({"mean_score": float(p[idx].mean()),
                         "positive_rate": float(y[idx].mean()), "count": len(idx)})
    return bins


def adaptive_ece(y: Sequence[float], p: Sequence[float], n_bins: int = 15) -> float:
    """Expected calibration error over equal-mass bins: sum of ``count/N * |rate - score|``."""
    bins = reliability_bins(y, p, n_bins)
    total = sum(b["count"] for b in bins)
    if not total:
        return math.nan
    return float(sum(b["count"] / total * abs(b["positive_rate"] - b["mean_score"])
                     for b in bins))
