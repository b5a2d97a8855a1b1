import math

import numpy as np
import pytest

from warning.alerts.stats import (
    acled_ratio,
    benjamini_hochberg,
    rank_score,
    rate_ratio,
    surge_pvalue,
)


def _binomial_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


@pytest.mark.parametrize(("count", "volume", "base_count", "base_volume"), [
    (5, 100, 0, 400), (7, 50, 10, 200), (1, 10, 1, 10), (30, 200, 40, 800), (3, 1, 2, 1),
    (12, 500, 12, 2000), (60, 60, 0, 240),
])
def test_surge_pvalue_is_the_conditional_binomial_tail(count, volume, base_count,
                                                       base_volume) -> None:
    expected = _binomial_tail(count, count + base_count, volume / (volume + base_volume))
    assert surge_pvalue(count, volume, base_count, base_volume) == pytest.approx(expected,
                                                                                rel=1e-9)


def test_surge_pvalue_known_values_and_edges() -> None:
    assert surge_pvalue(5, 100, 0, 400) == pytest.approx(0.2**5)
    assert surge_pvalue(1, 1, 0, 1) == pytest.approx(0.5)
    assert surge_pvalue(0, 100, 5, 400) == 1.0      # nothing flagged
    assert surge_pvalue(5, 100, 5, 0) == 1.0        # no baseline: nothing to compare with
    assert surge_pvalue(5, 0, 5, 100) == 1.0
    # a whole count and the expected counts around it are ordered
    assert surge_pvalue(5.5, 100, 4, 400) < surge_pvalue(5, 100, 4, 400) < \
        surge_pvalue(4.5, 100, 4, 400)
    arrays = surge_pvalue(np.array([5, 0]), np.array([100, 100]), np.array([0, 1]),
                          np.array([400, 400]))
    assert arrays.shape == (2,) and arrays[1] == 1.0


def test_surge_pvalue_volume_rise_at_a_constant_rate_is_not_a_surge() -> None:
    # baseline: 4 windows x 100 posts at 5%; now 300 posts at 5%: three times the count
    p = surge_pvalue(15, 300, 20, 400)
    assert p > 0.3
    assert surge_pvalue(15, 100, 20, 400) < 0.01  # the same count from a third of the posts


def test_surge_pvalue_holds_its_level_under_no_change() -> None:
    rng = np.random.default_rng(3)
    n, m, rate = 150, 600, 0.04
    current = rng.binomial(n, rate, size=20_000)
    baseline = rng.binomial(m, rate, size=20_000)
    p = surge_pvalue(current, n, baseline, m)
    assert np.mean(p <= 0.05) <= 0.05
    assert np.mean(p <= 0.01) <= 0.01


def test_surge_benjamini_hochberg_known_values() -> None:
    assert benjamini_hochberg([0.005, 0.01, 0.03, 0.04, 0.2]) == pytest.approx(
        [0.025, 0.025, 0.05, 0.05, 0.2])
    assert benjamini_hochberg([0.2, 0.005, 0.04, 0.01, 0.03]) == pytest.approx(
        [0.2, 0.025, 0.05, 0.025, 0.05])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])
    assert benjamini_hochberg([0.6] * 3) == pytest.approx([0.6] * 3)
    assert benjamini_hochberg([]) == []
    assert max(benjamini_hochberg([0.5, 0.99, 0.7])) <= 1.0


def test_surge_acled_ratio_rate_ratio_and_score() -> None:
    assert acled_ratio(12, [2, 3, 4, 3]) == 4.0
    assert acled_ratio(3, [0, 0, 0, 0]) == 3.0          # the noise floor: a mean of at least 1
    assert rate_ratio(30, 100, 20, 400) == pytest.approx(6.0)
    assert rate_ratio(5, 100, 0, 400) == pytest.approx(40.0)  # zero baseline = half a post
    assert math.isnan(rate_ratio(5, 100, 3, 0))
    assert rank_score("threat", 4.0, 1e-3) == pytest.approx(3 * 2 * 3)
    assert rank_score("offensive", 4.0, 1e-3) == pytest.approx(2 * 3)
    assert rank_score("hate", 0.5, 1e-9) == 0.0
    assert rank_score("hate", 2.0, 0.0) == pytest.approx(2 * 1 * 10)  # capped significance
