"""Stacking members into an ensemble, on tiny baselines (no base model needed)."""

import json

import numpy as np
import pytest

from training.baseline import BaselineConfig, fit_baseline
from training.ensemble import EnsembleConfig, fit_ensemble
from warning import Classifier
from warning.labels import LABELS
from warning.models.classifier import ModelLoadError
from warning.models.ensemble import EnsembleClassifier


@pytest.fixture(scope="module")
def members(tiny_corpus):
    words = BaselineConfig(char_features=2**10, word_features=2**10, c_grid=(1.0,),
                           min_positives=10, capped_rows_per_language=100, version="test",
                           name="words-only")
    return {"chars": fit_baseline(tiny_corpus, BaselineConfig(
        char_features=2**12, word_features=2**8, c_grid=(4.0,), min_positives=10,
        capped_rows_per_language=100, version="test")), "words": fit_baseline(tiny_corpus, words)}


def test_ensemble_stacks_members_and_round_trips(members, tiny_corpus, tmp_path) -> None:
    model = fit_ensemble(members, tiny_corpus, EnsembleConfig(version="test",
                                                              min_language_positives=5))
    assert model.config.kind == "ensemble"
    assert set(model.config.scored_labels) == set(members["chars"].config.scored_labels)
    for label in model.config.scored_labels:
        entry = model.stack.weights[label]
        assert entry["members"] == ["chars", "words"] and len(entry["coef"]) == 2
    texts = ["you idiot go away", "the weather is calm today", "i will kill you all"]
    proba = model.predict_proba(texts)
    assert proba.shape == (3, len(LABELS))
    assert np.isnan(proba[:, LABELS.index("extremism")]).all()
    # the combined logit is exactly the stack over the members' raw logits
    raw = {n: m.raw_logits(texts) for n, m in members.items()}
    langs = model.languages(texts) if model.stack.by_language else None
    assert np.allclose(model.raw_logits(texts), model.combine(raw, langs))
    folder = model.save(tmp_path / "ensemble")
    assert (folder / "members" / "chars" / "config.json").is_file()
    loaded = Classifier.load(folder)
    assert isinstance(loaded, EnsembleClassifier)
    assert np.allclose(loaded.predict_proba(texts), proba, equal_nan=True)
    assert [p.flagged for p in loaded.score(texts)] == [p.flagged for p in model.score(texts)]


def test_ensemble_beats_or_matches_its_weaker_member_on_test(members, tiny_corpus) -> None:
    from training.evaluate import evaluate_corpus

    model = fit_ensemble(members, tiny_corpus, EnsembleConfig(version="test"))
    auc = {name: evaluate_corpus(m, tiny_corpus, n_boot=0)["overall"]["offensive"]["roc_auc"]
           for name, m in {**members, "ensemble": model}.items()}
    assert auc["ensemble"]["value"] >= min(auc["chars"]["value"], auc["words"]["value"]) - 0.02


def test_ensemble_folder_errors_are_clear(members, tiny_corpus, tmp_path) -> None:
    folder = fit_ensemble(members, tiny_corpus, EnsembleConfig(version="test")).save(
        tmp_path / "e")
    stack = json.loads((folder / "stack.json").read_text())
    stack["weights"]["offensive"]["members"] = ["chars", "gone"]
    (folder / "stack.json").write_text(json.dumps(stack))
    with pytest.raises(ModelLoadError, match="members/gone not found"):
        Classifier.load(folder)
    stack["weights"]["offensive"]["coef"] = [1.0]
    (folder / "stack.json").write_text(json.dumps(stack))
    with pytest.raises(ModelLoadError, match="one per member"):
        Classifier.load(folder)
    (folder / "stack.json").unlink()
    with pytest.raises(ModelLoadError, match=r"stack\.json not found"):
        Classifier.load(folder)
    with pytest.raises(ValueError, match="at least one member"):
        fit_ensemble({}, tiny_corpus)


