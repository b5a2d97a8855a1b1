"""Bad rows in a feedback export (``warning train corpus --feedback``): each row is used, or left
out and reported with its file, line, id and reason (``corpus.rejects.csv``, counted in the
stats); a bad row never stops the build, and a row is never dropped without a word."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from training.corpus import CorpusConfig, build_corpus, load_corpus
from training.feedback_import import REJECT_COLUMNS, read_export
from training.sources import FeedbackSource, SourceError, UserSource, feedback_source
from warning.cli import main
from warning.feedback import EXPORT_COLUMNS, FeedbackStore

GOOD = ("Ты тупой идиот, вали отсюда", "Бүгүн Ошко барам, ким барат?")


def _item(n: int, text: object, lang: object = "ru", **labels: object) -> dict:
    """One exported item, as ``warning feedback export`` writes it."""
    row = {"id": f"fb-{n:032x}", "text": text, "lang": lang,
           **dict.fromkeys(("offensive", "hate", "threat", "extremism")),
           "created": "2026-11-20T08:00:00Z", "reviewed": "2026-11-21T09:00:00Z",
           "model": "default@2026.12.02.4"}
    row.update(labels or {"offensive": True})
    return row


def _jsonl(path: Path, rows: list[dict | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
             for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _good() -> list[dict | str]:
    return [_item(1, GOOD[0], offensive=True), _item(2, GOOD[1], lang="ky", offensive=False)]


def _build(*paths: Path, **kwargs) -> pd.DataFrame:
    users = [feedback_source(p, **kwargs) for p in paths]
    return build_corpus(CorpusConfig(sources=[], user_sources=users, keyboard_variants=()))


def _rejects(corpus: pd.DataFrame) -> list[tuple[int, str, str]]:
    return [(r.line, r.id, r.reason) for r in corpus.attrs["rejects"]]


def _uses_the_good_rows(corpus: pd.DataFrame) -> None:
    assert set(GOOD) <= set(corpus["text"])


def test_broken_json_lines_cost_their_row_only(tmp_path) -> None:
    rows = [*_good(), '{"id": "fb-broken", "text": "обрезанная строка', "[1, 2]",
            _item(3, "ещё одна поправка, которая читается")]
    path = _jsonl(tmp_path / "feedback.jsonl", rows)
    with path.open("ab") as handle:  # a line with bytes that are not UTF-8
        handle.write(b'{"id": "fb-bytes", "text": "caf\xe9 \xff\xfe", "lang": "en"}\n')
    corpus = _build(path)
    _uses_the_good_rows(corpus)
    assert "ещё одна поправка, которая читается" in set(corpus["text"])
    assert _rejects(corpus) == [(3, "fb-broken", "unreadable"), (4, "", "unreadable"),
                                (6, "fb-bytes", "unreadable")]
    assert corpus.attrs["stats"]["rejected"] == {"unreadable": 3}


def test_broken_csv_records_cost_their_row_only(tmp_path) -> None:
    header = ",".join(EXPORT_COLUMNS)
    lines = [header,
             f'fb-1,"{GOOD[0]}",ru,1,,,,c,r,m',
             "fb-2,a post, with an unquoted comma,en,1,,,,c,r,m",   # too many fields
             "fb-3,a cut row",                                       # too few (was a TypeError)
             'fb-4,"a stray quote opens here,en,1,,,,c,r,m',         # never closed
             f'fb-5,"{GOOD[1]}",ky,0,,,,c,r,m']
    path = tmp_path / "feedback.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    corpus = _build(path)
    _uses_the_good_rows(corpus)
    assert _rejects(corpus) == [(3, "fb-2", "unreadable"), (4, "fb-3", "unreadable"),
                                (5, "fb-4", "unreadable")]
    assert "stray quote" in corpus.attrs["rejects"][2].details


def test_joined_csv_exports_lose_only_the_repeated_header(tmp_path) -> None:
    """``cat jan.csv feb.csv``: the second header is reported, both months' rows used."""
    header = ",".join(EXPORT_COLUMNS)
    path = tmp_path / "feedback.csv"
    path.write_text(f'{header}\r\nfb-1,"{GOOD[0]}",ru,1,,,,c,r,m\r\n'
                    f'{header}\r\nfb-2,"{GOOD[1]}",ky,0,,,,c,r,m\r\n', encoding="utf-8")
    corpus = _build(path)
    _uses_the_good_rows(corpus)
    assert _rejects(corpus) == [(3, "", "repeated header")]


