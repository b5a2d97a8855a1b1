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
  the sum of its words'; the words a batch brings that are not kept yet are hashed together,
  on arrays (the n-grams are spans of the words' UTF-8 bytes, and MurmurHash3 runs as numpy
  steps per 4-byte block over all of them), not one Python string per n-gram;
- word n-grams are hashed as they come, one ``mmh3`` call each (keeping them cost more than
  hashing them: a feed brings new word pairs all the time);
- TF-IDF, the branch and union normalisations and all the heads are one sparse product with a
  ``[n_features, n_labels]`` matrix per branch, and a division by the row norms;
- the hash is scikit-learn's (MurmurHash3 x86 32-bit, seed 0, through ``mmh3`` or its numpy
  form), so the columns are the same.

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
from itertools import pairwise
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


def _hash_columns(features: list[str], n_features: int) -> np.ndarray:
    """scikit-learn's ``FeatureHasher`` column of each string feature (``_hashing_fast.pyx``):
    one C call per feature (``mmh3.hash``, seed 0, signed), the rest in numpy. A lone
    surrogate (which ``normalize`` replaces, and which ``mmh3`` cannot take: it crashes the
    process) is hashed as U+FFFD."""
    import mmh3

    try:
        "".join(features).encode("utf-8")
    except UnicodeEncodeError:
        from warning.text.normalize import replace_surrogates

        features = [replace_surrogates(f) for f in features]

    return _columns_of_hashes(
        np.fromiter(map(mmh3.hash, features), dtype=np.int64, count=len(features)), n_features)


_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _mix(k: np.ndarray) -> np.ndarray:
    """MurmurHash3's scrambling of a 4-byte block (``k * c1``, rotate left 15, ``* c2``)."""
    k = k * _C1
    k = (k << np.uint32(15)) | (k >> np.uint32(17))
    return k * _C2