def test_global_members_restrict_the_fallback_entry(members, tiny_corpus, tmp_path) -> None:
    model = fit_ensemble(members, tiny_corpus, EnsembleConfig(
        version="test", global_members=("chars",), min_language_positives=5))
    for label in model.config.scored_labels:
        assert model.stack.weights[label]["members"] == ["chars"]
    # languages with enough calib positives still combine both members
    assert any(entry["members"] == ["chars", "words"]
               for table in model.stack.by_language.values() for entry in table.values())
    # saved and loaded, it still has every member a language's stack names
    texts = ["you idiot go away", "погода сегодня хорошая", "bugün hava güzel aptal"]
    loaded = Classifier.load(model.save(tmp_path / "fallback"))
    assert set(loaded.members) == {"chars", "words"}
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    with pytest.raises(ValueError, match="not members"):
        fit_ensemble(members, tiny_corpus, EnsembleConfig(global_members=("gone",)))


def test_a_language_specialist_votes_only_in_its_language(members, tiny_corpus, tmp_path,
                                                          monkeypatch) -> None:
    specialist = fit_baseline(tiny_corpus, BaselineConfig(
        char_features=2**10, word_features=2**8, c_grid=(4.0,), min_positives=5,
        capped_rows_per_language=100, version="test", name="ru-only", languages=("ru",)))
    ru_train = ((tiny_corpus["split"] == "train") & (tiny_corpus["lang"] == "ru")).sum()
    assert specialist.config.training["train_rows"] == ru_train
    assert specialist.config.training["languages"] == ["ru"]
    model = fit_ensemble({**members, "ru_only": specialist}, tiny_corpus,
                         EnsembleConfig(version="test", min_language_positives=5))
    # never in the global entry (the fallback for every language), only in Russian's stack
    for entry in model.stack.weights.values():
        assert "ru_only" not in entry["members"]
    assert "ru_only" in model.stack.by_language["ru"]["offensive"]["members"]
    for lang, table in model.stack.by_language.items():
        if lang != "ru":
            assert all("ru_only" not in e["members"] for e in table.values())
    # scored only on the posts detected as Russian
    seen: list[str] = []
    original = specialist.raw_logits

    def spy(texts, langs=None, *, normalized=False):
        seen.extend(texts)
        return original(texts, normalized=normalized)

    monkeypatch.setattr(specialist, "raw_logits", spy)
    texts = ["you idiot go away", "ты идиот уходи отсюда", "bugün hava güzel"]
    langs = model.languages(texts)
    assert langs == ["en", "ru", "tr"]
    proba = model.predict_proba(texts)
    assert seen == ["ты идиот уходи отсюда"]
    raw = {n: m.raw_logits(texts) for n, m in members.items()} | {
        "ru_only": original(texts)}
    assert np.allclose(model.raw_logits(texts), model.combine(raw, langs))
    assert not np.isnan(proba[:, LABELS.index("offensive")]).any()
    loaded = Classifier.load(model.save(tmp_path / "with-specialist"))
    assert loaded.member_languages() == {"ru_only": {"ru"}}
    # the card says so beside the member
    from training.card import _specialist

    assert _specialist(loaded.config.training, "ru_only") == " (votes only on posts in ru)"
    assert _specialist(loaded.config.training, "chars") == ""
    np.testing.assert_allclose(loaded.predict_proba(texts), proba)
    with pytest.raises(ValueError, match="cannot be global members"):
        EnsembleConfig(global_members=("ru_only",), member_languages={"ru_only": ("ru",)})
    with pytest.raises(ValueError, match="needs one that votes in every language"):
        fit_ensemble({"ru_only": specialist}, tiny_corpus)


def test_a_specialist_config_names_known_languages(tiny_corpus) -> None:
    with pytest.raises(ValueError, match=r"unknown language\(s\) \['xx'\]"):
        BaselineConfig(languages=("xx",))
    with pytest.raises(ValueError, match="no 'train' rows in uz"):
        fit_baseline(tiny_corpus, BaselineConfig(languages=("uz",)))


