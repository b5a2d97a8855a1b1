"""Thresholds where a label's positives are our own sentences: the false-alarm budget on
collected posts, and local calib rows (one language's own sentences) that fit only that
language's stack and calibration."""

import numpy as np
import pandas as pd
import pytest

from training.baseline import BaselineConfig, fit_baseline
from training.calibration import clean_budget_threshold, fit_label_calibration, fit_threshold
from training.ensemble import EnsembleConfig, fit_ensemble
from training.sources import LICENCE_CLASSES, local_rows, select_sources


@pytest.mark.parametrize(("scores", "share", "expected"), [
    ([0.1, 0.2, 0.3, 0.9], 0.25, 0.3001),   # one of four may be flagged: the 0.9
    ([0.1, 0.2, 0.3, 0.9], 0.0, 0.9001),    # none may be
    ([0.1, 0.2, 0.3, 0.9], 0.24, 0.9001),   # under one post of four: none
    ([], 0.02, 0.0),                        # no clean posts: no floor
])
def test_clean_budget_threshold_flags_at_most_the_share(scores, share, expected) -> None:
    threshold = clean_budget_threshold(np.array(scores), share)
    assert threshold == pytest.approx(expected)
    if scores:
        assert np.mean(np.array(scores) >= threshold) <= share
    with pytest.raises(ValueError, match=r"max_flagged must be in \[0, 1\)"):
        clean_budget_threshold(np.array(scores), 1.0)


def _calib(rng: np.random.Generator, collected_positives: int) -> tuple[pd.DataFrame, np.ndarray,
                                                                         np.ndarray]:
    """Our sentences (200 hateful scoring high, 200 clean scoring low) and 500 collected clean
    posts whose scores reach into the hateful range (as Uzbek reviews do), plus
    ``collected_positives`` collected hateful posts."""
    ours_pos, ours_neg = rng.normal(2.0, 1.0, 200), rng.normal(-3.0, 1.0, 200)
    clean, real_pos = rng.normal(-1.0, 1.5, 500), rng.normal(2.5, 1.0, collected_positives)
    z = np.concatenate([ours_pos, ours_neg, clean, real_pos])
    y = np.concatenate([np.ones(200), np.zeros(200), np.zeros(500), np.ones(len(real_pos))])
    real = np.concatenate([np.zeros(400, bool), np.ones(500 + len(real_pos), bool)])
    return pd.DataFrame({"hate": y}), z[:, None], real


def test_budget_raises_a_threshold_set_by_our_sentences_only() -> None:
    rng = np.random.default_rng(3)
    calib, z, real = _calib(rng, collected_positives=0)
    cal, plain, _ = fit_label_calibration(z, calib, ["hate"], real=real)
    _, budget, bands = fit_label_calibration(z, calib, ["hate"], real=real,
                                             max_clean_flagged=0.02)
    from warning.models.calibration import Calibrator

    p = Calibrator.from_dict(cal["hate"]).transform(z[:, 0])
    clean = real & (calib["hate"].to_numpy() == 0)
    assert np.mean(p[clean] >= plain["hate"]) > 0.05  # without: many clean posts flagged
    assert np.mean(p[clean] >= budget["hate"]) <= 0.02
    assert budget["hate"] > plain["hate"]
    low, high = bands["hate"]
    assert low <= budget["hate"] <= high


def test_budget_leaves_alone_a_label_that_collected_posts_decide() -> None:
    rng = np.random.default_rng(4)
    calib, z, real = _calib(rng, collected_positives=60)
    cal, plain, _ = fit_label_calibration(z, calib, ["hate"], real=real)
    _, budget, _ = fit_label_calibration(z, calib, ["hate"], real=real, max_clean_flagged=0.02)
    assert budget == plain
    from warning.models.calibration import Calibrator

    p = Calibrator.from_dict(cal["hate"]).transform(z[:, 0])
    assert plain["hate"] == pytest.approx(round(fit_threshold(p[real], calib["hate"][real]), 4))


def test_budget_settings_are_checked_and_named_in_the_command() -> None:
    with pytest.raises(ValueError, match="needs thresholds_from='collected'"):
        EnsembleConfig(max_clean_flagged=0.02)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        EnsembleConfig(thresholds_from="collected", max_clean_flagged=1.5)
    flags = EnsembleConfig(version="v", thresholds_from="collected",
                           max_clean_flagged=0.02).flags()
    assert flags[-2:] == ["--max-clean-flagged", "0.02"]


def test_uzbek_calib_sentences_are_opt_in() -> None:
    default = {s.name for s in select_sources(None, LICENCE_CLASSES, synthetic=True)}
    assert "synthetic_uz_calib" not in default
    added = {s.name for s in select_sources(None, LICENCE_CLASSES, synthetic=True,
                                            add=["synthetic_uz_calib"])}
    assert "synthetic_uz_calib" in added
    frame = pd.DataFrame({"source": ["synthetic_uz_calib", "synthetic_uz_calib;uz_reviews",
                                     "synthetic_ru"]})
    assert local_rows(frame).tolist() == [True, False, False]


@pytest.fixture(scope="module")
def member(tiny_corpus):
    return {"chars": fit_baseline(tiny_corpus, BaselineConfig(
        char_features=2**12, word_features=2**8, c_grid=(4.0,), min_positives=10,
        capped_rows_per_language=100, version="test"))}


def test_local_rows_fit_their_own_language_only(member, tiny_corpus, monkeypatch) -> None:
    """Our Uzbek sentences in calib give Uzbek its own stack and thresholds and change no
    global weight, no global threshold and no other language's entry; those that read as
    another language are left out."""
    import warning.text.lang as lang_module

    corpus = tiny_corpus.copy()
    english = corpus[(corpus["lang"] == "en") & corpus["hate"].notna()]
    local = english.copy()
    local["text"] = local["text"] + " uzlocal"
    local.loc[local.index[:6], "text"] += " strayrow"
    local["id"] = [f"uz{i:014x}" for i in range(len(local))]
    local["lang"], local["source"], local["split"] = "uz", "synthetic_uz_calib", "calib"
    with_local = pd.concat([corpus, local], ignore_index=True)
    real_detect = lang_module.detect_language

    def detect(text: str) -> str:
        if "strayrow" in text:
            return "tr"
        return "uz" if "uzlocal" in text else real_detect(text)

    monkeypatch.setattr(lang_module, "detect_language", detect)
    settings = {"version": "test", "min_language_positives": 5,
                "thresholds_from": "collected", "min_real_positives": 5}
    plain = fit_ensemble(member, corpus, EnsembleConfig(**settings))
    mixed = fit_ensemble(member, with_local, EnsembleConfig(**settings))
    assert mixed.stack.weights == plain.stack.weights
    assert mixed.config.thresholds == plain.config.thresholds
    assert mixed.config.calibration == plain.config.calibration
    assert "uz" in mixed.stack.by_language and "uz" not in plain.stack.by_language
    assert "uz" in mixed.config.by_language
    for lang, table in plain.stack.by_language.items():
        assert mixed.stack.by_language[lang] == table  # the stray rows joined no 'tr' entry
    assert mixed.config.training["calib_rows"] == plain.config.training["calib_rows"] + \
        len(local) - 6
