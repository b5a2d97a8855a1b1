import numpy as np
import pytest

from warning import Classifier
from warning.models.hashed_linear import NotCompilable, compile_pipeline
from warning.text.normalize import fold

TEXTS = [
    "you stupid idiot", "they are vermin parasites", "we will kill and burn",
    "the market opens at nine", "", "   ", "!!! ??? ...", "a", "ab", "abc abcd abcde abcdef",
    "Ты идиот, ТЫ ИДИОТ", "Бүгүн күн ачык, өзбектер жана кыргыздар", "İstanbul'da hava çok güzel",
    "Сәлеметсіз бе, бүгін жиналыс бола ма?", "o'zbek tili va qirg'iz tili", "🙂🙂 emoji only 🙂",
    "word word word word word", "tab\tand\nnewline  and   spaces", "日本語のテキスト",
    " ".join(f"w{i}" for i in range(300)), "kill " * 40,
]


def _sklearn_decision(features, heads, docs: list[str]) -> np.ndarray:
    matrix = features.transform(docs)
    return np.column_stack([head.decision_function(matrix) for head in heads])


def test_hashed_linear_equals_the_sklearn_pipeline(tiny_model) -> None:
    docs = [fold(t) for t in TEXTS]
    fast = compile_pipeline(tiny_model.features, tiny_model.heads)
    expected = _sklearn_decision(tiny_model.features, tiny_model.heads, docs)
    np.testing.assert_allclose(fast.decision(docs), expected, rtol=0, atol=1e-10)
    # a second pass reads the per-word cache: the same numbers
    np.testing.assert_allclose(fast.decision(docs[::-1]), expected[::-1], rtol=0, atol=1e-10)


def test_hashed_linear_survives_a_full_cache(tiny_model) -> None:
    fast = compile_pipeline(tiny_model.features, tiny_model.heads)
    for branch in fast.branches:
        branch.cache_size = 3
    docs = [fold(t) for t in TEXTS]
    expected = _sklearn_decision(tiny_model.features, tiny_model.heads, docs)
    np.testing.assert_allclose(fast.decision(docs), expected, rtol=0, atol=1e-10)


def test_hashed_linear_save_and_load_round_trip(tiny_model, tmp_path) -> None:
    from warning.models.hashed_linear import HashedLinear

    fast = compile_pipeline(tiny_model.features, tiny_model.heads)
    fast.save(tmp_path / "compiled")
    again = HashedLinear.load(tmp_path / "compiled")
    docs = [fold(t) for t in TEXTS]
    np.testing.assert_allclose(again.decision(docs), fast.decision(docs), rtol=0, atol=1e-12)
    (tmp_path / "compiled" / "spec.json").write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(NotCompilable, match="format 99"):
        HashedLinear.load(tmp_path / "compiled")


@pytest.mark.parametrize(("step", "setting", "message"), [
    ("hash", {"analyzer": "char"}, "analyzer='char'"),
    ("hash", {"alternate_sign": True}, "alternate_sign"),
    ("hash", {"lowercase": True}, "lowercase"),
    ("tfidf", {"norm": "l1"}, "tfidf norm='l1'"),
])
def test_hashed_linear_refuses_pipelines_it_does_not_reproduce(tiny_model, step, setting,
                                                               message) -> None:
    import copy

    features = copy.deepcopy(tiny_model.features)
    branch = features.named_steps["union"].transformer_list[0][1]
    branch.named_steps[step].set_params(**setting)
    with pytest.raises(NotCompilable, match=message):
        compile_pipeline(features, tiny_model.heads)


def test_hashed_linear_refuses_a_head_that_is_not_linear(tiny_model) -> None:
    from sklearn.tree import DecisionTreeClassifier

    with pytest.raises(NotCompilable, match="DecisionTreeClassifier"):
        compile_pipeline(tiny_model.features, [DecisionTreeClassifier()] * 3)