def test_a_baseline_without_our_sentences_trains_on_collected_rows_only(tiny_corpus) -> None:
    corpus = tiny_corpus.copy()
    train = corpus.index[corpus["split"] == "train"]
    ours = train[::3]  # a third of the training rows, marked as our own written sentences
    corpus.loc[ours, "source"] = "synthetic_ru"
    settings = {"char_features": 2**10, "word_features": 2**8, "c_grid": (4.0,),
                "min_positives": 5, "capped_rows_per_language": 1000, "version": "test"}
    with_ours = fit_baseline(corpus, BaselineConfig(**settings))
    without = fit_baseline(corpus, BaselineConfig(**settings, synthetic=False))
    assert with_ours.config.training["train_rows"] == len(train)
    assert without.config.training["train_rows"] == len(train) - len(ours)
    assert without.config.training["synthetic"] is False


def test_ensemble_thresholds_from_collected_posts_ignore_our_sentences(members, tiny_corpus
                                                                       ) -> None:
    from training.calibration import fit_threshold
    from warning.models.calibration import Calibrator

    corpus = tiny_corpus.copy()
    calib = corpus.index[corpus["split"] == "calib"]
    corpus.loc[calib[::2], "source"] = "synthetic_ru"  # half of calib: our own sentences
    settings = {"version": "test", "min_language_positives": 10_000}  # global entries only
    plain = fit_ensemble(members, corpus, EnsembleConfig(**settings))
    real = fit_ensemble(members, corpus, EnsembleConfig(**settings, thresholds_from="collected",
                                                        min_real_positives=5))
    assert real.config.calibration == plain.config.calibration
    assert real.config.training["ensemble"]["thresholds_from"] == "collected"
    rows = corpus.loc[calib]
    z = plain.raw_logits(list(rows["text"]))
    collected = ~rows["source"].eq("synthetic_ru").to_numpy()
    for j, label in enumerate(real.config.scored_labels):
        y = rows[label].to_numpy(float)
        p = Calibrator.from_dict(plain.config.calibration[label]).transform(z[:, j])
        known = collected & ~np.isnan(y)
        assert real.config.thresholds[label] == pytest.approx(
            round(fit_threshold(p[known], y[known]), 4))
    with pytest.raises(ValueError, match="thresholds_from must be 'all' or 'collected'"):
        EnsembleConfig(thresholds_from="real")


def test_zero_shot_languages_are_decided_by_the_named_members_alone(members, tiny_corpus
                                                                    ) -> None:
    settings = {"version": "test", "min_language_positives": 10_000}  # no language stacks
    model = fit_ensemble(members, tiny_corpus, EnsembleConfig(
        **settings, zero_shot_languages=("tr",), zero_shot_members=("chars",)))
    plain = fit_ensemble(members, tiny_corpus, EnsembleConfig(**settings))
    assert set(model.stack.by_language) == {"tr"}
    for label in model.config.scored_labels:
        entry = model.stack.by_language["tr"][label]
        assert entry["members"] == ["chars"] and len(entry["coef"]) == 1
        assert model.stack.weights[label] == plain.stack.weights[label]  # global unchanged
    texts = ["sen aptalsın defol", "you idiot go away"]
    langs = ["tr", "en"]
    raw = {n: m.raw_logits(texts) for n, m in members.items()}
    combined = model.combine(raw, langs)
    for j, label in enumerate(model.config.scored_labels):
        entry = model.stack.by_language["tr"][label]
        column = members["chars"].config.scored_labels.index(label)
        assert combined[0, j] == pytest.approx(entry["coef"][0] * raw["chars"][0, column]
                                               + entry["bias"], rel=1e-5)
    assert np.allclose(combined[1], plain.combine(raw, langs)[1])  # English: the global entry
    with pytest.raises(ValueError, match=r"member\(s\) \['xlm'\] named in the settings"):
        fit_ensemble(members, tiny_corpus, EnsembleConfig(
            **settings, zero_shot_languages=("tr",), zero_shot_members=("xlm",)))
    with pytest.raises(ValueError, match="needs at least one zero_shot_members"):
        EnsembleConfig(zero_shot_languages=("uz",), zero_shot_members=())
    with pytest.raises(ValueError, match=r"unknown zero-shot language\(s\) \['uzbek'\]"):
        EnsembleConfig(zero_shot_languages=("uzbek",))


