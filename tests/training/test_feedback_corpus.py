"""The feedback export feeds the corpus: ``warning feedback export`` -> ``warning train corpus
--feedback`` gives rows of source ``feedback`` with the confirmed labels, unknown ones NaN."""

from __future__ import annotations

import math

import pytest

from training.corpus import CorpusConfig, build_corpus, load_corpus
from training.sources import FEEDBACK_LICENCE, FEEDBACK_SOURCE, feedback_source
from warning.cli import main
from warning.feedback import FeedbackStore

POSTS = {
    "Ты тупой идиот, вали отсюда": ({"offensive": True, "threat": False}, "confirm"),
    "Kyrgyz people are vermin and must go": ({"hate": True}, "confirm"),
    "Бүгүн Ошко барам, ким барат?": ({"offensive": False, "hate": False, "threat": False},
                                     "confirm"),
    "I will burn your house tonight": ({"threat": True}, "reject"),
    "Still waiting for a reviewer here": ({"hate": False}, None),
}


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        for text, (labels, decision) in POSTS.items():
            item = store.submit(text, labels, submitter="key:a")
            if decision:
                store.review(item.id, reviewer="Aida", confirm=decision == "confirm")
    return path


def _labels(frame, text_start: str) -> tuple:
    row = frame[frame["text"].str.startswith(text_start)].iloc[0]
    return tuple(None if math.isnan(row[n]) else int(row[n])
                 for n in ("offensive", "hate", "threat", "extremism"))


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_feedback_export_builds_corpus_rows_with_the_confirmed_labels(store_path, tmp_path,
                                                                      suffix) -> None:
    export = tmp_path / f"feedback{suffix}"
    with FeedbackStore(store_path, create=False) as store:
        assert store.export(export) == 3
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[feedback_source(export)]))
    assert len(corpus) == 3
    assert set(corpus["source"]) == {FEEDBACK_SOURCE}
    assert set(corpus["licence"]) == {FEEDBACK_LICENCE}
    assert _labels(corpus, "Ты тупой") == (1, None, 0, None)
    assert _labels(corpus, "Kyrgyz people") == (None, 1, None, None)
    assert _labels(corpus, "Бүгүн") == (0, 0, 0, None)
    assert set(corpus["lang"]) == {"ru", "en", "ky"}
    assert not corpus["text"].str.contains("burn|reviewer").any()  # rejected, pending


def test_feedback_export_through_the_two_commands(store_path, tmp_path, capsys) -> None:
    export = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "-o", str(export), "--db", str(store_path)]) == 0
    out = tmp_path / "corpus.parquet"
    assert main(["train", "corpus", "--sources", "", "--feedback", str(export),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert FEEDBACK_SOURCE in printed
    corpus = load_corpus(out)
    assert len(corpus) == 3 and set(corpus["source"]) == {FEEDBACK_SOURCE}
    assert _labels(corpus, "Kyrgyz people") == (None, 1, None, None)


def test_train_corpus_feedback_reports_a_wrong_file(tmp_path, capsys) -> None:
    wrong = tmp_path / "labels.csv"
    wrong.write_text("message,hate\nпривет,1\n", encoding="utf-8")
    code = main(["train", "corpus", "--sources", "", "--feedback", str(wrong), "--out",
                 str(tmp_path / "c.parquet")])
    assert code == 2
    assert "missing column(s)" in capsys.readouterr().err
