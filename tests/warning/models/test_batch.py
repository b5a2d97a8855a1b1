"""Scoring as columns (``warning.models.batch``) decides every post as the one-post rules of
``warning.labels`` do: the same rounded scores, flags, risk and review, per language."""

from __future__ import annotations

import numpy as np
import pytest

from warning.labels import LABELS, needs_review, risk_level
from warning.models.batch import ScoredColumns, score_columns
from warning.text.lang import detect_language
from warning.text.normalize import normalize
from warning.text.targets import find_targets

POSTS = [
    "you stupid idiot", "the market opens at nine", "Ты идиот, уходи отсюда",
    "Бүгүн Ошко барам, өзбектерге жана мигранттарга", "salam kandaysyn, jakshy jurosunbu",
    "kill all the migrants tonight", "Қишлоқда сув йўқ, ёрдам беринглар",
    "Yarın İstanbul'a gidiyorum, Suriyeliler ve kadınlar", "мигранты тупые твари",
    "RT @bob: Смoтри &amp; https://t.co/x сууууука жиды и таджики", "🙂 12345",
    "you stupid idiot", "", "   ", "x" * 50,
]


def _per_language_model(model, proba: np.ndarray, langs: list[str]):
    """``model`` with thresholds and review bands of its own for two languages, a weak
    language and a high-hate threshold, all placed among the posts' scores so that every
    branch of the rules is taken."""
    cfg = model.config
    cfg.max_chars = 40
    scored = list(cfg.scored_labels)
    for lang, q in (("en", 0.3), ("ru", 0.6)):
        rows = [i for i, x in enumerate(langs) if x == lang] or list(range(len(langs)))
        cfg.by_language[lang] = {
            "calibration": {n: cfg.calibration[n] for n in scored},
            "thresholds": {n: float(np.quantile(proba[rows, LABELS.index(n)], q))
                           for n in scored},
            "review_bands": {n: [float(np.quantile(proba[:, LABELS.index(n)], 0.2)),
                                 float(np.quantile(proba[:, LABELS.index(n)], 0.5))]
                             for n in scored}}
    for n in scored:  # the global ones, for the other languages
        cfg.thresholds[n] = float(np.quantile(proba[:, LABELS.index(n)], 0.5))
    cfg.weak_languages = ["ky"]
    if "hate" in scored:
        cfg.high_hate_threshold = float(np.quantile(proba[:, LABELS.index("hate")], 0.5))
    return model


def test_score_columns_decides_each_post_as_the_one_post_rules(tiny_model) -> None:
    good = [p for p in POSTS if normalize(p)]
    langs = [detect_language(p) for p in good]
    model = _per_language_model(tiny_model, tiny_model.predict_proba(good), langs)
    columns = score_columns(model, [*POSTS, None])  # type: ignore[list-item]
    assert len(columns) == len(POSTS) + 1
    risks = set()
    for i, text in enumerate([*POSTS, None]):
        post = columns.post(i)
        problem = model.check_text(text)
        if problem is not None:
            assert post.error == problem and post.risk is None and post.review
            assert all(v is None for v in post.scores.values())
            continue
        assert post.error is None
        lang = detect_language(text)
        values = model.predict_proba([text])[0]
        scores = {n: (None if v != v else round(float(v), 4))
                  for n, v in zip(LABELS, values, strict=True)}
        thresholds = model.thresholds_for(lang)
        flagged = [n for n in model.config.scored_labels if scores[n] >= thresholds[n]]
        targets = find_targets(text)
        assert post.scores == scores and post.lang == lang and post.targets == targets
        assert post.flagged == flagged
        assert post.risk == risk_level(flagged, scores, targets,
                                       model.config.high_hate_threshold).value
        assert post.review == needs_review(scores, model.review_bands_for(lang), lang,
                                           model.config.weak_languages)
        risks.add(post.risk)
    assert len(risks) >= 2  # the thresholds above make the rules decide both ways
    assert [p.to_dict() for p in model.score(POSTS)] == \
        [columns.post(i).to_dict() for i in range(len(POSTS))]


def test_decisions_follow_the_rules_on_every_combination_of_scores(tiny_model) -> None:
    """Every branch and boundary: scores on and beside the thresholds, the review bands and
    the high-hate threshold, with and without targets, in a language with its own thresholds,
    a weak language and one with the global ones."""
    import itertools

    from warning.models.batch import _decisions

    cfg = tiny_model.config
    cfg.scored_labels = ["offensive", "hate", "threat"]
    cfg.thresholds = dict.fromkeys(cfg.scored_labels, 0.5)
    cfg.review_bands = {n: [0.4, 0.5] for n in cfg.scored_labels}
    cfg.by_language = {"en": {"calibration": {n: cfg.calibration.get(n, {}) for n in
                                              cfg.scored_labels},
                              "thresholds": dict.fromkeys(cfg.scored_labels, 0.4),
                              "review_bands": {n: [0.1, 0.4] for n in cfg.scored_labels}}}
    cfg.weak_languages = ["ru"]
    cfg.high_hate_threshold = 0.7
    grid = [0.1, 0.4, 0.5, 0.7, 0.95]
    rows, langs, has_targets = [], [], []
    for values, lang, targets in itertools.product(itertools.product(grid, repeat=3),
                                                   ("en", "ru", "ky"), (False, True)):
        rows.append([*values, float("nan")])
        langs.append(lang)
        has_targets.append(targets)
    flagged, risk, review = _decisions(tiny_model, np.array(rows), langs, has_targets)
    for i, (values, lang, targets) in enumerate(zip(rows, langs, has_targets, strict=True)):
        scores = {n: (None if v != v else v) for n, v in zip(LABELS, values, strict=True)}
        thresholds = tiny_model.thresholds_for(lang)
        expected = [n for n in cfg.scored_labels if scores[n] >= thresholds[n]]
        assert flagged[i] == expected
        assert risk[i] == risk_level(expected, scores, ["x"] if targets else [],
                                     cfg.high_hate_threshold).value
        assert review[i] == needs_review(scores, tiny_model.review_bands_for(lang), lang,
                                         cfg.weak_languages)
    assert set(risk) == {"none", "low", "medium", "high"} and set(review) == {True, False}


def test_scored_columns_join_take_and_failed_keep_each_post() -> None:
    ok = ScoredColumns(scores={n: [0.5] for n in LABELS}, flagged=[["offensive"]], lang=["en"],
                       targets=[[]], risk=["low"], review=[False], error=[None], model="m@1")
    bad = ScoredColumns.failed(["empty text"], "")
    joined = bad + ok
    assert joined.model == "m@1" and joined.error == ["empty text", None]
    assert joined.take([1]).post(0).to_dict() == ok.post(0).to_dict()
    assert joined.post(0).error == "empty text" and joined.post(0).review is True
    first = joined.post(1)
    first.flagged.append("hate")
    assert joined.flagged[1] == ["offensive"]  # a post's lists are its own


@pytest.mark.parametrize("texts", [[], [""], ["   ", "\u200b"]])
def test_score_columns_of_nothing_to_score(tiny_model, texts) -> None:
    columns = score_columns(tiny_model, texts)
    assert len(columns) == len(texts) and all(e for e in columns.error)