def test_a_csv_saved_again_in_windows_1251_is_read(tmp_path) -> None:
    """A spreadsheet saves the export again in the region's code page: read, with a note."""
    header = ",".join(EXPORT_COLUMNS)
    path = tmp_path / "feedback.csv"
    path.write_bytes(f'{header}\r\nfb-1,"{GOOD[0]}",ru,1,,,,c,r,m\r\n'
                     f"fb-2,Кто знает хорошего стоматолога?,ru,0,,,,c,r,m\r\n".encode("cp1251"))
    corpus = _build(path)
    assert set(corpus["text"]) == {GOOD[0], "Кто знает хорошего стоматолога?"}
    notes = corpus.attrs["stats"]["feedback_files"][0]["notes"]
    assert any("Windows-1251" in note for note in notes)


@pytest.mark.parametrize(("row", "reason"), [
    (_item(3, "хороший пост", hate="maybe"), "bad label"),
    (_item(3, "хороший пост", hate=2), "bad label"),
    (_item(3, "хороший пост", hateful=True, offensive=None), "no label"),
    (_item(3, None), "no text"),
    (_item(3, 42), "no text"),
    (_item(3, ["a", "list"]), "no text"),
    (_item(3, "   "), "empty text"),
    (_item(3, "\u200b\u200b"), "empty text"),
    (_item(3, "🔪🔪🔪 !!!", threat=True), "no words"),
    (_item(3, "хороший пост", lang="xx"), "unknown language"),
    (_item(3, "хороший пост", lang=None), "unknown language"),
    (_item(3, "хороший пост", lang=""), "unknown language"),
    ({**_item(3, "хороший пост"), "status": "pending"}, "not confirmed"),
    ({**_item(3, "хороший пост"), "reviewed": None}, "not confirmed"),
    (_item(3, "слово " * 5000), "text too long"),
])
def test_a_bad_row_is_reported_with_its_line_id_and_reason(tmp_path, row, reason) -> None:
    path = _jsonl(tmp_path / "feedback.jsonl", [*_good(), row])
    corpus = _build(path)
    _uses_the_good_rows(corpus)
    assert len(corpus) == 2
    assert _rejects(corpus) == [(3, row["id"], reason)]
    stats = corpus.attrs["stats"]
    assert stats["rows_rejected"] == 1 and stats["rejected"] == {reason: 1}
    assert stats["feedback_files"][0] | {"notes": []} == {
        "file": str(path), "format": "jsonl", "notes": [], "rows_read": 3, "rows_used": 2,
        "rows_rejected": 1, "label_conflicts": 0}


def test_the_text_limit_can_be_raised(tmp_path) -> None:
    path = _jsonl(tmp_path / "feedback.jsonl", [*_good(), _item(3, "слово " * 5000)])
    assert len(_build(path, max_chars=40_000)) == 3
    with pytest.raises(ValueError, match="max_chars"):
        feedback_source(path, max_chars=0)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_an_export_of_no_items_adds_no_rows_and_stops_nothing(tmp_path, suffix) -> None:
    """Before any item is confirmed the export is empty (JSON lines: no line at all)."""
    with FeedbackStore(tmp_path / "feedback.db") as store:
        store.submit("ждёт проверки", {"hate": False}, submitter="key:a")
        assert store.export(tmp_path / f"empty{suffix}") == 0
    other = _jsonl(tmp_path / "other.jsonl", _good())
    corpus = _build(tmp_path / f"empty{suffix}", other)
    assert sorted(corpus["text"]) == sorted(GOOD)
    first = corpus.attrs["stats"]["feedback_files"][0]
    assert (first["rows_read"], first["rows_used"], first["rows_rejected"]) == (0, 0, 0)


def test_an_item_in_two_exports_is_used_once_and_reported(tmp_path) -> None:
    """Exports overlap (January's items are in March's export too)."""
    jan = _jsonl(tmp_path / "jan.jsonl", _good()[:1])
    mar = _jsonl(tmp_path / "mar.jsonl", _good())
    corpus = _build(jan, mar)
    assert sorted(corpus["text"]) == sorted(GOOD)
    assert corpus["n_copies"].max() == 1
    (reject,) = corpus.attrs["rejects"]
    assert (reject.file, reject.line, reject.reason) == (str(mar), 1, "duplicate id")
    assert f"{jan} line 1" in reject.details and "used once" in reject.details


