"""Near-duplicate texts: MinHash over character 5-grams, candidates from datasketch's MinHash LSH,
every candidate verified by its exact Jaccard similarity.

Two parts of the project ask the same question, "is this the same text, perhaps with small
edits?", and answer it with this code: :mod:`warning.alerts.campaigns` (copies of a flagged
post from several accounts or channels: coordinated posting) and the training corpus
(``training.corpus``: near-duplicates form one group, so that a retweet with another handle or a
copy with one word changed never straddles two splits).

Texts whose character 5-gram sets have a Jaccard similarity of at least ``threshold`` are a
pair; groups are the connected components of the pairs. The signatures are computed here, not
by :class:`datasketch.MinHash`'s own ``update``, so that they are exactly those the corpus has
always used (``zlib.crc32`` of each 5-gram, a fixed seed, never Python's salted ``hash``): the
corpus's groups and splits do not move. :class:`datasketch.MinHashLSH` holds the signatures in
``bands`` bands and finds the texts that share a band; within a bucket each text is compared
with the (at most) 20 texts before it, so one degenerate bucket cannot make the search
quadratic.

Example:
    >>> texts = ["the uzbeks must leave our city now", "the uzbeks must leave our city now!!",
    ...          "bread prices went up again today"]
    >>> near_duplicate_pairs(texts)
    [(0, 1)]
    >>> near_duplicate_groups(texts)
    [0, 0, 2]
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

__all__ = ["NearDuplicateIndex", "UnionFind", "near_duplicate_groups", "near_duplicate_pairs",
           "shingles"]

_PRIME = np.uint64((1 << 61) - 1)
_MAX_CHARS = 2000  # long posts: the first 2,000 characters decide
_MAX_COMPARISONS = 20


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size.

    Example:
        >>> sets = UnionFind(3)
        >>> sets.union(0, 2)
        >>> sets.find(2) == sets.find(0) != sets.find(1)
        True
    """

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)
        self.size = np.ones(n, dtype=np.int64)

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def shingles(text: str, k: int = 5) -> np.ndarray:
    """The distinct hashed character ``k``-grams of a text (uint64)."""
    text = text[:_MAX_CHARS]
    if len(text) < k:
        return np.empty(0, dtype=np.uint64)
    grams = {text[i : i + k] for i in range(len(text) - k + 1)}
    return np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64,
                       count=len(grams))


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


class NearDuplicateIndex:
    """Texts in a MinHash LSH index (datasketch), and the verified near-duplicate pairs among
    them.

    Args:
        threshold: Minimum Jaccard similarity of two texts' 5-gram sets.
        num_perm: MinHash permutations.
        bands: LSH bands; ``num_perm`` must be divisible by it. More bands find pairs of lower
            similarity more surely, at the cost of more candidates to verify.
        min_shingles: Texts with fewer distinct 5-grams are left out (compare them whole).
        seed: Seed of the hash permutations.

    Example:
        >>> index = NearDuplicateIndex(threshold=0.6, num_perm=128, bands=32)
        >>> for text in ["вон из города, узбеки", "вон из города, узбеки!", "хлеб подорожал"]:
        ...     _ = index.add(text)
        >>> index.pairs()
        [(0, 1)]
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 64, bands: int = 16,
                 min_shingles: int = 8, seed: int = 13) -> None:
        from datasketch import MinHash, MinHashLSH

        if num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be divisible by bands ({bands})")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold, self.num_perm, self.min_shingles = threshold, num_perm, min_shingles
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, int(_PRIME), size=num_perm, dtype=np.uint64)
        self._b = rng.integers(0, int(_PRIME), size=num_perm, dtype=np.uint64)
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                               params=(bands, num_perm // bands))
        self._sets: dict[int, np.ndarray] = {}
        self._count = 0
        # datasketch's own permutations, made once and shared (they are never applied here:
        # the signatures are ours), so each sketch does not draw its own
        self._permutations = MinHash(num_perm=num_perm, scheme="affine64").permutations

    def add(self, text: str) -> int:
        """Index ``text`` (already normalised and case-folded); returns its number (0, 1, ...).
        A text with fewer than ``min_shingles`` 5-grams gets a number but is not indexed."""
        from datasketch import MinHash

        key = self._count
        self._count += 1
        sh = shingles(text)
        if sh.size < self.min_shingles:
            return key
        self._sets[key] = sh
        # (a*x + b) mod p on uint64 wraps: still a fixed, deterministic family for MinHash,
        # 64-bit values (datasketch's "affine64" width),
        # and the one the corpus's groups were always made with
        sig = ((sh[:, None] * self._a[None, :] + self._b[None, :]) % _PRIME).min(axis=0)
        self._lsh.insert(key, MinHash(hashvalues=sig, scheme="affine64",
                                      permutations=self._permutations))
        return key

    def pairs(self) -> list[tuple[int, int]]:
        """Verified pairs ``(i, j)``, ``i < j``, of texts at least ``threshold`` similar."""
        found: set[tuple[int, int]] = set()
        for table in self._lsh.hashtables:
            for bucket in table.keys():
                members = sorted(table.get(bucket))  # numbers in the order they were added
                # each member against the few before it: buckets of real near-duplicates are
                # small, and the cap keeps a degenerate bucket from going quadratic
                for pos in range(1, len(members)):
                    j = members[pos]
                    for i in members[max(0, pos - _MAX_COMPARISONS) : pos]:
                        pair = (i, j)
                        if pair not in found and \
                                _jaccard(self._sets[i], self._sets[j]) >= self.threshold:
                            found.add(pair)
        return sorted(found)


def near_duplicate_pairs(texts: Sequence[str], threshold: float = 0.8, num_perm: int = 64,
                         bands: int = 16, min_shingles: int = 8,
                         seed: int = 13) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, whose texts are near-duplicates (see
    :class:`NearDuplicateIndex` for the arguments). Texts shorter than ``min_shingles``
    5-grams are paired with nothing here: compare them whole.
    """
    index = NearDuplicateIndex(threshold, num_perm, bands, min_shingles, seed)
    for text in texts:
        index.add(text)
    return index.pairs()


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.8, num_perm: int = 64,
                          bands: int = 16, min_shingles: int = 8, seed: int = 13) -> list[int]:
    """The group of each text: the smallest index among the texts joined to it by exact
    equality or by a chain of near-duplicate pairs."""
    first: dict[str, int] = {}
    sets = UnionFind(len(texts))
    unique: list[int] = []
    for i, text in enumerate(texts):
        if text in first:
            sets.union(first[text], i)
        else:
            first[text] = i
            unique.append(i)
    for i, j in near_duplicate_pairs([texts[u] for u in unique], threshold, num_perm, bands,
                                     min_shingles, seed):
        sets.union(unique[i], unique[j])
    roots = [sets.find(i) for i in range(len(texts))]
    smallest: dict[int, int] = {}
    for i, root in enumerate(roots):
        smallest.setdefault(root, i)
    return [smallest[root] for root in roots]
