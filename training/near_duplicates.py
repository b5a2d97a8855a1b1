"""Near-duplicate grouping for the corpus: the code :mod:`warning.text.near_duplicates` holds
(MinHash over character 5-grams, datasketch's MinHash LSH, exact Jaccard verification), which
the alerts' campaign search uses too. Kept so that ``training.near_duplicates`` imports keep
working; the pairs, and so the corpus's groups and splits, are exactly those of the copy this
module held before (``tests/training/test_near_duplicates.py`` checks it).
"""

from warning.text.near_duplicates import UnionFind, near_duplicate_pairs, shingles

__all__ = ["UnionFind", "near_duplicate_pairs", "shingles"]