def test_one_id_with_two_different_items_is_not_used(tmp_path) -> None:
    path = _jsonl(tmp_path / "feedback.jsonl",
                  [*_good(), {**_item(1, "совсем другой текст"), "id": _item(1, "")["id"]}])
    corpus = _build(path)
    assert GOOD[0] not in set(corpus["text"])
    assert "совсем другой текст" not in set(corpus["text"])
    assert _rejects(corpus) == [(1, _item(1, "")["id"], "duplicate id"),
                                (3, _item(1, "")["id"], "duplicate id")]


def test_conflicting_corrections_of_one_post_are_named(tmp_path) -> None:
    """Two confirmed corrections of the same post disagree on hate: hate is unknown in the
    corpus, as for any disagreeing copies, and both rows are named; other labels are used."""
    rows = [_item(1, "Эти люди паразиты", hate=True, offensive=True),
            _item(2, "эти люди — паразиты!", hate=False), _item(3, GOOD[1], lang="ky")]
    corpus = _build(_jsonl(tmp_path / "feedback.jsonl", rows))
    row = corpus[corpus["text_norm"].str.lower().str.startswith("эти люди")].iloc[0]
    assert math.isnan(row["hate"]) and row["offensive"] == 1.0
    assert _rejects(corpus) == [(1, rows[0]["id"], "conflicting labels"),
                                (2, rows[1]["id"], "conflicting labels")]
    assert "hate true here, false on" in corpus.attrs["rejects"][0].details
    stats = corpus.attrs["stats"]
    assert stats["rows_rejected"] == 0 and stats["feedback_label_conflicts"] == 2


def test_a_correction_that_a_dataset_contradicts_is_named(tmp_path) -> None:
    labelled = tmp_path / "mine.csv"
    labelled.write_text("text,is_hate\nЭти люди паразиты,0\n", encoding="utf-8")
    feedback = _jsonl(tmp_path / "feedback.jsonl",
                      [_item(1, "Эти люди паразиты", hate=True, offensive=None)])
    corpus = build_corpus(CorpusConfig(sources=[], keyboard_variants=(), user_sources=[
        UserSource(labelled, labels={"hate": "is_hate"}, lang="ru"), feedback_source(feedback)]))
    assert math.isnan(corpus["hate"].iloc[0])
    (reject,) = corpus.attrs["rejects"]
    assert reject.reason == "conflicting labels"
    assert "hate true here, false in source user:mine" in reject.details


def test_a_file_that_is_not_an_export_stops_the_build_with_its_name(tmp_path) -> None:
    wrong = _jsonl(tmp_path / "labels.jsonl", [{"message": "привет", "hate": 1}])
    with pytest.raises(SourceError, match=r"labels\.jsonl.*missing column\(s\) \['text'"):
        _build(wrong)
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(SourceError, match="is a folder"):
        _build(tmp_path / "folder.jsonl")


