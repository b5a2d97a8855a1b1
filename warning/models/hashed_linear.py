"""The baseline's arithmetic without scikit-learn: hashed n-grams, TF-IDF, linear heads as arrays.

The baseline (:mod:`warning.models.baseline`) is a scikit-learn pipeline, as
``training.baseline`` builds it: a ``FeatureUnion`` of ``HashingVectorizer`` + ``TfidfTransformer``
branches (character n-grams within words, word n-grams), an L2 ``Normalizer``, and one
``LogisticRegression`` per label. Scoring it through scikit-learn costs, per post, a Python list
of every n-gram string, a hash of each, and three separate sparse products; loading it costs
skops' discovery of every scikit-learn estimator (seconds) before the file is even opened.

:class:`HashedLinear` computes the same numbers another way:

- a word's character n-grams never reach past the word, so the hashed columns of each distinct
  word are computed once and kept (:attr:`HashedLinear.cache_size` words); a post's counts are
  the sum of its words';
- TF-IDF, the branch and union normalisations and all the heads are one sparse product with a
  ``[n_features, n_labels]`` matrix per branch, and a division by the row norms;
- the hash is scikit-learn's (MurmurHash3 x86 32-bit, seed 0, through ``mmh3``), so the columns
  are the same.

It is built from the fitted scikit-learn objects of any folder ``warning train baseline`` wrote
(:func:`compile_pipeline`); a pipeline of another shape is refused with the reason, and the
baseline then scores through scikit-learn as before. Its arrays can be saved without pickle
(:meth:`HashedLinear.save`, ``.npz`` plus JSON) so that a later load needs neither skops nor
scikit-learn. ``tests/warning/models/test_hashed_linear.py`` checks it against scikit-learn.

Example:
    >>> fast = compile_pipeline(model.features, model.heads)   # doctest: +SKIP
    >>> fast.decision(["ты идиот"]).shape                       # doctest: +SKIP
    (1, 3)
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HashedLinear", "NotCompilable", "compile_pipeline"]

_FORMAT = 1


class NotCompilable(ValueError):
    """The pipeline is not of the shape :class:`HashedLinear` reproduces (the message says why)."""


@dataclass
class _BranchSpec:
    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    n_features: int
    token_pattern: str | None
    sublinear_tf: bool
    norm: str | None  # the TF-IDF's row norm: "l2" or None


def _hash_index(feature: str, n_features: int) -> int:
    """scikit-learn's ``FeatureHasher`` column of a string feature (``_hashing_fast.pyx``)."""
    import mmh3

    h = mmh3.hash(feature, 0, True)
    if h == -2147483648:
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


def _char_wb_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``_char_wb_ngrams`` of one word (the same loop, the same order)."""
    w = " " + word + " "
    w_len = len(w)
    out = []
    for n in range(min_n, max_n + 1):
        offset = 0
        out.append(w[offset : offset + n])
        while offset + n < w_len:
            offset += 1
            out.append(w[offset : offset + n])
        if offset == 0:  # a short word counts once
            break
    return out


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``_word_ngrams`` (no stop words)."""
    if max_n == 1:
        return tokens
    out = list(tokens) if min_n == 1 else []
    start = max(min_n, 2)
    for n in range(start, min(max_n + 1, len(tokens) + 1)):
        for i in range(len(tokens) - n + 1):
            out.append(" ".join(tokens[i : i + n]))
    return out