def test_baseline_loads_from_the_compiled_cache_with_the_same_scores(tiny_model_dir, tmp_path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("WARNING_CACHE_DIR", str(tmp_path / "cache"))
    first = Classifier.load(tiny_model_dir)  # through skops; stores the compiled arrays
    assert first.fast is not None and list((tmp_path / "cache" / "baseline").iterdir())
    second = Classifier.load(tiny_model_dir)  # from the cache: no skops, no scikit-learn
    assert second._features is None
    np.testing.assert_allclose(second.predict_proba(TEXTS), first.predict_proba(TEXTS),
                               rtol=0, atol=1e-12)
    # the scikit-learn objects are still there when asked for (read from the folder)
    assert len(second.heads) == len(second.config.scored_labels)
    docs = [fold(t) for t in TEXTS]
    np.testing.assert_allclose(second.fast.decision(docs),
                               _sklearn_decision(second.features, second.heads, docs),
                               rtol=0, atol=1e-10)


def test_baseline_retrained_in_the_same_folder_does_not_read_the_old_cache(
        tiny_model, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WARNING_CACHE_DIR", str(tmp_path / "cache"))
    folder = tiny_model.save(tmp_path / "model")
    before = Classifier.load(folder).predict_proba(TEXTS)
    for head in tiny_model.heads:
        head.coef_ = head.coef_ * 2.0
    tiny_model.save(folder)
    after = Classifier.load(folder).predict_proba(TEXTS)
    assert not np.allclose(before, after)


def test_baseline_scores_through_sklearn_when_the_pipeline_cannot_be_compiled(tiny_model) -> None:
    import copy

    features = copy.deepcopy(tiny_model.features)
    branch = features.named_steps["union"].transformer_list[1][1]
    branch.named_steps["hash"].set_params(binary=True)
    model = type(tiny_model)(tiny_model.config, features, tiny_model.heads)
    assert model.fast is None
    assert model.predict_proba(TEXTS).shape == (len(TEXTS), 4)


@pytest.mark.slow
def test_hashed_linear_equals_sklearn_on_the_shipped_baseline() -> None:
    from warning.models.baseline import _read_skops
    from warning.settings import repo_root

    state = _read_skops(repo_root() / "models" / "baseline" / "model.skops")
    fast = compile_pipeline(state["features"], state["heads"])
    docs = [fold(t) for t in TEXTS]
    np.testing.assert_allclose(fast.decision(docs),
                               _sklearn_decision(state["features"], state["heads"], docs),
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("ngram_range", [(1, 1), (2, 5), (3, 3), (1, 8), (4, 6)])
def test_char_wb_ngrams_are_scikit_learns_and_hash_to_its_columns(ngram_range) -> None:
    from collections import Counter

    from sklearn.feature_extraction import FeatureHasher
    from sklearn.feature_extraction.text import HashingVectorizer

    from warning.models.hashed_linear import _char_wb_ngrams, _hash_columns

    analyzer = HashingVectorizer(analyzer="char_wb", ngram_range=ngram_range,
                                 lowercase=False).build_analyzer()
    words = ["a", "ab", "abc", "abcd", "абвгдеёж", "ğüşiöç", "🙂x", "x" * 12]
    for word in words:
        assert Counter(_char_wb_ngrams(word, *ngram_range)) == Counter(analyzer(word)), word
    grams = [g for w in words for g in _char_wb_ngrams(w, *ngram_range)]
    hasher = FeatureHasher(n_features=2**10, input_type="string", alternate_sign=False)
    expected = hasher.transform([[g] for g in grams]).indices
    assert _hash_columns(grams, 2**10).tolist() == expected.tolist()


def test_a_lone_surrogate_scores_as_a_replacement_character(tiny_model) -> None:
    """mmh3 crashes the process on a lone surrogate (half an emoji from a JSON escape):
    ``normalize`` replaces it, and the compiled path hashes it as U+FFFD if one gets through."""
    from warning.models.hashed_linear import _char_wb_columns, _hash_columns

    fast = compile_pipeline(tiny_model.features, tiny_model.heads)
    broken, fixed = "ok \ud83d kill zz\udc00 them", "ok \ufffd kill zz\ufffd them"
    np.testing.assert_allclose(fast.decision([broken]), fast.decision([fixed]), atol=1e-12)
    assert _hash_columns(["a\ud800"], 2**10).tolist() == _hash_columns(["a\ufffd"], 2**10).tolist()
    with pytest.raises(UnicodeEncodeError):
        _char_wb_columns(["a\ud800"], 2, 5, 2**10)  # the array path refuses; _learn falls back
    proba = tiny_model.predict_proba([broken])
    assert np.isfinite(proba[:, :3]).all()


def test_char_wb_columns_on_arrays_equal_the_per_string_path() -> None:
    from warning.models.hashed_linear import _char_wb_columns, _char_wb_ngrams, _hash_columns

    words = ["a", "ab", "абвгдеёж", "ğüşiöç", "🙂x", "x" * 40, "中文字", "o'zbek", "ﬁ", "ß"]
    for ngram_range in [(1, 1), (2, 5), (3, 3), (1, 8), (2, 2)]:
        columns, per_word = _char_wb_columns(words, *ngram_range, 2**18)
        ends = np.cumsum(per_word)
        for i, word in enumerate(words):
            mine = sorted(columns[ends[i] - per_word[i]:ends[i]].tolist())
            expected = sorted(_hash_columns(_char_wb_ngrams(word, *ngram_range), 2**18).tolist())
            assert mine == expected, (word, ngram_range)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 3), (3, 3)])
def test_word_ngrams_are_scikit_learns(ngram_range) -> None:
    from collections import Counter

    from sklearn.feature_extraction.text import HashingVectorizer

    from warning.models.hashed_linear import _word_ngrams

    analyzer = HashingVectorizer(analyzer="word", ngram_range=ngram_range, lowercase=False,
                                 token_pattern=r"(?u)\b\w+\b").build_analyzer()
    for text in ["", "one", "one two", "a b c d e", "кыргыз жана өзбек жана кыргыз", "x x x x"]:
        tokens = text.split()
        assert Counter(_word_ngrams(tokens, *ngram_range)) == Counter(analyzer(text)), text
