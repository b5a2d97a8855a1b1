import numpy as np
import pandas as pd
import pytest

from training.calibration import (
    fit_calibrator,
    fit_label_calibration,
    fit_language_calibration,
    fit_review_band,
    fit_threshold,
)
from warning.labels import LABELS
from warning.models.calibration import Calibrator, logit, sigmoid


def _synthetic(slope: float, intercept: float, n: int = 50_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    y = (rng.random(n) < sigmoid(slope * z + intercept)).astype(float)
    return z, y


def test_platt_recovers_the_generating_slope_and_intercept() -> None:
    z, y = _synthetic(0.5, -1.0)
    cal = fit_calibrator(z, y, "platt")
    assert cal.method == "platt"
    assert cal.slope == pytest.approx(0.5, abs=0.03)
    assert cal.intercept == pytest.approx(-1.0, abs=0.05)


def test_temperature_recovers_the_generating_temperature() -> None:
    z, y = _synthetic(0.25, 0.0)
    cal = fit_calibrator(z, y, "temperature")
    assert cal.method == "temperature" and cal.intercept == 0.0
    assert 1 / cal.slope == pytest.approx(4.0, rel=0.08)


def test_calibration_ignores_unknown_rows_and_needs_both_classes() -> None:
    z, y = _synthetic(1.0, 0.0, n=2000)
    y_masked = y.copy()
    y_masked[:500] = np.nan
    fit_calibrator(z, y_masked)
    with pytest.raises(ValueError, match="both positives and negatives"):
        fit_calibrator(z, np.zeros_like(z))


def test_calibrator_round_trip_and_prior_shift() -> None:
    cal = Calibrator(0.5, -1.0, "platt")
    assert Calibrator.from_dict(cal.to_dict()) == cal
    shifted = Calibrator(1.0, 0.0, "identity", prior_shift=float(np.log(0.1 / 0.9)))
    assert shifted.transform(np.array([0.0]))[0] == pytest.approx(0.1)
    assert logit(sigmoid(np.array([2.0])))[0] == pytest.approx(2.0)


def test_threshold_maximises_f1_on_a_hand_case() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.65, 0.3, 0.2, 0.1, 0.35])
    # cut at 0.7: tp 3 fp 0 fn 1 -> F1 6/7; cut at 0.35: tp 4 fp 1 -> F1 8/9 (best)
    assert fit_threshold(p, y) == pytest.approx(0.35)


def test_threshold_is_clipped() -> None:
    y = np.array([1, 0, 0])
    p = np.array([0.99, 0.01, 0.02])
    assert fit_threshold(p, y, bounds=(0.05, 0.95)) == pytest.approx(0.95)


def test_review_band_surrounds_the_threshold() -> None:
    z, y = _synthetic(1.0, -1.0, n=20_000, seed=4)
    p = sigmoid(z - 1.0)
    t = fit_threshold(p, y)
    low, high = fit_review_band(p, y, t)
    assert low <= t <= high
    assert high - t <= 0.25 + 1e-4 and t - low <= 0.25 + 1e-4  # bands are rounded to 4 places
    # below low lie at most ~10% of the positives
    assert (p[y == 1] < low).mean() <= 0.1 + 1e-3