class _Branch:
    """One ``HashingVectorizer`` + ``TfidfTransformer`` branch with its slice of every head."""

    def __init__(self, spec: _BranchSpec, idf: np.ndarray | None, weights: np.ndarray,
                 cache_size: int) -> None:
        self.spec = spec
        self.idf = idf
        # TF-IDF weights folded into the heads: score = sum_j tf'_j * idf_j * coef_j
        self.weights = np.ascontiguousarray(weights * idf[:, None] if idf is not None
                                            else weights)
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray | int] = {}
        self._tokens = re.compile(spec.token_pattern) if spec.analyzer == "word" else None

    def _columns_of_word(self, word: str) -> np.ndarray:
        """Hashed columns (with repeats) of one word's character n-grams, cached."""
        found = self._cache.get(word)
        if found is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            n = self.spec.n_features
            found = np.fromiter((_hash_index(g, n) for g in _char_wb_ngrams(
                word, *self.spec.ngram_range)), dtype=np.int32)
            self._cache[word] = found
        return found  # type: ignore[return-value]

    def _column_of_feature(self, feature: str) -> int:
        found = self._cache.get(feature)
        if found is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            found = _hash_index(feature, self.spec.n_features)
            self._cache[feature] = found
        return found  # type: ignore[return-value]

    def counts(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(columns of the docs' n-grams with repeats, docs in turn; n-grams per doc)."""
        lengths = np.zeros(len(docs), dtype=np.int64)
        parts: list[np.ndarray] = []
        if self.spec.analyzer == "char_wb":
            for i, doc in enumerate(docs):
                words = [self._columns_of_word(w) for w in doc.split()]
                if words:
                    part = np.concatenate(words) if len(words) > 1 else words[0]
                    parts.append(part)
                    lengths[i] = len(part)
        else:
            assert self._tokens is not None
            column, known = self._column_of_feature, self._cache.get
            min_n, max_n = self.spec.ngram_range
            findall = self._tokens.findall
            for i, doc in enumerate(docs):
                grams = _word_ngrams(findall(doc), min_n, max_n)
                if grams:
                    # a dict lookup per n-gram; the hash only for n-grams not seen before
                    cols = [known(g) for g in grams]
                    if None in cols:
                        cols = [c if c is not None else column(g)
                                for c, g in zip(cols, grams, strict=True)]
                    parts.append(np.array(cols, dtype=np.int32))
                    lengths[i] = len(grams)
        columns = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        return columns, lengths

    def scores(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(head scores ``[n, n_labels]`` of the branch's TF-IDF rows, squared row norms)."""
        import scipy.sparse as sp

        n = len(docs)
        columns, lengths = self.counts(docs)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        matrix = sp.csr_matrix((np.ones(len(columns)), columns, indptr),
                               shape=(n, self.spec.n_features))
        matrix.sum_duplicates()  # repeated n-grams of a doc become counts
        data = matrix.data
        if self.spec.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        counts_rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
        values = data * self.idf[matrix.indices] if self.idf is not None else data
        squared = np.bincount(counts_rows, weights=values * values, minlength=n)
        scores = np.asarray(matrix @ self.weights)  # tf' rows times idf-folded weights
        if self.spec.norm == "l2":
            norms = np.sqrt(squared)
            nonzero = norms > 0
            scores[nonzero] /= norms[nonzero, None]
            squared = nonzero.astype(float)
        return scores, squared


class HashedLinear:
    """The baseline's features and heads as arrays (see the module docstring).

    Args:
        branches: The union's branches, in order.
        final_norm: Whether an L2 ``Normalizer`` follows the union.
        intercepts: The heads' intercepts ``[n_labels]``.

    Attributes:
        cache_size: Distinct words (character branch) or n-grams (word branch) kept per
            branch; the cache is emptied when full.
    """

    cache_size = 100_000

    def __init__(self, branches: list[_Branch], final_norm: bool, intercepts: np.ndarray
                 ) -> None:
        self.branches = branches
        self.final_norm = final_norm
        self.intercepts = np.asarray(intercepts, dtype=float)

    def decision(self, docs: list[str]) -> np.ndarray:
        """The heads' decision values ``[n_docs, n_labels]`` for folded texts (what
        ``[head.decision_function(features.transform(docs)) for head in heads]`` gives)."""
        total = np.zeros((len(docs), len(self.intercepts)))
        squared = np.zeros(len(docs))
        for branch in self.branches:
            scores, sq = branch.scores(docs)
            total += scores
            squared += sq
        if self.final_norm:
            norms = np.sqrt(squared)
            nonzero = norms > 0
            total[nonzero] /= norms[nonzero, None]
        return total + self.intercepts

    # ---- saving without pickle --------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write ``arrays.npz`` (no pickle) and ``spec.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"intercepts": self.intercepts}
        for i, b in enumerate(self.branches):
            arrays[f"weights_{i}"] = b.weights
            if b.idf is not None:
                arrays[f"idf_{i}"] = b.idf
        np.savez(folder / "arrays.npz", **arrays)
        spec = {"format": _FORMAT, "final_norm": self.final_norm,
                "branches": [asdict(b.spec) for b in self.branches]}
        (folder / "spec.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> HashedLinear:
        """Read what :meth:`save` wrote.

        Raises:
            NotCompilable: The files are missing, of another format, or inconsistent.
        """
        folder = Path(folder)
        try:
            spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
            if spec.get("format") != _FORMAT:
                raise NotCompilable(f"{folder}: format {spec.get('format')!r}, expected "
                                    f"{_FORMAT}")
            with np.load(folder / "arrays.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            branches = []
            for i, entry in enumerate(spec["branches"]):
                entry["ngram_range"] = tuple(entry["ngram_range"])
                b = _Branch(_BranchSpec(**entry), None, arrays[f"weights_{i}"],
                            cls.cache_size)
                b.idf = arrays.get(f"idf_{i}")  # weights are stored with idf folded in
                branches.append(b)
            return cls(branches, bool(spec["final_norm"]), arrays["intercepts"])
        except (OSError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, NotCompilable):
                raise
            raise NotCompilable(f"{folder}: cannot read the compiled baseline ({exc})") from exc


def _spec_of(name: str, branch: Any) -> tuple[_BranchSpec, np.ndarray | None]:
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(branch, Pipeline) or len(branch.steps) != 2:
        raise NotCompilable(f"branch {name!r} is not a hashing + TF-IDF pipeline")
    hasher, tfidf = branch.steps[0][1], branch.steps[1][1]
    if type(hasher) is not HashingVectorizer or type(tfidf) is not TfidfTransformer:
        raise NotCompilable(f"branch {name!r} is not HashingVectorizer + TfidfTransformer")
    p = hasher.get_params()
    wanted = {"input": "content", "encoding": "utf-8", "decode_error": "strict",
              "strip_accents": None, "lowercase": False, "preprocessor": None,
              "tokenizer": None, "stop_words": None, "norm": None, "binary": False,
              "alternate_sign": False}
    differ = sorted(k for k, v in wanted.items() if p.get(k) != v)
    if p["analyzer"] not in ("char_wb", "word"):
        differ.append(f"analyzer={p['analyzer']!r}")
    if np.dtype(p["dtype"]) != np.float64:
        differ.append("dtype")
    if tfidf.norm not in ("l2", None):
        differ.append(f"tfidf norm={tfidf.norm!r}")
    if differ:
        raise NotCompilable(f"branch {name!r} has settings this path does not reproduce: "
                            f"{', '.join(differ)}")
    idf = np.asarray(tfidf.idf_, dtype=float) if tfidf.use_idf else None
    spec = _BranchSpec(analyzer=p["analyzer"], ngram_range=tuple(p["ngram_range"]),
                       n_features=int(p["n_features"]),
                       token_pattern=p["token_pattern"] if p["analyzer"] == "word" else None,
                       sublinear_tf=bool(tfidf.sublinear_tf), norm=tfidf.norm)
    return spec, idf


def compile_pipeline(features: Any, heads: list[Any]) -> HashedLinear:
    """A :class:`HashedLinear` computing ``features`` followed by ``heads``' decision values.

    Args:
        features: The fitted features pipeline (``training.baseline``'s shape:
            ``Pipeline([("union", FeatureUnion([...])), ("norm", Normalizer())])``, or the
            union alone).
        heads: Fitted binary linear classifiers (``coef_`` of shape ``[1, n_features]``).

    Raises:
        NotCompilable: Another shape; the message says what differs.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import Normalizer

    steps = features.steps if isinstance(features, Pipeline) else [("union", features)]
    union, final_norm = steps[0][1], False
    if len(steps) == 2:
        last = steps[1][1]
        if type(last) is not Normalizer or last.norm != "l2":
            raise NotCompilable("the step after the union is not an L2 Normalizer")
        final_norm = True
    elif len(steps) != 1:
        raise NotCompilable(f"the features pipeline has {len(steps)} steps, expected 1 or 2")
    if type(union) is not FeatureUnion or union.transformer_weights:
        raise NotCompilable("the features are not an unweighted FeatureUnion")
    coef = []
    for head in heads:
        c = getattr(head, "coef_", None)
        if c is None or np.ndim(c) != 2 or c.shape[0] != 1 or not hasattr(head, "intercept_"):
            raise NotCompilable(f"head {type(head).__name__} is not a binary linear model")
        coef.append(np.asarray(c[0], dtype=float))
    weights = np.stack(coef, axis=1)  # [n_features_total, n_labels]
    intercepts = np.array([float(np.ravel(h.intercept_)[0]) for h in heads])
    branches, offset = [], 0
    for name, branch in union.transformer_list:
        if branch in ("drop", None):
            continue
        spec, idf = _spec_of(name, branch)
        part = weights[offset : offset + spec.n_features]
        if len(part) != spec.n_features:
            raise NotCompilable("the heads have fewer weights than the features")
        branches.append(_Branch(spec, idf, part, HashedLinear.cache_size))
        offset += spec.n_features
    if offset != len(weights):
        raise NotCompilable(f"the heads have {len(weights)} weights, the features {offset}")
    return HashedLinear(branches, final_norm, intercepts)