def _murmur3_spans(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """MurmurHash3 x86 32-bit, seed 0, signed (``mmh3.hash``) of each byte span
    ``buf[start:start + length]``, all spans at once: numpy steps per 4-byte block, not per
    span."""
    padded = np.zeros(len(buf) + 4, dtype=np.uint32)
    padded[: len(buf)] = buf
    # the little-endian 4 bytes that begin at each offset
    words = padded[:-3] | (padded[1:-2] << 8) | (padded[2:-1] << 16) | (padded[3:] << 24)
    blocks = length >> 2
    h = np.zeros(len(start), dtype=np.uint32)
    for j in range(int(blocks.max(initial=0))):
        idx = np.nonzero(blocks > j)[0]
        hj = h[idx] ^ _mix(words[start[idx] + 4 * j])
        hj = (hj << np.uint32(13)) | (hj >> np.uint32(19))
        h[idx] = hj * np.uint32(5) + np.uint32(0xE6546B64)
    tail = (length & 3).astype(np.uint32)
    idx = np.nonzero(tail)[0]
    if len(idx):
        k = words[start[idx] + (blocks[idx] << 2)]
        k &= (np.uint32(1) << (tail[idx] << np.uint32(3))) - np.uint32(1)
        h[idx] ^= _mix(k)
    h ^= length.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h.view(np.int32)


def _columns_of_hashes(h: np.ndarray, n_features: int) -> np.ndarray:
    """scikit-learn's column of each signed 32-bit hash."""
    h = h.astype(np.int64)
    columns = np.abs(h) % n_features
    columns[h == -2147483648] = (2147483647 - (n_features - 1)) % n_features
    return columns.astype(np.int32)


def _char_wb_columns(words: list[str], min_n: int, max_n: int, n_features: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The columns of every word's :func:`_char_wb_ngrams` (word after word) and how many each
    word has, computed on arrays: the padded words' UTF-8 bytes, one span per n-gram, hashed by
    :func:`_murmur3_spans`. Needs ``min_n <= 3`` (a padded word has at least 3 characters, so
    every word has an n-gram of each n up to its padded length) and no lone surrogates (which
    UTF-8 cannot encode; :meth:`_Branch._learn` then takes the per-string path)."""
    joined = " " + "  ".join(words) + " "
    buf = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2
    nbytes = (1 + (points >= 0x80).astype(np.int64) + (points >= 0x800)
              + (points >= 0x10000))
    offset = np.zeros(len(points) + 1, dtype=np.int64)  # byte offset of each character
    np.cumsum(nbytes, out=offset[1:])
    owner = np.repeat(np.arange(len(words)), lengths)
    room = np.cumsum(lengths)[owner] - np.arange(len(points))  # characters to the word's end
    ns = np.arange(min_n, max_n + 1)
    at, which = np.nonzero(room[:, None] >= ns[None, :])  # in word order
    start = offset[at]
    hashes = _murmur3_spans(buf, start, offset[at + ns[which]] - start)
    return (_columns_of_hashes(hashes, n_features),
            np.bincount(owner[at], minlength=len(words)))


def _char_wb_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``_char_wb_ngrams`` of one word: the same n-grams, the same counts (in
    another order, which a sum does not see).

    scikit-learn pads the word with a space on each side and takes every n-gram for each n
    below the padded length; the first n at or past that length adds the padded word itself,
    once, and ends the loop."""
    w = " " + word + " "
    w_len = len(w)
    out = [w[i : i + n] for n in range(min_n, min(max_n, w_len - 1) + 1)
           for i in range(w_len - n + 1)]
    if max_n >= w_len:
        out.append(w)
    return out


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``_word_ngrams`` (no stop words): the same n-grams, in another order."""
    if max_n == 1:
        return tokens
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n + 1, len(tokens) + 1)):
        if n == 2:
            out += [a + " " + b for a, b in pairwise(tokens)]
        else:
            out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
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
        # character branch: word -> its n-grams' columns (with repeats)
        self._cache: dict[str, Any] = {}
        self._tokens = re.compile(spec.token_pattern) if spec.analyzer == "word" else None

    def _learn(self, keys: set[str]) -> None:
        """Put every key of one batch into the cache, hashing the new ones together (the cache
        is emptied first when they would not fit, so the whole batch is always there)."""
        cache = self._cache
        new = list(keys.difference(cache))  # a C loop over the keys, looked up in the dict
        if not new:
            return
        if len(cache) + len(new) > self.cache_size:
            cache.clear()
            new = list(keys)
        n = self.spec.n_features
        min_n, max_n = self.spec.ngram_range
        try:
            if min_n > 3:
                raise ValueError("n-grams longer than the shortest padded word")
            columns, per_word = _char_wb_columns(new, min_n, max_n, n)
        except (UnicodeEncodeError, ValueError):
            grams_of = [_char_wb_ngrams(w, min_n, max_n) for w in new]
            columns = _hash_columns([g for grams in grams_of for g in grams], n)
            per_word = np.fromiter(map(len, grams_of), dtype=np.int64, count=len(new))
        cache.update(zip(new, np.split(columns, np.cumsum(per_word)[:-1]), strict=True))

    def counts(self, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(columns of the docs' n-grams with repeats, docs in turn; n-grams per doc)."""
        if self.spec.analyzer == "char_wb":
            units = [doc.split() for doc in docs]
        else:
            assert self._tokens is not None
            findall = self._tokens.findall
            min_n, max_n = self.spec.ngram_range
            units = [_word_ngrams(findall(doc), min_n, max_n) for doc in docs]
            per_doc = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
            # word n-grams repeat less than words: hashing each (one C call) is cheaper than
            # keeping them
            return _hash_columns([g for grams in units for g in grams], self.spec.n_features), \
                per_doc
        self._learn(set().union(*units) if units else set())
        cache = self._cache
        per_doc = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
        arrays = [cache[w] for words in units for w in words]
        if not arrays:
            return np.zeros(0, dtype=np.int32), np.zeros(len(docs), dtype=np.int64)
        # n-grams per word, summed per doc (a doc's words are consecutive in ``arrays``)
        per_word = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        before = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(per_word, out=before[1:])
        word_ends = np.cumsum(per_doc)
        lengths = before[word_ends] - before[word_ends - per_doc]
        return np.concatenate(arrays), lengths

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
        cache_size: Distinct words whose character n-grams' columns are kept (per character
            branch); the cache is emptied when full. The word branch keeps nothing: its n-grams
            repeat less than words, and hashing each is cheaper than keeping them.
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
