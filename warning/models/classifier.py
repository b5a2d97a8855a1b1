"""The one classifier contract, and the shared scoring path of both implementations.

``Classifier.load(path=None)`` returns the shipped default (``models/default/`` when it exists,
else ``models/baseline/``) or the model folder given. Every implementation turns text windows
into raw logits (:meth:`Classifier._window_logits`); this module does the rest the same way for
all of them: normalisation, windows for long texts (the score is the max over windows),
calibration, thresholds, ``null`` for labels a model cannot score, language, target groups, risk,
review and explanations.

Example:
    >>> from warning import Classifier
    >>> model = Classifier.load()                                  # doctest: +SKIP
    >>> model.predict_proba(["Ты идиот", "Бүгүн күн ачык"]).shape  # doctest: +SKIP
    (2, 4)
"""

from __future__ import annotations

import json
import platform
import subprocess
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from warning.labels import LABELS, ScoredPost
from warning.models.calibration import Calibrator
from warning.settings import repo_root
from warning.text.normalize import normalize

__all__ = [
    "Classifier",
    "ModelConfig",
    "ModelLoadError",
    "ModelVersionWarning",
    "default_model_path",
]

CONFIG_FILE = "config.json"


class ModelLoadError(RuntimeError):
    """A model folder is missing, incomplete or of an unknown kind."""


class ModelVersionWarning(UserWarning):
    """The model was saved with other library versions than the ones installed."""


