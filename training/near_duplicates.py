"""Near-duplicate grouping with MinHash and locality-sensitive hashing.

Texts whose character 5-gram sets have a Jaccard similarity of at least ``threshold`` end up in
one group (connected components over verified pairs), so that retweets with a different
handle, copy-pasted posts with one word changed, or a toxic sentence and its light edit never
straddle two splits. Everything is deterministic: hashes come from ``zlib.crc32`` and a fixed
seed, not from Python's salted ``hash``.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

__all__ = ["UnionFind", "near_duplicate_pairs", "shingles"]

_PRIME = np.uint64((1 << 61) - 1)
_MAX_CHARS = 2000  # long posts: the first 2,000 characters decide
_MAX_COMPARISONS = 20


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size."""

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


def near_duplicate_pairs(
    texts: Sequence[str],
    threshold: float = 0.8,
    num_perm: int = 64,
    bands: int = 16,
    min_shingles: int = 8,
    seed: int = 13,
) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` whose texts are near-duplicates.

    Candidates come from LSH over MinHash signatures (``bands`` bands of ``num_perm // bands``
    rows); each candidate is verified against its bucket's first member with the exact Jaccard
    similarity, so false candidates never merge groups.

    Args:
        texts: Texts already normalised and case-folded.
        threshold: Minimum Jaccard similarity of the 5-gram sets.
        num_perm: MinHash permutations.
        bands: LSH bands; ``num_perm`` must be divisible by it.
        min_shingles: Shorter texts are only grouped by exact duplicates (done elsewhere).
        seed: Seed of the hash permutations.

    Returns:
        Verified pairs, ``i < j``.
    """
    if num_perm % bands:
        raise ValueError(f"num_perm ({num_perm}) must be divisible by bands ({bands})")
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=num_perm, dtype=np.uint64)
    rows = num_perm // bands
    sets: dict[int, np.ndarray] = {}
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        sh = shingles(text)
        if sh.size < min_shingles:
            continue
        sets[i] = sh
        # (a*x + b) mod p on uint64 wraps; the wrap is a fixed bijection-free hash, still a
        # valid, deterministic family for MinHash purposes.
        sig = ((sh[:, None] * a[None, :] + b[None, :]) % _PRIME).min(axis=0)
        for band in range(bands):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        # Compare each member with the few before it in the bucket: buckets are small for
        # real near-duplicates, and the cap keeps a degenerate bucket from going quadratic.
        for pos in range(1, len(members)):
            j = members[pos]
            for i in members[max(0, pos - _MAX_COMPARISONS) : pos]:
                pair = (i, j) if i < j else (j, i)
                if pair not in pairs and _jaccard(sets[i], sets[j]) >= threshold:
                    pairs.add(pair)
    return sorted(pairs)
