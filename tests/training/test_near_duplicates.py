"""The corpus's near-duplicate groups come from :mod:`warning.text.near_duplicates` (datasketch's
MinHash LSH) and are exactly those of the copy ``training/near_duplicates.py`` held before, so
no row of a rebuilt corpus changes split."""

import zlib
from collections import defaultdict

import numpy as np
import pandas as pd

from training.corpus import assign_splits
from training.near_duplicates import near_duplicate_pairs
from warning.text.near_duplicates import NearDuplicateIndex, near_duplicate_groups

_PRIME = np.uint64((1 << 61) - 1)


def _reference_pairs(texts, threshold=0.8, num_perm=64, bands=16, min_shingles=8, seed=13):
    """The corpus's own copy before it moved to warning/, verbatim but for names: the
    reference the shared code must match pair for pair."""

    def shingles(text):
        text = text[:2000]
        if len(text) < 5:
            return np.empty(0, dtype=np.uint64)
        grams = {text[i:i + 5] for i in range(len(text) - 4)}
        return np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64,
                           count=len(grams))

    def jaccard(a, b):
        inter = np.intersect1d(a, b, assume_unique=True).size
        return inter / (a.size + b.size - inter)

    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=num_perm, dtype=np.uint64)
    rows = num_perm // bands
    sets, buckets = {}, defaultdict(list)
    for i, text in enumerate(texts):
        sh = shingles(text)
        if sh.size < min_shingles:
            continue
        sets[i] = sh
        sig = ((sh[:, None] * a[None, :] + b[None, :]) % _PRIME).min(axis=0)
        for band in range(bands):
            buckets[(band, sig[band * rows:(band + 1) * rows].tobytes())].append(i)
    pairs = set()
    for members in buckets.values():
        for pos in range(1, len(members)):
            j = members[pos]
            for i in members[max(0, pos - 20):pos]:
                pair = (i, j) if i < j else (j, i)
                if pair not in pairs and jaccard(sets[i], sets[j]) >= threshold:
                    pairs.add(pair)
    return sorted(pairs)


def _fixture_texts():
    """Near-duplicates of several kinds, a degenerate family (one template, 60 fillers: buckets
    far over the 20-comparison cap) and unrelated texts, in Russian, Kyrgyz and English."""
    rng = np.random.default_rng(5)
    base = ["эти мигранты опять заполонили весь рынок, гнать их надо отсюда",
            "бул шаарда кыргыздар менен өзбектер тынч жашашат, базарда соода жүрүп жатат",
            "I will find you and your family, you will regret what you wrote today",
            "новый мост через реку откроют в конце месяца, сообщает мэрия"]
    texts = []
    for text in base:
        texts.append(text)
        texts.append(text + "!!")
        texts.append(text.replace(" ", "  ", 1))
        words = text.split()
        words[rng.integers(len(words))] = "ещё"
        texts.append(" ".join(words))
    template = "объявление: продаю {} недорого, звоните вечером после шести, торг уместен"
    texts += [template.format(f"товар номер {i}") for i in range(60)]
    texts += [f"случайная заметка {i} о погоде {i * 7} и ценах {i * 13}" for i in range(40)]
    texts += ["ок", "да", "нет"]  # too short: paired with nothing
    order = rng.permutation(len(texts))
    return [texts[i] for i in order]


def test_near_duplicates_shared_code_gives_the_corpus_pairs_exactly() -> None:
    texts = _fixture_texts()
    expected = _reference_pairs(texts)
    assert len(expected) > 100  # the degenerate family is in the fixture
    assert near_duplicate_pairs(texts) == expected
    for threshold in (0.6, 0.9):
        assert near_duplicate_pairs(texts, threshold=threshold) == \
            _reference_pairs(texts, threshold=threshold)


def test_near_duplicates_corpus_splits_are_unchanged() -> None:
    texts = _fixture_texts()
    frame = pd.DataFrame({"id": [f"r{i:04d}" for i in range(len(texts))], "key": texts,
                          "group_hint": "", "orig_split": ""})
    ratios = (0.7, 0.1, 0.1, 0.1)
    out = assign_splits(frame, ratios, 0.8)
    # the same groups, from the reference pairs and a plain union-find
    parent = list(range(len(texts)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in _reference_pairs(texts):
        parent[find(j)] = find(i)
    groups = pd.Series(frame["id"]).groupby([find(i) for i in range(len(texts))]).transform("min")
    assert out["group"].tolist() == groups.tolist()
    assert out["group"].nunique() < len(texts) - 50


def test_near_duplicates_groups_join_exact_copies_and_small_edits() -> None:
    texts = ["вон отсюда, таджики, вам здесь не место", "ок", "ок",
             "вон отсюда, таджики, вам здесь не место!!!", "цены на хлеб выросли"]
    assert near_duplicate_groups(texts, threshold=0.6) == [0, 1, 1, 0, 4]
    index = NearDuplicateIndex(threshold=0.6, num_perm=128, bands=32)
    keys = [index.add(t) for t in texts]
    assert keys == [0, 1, 2, 3, 4] and index.pairs() == [(0, 3)]
