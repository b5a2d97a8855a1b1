"""Confusion tables, error lists and threshold sweeps on a scored split."""

import numpy as np
import pandas as pd
import pytest

from training.analysis import confusion_table, error_examples, score_split, threshold_sweep
from warning.models.calibration import Calibrator
from warning.models.classifier import Classifier, ModelConfig


class WordModel(Classifier):
    """A test double: ``hate`` scores 0.9 with "vermin", 0.6 with "rats", else 0.1."""

    def __init__(self) -> None:
        super().__init__(ModelConfig(
            kind="keyword", name="word", version="1", scored_labels=["hate"],
            thresholds={"hate": 0.5}, review_bands={"hate": [0.4, 0.6]},
            calibration={"hate": Calibrator().to_dict()}))

    def _window_logits(self, windows):
        def logit(q):
            return float(np.log(q / (1 - q)))

        return np.array([[logit(0.9 if "vermin" in w else 0.6 if "rats" in w else 0.1)]
                         for w in windows])

    def _save_weights(self, folder):
        raise NotImplementedError

    @classmethod
    def _from_folder(cls, folder, config):
        raise NotImplementedError


@pytest.fixture
def scored():
    texts = ["they are vermin", "they are rats", "nice day", "they are vermin indeed",
             "hidden hate", "rats in the kitchen", "hello", "bus"]
    hate = [1, 1, 0, 0, 1, 0, 0, np.nan]
    corpus = pd.DataFrame({"id": [f"r{i}" for i in range(8)], "text": texts,
                           "lang": ["en"] * 4 + ["ru"] * 4, "hate": hate,
                           "source": "s", "split": ["test"] * 8})
    corpus = pd.concat([corpus, corpus.assign(split="dev")], ignore_index=True)
    return score_split(WordModel(), corpus, "test")


def test_analysis_score_split_scores_only_the_split(scored) -> None:
    assert len(scored.rows) == 8 and scored.labels == ["hate"]
    assert scored.proba[:, 1] == pytest.approx([0.9, 0.6, 0.1, 0.9, 0.1, 0.6, 0.1, 0.1])
    assert np.nanmax(scored.thresholds[:, 1]) == 0.5


def test_analysis_confusion_table_counts_per_label_and_language(scored) -> None:
    table = confusion_table(scored)
    assert table.loc[("hate", "en")].to_dict() == {"n": 4, "tp": 2, "fp": 1, "fn": 0, "tn": 1}
    # the row with an unknown label is masked out
    assert table.loc[("hate", "ru")].to_dict() == {"n": 3, "tp": 0, "fp": 1, "fn": 1, "tn": 1}


def test_analysis_error_examples_lists_the_most_confident_mistakes_first(scored) -> None:
    errors = error_examples(scored, "hate", k=1)
    assert list(errors["kind"]) == ["false positive", "false negative"]
    assert list(errors["id"]) == ["r3", "r4"]  # 0.9 false alarm; 0.1 miss


def test_analysis_threshold_sweep_matches_hand_counts(scored) -> None:
    sweep = threshold_sweep(scored, "hate", thresholds=np.array([0.5, 0.95]))
    # at 0.5: flagged 0.9, 0.6, 0.9, 0.6 -> tp 2 (r0, r1), fp 2 (r3, r5); fn 1 (r4)
    first = sweep.iloc[0]
    assert (first["flagged"], first["precision"], first["recall"]) == (4, 0.5, pytest.approx(2 / 3))
    assert np.isnan(sweep.iloc[1]["precision"]) and sweep.iloc[1]["recall"] == 0
    en = threshold_sweep(scored, "hate", lang="en", thresholds=np.array([0.5]))
    assert en.iloc[0]["recall"] == 1.0
