import json
import shutil

import numpy as np
import pytest

from warning import Classifier
from warning.labels import LABELS
from warning.models.classifier import ModelConfig, ModelLoadError, ModelVersionWarning


def test_classifier_predict_proba_shape_and_null_columns(tiny_model) -> None:
    proba = tiny_model.predict_proba(["you stupid idiot", "the market opens at nine"])
    assert proba.shape == (2, len(LABELS))
    assert np.isnan(proba[:, LABELS.index("extremism")]).all()
    scored = [LABELS.index(n) for n in tiny_model.config.scored_labels]
    assert ((proba[:, scored] >= 0) & (proba[:, scored] <= 1)).all()


def test_classifier_shape_does_not_depend_on_one_or_many(tiny_model) -> None:
    one = tiny_model.predict_proba("you stupid idiot")
    many = tiny_model.predict_proba(["you stupid idiot"])
    assert one.shape == many.shape == (1, len(LABELS))
    np.testing.assert_allclose(one, many)
    assert tiny_model.predict_proba([]).shape == (0, len(LABELS))


def test_classifier_learns_the_keywords(tiny_model) -> None:
    flags = tiny_model.predict(["you stupid idiot moron", "they are vermin parasites",
                                "we will kill and burn", "the market opens at nine"])
    off, hate, threat = (LABELS.index(n) for n in ("offensive", "hate", "threat"))
    assert flags[0, off] and flags[1, hate] and flags[2, threat]
    assert not flags[3].any()
    assert not flags[:, LABELS.index("extremism")].any()  # null labels are never flagged


def test_classifier_long_text_scored_as_max_over_windows(tiny_model) -> None:
    filler = " ".join(["the market opens at nine"] * 60)  # 300 words
    long_text = filler + " we will kill and burn them"
    windows = tiny_model.windows(long_text)
    assert len(windows) > 3
    threat = LABELS.index("threat")
    per_window = tiny_model.predict_proba(windows)[:, threat]
    p_long = tiny_model.predict_proba([long_text])[0, threat]
    assert p_long == pytest.approx(per_window.max())
    # scored as one bag of words, the threat drowns in the filler
    tiny_model.config.window_words = tiny_model.config.window_stride = 10_000
    assert tiny_model.predict_proba([long_text])[0, threat] < p_long


def test_classifier_windows_cover_the_whole_text(tiny_model) -> None:
    words = [f"w{i}" for i in range(200)]
    windows = tiny_model.windows(" ".join(words))
    covered = {w for window in windows for w in window.split()}
    assert covered == set(words)
    assert all(len(w.split()) <= tiny_model.config.window_words for w in windows)


def test_score_keeps_order_and_reports_errors(tiny_model) -> None:
    texts = ["you stupid idiot", "", "x" * (tiny_model.config.max_chars + 1), None,
             "Өзбектер кетсин", "   "]
    posts = tiny_model.score(texts)  # type: ignore[arg-type]
    assert len(posts) == len(texts)
    assert posts[0].error is None and "offensive" in posts[0].flagged
    assert posts[1].error == "empty text"
    assert "characters; the limit" in posts[2].error
    assert "must be a string" in posts[3].error
    assert posts[4].error is None and posts[4].targets == ["uzbek"] and posts[4].lang == "ky"
    assert posts[5].error == "empty text"
    for post in posts:
        record = json.loads(json.dumps(post.to_dict()))
        assert record["scores"]["extremism"] is None
        assert record["model"] == tiny_model.name


def test_score_risk_and_review(tiny_model) -> None:
    posts = tiny_model.score(["we will kill and burn", "the market opens at nine",
                              "Бүгүн Ошко барам"])
    assert posts[0].risk == "high"
    assert posts[1].risk == "none"
    assert posts[2].review is True  # Kyrgyz is a weak language of this model
    assert "ky" in tiny_model.config.weak_languages


def test_save_load_round_trip(tiny_model, tmp_path) -> None:
    texts = ["you stupid idiot", "they are vermin", "the market opens at nine"]
    folder = tiny_model.save(tmp_path / "m")
    loaded = Classifier.load(folder)
    np.testing.assert_array_equal(loaded.predict_proba(texts), tiny_model.predict_proba(texts))
    assert loaded.config == tiny_model.config
    assert (folder / "config.json").is_file() and (folder / "model.skops").is_file()


