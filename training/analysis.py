"""Tables for reading a model's behaviour on one split (``notebooks/02_evaluate.ipynb``).

:func:`score_split` scores a split once; the other functions turn its result into tables: a
confusion table per label and language, the errors worth reading, and precision/recall per
threshold. Unknown labels (NaN) are masked everywhere, as in :mod:`training.evaluate`.

Example:
    >>> scored = score_split(model, corpus, "test")  # doctest: +SKIP
    >>> confusion_table(scored)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from warning.labels import LABELS
from warning.models.classifier import Classifier

__all__ = ["ScoredSplit", "confusion_table", "error_examples", "score_split", "threshold_sweep"]


@dataclass
class ScoredSplit:
    """One split's rows with the model's scores and thresholds (``[n, n_labels]`` each)."""

    rows: pd.DataFrame
    proba: np.ndarray
    thresholds: np.ndarray
    labels: list[str]


def score_split(model: Classifier, corpus: pd.DataFrame, split: str = "test") -> ScoredSplit:
    """Score the rows of ``split`` with the model's per-language thresholds where fitted."""
    rows = corpus[corpus["split"] == split].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"the corpus has no {split!r} rows")
    texts = list(rows["text"])
    langs = model.languages(texts)
    return ScoredSplit(rows, model.predict_proba(texts, langs=langs),
                       model.threshold_matrix(langs, len(rows)),
                       list(model.config.scored_labels))


def confusion_table(scored: ScoredSplit) -> pd.DataFrame:
    """True/false positives and negatives per label and language (rows with the label known).

    Returns:
        Indexed by ``(label, lang)``; columns ``n``, ``tp``, ``fp``, ``fn``, ``tn``.
    """
    out = []
    for name in scored.labels:
        j = LABELS.index(name)
        known = scored.rows[name].notna().to_numpy()
        y = scored.rows[name].to_numpy(float)
        flag = scored.proba[:, j] >= scored.thresholds[:, j]
        for lang in sorted(scored.rows.loc[known, "lang"].unique()):
            m = known & (scored.rows["lang"] == lang).to_numpy()
            yy, ff = y[m] == 1, flag[m]
            out.append({"label": name, "lang": lang, "n": int(m.sum()),
                        "tp": int((yy & ff).sum()), "fp": int((~yy & ff).sum()),
                        "fn": int((yy & ~ff).sum()), "tn": int((~yy & ~ff).sum())})
    return pd.DataFrame(out).set_index(["label", "lang"])


def error_examples(scored: ScoredSplit, label: str, k: int = 10) -> pd.DataFrame:
    """The errors worth reading for one label: the false positives with the highest scores and
    the false negatives with the lowest (the model's most confident mistakes).

    Returns:
        Columns ``kind`` (``false positive``/``false negative``), ``score``, ``threshold``,
        ``lang``, ``source``, ``id`` and ``text``; at most ``k`` rows of each kind.
    """
    j = LABELS.index(label)
    frame = scored.rows.assign(score=scored.proba[:, j], threshold=scored.thresholds[:, j])
    frame = frame[frame[label].notna()]
    flag = frame["score"] >= frame["threshold"]
    fp = frame[flag & (frame[label] == 0)].nlargest(k, "score").assign(kind="false positive")
    fn = frame[~flag & (frame[label] == 1)].nsmallest(k, "score").assign(kind="false negative")
    columns = ["kind", "score", "threshold", "lang", "source", "id", "text"]
    return pd.concat([fp, fn])[columns].reset_index(drop=True)


def threshold_sweep(scored: ScoredSplit, label: str, lang: str | None = None,
                    thresholds: np.ndarray | None = None) -> pd.DataFrame:
    """Precision, recall, F1 and flag rate of ``score >= t`` for each threshold ``t``.

    Args:
        lang: Only rows of this language (None: all).
        thresholds: Default ``0.05, 0.10, ..., 0.95``.

    Returns:
        One row per threshold; precision is NaN where nothing is flagged.
    """
    j = LABELS.index(label)
    m = scored.rows[label].notna().to_numpy()
    if lang is not None:
        m = m & (scored.rows["lang"] == lang).to_numpy()
    y, p = scored.rows.loc[m, label].to_numpy(float), scored.proba[m, j]
    ts = np.round(np.arange(0.05, 0.951, 0.05), 2) if thresholds is None else thresholds
    out = []
    for t in ts:
        flag = p >= t
        tp, fp, fn = (y[flag] == 1).sum(), (y[flag] == 0).sum(), (y[~flag] == 1).sum()
        out.append({"threshold": float(t), "flagged": int(flag.sum()),
                    "flag_rate": float(flag.mean()) if len(y) else np.nan,
                    "precision": tp / (tp + fp) if tp + fp else np.nan,
                    "recall": tp / (tp + fn) if tp + fn else np.nan,
                    "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan})
    return pd.DataFrame(out)