@dataclass
class ModelConfig:
    """What a model folder says about itself (``config.json``).

    Attributes:
        kind: ``baseline``, ``transformer`` or ``ensemble``: which implementation loads the
            folder.
        name: Short model name, shown as ``name@version`` in every output.
        version: Model version (the training date by default).
        labels: All labels, in column order (``warning.labels.LABELS``).
        scored_labels: Labels this model scores; the others are ``null`` and never flagged.
        thresholds: Decision threshold per scored label, fitted on the calib split.
        review_bands: ``[low, high)`` per scored label: a score inside asks for a person.
        calibration: Calibrator per scored label (see ``warning.models.calibration.Calibrator``).
        by_language: Per detected language, ``calibration``, ``thresholds`` and
            ``review_bands`` for the labels whose calib rows in that language held enough
            positives and negatives to fit them; every other language and label uses the global
            ones above (DESIGN.md, "Calibration and evaluation").
        weak_languages: Languages the model is weak in (every post in them gets ``review``).
        high_hate_threshold: A ``hate`` score at or over this, with a target group, is ``high``
            risk.
        window_words, window_stride: Long texts are scored in windows of this many words.
        max_chars: Longer texts are refused with an error (they are not silently cut).
        explain_max_words: Occlusion explanations look at this many words at most.
        training: The training configuration.
        data_sources: Sources used, each with its licence class.
        metrics: Headline metrics (the card and the evaluation report have the rest).
        library_versions: Versions of the libraries that produced the model.
        commit: The project's git commit at training time.
        created: Date of training.
    """

    kind: str
    name: str
    version: str
    scored_labels: list[str]
    thresholds: dict[str, float]
    review_bands: dict[str, list[float]]
    calibration: dict[str, dict[str, Any]]
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    by_language: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    weak_languages: list[str] = field(default_factory=list)
    high_hate_threshold: float = 0.9
    window_words: int = 64
    window_stride: int = 48
    max_chars: int = 100_000
    explain_max_words: int = 64
    training: dict[str, Any] = field(default_factory=dict)
    data_sources: list[dict[str, str]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)
    commit: str | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        if list(self.labels) != list(LABELS):
            raise ModelLoadError(f"model labels {self.labels} differ from this library's "
                                 f"{list(LABELS)}")
        unknown = set(self.scored_labels) - set(LABELS)
        if unknown:
            raise ModelLoadError(f"model scores unknown label(s) {sorted(unknown)}")
        for name in self.scored_labels:
            for part, table in (("thresholds", self.thresholds), ("review_bands",
                                self.review_bands), ("calibration", self.calibration)):
                if name not in table:
                    raise ModelLoadError(f"config lacks {part} for scored label {name!r}")
        if self.window_stride < 1 or self.window_words < self.window_stride:
            raise ModelLoadError("window_stride must be >= 1 and <= window_words")
        for lang, part in self.by_language.items():
            tables = [part.get(k, {}) for k in ("calibration", "thresholds", "review_bands")]
            names = set(tables[0])
            if set(part) - {"calibration", "thresholds", "review_bands"} or any(
                    set(t) != names for t in tables) or names - set(self.scored_labels):
                raise ModelLoadError(f"by_language[{lang!r}] must give calibration, thresholds "
                                     f"and review_bands for the same scored labels")

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, folder: Path) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=False)
        (Path(folder) / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> ModelConfig:
        path = Path(folder) / CONFIG_FILE
        if not path.is_file():
            raise ModelLoadError(f"{folder} is not a model folder: {CONFIG_FILE} not found")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except TypeError as exc:
            raise ModelLoadError(f"{path}: {exc}") from exc


def library_versions(names: Sequence[str] = ("numpy", "scikit-learn", "skops", "torch",
                                             "transformers", "peft")) -> dict[str, str]:
    """Installed versions of the libraries a model depends on (absent ones are skipped)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root(),
                                capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def default_model_path() -> Path:
    """``models/default/`` when it holds a model, else ``models/baseline/``."""
    models = repo_root() / "models"
    default = models / "default"
    return default if (default / CONFIG_FILE).is_file() else models / "baseline"


class Classifier(ABC):
    """Scores posts for the labels of ``warning.labels``.

    Subclasses implement :meth:`_window_logits`, :meth:`_save_weights` and
    :meth:`_from_folder`; everything else is shared.
    """

    kind: ClassVar[str] = ""
    _registry: ClassVar[dict[str, str]] = {
        "baseline": "warning.models.baseline:BaselineClassifier",
        "transformer": "warning.models.transformer:TransformerClassifier",
        "ensemble": "warning.models.ensemble:EnsembleClassifier",
    }

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._calibrators = {name: Calibrator.from_dict(config.calibration[name])
                             for name in config.scored_labels}
        self._language_calibrators = {
            lang: {name: Calibrator.from_dict(c) for name, c in part["calibration"].items()}
            for lang, part in config.by_language.items() if part.get("calibration")}

    # ---- loading and saving ----------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> Classifier:
        """Load a model folder; ``None`` loads the shipped default.

        Raises:
            ModelLoadError: The folder is missing, incomplete or of an unknown kind.
        """
        folder = Path(path) if path is not None else default_model_path()
        if not folder.is_dir():
            hint = (" (no model is shipped yet: train one with `warning train baseline`)"
                    if path is None else "")
            raise ModelLoadError(f"model folder {folder} not found{hint}")
        config = ModelConfig.read(folder)
        target = cls._registry.get(config.kind)
        if target is None:
            raise ModelLoadError(f"{folder}: unknown model kind {config.kind!r}; known: "
                                 f"{sorted(cls._registry)}")
        module_name, class_name = target.split(":")
        import importlib

        implementation = getattr(importlib.import_module(module_name), class_name)
        _warn_on_version_mismatch(config, folder)
        return implementation._from_folder(folder, config)

    def save(self, path: str | Path) -> Path:
        """Write the model folder: ``config.json`` plus the implementation's weights."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self._save_weights(folder)
        self.config.save(folder)
        return folder

    @classmethod
    @abstractmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> Classifier: ...

    @abstractmethod
    def _save_weights(self, folder: Path) -> None: ...

    @abstractmethod
    def _window_logits(self, windows: list[str]) -> np.ndarray:
        """Raw logits ``[len(windows), len(scored_labels)]`` for normalised text windows."""

    # ---- the contract --------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        """All labels, in the column order of :meth:`predict_proba`."""
        return tuple(LABELS)

    @property
    def name(self) -> str:
        """``name@version``, as every output reports it."""
        return self.config.model_id

    def windows(self, text: str, *, normalized: bool = False) -> list[str]:
        """A normalised text cut into overlapping word windows (one window when short).
        ``normalized``: the text is already :func:`~warning.text.normalize.normalize`'s
        output (it is not normalised again)."""
        words = (text if normalized else normalize(text)).split(" ")
        size, stride = self.config.window_words, self.config.window_stride
        if len(words) <= size:
            return [" ".join(words)]
        starts = list(range(0, len(words) - size + 1, stride))
        if starts[-1] + size < len(words):
            starts.append(len(words) - size)
        return [" ".join(words[s : s + size]) for s in starts]

    def raw_logits(self, texts: Sequence[str] | str, langs: Sequence[str] | None = None, *,
                   normalized: bool = False) -> np.ndarray:
        """Uncalibrated logits ``[n_texts, n_scored_labels]``, the max over each text's windows
        (what calibration is fitted on, so fitting and scoring aggregate the same way).
        ``langs``, the texts' detected languages when known, is for implementations whose
        logits depend on the language (an ensemble's per-language stack); others ignore it.
        ``normalized``: the texts are already normalised (see :meth:`score`)."""
        texts = _as_list(texts)
        if not texts:
            return np.zeros((0, len(self.config.scored_labels)))
        windows, owner = [], []
        for i, text in enumerate(texts):
            for window in self.windows(text, normalized=normalized):
                windows.append(window)
                owner.append(i)
        logits = np.asarray(self._window_logits(windows), dtype=float)
        out = np.full((len(texts), logits.shape[1]), -np.inf)
        np.maximum.at(out, np.asarray(owner), logits)
        return out

    def languages(self, texts: Sequence[str] | str, *,
                  normalized: bool = False) -> list[str] | None:
        """The detected language of each text when the model has per-language calibration
        (``config.by_language``), else None (nothing depends on the language)."""
        if not self.config.by_language:
            return None
        return _languages(_as_list(texts), normalized)

    def thresholds_for(self, lang: str | None) -> dict[str, float]:
        """Thresholds per scored label for a post in ``lang`` (global where not fitted)."""
        part = self.config.by_language.get(lang or "", {})
        return {**self.config.thresholds, **part.get("thresholds", {})}

    def review_bands_for(self, lang: str | None) -> dict[str, list[float]]:
        """Review bands per scored label for a post in ``lang`` (global where not fitted)."""
        part = self.config.by_language.get(lang or "", {})
        return {**self.config.review_bands, **part.get("review_bands", {})}

    def threshold_matrix(self, langs: Sequence[str] | None, n: int) -> np.ndarray:
        """Thresholds ``[n, n_labels]`` for posts in ``langs`` (None: the global ones); NaN
        for labels the model cannot score."""
        out = np.full((n, len(LABELS)), np.nan)
        for name in self.config.scored_labels:
            out[:, LABELS.index(name)] = self.config.thresholds[name]
        for lang in set(langs or ()):
            rows = np.array([x == lang for x in langs])  # type: ignore[union-attr]
            for name, t in self.thresholds_for(lang).items():
                out[rows, LABELS.index(name)] = t
        return out

    def predict_proba(self, texts: Sequence[str] | str, langs: Sequence[str] | None = None,
                      *, normalized: bool = False) -> np.ndarray:
        """Calibrated probabilities ``[n_texts, n_labels]``; NaN for labels the model cannot
        score. A single string counts as a list of one: the shape never depends on it.

        Args:
            texts: The posts.
            langs: Their languages when already detected (else detected here when the model
                calibrates per language).
            normalized: The posts are already :func:`~warning.text.normalize.normalize`'s
                output (they are not normalised again).
        """
        texts = _as_list(texts)
        if not texts:
            return np.full((0, len(LABELS)), np.nan)
        langs = (list(langs) if langs is not None
                 else self.languages(texts, normalized=normalized))
        return self.calibrate(self.raw_logits(texts, langs, normalized=normalized), langs)

    def calibrate(self, logits: np.ndarray, langs: Sequence[str] | None = None) -> np.ndarray:
        """Probabilities ``[n, n_labels]`` from raw logits ``[n, n_scored_labels]`` (as
        :meth:`raw_logits` gives them), per language where the model has its own calibration;
        NaN for labels the model cannot score."""
        logits = np.asarray(logits, dtype=float)
        out = np.full((len(logits), len(LABELS)), np.nan)
        for j, name in enumerate(self.config.scored_labels):
            # Calibrators are increasing, so calibrating the max logit = max of calibrated.
            out[:, LABELS.index(name)] = self._calibrators[name].transform(logits[:, j])
        if self._language_calibrators and langs is not None:
            for lang, calibrators in self._language_calibrators.items():
                rows = np.array([x == lang for x in langs], dtype=bool)
                if not rows.any():
                    continue
                for name, cal in calibrators.items():
                    j = self.config.scored_labels.index(name)
                    out[rows, LABELS.index(name)] = cal.transform(logits[rows, j])
        return out

    def predict(self, texts: Sequence[str] | str) -> np.ndarray:
        """Flags ``[n_texts, n_labels]`` with the stored thresholds (per language where the
        model has them); never True for a label the model cannot score."""
        texts = _as_list(texts)
        langs = self.languages(texts)
        proba = self.predict_proba(texts, langs=langs)
        with np.errstate(invalid="ignore"):
            return proba >= self.threshold_matrix(langs, len(texts))

    def check_text(self, text: object) -> str | None:
        """Why a text cannot be scored, or None when it can."""
        return self._check(text, normalized=False)[0]

    def _check(self, text: object, normalized: bool) -> tuple[str | None, str]:
        """(why the text cannot be scored or None, its normalised form)."""
        if not isinstance(text, str):
            return f"text must be a string, got {type(text).__name__}", ""
        if len(text) > self.config.max_chars:
            return (f"text is {len(text):,} characters; the limit is "
                    f"{self.config.max_chars:,}"), ""
        clean = text if normalized else normalize(text)
        return (None if clean else "empty text"), clean

    def score(self, texts: Sequence[str] | str, explain: bool = False, *,
              normalized: bool = False) -> list[ScoredPost]:
        """One :class:`ScoredPost` per input, in order. A text that cannot be scored (empty,
        too long, not a string) gets a record with ``error`` set and every score ``null``.

        Each post is normalised once here, and its normalised text goes on to language ID,
        the model and the target tagger (all three in batches).

        Args:
            texts: The posts.
            explain: Add the words that drove each flagged score.
            normalized: The posts are already :func:`~warning.text.normalize.normalize`'s
                output (a scan normalises while it checks them): they are not normalised again.
        """
        from warning.models.batch import score_columns

        texts = _as_list(texts)
        results = [*map(score_columns(self, texts, normalized=normalized).post, range(len(texts)))]
        if explain:
            from warning.models.explain import occlusion

            for text, post in zip(texts, results, strict=True):
                if post.error is None:
                    post.explanation = occlusion(self, text, post.flagged)
        return results


def _languages(texts: list[str], normalized: bool) -> list[str]:
    """Detected languages (``""`` for a value that is not text), in one batch."""
    from warning.text.lang import detect_languages

    strings = [t for t in texts if isinstance(t, str)]
    found = iter(detect_languages(strings, normalized=normalized))
    return [next(found) if isinstance(t, str) else "" for t in texts]


def _as_list(texts: Sequence[str] | str) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"texts must be a string or a sequence of strings, got "
                        f"{type(texts).__name__}")
    return list(texts)


def _warn_on_version_mismatch(config: ModelConfig, folder: Path) -> None:
    saved = config.library_versions
    installed = library_versions(tuple(k for k in saved if k != "python"))
    differ = {k: (v, installed.get(k)) for k, v in saved.items()
              if k != "python" and installed.get(k) not in (None, v)}
    if differ:
        details = ", ".join(f"{k} {a} (installed {b})" for k, (a, b) in differ.items())
        warnings.warn(f"model {folder} was saved with {details}; scores may differ",
                      ModelVersionWarning, stacklevel=3)
