"""The statistics of early-warning alerts: a surge test per cell, Benjamini-Hochberg, the ACLED
ratio and the ranking score. Pure functions of counts; no model, no files.

**The test.** A cell (window x channel x target group x label) has ``count`` flagged posts (or
an expected count, the sum of probabilities) among ``volume`` posts; its baseline, the same cell
over the previous k windows, has ``base_count`` among ``base_volume``. If the flagged rate had
not changed, then given the total ``count + base_count`` the share falling in this window
follows a binomial with probability ``volume / (volume + base_volume)``: the conditional test
for comparing two Poisson rates with the volumes as offsets. Its one-sided p-value is
``P(X >= count) = I_pi(count, base_count + 1)``, the regularised incomplete beta function,
which also serves non-whole expected counts. Because it conditions on the volumes, more posts
at an unchanged rate do not raise an alert, and because the baseline rate is compared rather
than assumed known, a short or quiet baseline makes the test cautious instead of alarmist.

Because the test conditions on the total ``count + base_count``, cells may be chosen for
testing by that total (and by the volumes) without biasing it; choosing them by ``count``
alone would (a high count by chance gets a cell in), so :mod:`warning.alerts` applies its
minimum count to the total before the correction and to ``count`` only when reporting. A cell
without a baseline (``base_volume`` 0) gets p = 1 here; :mod:`warning.alerts` compares such
a new cell with a parent cell's baseline instead, passing the parent's figures.

**Many cells.** Thousands of cells are tested at once, so p-values are turned into
Benjamini-Hochberg q-values: alerting at ``q <= 0.05`` keeps the expected share of false alerts
among all alerts at 5%.

**The ACLED ratio** is the figure in plain words: this window's count divided by the mean count
of the past four windows (at least 1, the noise floor); ACLED's rule calls a rise "unusual" at
twice the mean. It ignores volume, so it is reported, not tested.

**The ranking score** orders alerts: ``weight(label) x log2(rate ratio) x min(-log10 q, 10)``,
where the rate ratio is this window's rate over the baseline rate (a baseline of zero counts as
half a post, so the ratio stays finite) and the weights are offensive 1, hate 2, threat and
extremism 3. So a grave label, a large rise in the *share* of flagged posts and a rise that is
hard to explain by chance each move an alert up; none of them alone puts it at the top.

Example:
    >>> round(surge_pvalue(count=5, volume=100, base_count=0, base_volume=400), 5)
    0.00032
    >>> benjamini_hochberg([0.01, 0.04, 0.03])
    [0.03, 0.04, 0.04]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["LABEL_WEIGHTS", "acled_ratio", "benjamini_hochberg", "rank_score", "rate_ratio",
           "surge_pvalue"]

#: How grave each label is, for the ranking score.
LABEL_WEIGHTS: dict[str, float] = {"offensive": 1.0, "hate": 2.0, "threat": 3.0,
                                   "extremism": 3.0}
_MAX_SIGNIFICANCE = 10.0


def surge_pvalue(count: float | np.ndarray, volume: float | np.ndarray,
                 base_count: float | np.ndarray, base_volume: float | np.ndarray,
                 ) -> float | np.ndarray:
    """One-sided p-value that the rate ``count / volume`` exceeds the baseline's
    ``base_count / base_volume`` (see the module docstring). 1 where nothing can be tested (no
    count, no volume, no baseline volume). Works elementwise on arrays.

    Example:
        >>> surge_pvalue(0, 100, 3, 400)
        1.0
    """
    from scipy.special import betainc

    c, n, b, m = (np.asarray(x, dtype=float) for x in (count, volume, base_count, base_volume))
    ok = (c > 0) & (n > 0) & (m > 0)
    pi = np.where(ok, n / np.where(ok, n + m, 1.0), 0.5)
    p = np.where(ok, betainc(np.where(ok, c, 1.0), np.where(ok, b, 0.0) + 1.0, pi), 1.0)
    p = np.clip(p, 0.0, 1.0)
    return float(p) if p.ndim == 0 else p


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> list[float]:
    """Benjamini-Hochberg q-values, in the input order.

    ``q_(i) = min over j >= i of p_(j) * m / j`` for the p-values sorted ascending, capped at
    1; rejecting every hypothesis with ``q <= alpha`` controls the false discovery rate at
    ``alpha`` (for independent or positively dependent tests).
    """
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return [float(round(x, 12)) for x in q]


def acled_ratio(count: float, past_counts: Sequence[float], floor: float = 1.0) -> float:
    """This window's count over the mean of the past windows' counts (at least ``floor``).

    Example:
        >>> acled_ratio(12, [2, 3, 4, 3])
        4.0
    """
    mean = sum(past_counts) / len(past_counts) if len(past_counts) else 0.0
    return count / max(mean, floor)


def rate_ratio(count: float, volume: float, base_count: float, base_volume: float) -> float:
    """This window's rate over the baseline rate; a zero baseline counts as half a post."""
    if volume <= 0 or base_volume <= 0:
        return float("nan")
    return (count / volume) / (max(base_count, 0.5) / base_volume)


def rank_score(label: str, ratio_of_rates: float, q_value: float) -> float:
    """``weight(label) x log2(rate ratio) x min(-log10 q, 10)`` (0 when the rate fell)."""
    if not math.isfinite(ratio_of_rates) or ratio_of_rates <= 1.0:
        return 0.0
    significance = min(-math.log10(max(q_value, 1e-300)), _MAX_SIGNIFICANCE)
    return LABEL_WEIGHTS.get(label, 1.0) * math.log2(ratio_of_rates) * significance