def test_load_errors_are_clear(tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        Classifier.load(tmp_path / "nothing")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.skops").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.skops not found"):
        Classifier.load(broken)
    config = json.loads((broken / "config.json").read_text())
    config["kind"] = "magic"
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="unknown model kind"):
        Classifier.load(broken)
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        Classifier.load(broken)


def test_load_refuses_untrusted_types(tiny_model, tmp_path) -> None:
    import collections
    import zipfile

    import skops.io as sio

    folder = tiny_model.save(tmp_path / "tampered")
    sio.dump({"features": tiny_model.features, "heads": tiny_model.heads,
              "payload": collections.Counter(a=1)}, folder / "model.skops",
             compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ModelLoadError, match=r"outside the trusted list: \['collections.Counter'"):
        Classifier.load(folder)


def test_load_warns_on_library_version_mismatch(tiny_model_dir) -> None:
    config = json.loads((tiny_model_dir / "config.json").read_text())
    config["library_versions"]["scikit-learn"] = "0.0.1"
    (tiny_model_dir / "config.json").write_text(json.dumps(config))
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.0.1"):
        Classifier.load(tiny_model_dir)


def test_model_config_validates(tiny_model) -> None:
    data = tiny_model.config.to_dict()
    data["labels"] = ["offensive"]
    with pytest.raises(ModelLoadError, match="differ"):
        ModelConfig.from_dict(data)
    data = tiny_model.config.to_dict()
    data["thresholds"] = {}
    with pytest.raises(ModelLoadError, match="lacks thresholds"):
        ModelConfig.from_dict(data)


def test_shipped_baseline_scores_the_obvious_cases() -> None:
    from warning.settings import repo_root

    model = Classifier.load(repo_root() / "models" / "baseline")
    posts = model.score(["Ты тупой идиот", "Бүгүн күн ачык", "Thanks for the help"])
    assert [p.lang for p in posts] == ["ru", "ky", "en"]
    assert posts[0].flagged == ["offensive"]
    assert posts[1].flagged == [] and posts[2].flagged == []


def test_default_model_is_the_shipped_transformer(base_model_dir) -> None:
    from warning.models.classifier import default_model_path

    assert default_model_path().name == "default", "models/default is not shipped"
    model = Classifier.load()
    assert model.config.kind in ("transformer", "ensemble")
    posts = model.score([
        "Ты тупой идиот",                                  # insult, not hate
        "узбеки тут лишние, гнать их всех из города",        # ethnic hate (ru)
        "Бул кытайларды өлтүрүш керек, баарын",              # threat against a group (ky)
        "Бүгүн күн ачык, балдар менен сейилдеп келдик",      # neutral (ky)
        "Thanks for the help yesterday",                   # neutral (en)
    ])
    assert "offensive" in posts[0].flagged and "hate" not in posts[0].flagged
    assert "hate" in posts[1].flagged or "threat" in posts[1].flagged
    assert "hate" in posts[2].flagged or "threat" in posts[2].flagged
    assert posts[3].flagged == [] and posts[4].flagged == []
    assert posts[1].scores["extremism"] is None


def test_score_of_normalised_text_equals_score_of_raw_text(tiny_model) -> None:
    from warning.text.normalize import normalize

    raw = ["RT @bob: you stupid idiot &amp; https://t.co/x", "Өзбектерге жана мигранттарга",
           "they are vermin parasites!!!!!!", "the market opens at nine", "   "]
    clean = [normalize(t) for t in raw]
    one = [p.to_dict() for p in tiny_model.score(raw)]
    other = [p.to_dict() for p in tiny_model.score(clean, normalized=True)]
    assert one == other
    assert one[-1]["error"] == "empty text"


def test_score_normalises_each_post_once(tiny_model, monkeypatch) -> None:
    import importlib

    classifier_module = importlib.import_module("warning.models.classifier")
    normalize_module = importlib.import_module("warning.text.normalize")
    calls = []
    original = normalize_module.normalize

    def counting(text: str) -> str:
        calls.append(text)
        return original(text)

    monkeypatch.setattr(normalize_module, "normalize", counting)  # what fold() calls
    monkeypatch.setattr(classifier_module, "normalize", counting)
    texts = ["you stupid idiot", "Өзбектерге жана мигранттарга", "the market opens at nine"]
    tiny_model.score(texts)
    assert sorted(calls) == sorted(texts)
