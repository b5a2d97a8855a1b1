"""Fitting calibration, thresholds and review bands on the calib split (STYLE.md item 14).

All three are fitted on the same window-max aggregation used at scoring time and stored in the
model's ``config.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from warning.models.calibration import Calibrator, sigmoid

__all__ = [
    "fit_calibrator",
    "fit_label_calibration",
    "fit_language_calibration",
    "fit_review_band",
    "fit_threshold",
]


def _check(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z, y = np.asarray(z, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if z.shape != y.shape:
        raise ValueError(f"scores and labels differ in length: {z.shape} vs {y.shape}")
    keep = ~np.isnan(y) & np.isfinite(z)
    z, y = z[keep], y[keep]
    if not set(np.unique(y)) <= {0.0, 1.0}:
        raise ValueError("labels must be 0 or 1 (NaN for unknown)")
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs both positives and negatives")
    return z, y


def _nll(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def fit_calibrator(z: np.ndarray, y: np.ndarray, method: str = "platt") -> Calibrator:
    """Fit Platt scaling (slope and intercept) or temperature scaling on raw logits.

    Platt uses Platt's smoothed targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)`` so that a
    separable calib split does not produce infinite slopes. A non-increasing fit falls back to
    temperature scaling, so calibration never reverses the ranking.

    Args:
        z: Raw logits (window max), one per row.
        y: 0/1 labels; NaN rows are ignored.
        method: ``platt`` or ``temperature``.
    """
    z, y = _check(z, y)
    if method not in ("platt", "temperature"):
        raise ValueError(f"method must be 'platt' or 'temperature', got {method!r}")
    if method == "platt":
        n_pos, n_neg = y.sum(), len(y) - y.sum()
        t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        a, b = 1.0, 0.0
        for _ in range(100):  # Newton-Raphson on the cross-entropy
            p = sigmoid(a * z + b)
            w = np.maximum(p * (1 - p), 1e-12)
            g = np.array([np.sum((p - t) * z), np.sum(p - t)])
            h = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
            h += 1e-9 * np.eye(2)
            step = np.linalg.solve(h, g)
            a, b = a - step[0], b - step[1]
            if np.abs(step).max() < 1e-10:
                break
        if np.isfinite(a) and np.isfinite(b) and a > 0:
            return Calibrator(float(a), float(b), "platt")
    result = minimize_scalar(lambda log_t: _nll(sigmoid(z / np.exp(log_t)), y),
                             bounds=(-5, 5), method="bounded")
    return Calibrator(float(1 / np.exp(result.x)), 0.0, "temperature")


def fit_threshold(p: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.05, 0.95),
                  bootstrap: int = 0, seed: int = 0) -> float:
    """The probability threshold with the best F1 on the given rows, clipped to ``bounds``.

    With ``bootstrap`` > 0: the median of the best-F1 thresholds of that many resamples of the
    rows (drawn with replacement, ``seed``). Where F1 is nearly flat over a wide range of
    thresholds (a language with few positives), the best point on the sample is chance, and
    the median of the resamples' best points lies in the middle of the plateau instead of at
    one of its ends.

    Example:
        >>> p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
        >>> y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
        >>> fit_threshold(p, y)
        0.4
    """
    p, y = _check(p, y)
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be 0 or more, not {bootstrap}")
    if bootstrap:
        rng = np.random.default_rng(seed)
        best = [_best_f1_threshold(p[rows], y[rows])
                for rows in (rng.integers(0, len(p), len(p)) for _ in range(bootstrap))
                if y[rows].any()]
        if best:
            return float(np.clip(np.median(best), *bounds))
    return float(np.clip(_best_f1_threshold(p, y), *bounds))


def _best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # thresholds at distinct scores
    tp, fp, cand = tp[last_of_run], fp[last_of_run], p_sorted[last_of_run]
    f1 = 2 * tp / (tp + fp + y.sum())
    return float(cand[int(np.argmax(f1))])


def clean_budget_threshold(p_clean: np.ndarray, max_flagged: float) -> float:
    """The lowest threshold (4 decimals, at most 1) at which at most ``max_flagged`` of these
    negatives' scores are at or above it.

    Example:
        >>> clean_budget_threshold(np.array([0.1, 0.2, 0.3, 0.9]), 0.25)
        0.3001
    """
    if not 0.0 <= max_flagged < 1.0:
        raise ValueError(f"max_flagged must be in [0, 1), not {max_flagged}")
    p = np.sort(np.asarray(p_clean, dtype=float))[::-1]
    if not len(p):
        return 0.0
    allowed = int(np.floor(max_flagged * len(p)))
    if allowed >= len(p):
        return 0.0
    # above the (allowed + 1)-th highest score, so only the `allowed` highest are flagged
    return float(min(1.0, np.floor(p[allowed] * 1e4) / 1e4 + 1e-4))


def fit_review_band(
    p: np.ndarray, y: np.ndarray, threshold: float, recall: float = 0.9,
    precision: float = 0.9, max_width: float = 0.25,
) -> list[float]:
    """``[low, high)`` around the threshold where a person should look.

    ``low``: the score above which ``recall`` of the positives lie (posts below the threshold
    but above ``low`` are possible misses). ``high``: the lowest score from which the flagged
    posts reach ``precision`` (posts above the threshold but below ``high`` are possible false
    alarms). Each side is at most ``max_width`` from the threshold, so the band stays a band.
    """
    p, y = _check(p, y)
    low = float(np.quantile(p[y == 1], 1 - recall))
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    prec = np.cumsum(y_sorted) / np.arange(1, len(y_sorted) + 1)
    # the lowest score s such that the posts scoring at least s reach the wanted precision
    ok = np.nonzero(prec >= precision)[0]
    high = float(p_sorted[ok[-1]]) if ok.size else 1.0
    low = max(threshold - max_width, min(threshold, low))
    high = min(threshold + max_width, max(threshold, high))
    return [round(low, 4), round(high, 4)]


def fit_label_calibration(
    logits: np.ndarray, calib: pd.DataFrame, labels: list[str], method: str = "platt",
    recall: float = 0.9, precision: float = 0.9, real: np.ndarray | None = None,
    min_real: int = 20, max_clean_flagged: float | None = None, min_clean: int = 50,
    threshold_bootstrap: int = 0,
) -> tuple[dict, dict, dict]:
    """Calibrator, threshold and review band per label, from window-max logits on calib rows.

    Args:
        logits: Raw logits ``[n_rows, len(labels)]`` (``Classifier.raw_logits``).
        calib: The calib rows, with a 0/1/NaN column per label.
        labels: The labels, in the logits' column order.
        method, recall, precision: As in :func:`fit_calibrator` and :func:`fit_review_band`.
        real: Optional mask of the calib rows that are collected posts
            (:func:`training.sources.collected_rows`). For a label where they hold at least
            ``min_real`` positives and ``min_real`` negatives, the threshold and review band
            are fitted on them alone: where our own written sentences and real posts disagree
            on where to flag, real posts decide. The calibrator always uses every row.
        max_clean_flagged, min_clean: A false-alarm budget for labels whose positives are
            (almost) all our own sentences: where the collected rows (``real``) hold fewer
            than ``min_real`` positives but at least ``min_clean`` negatives, the threshold
            is raised until at most ``max_clean_flagged`` of those collected negatives score
            at or above it. Uzbek ``hate``, fitted on our sentences alone, otherwise flagged
            15% of clean Uzbek reviews. None: no budget.
        threshold_bootstrap: Resamples for each threshold (:func:`fit_threshold`); 0: the
            best-F1 point of the rows themselves.

    Returns:
        ``(calibration, thresholds, bands)``, each keyed by label, ready for ``ModelConfig``.
    """
    if real is not None and len(real) != len(calib):
        raise ValueError(f"a mask of {len(real)} rows for {len(calib)} calib rows")
    mine = None if real is None else np.asarray(real, dtype=bool)
    calibration, thresholds, bands = {}, {}, {}
    for j, name in enumerate(labels):
        y = calib[name].to_numpy(dtype=float)
        cal = fit_calibrator(logits[:, j], y, method)
        p = cal.transform(logits[:, j])
        calibration[name] = cal.to_dict()
        floor = 0.0
        if mine is not None:
            if (y[mine] == 1).sum() >= min_real and (y[mine] == 0).sum() >= min_real:
                p, y = p[mine], y[mine]
            elif max_clean_flagged is not None and (y[mine] == 0).sum() >= min_clean:
                floor = clean_budget_threshold(p[mine & (y == 0)], max_clean_flagged)
        thresholds[name] = max(round(fit_threshold(p, y, bootstrap=threshold_bootstrap), 4),
                               floor)
        bands[name] = fit_review_band(p, y, thresholds[name], recall, precision)
    return calibration, thresholds, bands


def fit_language_calibration(
    logits: np.ndarray, calib: pd.DataFrame, labels: list[str], langs: list[str],
    method: str = "platt", min_positives: int = 30, min_negatives: int = 30,
    recall: float = 0.9, precision: float = 0.9, real: np.ndarray | None = None,
    min_real: int = 20, max_clean_flagged: float | None = None, min_clean: int = 50,
    threshold_bootstrap: int = 0,
) -> dict[str, dict[str, dict]]:
    """Calibration, thresholds and review bands per detected language, for each label whose
    calib rows in that language hold at least ``min_positives`` positives and
    ``min_negatives`` negatives (``ModelConfig.by_language``). Languages and labels below that
    keep the global fit: a language without positives is never calibrated towards "clean".

    Args:
        logits: Raw logits ``[n_rows, len(labels)]`` on the calib rows.
        calib: The calib rows, with a 0/1/NaN column per label.
        labels: The labels, in the logits' column order.
        langs: The detected language of each calib row (as at scoring time).
        real, min_real, max_clean_flagged, min_clean, threshold_bootstrap: As in
            :func:`fit_label_calibration`, within each language.
    """
    langs_arr = np.asarray(langs, dtype=object)
    if len(langs_arr) != len(calib):
        raise ValueError(f"{len(langs_arr)} languages for {len(calib)} calib rows")
    out: dict[str, dict[str, dict]] = {}
    for lang in sorted(set(langs)):
        rows = langs_arr == lang
        part = calib[rows]
        fitted = [j for j, name in enumerate(labels)
                  if (part[name] == 1).sum() >= min_positives
                  and (part[name] == 0).sum() >= min_negatives]
        if not fitted:
            continue
        names = [labels[j] for j in fitted]
        calibration, thresholds, bands = fit_label_calibration(
            logits[rows][:, fitted], part, names, method, recall, precision,
            None if real is None else np.asarray(real, dtype=bool)[rows], min_real,
            max_clean_flagged, min_clean, threshold_bootstrap)
        out[lang] = {"calibration": calibration, "thresholds": thresholds,
                     "review_bands": bands}
    return out
