"""Our synthetic training sources: well-formed, and sharing no sentence or template with the
frozen functional suites they could leak into."""

from pathlib import Path

import pandas as pd
import pytest

from training.near_duplicates import near_duplicate_pairs
from training.sources import SOURCES, SYNTHETIC_DIR, read_source
from warning.normalize import fold

SUITES = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "functional")
                .glob("*_suite.csv"))
SYNTHETIC = [s for s in SOURCES.values() if s.synthetic and (SYNTHETIC_DIR / s.files[0]).is_file()]
EXPECTED = {"hateful": (1, 1, 0), "hateful_pair": (1, 1, 0), "threat_pair": (1, 1, 1),
            "hard_negative": (0, 0, 0), "negation": (0, 0, 0), "counter_speech": (0, 0, 0),
            "quoting": (0, 0, 0), "reclaimed": (0, 0, 0), "neutral_mention": (0, 0, 0),
            "profanity": (1, 0, 0), "insult": (1, 0, 0)}


def _words(text: str) -> list[str]:
    return [w for w in fold(text).replace(",", " ").replace(".", " ").split() if w]


@pytest.mark.parametrize("source", SYNTHETIC, ids=lambda s: s.name)
def test_synthetic_source_reads_with_consistent_labels(source) -> None:
    rows = read_source(source, Path("unused"))
    raw = pd.read_csv(SYNTHETIC_DIR / source.files[0], dtype=str, keep_default_na=False)
    assert len(rows) == len(raw) >= 200
    assert rows["extremism"].isna().all()
    for kind, labels in raw.groupby("kind")[["offensive", "hate", "threat"]]:
        values = {tuple(map(int, r)) for r in labels.to_numpy()}
        if kind == "threat":  # against a group (1,1,1) or an individual (1,0,1)
            assert values <= {(1, 1, 1), (1, 0, 1)}
        else:
            assert values == {EXPECTED[kind]}, kind


@pytest.mark.parametrize("source", SYNTHETIC, ids=lambda s: s.name)
def test_synthetic_source_shares_no_sentence_with_any_suite(source) -> None:
    synthetic = list(pd.read_csv(SYNTHETIC_DIR / source.files[0], dtype=str)["text"])
    cases = [t for suite in SUITES for t in pd.read_csv(suite, dtype=str)["test_case"]]
    assert cases, "the functional suites are missing"
    # 1. no near-duplicate sentence (character 5-gram Jaccard >= 0.6)
    texts = [fold(t) for t in synthetic + cases]
    pairs = near_duplicate_pairs(texts, threshold=0.6)
    crossing = [(synthetic[i], cases[j - len(synthetic)]) for i, j in pairs
                if i < len(synthetic) <= j]
    assert not crossing, crossing[:3]
    # 2. no shared run of five words (a template with the group swapped would share one)
    suite_runs = {tuple(w[k : k + 5]) for c in cases for w in [_words(c)]
                  for k in range(len(w) - 4)}
    shared = [t for t in synthetic for w in [_words(t)] for k in range(len(w) - 4)
              if tuple(w[k : k + 5]) in suite_runs]
    assert not shared, shared[:3]