def test_language_calibration_only_where_calib_has_enough_positives() -> None:
    rng = np.random.default_rng(3)
    n = 600
    langs = ["ru"] * 300 + ["kk"] * 200 + ["tr"] * 100
    y = np.r_[rng.random(300) < 0.3, np.zeros(200), rng.random(100) < 0.1].astype(float)
    z = np.where(y == 1, 2.0, -2.0) + rng.normal(0, 1.5, n)
    z[:300] += 1.0  # Russian logits run high: its own calibration should absorb the shift
    calib = pd.DataFrame({"hate": y, "threat": np.full(n, np.nan)})
    logits = np.c_[z, np.zeros(n)]
    out = fit_language_calibration(logits, calib, ["hate", "threat"], langs,
                                   min_positives=30, min_negatives=30)
    # kk has no positives and tr too few: both keep the global fit, never a "clean" one
    assert set(out) == {"ru"}
    assert set(out["ru"]["calibration"]) == {"hate"}
    ru = fit_calibrator(z[:300], y[:300])  # fitted on the Russian rows alone
    assert out["ru"]["calibration"]["hate"]["slope"] == pytest.approx(ru.slope)
    assert out["ru"]["calibration"]["hate"]["intercept"] == pytest.approx(ru.intercept)
    assert 0.05 <= out["ru"]["thresholds"]["hate"] <= 0.95
    with pytest.raises(ValueError, match="languages"):
        fit_language_calibration(logits, calib, ["hate"], langs[:10])


def test_thresholds_come_from_collected_rows_where_they_hold_enough_of_each_class() -> None:
    # Our written sentences sit far from the boundary (easy to score), real posts near it: the
    # F1-best cut over all rows is not the one real posts need.
    rng = np.random.default_rng(5)
    n_real, n_ours = 400, 400
    y_real = (rng.random(n_real) < 0.25).astype(float)
    z_real = np.where(y_real == 1, 0.5, -1.0) + rng.normal(0, 1.0, n_real)
    y_ours = (rng.random(n_ours) < 0.5).astype(float)
    z_ours = np.where(y_ours == 1, 4.0, -4.0) + rng.normal(0, 0.5, n_ours)
    z, y = np.r_[z_real, z_ours], np.r_[y_real, y_ours]
    real = np.r_[np.ones(n_real, bool), np.zeros(n_ours, bool)]
    calib = pd.DataFrame({"hate": y})
    cal_all, thr_all, _ = fit_label_calibration(z[:, None], calib, ["hate"])
    cal_real, thr_real, bands = fit_label_calibration(z[:, None], calib, ["hate"], real=real)
    assert cal_real == cal_all  # the calibrator still sees every row
    p = Calibrator.from_dict(cal_all["hate"]).transform(z)
    assert thr_real["hate"] == pytest.approx(round(fit_threshold(p[real], y[real]), 4))
    assert thr_real["hate"] != thr_all["hate"]
    assert bands["hate"][0] <= thr_real["hate"] <= bands["hate"][1]
    # too few collected positives: every row decides, as without the mask
    few = real & ((y == 0) | (np.cumsum(real & (y == 1)) <= 19))
    keep = few | ~real
    _, thr_few, _ = fit_label_calibration(z[keep, None], calib[keep], ["hate"],
                                          real=real[keep], min_real=20)
    _, thr_plain, _ = fit_label_calibration(z[keep, None], calib[keep], ["hate"])
    assert thr_few == thr_plain
    # per language, the mask is cut with the language's rows: interleave a second language
    # whose rows are all ours, so an uncut mask would pick the wrong rows
    langs2 = np.array(["ky", "ru"] * len(z), dtype=object)
    z2, y2 = np.repeat(z, 2), np.repeat(y, 2)
    z2[1::2], y2[1::2] = z_ours.repeat(2)[: len(z)], y_ours.repeat(2)[: len(z)]
    real2 = np.repeat(real, 2)
    real2[1::2] = False
    out = fit_language_calibration(z2[:, None], pd.DataFrame({"hate": y2}), ["hate"],
                                   list(langs2), real=real2)
    ky = Calibrator.from_dict(out["ky"]["calibration"]["hate"]).transform(z)
    assert out["ky"]["thresholds"]["hate"] == pytest.approx(
        round(fit_threshold(ky[real], y[real]), 4))
    with pytest.raises(ValueError, match="mask of 3 rows"):
        fit_label_calibration(z[:, None], calib, ["hate"], real=real[:3])


