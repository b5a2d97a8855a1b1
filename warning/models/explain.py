"""Word-level leave-one-out occlusion: which words drove a flagged score.

For a post of ``n`` words (capped at the model's ``explain_max_words``), the model scores the
post once more with each word left out, in one batch; a word's weight is how much the label's
log-odds drop without it (log-odds rather than probability, so that words still rank when a
score is near 1). Attention weights are not explanations; occlusion measures what the model
actually does with a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from warning.labels import LABELS
from warning.models.calibration import logit
from warning.text.normalize import normalize

__all__ = ["Explainable", "occlusion"]


class Explainable(Protocol):
    """What occlusion needs of a model: every :class:`~warning.models.Classifier` is one.

    Written as a protocol so that this module does not import the classifier, which imports
    it (no import circle).
    """

    config: Any  # has ``scored_labels`` and ``explain_max_words``

    def languages(self, texts: Sequence[str]) -> list[str] | None: ...

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str] | None = None
                      ) -> np.ndarray: ...


def occlusion(
    model: Explainable, text: str, labels: Sequence[str], top_k: int = 5,
) -> dict[str, list[tuple[str, float]]]:
    """The words that raised each label's score most, with the drop their removal causes.

    Args:
        model: Any classifier.
        text: The post.
        labels: Labels to explain (usually the flagged ones).
        top_k: Words kept per label.

    Returns:
        ``{label: [(word, weight), ...]}``, strongest first, weights in log-odds; only words
        whose removal lowers the score. Labels the model cannot score are left out.
    """
    labels = [name for name in labels if name in model.config.scored_labels]
    if not labels:
        return {}
    words = normalize(text).split(" ")[: model.config.explain_max_words]
    if len(words) < 2:
        return {name: [(words[0], 1.0)] if words and words[0] else [] for name in labels}
    variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
    # every variant is calibrated as the post's language, so a removed word cannot move the
    # post into another language's calibration
    lang = model.languages([text])
    langs = lang * (len(variants) + 1) if lang else None
    log_odds = logit(model.predict_proba([" ".join(words), *variants], langs=langs))
    out = {}
    for name in labels:
        j = LABELS.index(name)
        drops = log_odds[0, j] - log_odds[1:, j]
        order = np.argsort(-drops, kind="stable")[:top_k]
        out[name] = [(words[i], round(float(drops[i]), 3)) for i in order if drops[i] > 0]
    return out
