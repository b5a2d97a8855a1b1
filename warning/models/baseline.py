"""The baseline: character and word n-gram features with one logistic regression per label.

Fast, tiny and dependency-light: the fallback when no transformer is shipped, and the yardstick
the transformer must beat. Training lives in ``training.baseline``; this module only scores,
saves and loads. Weights are saved with skops (never pickle) and loaded against an explicit list
of trusted types.

Scoring runs through :class:`~warning.models.hashed_linear.HashedLinear`, the same arithmetic as
the scikit-learn pipeline without its per-post overheads, whenever the pipeline has the shape
``training.baseline`` gives it (else through scikit-learn). Its arrays are kept in
``WARNING_CACHE_DIR/baseline/<sha256 of model.skops>/`` (``.npz`` and JSON, no pickle) on the
first load, so later loads of the same file need neither skops nor scikit-learn (skops alone
spends seconds discovering scikit-learn's estimators when it is imported).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from warning.models.classifier import Classifier, ModelConfig, ModelLoadError
from warning.models.hashed_linear import HashedLinear, NotCompilable, compile_pipeline
from warning.text.normalize import fold

__all__ = ["TRUSTED_TYPES", "BaselineClassifier"]

log = logging.getLogger(__name__)

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
        self._features, self._heads = features, heads
        self._weights_path: Path | None = None
        try:
            self.fast: HashedLinear | None = compile_pipeline(features, heads)
        except NotCompilable as exc:
            log.info("baseline scored through scikit-learn: %s", exc)
            self.fast = None

    @classmethod
    def _compiled(cls, config: ModelConfig, fast: HashedLinear, weights: Path
                  ) -> BaselineClassifier:
        """A baseline scoring from compiled arrays; the scikit-learn objects are read from
        ``weights`` only if asked for (:attr:`features`, :attr:`heads`)."""
        model = cls.__new__(cls)
        Classifier.__init__(model, config)
        if len(fast.intercepts) != len(config.scored_labels):
            raise ModelLoadError(f"{len(fast.intercepts)} heads for "
                                 f"{len(config.scored_labels)} labels")
        model._features = model._heads = None
        model._weights_path = weights
        model.fast = fast
        return model

    def _sklearn(self) -> None:
        if self._features is None:
            assert self._weights_path is not None
            state = _read_skops(self._weights_path)
            self._features, self._heads = state["features"], state["heads"]

    @property
    def features(self) -> Any:
        """The fitted scikit-learn transformer from folded text to a sparse matrix."""
        self._sklearn()
        return self._features

    @property
    def heads(self) -> list[Any]:
        """One fitted ``LogisticRegression`` per scored label, in ``scored_labels`` order."""
        self._sklearn()
        return self._heads  # type: ignore[return-value]

    def _window_logits(self, windows: list[str]) -> np.ndarray:
        # windows are cut from normalised text: only the case folding is left to do
        docs = [fold(w, normalized=True) for w in windows]
        if self.fast is not None:
            return self.fast.decision(docs)
        matrix = self.features.transform(docs)
        return np.column_stack([head.decision_function(matrix) for head in self.heads])

    def _save_weights(self, folder: Path) -> None:
        import zipfile

        import skops.io as sio

        sio.dump({"features": self.features, "heads": list(self.heads)},
                 folder / WEIGHTS_FILE, compression=zipfile.ZIP_DEFLATED)

    @classmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> BaselineClassifier:
        path = folder / WEIGHTS_FILE
        if not path.is_file():
            raise ModelLoadError(f"{folder}: {WEIGHTS_FILE} not found")
        cached = _compiled_cache(path)
        if cached is not None and (cached / "spec.json").is_file():
            try:
                return cls._compiled(config, HashedLinear.load(cached), path)
            except NotCompilable as exc:
                log.warning("ignoring the compiled baseline in %s: %s", cached, exc)
        state = _read_skops(path)
        model = cls(config, state["features"], state["heads"])
        if model.fast is not None and cached is not None:
            _store(model.fast, cached)
        return model


def _read_skops(path: Path) -> dict[str, Any]:
    import skops.io as sio

    untrusted = set(sio.get_untrusted_types(file=path))
    unexpected = untrusted - TRUSTED_TYPES
    if unexpected:
        raise ModelLoadError(f"{path} contains types outside the trusted list: "
                             f"{sorted(unexpected)}")
    return sio.load(path, trusted=sorted(untrusted))


def _compiled_cache(weights: Path) -> Path | None:
    """Where the compiled arrays of this weights file live: named by the file's sha256, so a
    retrained folder never reads another model's arrays. None when no cache can be used."""
    from warning.settings import cache_dir

    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return cache_dir() / "baseline" / digest.hexdigest()[:32]


def _store(fast: HashedLinear, target: Path) -> None:
    """Write the compiled arrays into the cache (atomically: a folder renamed into place);
    a cache that cannot be written only costs the next load its speed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
        fast.save(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process stored it first
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        log.warning("cannot cache the compiled baseline in %s: %s", target, exc)
