"""The baseline: character and word n-gram features with one logistic regression per label.

Fast, tiny and dependency-light: the fallback when no transformer is shipped, and the yardstick
the transformer must beat. Training lives in ``training.baseline``; this module only scores,
saves and loads. Weights are saved with skops (never pickle) and loaded against an explicit list
of trusted types.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from warning.models.classifier import Classifier, ModelConfig, ModelLoadError
from warning.text.normalize import fold

__all__ = ["TRUSTED_TYPES", "BaselineClassifier"]

WEIGHTS_FILE = "model.skops"

#: Types beyond skops' own trusted defaults (scikit-learn estimators, numpy, builtins) that a
#: baseline file may contain: none. Anything skops would not trust by itself is refused.
TRUSTED_TYPES: frozenset[str] = frozenset()


class BaselineClassifier(Classifier):
    """Hashed TF-IDF n-grams and a logistic regression per scored label.

    Attributes:
        features: A fitted scikit-learn transformer from folded text to a sparse matrix.
        heads: One fitted ``LogisticRegression`` per scored label, in ``scored_labels`` order.

    Example:
        >>> model = Classifier.load("models/baseline")  # doctest: +SKIP
        >>> model.score(["Ты идиот"])[0].flagged           # doctest: +SKIP
        ['offensive']
    """

    kind = "baseline"

    def __init__(self, config: ModelConfig, features, heads: list) -> None:
        super().__init__(config)
        if len(heads) != len(config.scored_labels):
            raise ModelLoadError(f"{len(heads)} heads for {len(config.scored_labels)} labels")
        self.features = features
        self.heads = heads

    def _window_logits(self, windows: list[str]) -> np.ndarray:
        matrix = self.features.transform([fold(w) for w in windows])
        return np.column_stack([head.decision_function(matrix) for head in self.heads])

    def _save_weights(self, folder: Path) -> None:
        import zipfile

        import skops.io as sio

        sio.dump({"features": self.features, "heads": list(self.heads)},
                 folder / WEIGHTS_FILE, compression=zipfile.ZIP_DEFLATED)

    @classmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> BaselineClassifier:
        import skops.io as sio

        path = folder / WEIGHTS_FILE
        if not path.is_file():
            raise ModelLoadError(f"{folder}: {WEIGHTS_FILE} not found")
        untrusted = set(sio.get_untrusted_types(file=path))
        unexpected = untrusted - TRUSTED_TYPES
        if unexpected:
            raise ModelLoadError(f"{path} contains types outside the trusted list: "
                                 f"{sorted(unexpected)}")
        state = sio.load(path, trusted=sorted(untrusted))
        return cls(config, state["features"], state["heads"])
