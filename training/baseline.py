"""Training the baseline: hashed TF-IDF n-grams and one logistic regression per label.

``train_baseline(corpus, config, output_dir)`` is the plain function a notebook imports;
``warning train baseline`` only parses arguments and calls it (STYLE.md item 5). Each label's
regression sees only the training rows where that label is known; calibration, thresholds and
review bands are fitted on the calib split; dev chooses the regularisation strength.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer

from warning.labels import LABELS, LANGUAGES
from warning.models.baseline import BaselineClassifier
from warning.models.calibration import Calibrator
from warning.models.classifier import ModelConfig, git_commit, library_versions
from warning.text.normalize import fold

from .calibration import fit_label_calibration
from .sources import SOURCES, collected_rows

__all__ = ["BaselineConfig", "cap_rows", "fit_baseline", "train_baseline", "weak_languages"]

log = logging.getLogger(__name__)


@dataclass
class BaselineConfig:
    """Settings of the baseline (round-trips through ``to_dict``/``from_dict``).

    Attributes:
        name: Model name in outputs (``name@version``).
        version: Model version; default: today's date.
        char_ngrams: Character n-gram range (within word boundaries).
        char_features: Hash buckets for character n-grams.
        word_ngrams: Word n-gram range.
        word_features: Hash buckets for word n-grams.
        c_grid: Inverse regularisation strengths tried; dev average precision picks one per
            label.
        max_iter: Solver iterations.
        labels: Labels to train. ``extremism`` is experimental (DESIGN.md) and off by default.
        min_positives: A label with fewer training positives is not trained (it stays null).
        capped_rows_per_language: Clean single-domain rows (Kyrgyz news, Kazakh and Uzbek
            reviews) kept in training per language, so that a language without real labelled
            positives does not look "always clean" by sheer volume. Languages with real
            positives (Kyrgyz and Kazakh since their hate sets) are not capped.
        max_train_rows: Cap on training rows (0 = all), for quick runs and tests.
        languages: When given, a *language specialist*: only rows whose ``lang`` is one of
            these are used (train, dev and calib alike), and an ensemble lets it vote only on
            posts detected in them (``training.ensemble``). Empty: every language.
        synthetic: Train on our own written sentences (the synthetic sources) too; False
            keeps only collected rows in training (dev and calib are unchanged).
        calibration: ``platt`` or ``temperature``.
        review_recall, review_precision: Review band targets (``fit_review_band``).
        window_words, window_stride: Windows for long texts.
    """

    name: str = "baseline"
    version: str = field(default_factory=lambda: dt.date.today().strftime("%Y.%m.%d"))
    char_ngrams: tuple[int, int] = (2, 5)
    char_features: int = 2**18
    word_ngrams: tuple[int, int] = (1, 2)
    word_features: int = 2**17
    c_grid: tuple[float, ...] = (1.0, 4.0, 16.0)
    max_iter: int = 300
    labels: tuple[str, ...] = ("offensive", "hate", "threat")
    min_positives: int = 200
    capped_rows_per_language: int = 1000
    max_train_rows: int = 0
    languages: tuple[str, ...] = ()
    synthetic: bool = True
    calibration: str = "platt"
    review_recall: float = 0.9
    review_precision: float = 0.9
    window_words: int = 64
    window_stride: int = 48

    def __post_init__(self) -> None:
        self.char_ngrams = tuple(self.char_ngrams)  # type: ignore[assignment]
        self.word_ngrams = tuple(self.word_ngrams)  # type: ignore[assignment]
        self.c_grid = tuple(float(c) for c in self.c_grid)
        self.labels = tuple(self.labels)
        self.languages = tuple(self.languages)
        strange = set(self.languages) - set(LANGUAGES)
        if strange:
            raise ValueError(f"unknown language(s) {sorted(strange)}; languages are "
                             f"{list(LANGUAGES)}")
        unknown = set(self.labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}; labels are {list(LABELS)}")
        if not self.c_grid or min(self.c_grid) <= 0:
            raise ValueError("c_grid needs at least one positive value")
        if self.calibration not in ("platt", "temperature"):
            raise ValueError("calibration must be 'platt' or 'temperature'")
        for name in ("char_features", "word_features"):
            if getattr(self, name) < 16:
                raise ValueError(f"{name} must be at least 16")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("char_ngrams", "word_ngrams", "c_grid", "labels", "languages"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaselineConfig:
        return cls(**data)


def _unit_hash(values: pd.Series, salt: str) -> np.ndarray:
    return np.array([int(hashlib.sha1(f"{salt}:{v}".encode()).hexdigest()[:12], 16) / 16**12
                     for v in values])


def _languages_with_real_positives(train: pd.DataFrame) -> set[str]:
    """Languages with a positive label in collected (not synthetic, not capped) rows."""
    real = collected_rows(train)
    if "capped" in train:
        real &= ~train["capped"].astype(bool)
    labels = [n for n in LABELS if n in train]
    positive = (train[labels] == 1).any(axis=1) & real
    return set(train.loc[positive, "lang"])


def cap_rows(train: pd.DataFrame, per_language: int, max_rows: int = 0) -> pd.DataFrame:
    """Keep at most ``per_language`` capped rows of each language that has no real labelled
    positives, chosen by a hash of the row id (deterministic, independent of row order); then
    at most ``max_rows`` rows overall.

    The cap exists so that a language seen only as clean single-domain text does not look
    "always clean"; a language with real positives (Kyrgyz and Kazakh since their hate sets)
    keeps all its rows.
    """
    rank = _unit_hash(train["id"], "cap")
    keep = np.ones(len(train), dtype=bool)
    if "capped" in train:
        strong = _languages_with_real_positives(train)
        for lang in set(train.loc[train["capped"], "lang"].unique()) - strong:
            idx = np.nonzero((train["capped"] & (train["lang"] == lang)).to_numpy())[0]
            drop = idx[np.argsort(rank[idx], kind="stable")][per_language:]
            keep[drop] = False
    out = train[keep]
    if max_rows and len(out) > max_rows:
        out = out.iloc[np.argsort(rank[keep], kind="stable")[:max_rows]]
    return out


def _features(config: BaselineConfig) -> Pipeline:
    def branch(analyzer: str, ngrams: tuple[int, int], n: int) -> Pipeline:
        pattern = {"token_pattern": r"(?u)\b\w+\b"} if analyzer == "word" else {}
        return Pipeline([
            ("hash", HashingVectorizer(analyzer=analyzer, ngram_range=ngrams, n_features=n,
                                       alternate_sign=False, norm=None, lowercase=False,
                                       **pattern)),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ])

    return Pipeline([
        ("union", FeatureUnion([
            ("char", branch("char_wb", config.char_ngrams, config.char_features)),
            ("word", branch("word", config.word_ngrams, config.word_features)),
        ])),
        ("norm", Normalizer()),
    ])


def _text_column(frame: pd.DataFrame) -> list[str]:
    column = "text_norm" if "text_norm" in frame else "text"
    return [fold(t) for t in frame[column]]


def weak_languages(train: pd.DataFrame, labels: list[str]) -> list[str]:
    """Languages without real (collected, not synthetic) positives for any trained label, plus
    ``other``: every post in them is marked for review. Our own synthetic examples do not make
    a language strong: they show what we wrote, not what real posts look like."""
    real = collected_rows(train)
    positives = (train[list(labels)].fillna(0).sum(axis=1) > 0) & real
    strong = set(train.loc[positives, "lang"])
    return sorted(({"other"} | set(LANGUAGES)) - strong, key=LANGUAGES.index)


def _sources_with_licences(rows: pd.DataFrame) -> list[dict[str, str]]:
    """Each source in the rows with its licence class (a user file's as recorded)."""
    single = rows[~rows["source"].str.contains(";")].groupby("source")["licence"].first()
    names = sorted({s for ss in rows["source"] for s in ss.split(";")})
    return [{"name": n, "licence": SOURCES[n].licence if n in SOURCES else
             str(single.get(n, "user"))} for n in names]


def fit_baseline(corpus: pd.DataFrame, config: BaselineConfig | None = None
                 ) -> BaselineClassifier:
    """Fit features, heads, calibration, thresholds and review bands on a corpus.

    Args:
        corpus: A corpus frame (``training.corpus``) with ``train``, ``dev`` and ``calib``
            rows.
        config: Settings; defaults when None.

    Returns:
        The fitted classifier (not yet saved).

    Raises:
        ValueError: A split is missing or no label has enough positives.
    """
    config = config or BaselineConfig()
    if config.languages:
        corpus = corpus[corpus["lang"].isin(config.languages)]
    for split in ("train", "dev", "calib"):
        if not (corpus["split"] == split).any():
            where = f" in {', '.join(config.languages)}" if config.languages else ""
            raise ValueError(f"the corpus has no {split!r} rows{where}")
    train = corpus[corpus["split"] == "train"]
    if not config.synthetic:
        train = train[collected_rows(train)]
    train = cap_rows(train, config.capped_rows_per_language, config.max_train_rows)
    dev = corpus[corpus["split"] == "dev"]
    calib = corpus[corpus["split"] == "calib"]
    start = time.perf_counter()
    features = _features(config)
    x_train = features.fit_transform(_text_column(train))
    x_dev = features.transform(_text_column(dev))
    log.info("features: %d train rows x %d columns in %.0fs", x_train.shape[0], x_train.shape[1],
             time.perf_counter() - start)

    labels, heads, chosen_c = [], [], {}
    for name in config.labels:
        known = train[name].notna().to_numpy()
        y = train.loc[known, name].to_numpy()
        if y.sum() < config.min_positives or (1 - y).sum() < config.min_positives:
            log.warning("%s: %d positives in training, fewer than %d: not trained (null)",
                        name, int(y.sum()), config.min_positives)
            continue
        dev_known = dev[name].notna().to_numpy()
        y_dev = dev.loc[dev_known, name].to_numpy()
        best, best_ap = None, -1.0
        for c in config.c_grid:
            head = LogisticRegression(C=c, class_weight="balanced", solver="liblinear",
                                      max_iter=config.max_iter, random_state=0)
            head.fit(x_train[known], y)
            ap = (average_precision_score(y_dev, head.decision_function(x_dev[dev_known]))
                  if len(np.unique(y_dev)) == 2 else 0.0)
            log.info("%s: C=%g dev average precision %.3f", name, c, ap)
            if ap > best_ap:
                best, best_ap = head, ap
        labels.append(name)
        heads.append(best)
        chosen_c[name] = float(best.C)
    if not labels:
        raise ValueError("no label has enough positives to train")

    identity = {n: Calibrator().to_dict() for n in labels}
    draft = ModelConfig(
        kind="baseline", name=config.name, version=config.version, scored_labels=labels,
        thresholds=dict.fromkeys(labels, 0.5), review_bands={n: [0.5, 0.5] for n in labels},
        calibration=identity, window_words=config.window_words,
        window_stride=config.window_stride,
    )
    model = BaselineClassifier(draft, features, heads)
    calibration, thresholds, bands = fit_label_calibration(
        model.raw_logits(list(calib["text"])), calib, labels, config.calibration,
        config.review_recall, config.review_precision)
    weak = weak_languages(train, labels)
    sources = _sources_with_licences(train)
    final = ModelConfig(
        kind="baseline", name=config.name, version=config.version, scored_labels=labels,
        thresholds=thresholds, review_bands=bands, calibration=calibration,
        weak_languages=weak, window_words=config.window_words,
        window_stride=config.window_stride,
        training={**config.to_dict(), "chosen_c": chosen_c, "train_rows": len(train),
                  "seconds": round(time.perf_counter() - start, 1)},
        data_sources=sources,
        library_versions=library_versions(), commit=git_commit(),
        created=dt.date.today().isoformat(),
    )
    return BaselineClassifier(final, features, heads)


def train_baseline(corpus: pd.DataFrame, config: BaselineConfig | None, output_dir: Path
                   ) -> Path:
    """Fit the baseline and save it to ``output_dir`` (config and weights)."""
    model = fit_baseline(corpus, config)
    return model.save(Path(output_dir))
