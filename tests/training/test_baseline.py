import numpy as np
import pandas as pd
import pytest

from training.baseline import BaselineConfig, cap_rows, fit_baseline


def test_baseline_config_round_trip_and_validation() -> None:
    config = BaselineConfig(c_grid=(2.0,), labels=("offensive",), version="x")
    assert BaselineConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown label"):
        BaselineConfig(labels=("toxicity",))
    with pytest.raises(ValueError, match="c_grid"):
        BaselineConfig(c_grid=())


def test_baseline_trains_each_label_only_on_known_rows(tiny_model, tiny_corpus) -> None:
    cfg = tiny_model.config
    assert cfg.scored_labels == ["offensive", "hate", "threat"]
    assert set(cfg.thresholds) == set(cfg.scored_labels)
    assert all(0.05 <= t <= 0.95 for t in cfg.thresholds.values())
    assert all(low <= cfg.thresholds[n] <= high for n, (low, high) in cfg.review_bands.items())
    assert cfg.weak_languages == ["ky", "kk", "uz", "other"]
    assert {s["name"] for s in cfg.data_sources} == set(tiny_corpus["source"])
    # hate is unknown for ru/tr rows: the hate head saw only en and ky rows
    n_hate_known = tiny_corpus.loc[tiny_corpus["split"] == "train", "hate"].notna().sum()
    assert n_hate_known < (tiny_corpus["split"] == "train").sum()


def test_label_with_too_few_positives_stays_null(tiny_corpus) -> None:
    config = BaselineConfig(char_features=2**10, word_features=2**8, c_grid=(1.0,),
                            min_positives=1000, version="t")
    with pytest.raises(ValueError, match="no label has enough positives"):
        fit_baseline(tiny_corpus, config)
    config.min_positives = 40  # offensive has ~150 train positives, threat and hate ~30
    model = fit_baseline(tiny_corpus, config)
    assert model.config.scored_labels == ["offensive"]
    assert np.isnan(model.predict_proba(["they are vermin"])[0, 1])


def test_cap_rows_is_deterministic_and_caps_only_capped_languages(tiny_corpus) -> None:
    train = tiny_corpus[tiny_corpus["split"] == "train"]
    capped = cap_rows(train, per_language=10)
    assert (capped["lang"] == "ky").sum() == 10
    assert (capped["lang"] == "en").sum() == (train["lang"] == "en").sum()
    shuffled = cap_rows(train.sample(frac=1.0, random_state=1), per_language=10)
    assert set(capped["id"]) == set(shuffled["id"])
    assert len(cap_rows(train, 10, max_rows=50)) == 50


def test_cap_rows_leaves_languages_with_real_positives_uncapped(tiny_corpus) -> None:
    train = tiny_corpus[tiny_corpus["split"] == "train"].copy()
    assert cap_rows(train, per_language=10)["lang"].eq("ky").sum() == 10
    # one real (collected, not capped) Kyrgyz positive lifts the Kyrgyz cap
    extra = train[train["lang"] == "en"].head(1).assign(
        lang="ky", capped=False, source="ky_youtube_hate", hate=1.0, id="real-ky")
    with_real = pd.concat([train, extra], ignore_index=True)
    assert cap_rows(with_real, per_language=10)["lang"].eq("ky").sum() == \
        with_real["lang"].eq("ky").sum()


def test_baseline_needs_all_splits(tiny_corpus) -> None:
    with pytest.raises(ValueError, match="no 'calib' rows"):
        fit_baseline(tiny_corpus[tiny_corpus["split"] != "calib"], BaselineConfig())


def test_baseline_reads_user_source_rows(tiny_corpus) -> None:
    rows = tiny_corpus.copy()
    rows["source"] = np.where(rows["lang"] == "en", "user:mine", rows["source"])
    rows["licence"] = np.where(rows["lang"] == "en", "user", rows["licence"])
    model = fit_baseline(rows, BaselineConfig(char_features=2**10, word_features=2**8,
                                              c_grid=(1.0,), min_positives=10, version="t"))
    assert {"name": "user:mine", "licence": "user"} in model.config.data_sources
    assert isinstance(pd.DataFrame(model.config.data_sources), pd.DataFrame)


def test_synthetic_positives_do_not_make_a_language_strong(tiny_corpus) -> None:
    from training.baseline import weak_languages

    rows = tiny_corpus.copy()
    ky = rows["lang"] == "ky"
    rows.loc[ky, "hate"] = 1.0
    rows.loc[ky, "source"] = "synthetic_ky"
    assert "ky" in weak_languages(rows, ["offensive", "hate", "threat"])
    rows.loc[ky, "source"] = "user:my_labels"
    assert "ky" not in weak_languages(rows, ["offensive", "hate", "threat"])