def test_model_applies_calibration_and_thresholds_per_language(tiny_model) -> None:
    from warning.models.calibration import Calibrator
    from warning.models.classifier import ModelConfig, ModelLoadError

    texts = ["you idiot, go away", "сен акмак, кет"]
    langs = ["en", "ky"]
    before = tiny_model.predict_proba(texts, langs=langs)
    config = tiny_model.config
    config.by_language = {"ky": {"calibration": {"offensive": Calibrator(0.0, 5.0).to_dict()},
                                 "thresholds": {"offensive": 0.999},
                                 "review_bands": {"offensive": [0.9, 0.999]}}}
    model = type(tiny_model)(config, tiny_model.features, tiny_model.heads)
    after = model.predict_proba(texts, langs=langs)
    off = LABELS.index("offensive")
    assert after[0, off] == pytest.approx(before[0, off])      # English: global calibration
    assert after[1, off] == pytest.approx(1 / (1 + np.exp(-5)))  # Kyrgyz: its own
    assert model.thresholds_for("ky")["offensive"] == 0.999
    assert model.thresholds_for("en") == config.thresholds
    matrix = model.threshold_matrix(langs, 2)
    assert matrix[1, off] == 0.999 and matrix[0, off] == config.thresholds["offensive"]
    assert np.isnan(matrix[0, LABELS.index("extremism")])
    bad = config.to_dict()
    bad["by_language"] = {"ky": {"calibration": {"offensive": {}}, "thresholds": {}}}
    with pytest.raises(ModelLoadError, match="by_language"):
        ModelConfig.from_dict(bad)


def _few_positives(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose F1 is nearly flat over a wide range of thresholds: 15% positives, the
    classes' score distributions overlapping."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(float)
    p = sigmoid(rng.normal(np.where(y == 1, 1.0, -1.5), 1.2))
    return p, y


def test_bootstrap_threshold_is_steadier_on_few_positives() -> None:
    # fits on 40 small samples, judged by the F1 their thresholds give on the population
    p_all, y_all = _few_positives(200_000, seed=99)

    def population_f1(threshold: float) -> float:
        flagged = p_all >= threshold
        return 2 * (flagged & (y_all == 1)).sum() / (flagged.sum() + y_all.sum())

    plain, bagged = [], []
    for seed in range(40):
        p, y = _few_positives(300, seed)  # about 45 positives, as Kyrgyz calib has
        plain.append(fit_threshold(p, y))
        bagged.append(fit_threshold(p, y, bootstrap=200))
    assert np.std(bagged) < 0.9 * np.std(plain)
    f1_plain = [population_f1(t) for t in plain]
    f1_bagged = [population_f1(t) for t in bagged]
    assert np.mean(f1_bagged) > np.mean(f1_plain)
    assert min(f1_bagged) > min(f1_plain)


def test_bootstrap_threshold_is_reproducible_and_checked() -> None:
    p, y = _few_positives(300, seed=1)
    assert fit_threshold(p, y, bootstrap=50, seed=3) == fit_threshold(p, y, bootstrap=50, seed=3)
    assert fit_threshold(p, y, bootstrap=0) == fit_threshold(p, y)
    with pytest.raises(ValueError, match="bootstrap must be 0 or more"):
        fit_threshold(p, y, bootstrap=-1)


def test_label_calibration_passes_the_bootstrap_on() -> None:
    p, y = _few_positives(400, seed=2)
    calib = pd.DataFrame({"hate": y})
    z = logit(p)[:, None]
    _, plain, _ = fit_label_calibration(z, calib, ["hate"])
    _, bagged, _ = fit_label_calibration(z, calib, ["hate"], threshold_bootstrap=100)
    cal = fit_calibrator(z[:, 0], y)
    assert bagged["hate"] == pytest.approx(
        round(fit_threshold(cal.transform(z[:, 0]), y, bootstrap=100), 4))
    assert plain["hate"] == pytest.approx(round(fit_threshold(cal.transform(z[:, 0]), y), 4))
