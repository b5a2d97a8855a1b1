"""A researcher's own labelled file (``warning train corpus --user``): a bad row costs that row
only, reported with its line, id and reason; a file that is not a table stops the build."""

import csv
import io
import json
import math
from pathlib import Path

import pytest

from training.corpus import CorpusConfig, build_corpus, write_corpus
from training.sources import SourceError, UserSource
from training.user_import import language_code
from warning.cli import main


def _jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                              for r in records) + "\n", encoding="utf-8")
    return path


def _reported(rejects) -> list[tuple[int, str, str]]:
    return [(r.line, r.id, r.reason) for r in rejects]


def test_user_rows_without_a_language_are_reported_and_the_rest_used(tmp_path) -> None:
    # a null or empty language used to reach the corpus as NaN, and training then sorted the
    # languages: TypeError ('<' not supported between 'float' and 'str')
    path = _jsonl(tmp_path / "mine.jsonl", [
        {"id": "a1", "text": "Өзбектер кетсин бул жерден", "hate": 1, "lang": "ky"},
        {"id": "a2", "text": "Жакшы күн болду бүгүн", "hate": 0, "lang": None},
        {"id": "a3", "text": "Погода сегодня хорошая", "hate": 0, "lang": ""},
        {"id": "a4", "text": "Market opens at nine", "hate": 0},
        {"id": "a5", "text": "Бүгүн Ошко барам", "hate": 0, "lang": 5},
        {"id": "a6", "text": "Салам баарына достор", "hate": 0, "lang": "Kyrgyz"},
        {"id": "a7", "text": "Все узбеки вон отсюда", "hate": 1, "lang": " RU "},
    ])
    user = UserSource(path, labels={"hate": "hate"}, lang_col="lang")
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[user], keyboard_variants=()))
    assert sorted(set(corpus["lang"])) == ["ky", "ru"]  # what training does with them
    assert set(corpus["text"]) == {"Өзбектер кетсин бул жерден", "Все узбеки вон отсюда"}
    rejects = corpus.attrs["rejects"]
    assert _reported(rejects) == [(2, "a2", "unknown language"), (3, "a3", "unknown language"),
                                  (4, "a4", "unknown language"), (5, "a5", "unknown language"),
                                  (6, "a6", "unknown language")]
    assert "no language in column 'lang'" in rejects[0].details
    assert "language 'Kyrgyz'" in rejects[4].details
    stats = corpus.attrs["stats"]
    assert stats["rows_rejected"] == 5 and stats["rejected"] == {"unknown language": 5}
    assert stats["user_files"] == [{"file": str(path), "format": "jsonl", "notes": [
        "encoding: UTF-8"], "rows_read": 7, "rows_used": 2, "rows_rejected": 5,
        "label_conflicts": 0}]


def test_user_csv_empty_language_cell_is_reported(tmp_path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("text,hate,lang\nӨзбектер кетсин,1,ky\nЖакшы күн,0,\nЖаман күн,1,  \n",
                    encoding="utf-8")
    frame, rejects, _ = UserSource(path, labels={"hate": "hate"}, lang_col="lang").read_checked()
    assert list(frame["lang"]) == ["ky"]
    assert _reported(rejects) == [(3, "", "unknown language"), (4, "", "unknown language")]


def test_a_bad_label_costs_its_row_not_the_build(tmp_path) -> None:
    long_value = "x" * 40  # a long cell may be a post pasted in the wrong column: never quoted
    path = tmp_path / "mine.csv"
    path.write_text(f"id,message,is_hate,is_threat\n1,Өзбектер кетсин,1,0\n2,Жакшы күн,maybe,\n"
                    f"3,Бүгүн Ошко барам,0,{long_value}\n4,Жаман адамдар,yes,no\n5,Салам,,\n",
                    encoding="utf-8")
    user = UserSource(path, text_col="message", labels={"hate": "is_hate",
                                                        "threat": "is_threat"}, lang="ky")
    frame, rejects, summary = user.read_checked()
    assert list(frame["text"]) == ["Өзбектер кетсин", "Жаман адамдар", "Салам"]
    assert list(frame["hate"])[:2] == [1.0, 1.0] and list(frame["threat"])[:2] == [0.0, 0.0]
    assert math.isnan(frame["hate"].iloc[2]) and math.isnan(frame["threat"].iloc[2])
    assert _reported(rejects) == [(3, "2", "bad label"), (4, "3", "bad label")]
    assert "column 'is_hate' has 'maybe'" in rejects[0].details
    assert "a value of 40 characters" in rejects[1].details
    assert long_value not in rejects[1].details
    assert summary["kind"] == "user" and summary["records"] == 5


def test_empty_texts_are_reported_not_dropped_silently(tmp_path) -> None:
    path = _jsonl(tmp_path / "mine.jsonl", [
        {"text": "Өзбектер кетсин", "hate": 1},
        {"text": "", "hate": 1},
        {"text": "   ", "hate": 0},
        {"text": None, "hate": 0},
        {"hate": 0},
        {"text": 42, "hate": 0},
        {"text": "\u200b\u200b", "hate": 0},  # nothing left once normalised
        {"text": "😀 !!!", "hate": 0},  # no words
    ])
    frame, rejects, _ = UserSource(path, labels={"hate": "hate"}, lang="ky").read_checked()
    assert list(frame["text"]) == ["Өзбектер кетсин"]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "empty text"), (3, "empty text"), (4, "no text"), (5, "no text"), (6, "no text"),
        (7, "empty text"), (8, "no words")]
    assert "is a JSON number, not text" in rejects[4].details