def test_ensemble_config_flags_name_every_setting_the_command_takes() -> None:
    config = EnsembleConfig(name="stack", version="2026.01.02", calib_rows=500,
                            global_members=("transformer",), thresholds_from="collected",
                            zero_shot_languages=("uz",))
    assert config.flags() == ["--name", "stack", "--version", "2026.01.02", "--calib-rows",
                              "500", "--global-member", "transformer", "--thresholds-from",
                              "collected", "--zero-shot-language", "uz"]
    other = EnsembleConfig(version="v", zero_shot_languages=("uz",), zero_shot_members=("b",))
    assert other.flags()[-4:] == ["--zero-shot-language", "uz", "--zero-shot-member", "b"]
    assert "--thresholds-from" not in EnsembleConfig(version="v").flags()


def test_ensemble_bootstrap_thresholds(members, tiny_corpus) -> None:
    from training.calibration import fit_threshold
    from warning.models.calibration import Calibrator

    settings = {"version": "test", "min_language_positives": 10_000}  # global entries only
    plain = fit_ensemble(members, tiny_corpus, EnsembleConfig(**settings))
    bagged = fit_ensemble(members, tiny_corpus, EnsembleConfig(**settings,
                                                               threshold_bootstrap=50))
    assert bagged.config.calibration == plain.config.calibration
    assert bagged.config.training["ensemble"]["threshold_bootstrap"] == 50
    rows = tiny_corpus[tiny_corpus["split"] == "calib"]
    z = plain.raw_logits(list(rows["text"]))
    for j, label in enumerate(bagged.config.scored_labels):
        y = rows[label].to_numpy(float)
        p = Calibrator.from_dict(plain.config.calibration[label]).transform(z[:, j])
        assert bagged.config.thresholds[label] == pytest.approx(
            round(fit_threshold(p, y, bootstrap=50), 4))
    assert EnsembleConfig(version="v", threshold_bootstrap=200).flags()[-2:] == [
        "--threshold-bootstrap", "200"]
    with pytest.raises(ValueError, match="threshold_bootstrap must be 0 or more"):
        EnsembleConfig(threshold_bootstrap=-5)


def test_calib_weak_labels_can_be_left_out(members, tiny_corpus) -> None:
    from training.ensemble import without_weak_labels

    corpus = tiny_corpus.copy()
    corpus["derived"] = None
    calib = corpus.index[(corpus["split"] == "calib") & corpus["hate"].notna()]
    weak = calib[::3]
    corpus.loc[weak, "hate"] = 1.0  # a rule's labels: every third calib row called hate
    corpus.loc[weak, "derived"] = "keyboard;weak:hate"
    settings = {"version": "test", "min_language_positives": 10_000}
    dropped = fit_ensemble(members, corpus, EnsembleConfig(**settings, weak_labels=False))
    human = corpus.copy()
    human.loc[weak, "hate"] = np.nan
    assert without_weak_labels(corpus)["hate"].equals(human["hate"])
    assert without_weak_labels(corpus)["offensive"].equals(corpus["offensive"])
    by_hand = fit_ensemble(members, human, EnsembleConfig(**settings))
    kept = fit_ensemble(members, corpus, EnsembleConfig(**settings))
    assert dropped.stack.weights == by_hand.stack.weights
    assert dropped.config.thresholds == by_hand.config.thresholds
    assert dropped.stack.weights["hate"] != kept.stack.weights["hate"]
    assert dropped.stack.weights["offensive"] == kept.stack.weights["offensive"]
    assert dropped.config.training["ensemble"]["weak_labels"] is False
    assert EnsembleConfig(version="v", weak_labels=False).flags()[-1] == "--no-weak-labels"
    assert "--no-weak-labels" not in EnsembleConfig(version="v").flags()
