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
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[feedback_source(export)],
                                       keyboard_variants=()))
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
                 "--keyboard-variants", "none", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert FEEDBACK_SOURCE in printed and "0 keyboard variants added" in printed
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


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_feedback_export_of_texts_with_line_separators_feeds_the_corpus(tmp_path,
                                                                        suffix) -> None:
    """Posts pasted from the web carry U+2028/U+2029/U+0085 and newlines: the export must stay
    one record per item for the corpus reader (which splits JSON lines on every line break)."""
    texts = ["first line\u2028second line", "para\u2029graph", "next\x85line", "two\nlines",
             "=HYPERLINK(\"http://x\")"]
    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        for text in texts:
            item = store.submit(text, {"hate": False}, submitter="key:a", lang="en")
            store.review(item.id, reviewer="Aida", confirm=True)
        export = tmp_path / f"feedback{suffix}"
        assert store.export(export) == len(texts)
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[feedback_source(export)]))
    assert sorted(corpus["text"]) == sorted(texts)


@pytest.mark.parametrize("name", ["feedback.txt", "feedback.tsv", "feedback"])
def test_feedback_export_refuses_a_name_the_corpus_would_misread(tmp_path, name) -> None:
    """'anything else JSON lines' wrote JSON lines the corpus reads as CSV/TSV or refuses."""
    from warning.feedback import FeedbackError

    with FeedbackStore(tmp_path / "feedback.db") as store:
        item = store.submit("post", {"hate": False}, submitter="key:a", lang="en")
        store.review(item.id, reviewer="Aida", confirm=True)
        with pytest.raises(FeedbackError, match=r"\.jsonl"):
            store.export(tmp_path / name)
    assert not (tmp_path / name).exists()


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(A1)", "\t=1", "'quoted", "''twice", "'=already", "plain"]


def test_feedback_csv_export_is_safe_in_a_spreadsheet_and_exact_in_the_corpus(tmp_path) -> None:
    """A post starting with = + - @ (a formula when the CSV is opened in a spreadsheet) is
    written with a leading apostrophe; the corpus reads every text back exactly."""
    import csv

    with FeedbackStore(tmp_path / "feedback.db") as store:
        for text in FORMULAS:
            item = store.submit(text, {"hate": False}, submitter="key:a", lang="en")
            store.review(item.id, reviewer="Aida", confirm=True)
        export = tmp_path / "feedback.csv"
        store.export(export)
    with open(export, encoding="utf-8", newline="") as handle:
        cells = [row["text"] for row in csv.DictReader(handle)]
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells), cells
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[feedback_source(export)]))
    assert sorted(corpus["text"]) == sorted(FORMULAS)