def test_train_corpus_writes_the_rejects_and_counts_them(tmp_path, capsys) -> None:
    secret = "этот текст не должен попасть в отчёт"
    path = _jsonl(tmp_path / "feedback.jsonl",
                  [*_good(), _item(3, secret, hate="maybe"), _item(4, secret + "!", lang="xx"),
                   '{"id": "fb-cut", "text": "' + secret])
    out = tmp_path / "corpus" / "corpus.parquet"
    assert main(["train", "corpus", "--sources", "", "--feedback", str(path),
                 "--keyboard-variants", "none", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"feedback {path}: 5 row(s) read, 2 used, 3 rejected" in printed
    assert "rejected: 3 (1 bad label, 1 unknown language, 1 unreadable)" in printed
    assert sorted(load_corpus(out)["text"]) == sorted(GOOD)
    rejects_file = out.with_suffix(".rejects.csv")
    with rejects_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == REJECT_COLUMNS
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [
        ("3", _item(3, "")["id"], "bad label"), ("4", _item(4, "")["id"], "unknown language"),
        ("5", "fb-cut", "unreadable")]
    assert secret[:10] not in rejects_file.read_text(encoding="utf-8")  # rejects hold no text
    stats = json.loads(out.with_suffix(".stats.json").read_text(encoding="utf-8"))
    assert stats["rows_rejected"] == 3 and stats["rejected"]["unreadable"] == 1


def test_a_rebuilt_corpus_replaces_an_old_rejects_file(tmp_path) -> None:
    out = tmp_path / "corpus.parquet"
    bad = _jsonl(tmp_path / "feedback.jsonl", [*_good(), _item(3, "пост", lang="xx")])
    assert main(["train", "corpus", "--sources", "", "--feedback", str(bad), "--out",
                 str(out)]) == 0
    _jsonl(bad, _good())
    assert main(["train", "corpus", "--sources", "", "--feedback", str(bad), "--out",
                 str(out)]) == 0
    lines = out.with_suffix(".rejects.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [",".join(REJECT_COLUMNS)]


def test_a_feedback_source_round_trips_through_the_corpus_config(tmp_path) -> None:
    config = CorpusConfig(sources=[], user_sources=[
        feedback_source(tmp_path / "f.jsonl", max_chars=500),
        UserSource(tmp_path / "x.csv", labels={"hate": "h"}, lang="ru")])
    again = CorpusConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and isinstance(again.user_sources[0], FeedbackSource)


def test_read_export_reads_the_export_of_the_store_exactly(tmp_path) -> None:
    with FeedbackStore(tmp_path / "feedback.db") as store:
        for text in ("=1+1", "'quoted", "plain"):
            item = store.submit(text, {"hate": False}, submitter="key:a", lang="en")
            store.review(item.id, reviewer="Aida", confirm=True)
        store.export(tmp_path / "feedback.csv")
    export = read_export(tmp_path / "feedback.csv")
    assert sorted(export.texts) == sorted(["=1+1", "'quoted", "plain"])
    assert export.rejects == []
    assert [None if math.isnan(v) else v for v in export.labels[0]] == [None, 0.0, None, None]


def test_a_corpus_with_rejects_is_still_written_by_plain_to_parquet(tmp_path) -> None:
    """pandas writes ``attrs`` into the Parquet file as JSON: the rejects must be JSON too."""
    corpus = _build(_jsonl(tmp_path / "feedback.jsonl", [*_good(), _item(3, "пост", lang="xx")]))
    corpus.to_parquet(tmp_path / "corpus.parquet")
    assert len(pd.read_parquet(tmp_path / "corpus.parquet")) == 2


def _copies(n: int, same_id: bool) -> pd.DataFrame:
    """The corpus rows of ``n`` feedback rows of one post (a copy-paste campaign corrected
    ``n`` times): all under one id, or each with its own and every other one saying hate."""
    from training.feedback_import import FEEDBACK_FILE, FEEDBACK_ID, FEEDBACK_LINE

    rows = pd.DataFrame({"text": "вали отсюда", "text_norm": "вали отсюда",
                         "key": "вали отсюда", "lang": "ru", "source": "feedback",
                         "offensive": 1.0, "threat": math.nan, "extremism": math.nan,
                         "hate": [1.0 if same_id else float(i % 2) for i in range(n)]},
                        index=range(n))
    rows[FEEDBACK_FILE], rows[FEEDBACK_LINE] = "f.jsonl", range(1, n + 1)
    rows[FEEDBACK_ID] = ["fb-same" if same_id else f"fb-{i}" for i in range(n)]
    return rows


@pytest.mark.parametrize("same_id", [True, False], ids=["one-id", "conflicting-labels"])
def test_many_copies_of_one_post_are_checked_in_linear_time(monkeypatch, same_id) -> None:
    """Each copy was compared with every other (n^2 rows walked: 3.5 s for 400 corrections of
    one campaign's post, minutes for thousands); now each copy once, the details the same."""
    from training.feedback_import import check_feedback_rows

    walked = 0
    iterrows = pd.DataFrame.iterrows

    def counted(frame):
        nonlocal walked
        for pair in iterrows(frame):
            walked += 1
            yield pair

    monkeypatch.setattr(pd.DataFrame, "iterrows", counted)
    n = 300
    kept, rejects = check_feedback_rows(_copies(n, same_id))
    assert walked < 10 * n
    assert len(rejects) == (n - 1 if same_id else n) and len(kept) == (1 if same_id else n)
    if same_id:
        assert rejects[0].details == "the same item as f.jsonl line 1 (fb-same): used once"
    else:
        assert rejects[0].details == (
            "hate false here, true on f.jsonl line 2 (fb-1), on f.jsonl line 4 (fb-3), on "
            "f.jsonl line 6 (fb-5): set unknown in the corpus, the row's other labels are used")
        assert "hate true here, false on f.jsonl line 1 (fb-0), on f.jsonl line 3" in \
            rejects[1].details