def test_broken_csv_records_and_bad_bytes_cost_one_row(tmp_path) -> None:
    path = tmp_path / "mine.csv"
    path.write_bytes(
        "id,text,hate\n1,Өзбектер кетсин,1\n2,\"a stray quote,0\n3,Жакшы күн,0\n"
        "4,too,many,fields\n".encode() + b"5,bad \xff bytes here,1\n" +
        "id,text,hate\n6,Бүгүн Ошко барам,0\n".encode())
    frame, rejects, summary = UserSource(path, labels={"hate": "hate"}, lang="ky").read_checked()
    assert list(frame["text"]) == ["Өзбектер кетсин", "Жакшы күн", "Бүгүн Ошко барам"]
    assert _reported(rejects) == [(3, "2", "unreadable"), (5, "4", "unreadable"),
                                  (6, "5", "unreadable"), (7, "", "repeated header")]
    assert "invalid byte" in summary["notes"][0]


def test_broken_json_lines_cost_one_row(tmp_path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_bytes(b'{"id": 1, "text": "\xd3\xa8\xd0\xb7\xd0\xb1\xd0\xb5\xd0\xba", "h": 1}\n'
                     b'{"id": 2, "text": "broken\n'
                     b'["a list"]\n'
                     b'{"id": 4, "text": "bad \xff", "h": 0}\n'
                     b'{"id": 5, "text": "big", "h": ' + b"1" * 4_400 + b"}\n"
                     b'{"id": 6, "text": "\xd0\x96\xd0\xb0\xd0\xba\xd1\x88\xd1\x8b", "h": 0}\n')
    frame, rejects, _ = UserSource(path, labels={"hate": "h"}, lang="ky").read_checked()
    assert list(frame["text"]) == ["Өзбек", "Жакшы"]
    assert [(r.line, r.reason) for r in rejects] == [(2, "unreadable"), (3, "unreadable"),
                                                     (4, "unreadable"), (5, "unreadable")]
    assert "not an object" in rejects[1].details and "too long" in rejects[3].details


@pytest.mark.parametrize(("value", "code"), [("ky", "ky"), (" EN ", "en"), ("fr", "fr"),
                                             ("other", "other"), ("", None), (None, None),
                                             ("Kyrgyz", None), ("k1", None), (5, None)])
def test_language_code(value, code) -> None:
    assert language_code(value) == code


def test_a_fixed_language_that_is_no_code_stops_the_build(tmp_path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("text,hate\nӨзбектер кетсин,1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="--lang 'Kyrgyz' is not a language code"):
        UserSource(path, labels={"hate": "hate"}, lang="Kyrgyz").read()


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_corpus_command_lists_the_bad_rows_of_a_user_file(tmp_path, capsys) -> None:
    user = tmp_path / "mine.csv"
    user.write_text("id,message,h,lang\n1,Өзбектер кетсин баары,1,ky\n2,Жакшы күн бүгүн,bad,ky\n"
                    "3,Погода сегодня хорошая,0,\n4,,1,ky\n5,Бүгүн Ошко барам,0,ky\n",
                    encoding="utf-8")
    out_path = tmp_path / "c.parquet"
    code, out, err = _run(["train", "corpus", "--sources", "", "--user", str(user),
                           "--text-col", "message", "--label", "hate=h", "--lang-col", "lang",
                           "--out", str(out_path)], capsys)
    assert code == 0, err
    assert f"user file {user}: 5 row(s) read, 2 used, 3 rejected" in out
    assert "rejected: 3 (1 bad label, 1 empty text, 1 unknown language)" in out
    text = out_path.with_suffix(".rejects.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["source"], r["line"], r["id"], r["reason"]) for r in rows] == [
        ("user:mine", "3", "2", "bad label"), ("user:mine", "4", "3", "unknown language"),
        ("user:mine", "5", "4", "empty text")]
    assert all(r["file"] == str(user) for r in rows)
    assert "Жакшы" not in text and "Погода" not in text  # rejects never hold a text
    stats = json.loads(out_path.with_suffix(".stats.json").read_text(encoding="utf-8"))
    assert stats["user_files"][0]["rows_rejected"] == 3 and stats["rows_rejected"] == 3


@pytest.mark.parametrize(("args", "problem"), [
    (["--label", "hate=is_hate"], "missing column(s) ['is_hate']"),
    (["--label", "hate=h", "--lang-col", "language"], "missing column(s) ['language']"),
    (["--label", "hate=h", "--text-col", "body"], "missing column(s) ['body']"),
    (["--label", "toxicity=h"], "--label takes LABEL=COLUMN"),
    (["--label", "hate=h", "--lang", "Kyrgyz"], "is not a language code"),
])
def test_train_corpus_command_names_a_user_file_it_cannot_use(tmp_path, capsys, args,
                                                              problem) -> None:
    user = tmp_path / "mine.csv"
    user.write_text("message,h\nӨзбектер кетсин,1\n", encoding="utf-8")
    code, _, err = _run(["train", "corpus", "--sources", "", "--user", str(user), "--text-col",
                         "message", *args, "--out", str(tmp_path / "c.parquet")], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith("error: ") and problem in err
    if "LABEL=COLUMN" not in problem:
        assert str(user) in err


def test_write_corpus_lists_the_rows_left_out_of_user_files(tmp_path) -> None:
    user = _jsonl(tmp_path / "mine.jsonl", [{"text": "Өзбектер кетсин", "hate": 1},
                                            {"text": "Жакшы күн", "hate": "often"}])
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[
        UserSource(user, labels={"hate": "hate"}, lang="ky")], keyboard_variants=()))
    path = write_corpus(corpus, tmp_path / "c.parquet")
    rows = list(csv.DictReader(io.StringIO(path.with_suffix(".rejects.csv").read_text())))
    assert [(r["file"], r["line"], r["reason"]) for r in rows] == [(str(user), "2",
                                                                    "bad label")]


def test_user_tsv_and_windows_1251_csv_are_read(tmp_path) -> None:
    tsv = tmp_path / "mine.tsv"
    tsv.write_text("text\thate\nБүгүн, эртең, Ошко барам\t0\nӨзбектер кетсин, баары\t1\n",
                   encoding="utf-8")
    frame, rejects, _ = UserSource(tsv, labels={"hate": "hate"}, lang="ky").read_checked()
    assert list(frame["text"]) == ["Бүгүн, эртең, Ошко барам", "Өзбектер кетсин, баары"]
    assert list(frame["hate"]) == [0.0, 1.0] and not rejects
    saved = tmp_path / "excel.csv"
    saved.write_bytes("text;hate\nпогода сегодня хорошая;0\nвсе они твари;1\n".encode("cp1251"))
    frame, rejects, summary = UserSource(saved, labels={"hate": "hate"}, lang="ru").read_checked()
    assert list(frame["text"]) == ["погода сегодня хорошая", "все они твари"] and not rejects
    assert "1251" in summary["notes"][0]


def test_a_wide_json_lines_file_keeps_the_columns_it_is_told_to_read(tmp_path) -> None:
    # the scan's JSON Lines reader keeps at most 256 columns; a file with one column per
    # annotator had its label (and language) columns cut, and was refused for "missing" them
    records = []
    for n in range(4):
        record = {"id": f"w{n}", "text": f"Пост номер {n}: все они паразиты"}
        record.update({f"annotator_{k}": n % 2 for k in range(300)})
        records.append({**record, "is_hate": n % 2, "language": "ru"})
    path = _jsonl(tmp_path / "wide.jsonl", records)
    user = UserSource(path, labels={"hate": "is_hate"}, lang_col="language")
    frame, rejects, _ = user.read_checked()
    assert rejects == [] and list(frame["hate"]) == [0.0, 1.0, 0.0, 1.0]
    assert set(frame["lang"]) == {"ru"}
