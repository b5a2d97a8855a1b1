import json
import subprocess
import sys

from warning.cli import main


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tag_keeps_one_line_per_input_in_order(tmp_path, capsys) -> None:
    path = tmp_path / "posts.txt"
    path.write_bytes("Өзбектер\n\n".encode() + b"\xff\xfe broken\n" + "узбеки\n".encode())
    code, out, _ = _run(["tag", "--input", str(path)], capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in lines] == [1, 2, 3, 4]
    assert lines[0]["targets"] == ["uzbek"]
    assert lines[1]["error"] == "empty text"
    assert "UTF-8" in lines[2]["error"]
    assert lines[3] == {"line": 4, "lang": "ru", "targets": ["uzbek"]}


def test_tag_takes_arguments(capsys) -> None:
    code, out, _ = _run(["tag", "Бүгүн Ошко барам", "women deserve better"], capsys)
    assert code == 0
    assert [json.loads(x)["lang"] for x in out.splitlines()] == ["ky", "en"]


def test_train_corpus_command_prints_the_table(fixture_data_dir, tmp_path, capsys) -> None:
    out_path = tmp_path / "c.parquet"
    code, out, _ = _run(["train", "corpus", "--data-dir", str(fixture_data_dir), "--out",
                         str(out_path)], capsys)
    assert code == 0 and out_path.is_file()
    assert "by source" in out and "by split" in out and "positive/negative/unknown" in out


def test_train_corpus_command_reports_a_missing_source(tmp_path, capsys) -> None:
    code, _, err = _run(["train", "corpus", "--data-dir", str(tmp_path), "--out",
                         str(tmp_path / "c.parquet")], capsys)
    assert code == 2
    assert "error: source" in err and "not found" in err


def test_train_corpus_command_with_a_user_file(tmp_path, capsys) -> None:
    user = tmp_path / "mine.csv"
    user.write_text("message,h\nӨзбектер кетсин,1\nЖакшы күн,0\n", encoding="utf-8")
    code, out, _ = _run(["train", "corpus", "--sources", "", "--user", str(user), "--text-col",
                         "message", "--label", "hate=h", "--lang", "ky", "--out",
                         str(tmp_path / "c.parquet")], capsys)
    assert code == 0
    assert "user:mine" in out


def test_train_corpus_command_adds_plain_variants_when_asked(tmp_path, capsys) -> None:
    import pandas as pd

    user = tmp_path / "mine.csv"
    user.write_text("message,h\n" + "".join(f'"Өзбектер, кетсин! {i}",1\n' for i in range(20)),
                    encoding="utf-8")
    out_path = tmp_path / "c.parquet"
    code, out, _ = _run(["train", "corpus", "--sources", "", "--user", str(user), "--text-col",
                         "message", "--label", "hate=h", "--lang", "ky", "--keyboard-variants",
                         "none", "--plain-variants", "ky", "--out", str(out_path)], capsys)
    corpus = pd.read_parquet(out_path)
    plain = corpus[corpus["derived"].eq("plain")]
    assert code == 0 and f"{len(plain)} plain variants added" in out
    assert len(plain) == corpus["split"].eq("train").sum() - len(plain) > 0
    assert plain["text"].str.match(r"^өзбектер кетсин \d+$").all()


def test_warning_does_not_import_training_or_serve() -> None:
    code = ("import sys, warning, warning.cli, warning.text.lang, warning.text.targets; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('training', 'serve', 'torch')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _score(argv, capsys):
    code, out, err = _run(["score", *argv], capsys)
    return code, [json.loads(line) for line in out.splitlines()], err


def test_score_arguments_one_line_each_in_order(tiny_model_dir, capsys) -> None:
    code, records, _ = _score(["--model", str(tiny_model_dir), "you stupid idiot",
                               "the market opens at nine", "Бүгүн Ошко барам"], capsys)
    assert code == 0 and len(records) == 3
    assert records[0]["flagged"] == ["offensive"] and records[0]["risk"] == "low"
    assert records[1]["flagged"] == [] and records[1]["risk"] == "none"
    assert records[2]["lang"] == "ky" and records[2]["review"] is True
    for record in records:
        assert set(record) == {"scores", "flagged", "lang", "targets", "risk", "review", "model"}
        assert record["scores"]["extremism"] is None
        assert record["model"] == "baseline@test"


def test_score_jsonl_input_gives_an_error_object_for_each_bad_line(tiny_model_dir, tmp_path,
                                                                   capsys) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "you stupid idiot"}\n'
                     b"\n"
                     b"{broken json\n"
                     b'{"id": 4}\n'
                     b'{"text": 5}\n'
                     b'{"text": ""}\n'
                     b"\xff\xfe\n"
                     b'{"text": "they are vermin", "id": 8}\n')
    code, records, _ = _score(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0 and len(records) == 8
    assert records[0]["flagged"] == ["offensive"]
    errors = [r.get("error") for r in records]
    assert errors[1] == "line 2: empty line"
    assert errors[2].startswith("line 3: not valid JSON")
    assert errors[3] == "line 4: no 'text' field"
    assert errors[4] == "line 5: 'text' is not a string"
    assert errors[5] == "empty text"
    assert errors[6] == "line 7: not valid UTF-8"
    assert errors[7] is None and "hate" in records[7]["flagged"]


def test_score_jsonl_input_says_where_the_json_breaks(tiny_model_dir, tmp_path, capsys) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "a\tb"}\n', encoding="utf-8")
    _, records, _ = _score(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert records[0]["error"] == "line 1: not valid JSON (Invalid control character at column 12)"
    for record in records[1:7]:
        assert set(record["scores"].values()) == {None} and record["review"] is True


def test_score_stdin_and_explain(tiny_model_dir, capsys, monkeypatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("they are vermin you idiot\n\nhello\n"))
    code, records, _ = _score(["--model", str(tiny_model_dir), "--explain"], capsys)
    assert code == 0 and len(records) == 3
    assert set(records[0]["explanation"]) == set(records[0]["flagged"])
    assert records[1]["error"] == "empty text"


def test_score_reports_a_missing_model_or_input(tmp_path, tiny_model_dir, capsys) -> None:
    code, _, err = _score(["--model", str(tmp_path / "none"), "x"], capsys)
    assert code == 2 and "not found" in err
    code, _, err = _score(["--model", str(tiny_model_dir), "--input", str(tmp_path / "x")],
                          capsys)
    assert code == 2 and "input file" in err


def test_train_baseline_and_eval_commands(tiny_corpus, tmp_path, capsys) -> None:
    corpus_path = tmp_path / "corpus.parquet"
    tiny_corpus.to_parquet(corpus_path)
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"char_features": 1024, "word_features": 256, "c_grid": [2.0],
                                  "min_positives": 10, "version": "cli"}))
    suite = tmp_path / "s_suite.csv"
    suite.write_text("functionality,test_case,label_gold\nthreat_dir_h,we will kill them,"
                     "hateful\nident_neutral_nh,the market opens,non-hateful\n")
    out = tmp_path / "model"
    code, stdout, _ = _run(["train", "baseline", "--corpus", str(corpus_path), "--config",
                            str(config), "--out", str(out), "--bootstrap", "20",
                            "--version", "2026.01.02.5"], capsys)
    assert code == 0 and (out / "README.md").is_file() and (out / "eval" / "report.md").is_file()
    assert json.loads((out / "config.json").read_text())["version"] == "2026.01.02.5"
    assert "macro-F1 per language" in stdout
    code, stdout, _ = _run(["eval", "--model", str(out), "--corpus", str(corpus_path),
                            "--suite", str(suite), "--bootstrap", "20", "--out",
                            str(tmp_path / "ev")], capsys)
    assert code == 0 and "s_suite.csv: hateful" in stdout
    assert (tmp_path / "ev" / "reliability.png").is_file()
    # the stack of two members, then its card with the first model's figures beside it
    stacked = tmp_path / "stacked"
    code, stdout, err = _run(["train", "ensemble", "--member", f"a={out}", "--member",
                              f"b={out}", "--corpus", str(corpus_path), "--out", str(stacked),
                              "--version", "2026.01.02.2", "--thresholds-from", "collected",
                              "--zero-shot-language", "tr", "--zero-shot-member", "a",
                              "--reproduce", "warning train baseline", "--skip-eval"], capsys)
    assert code == 0, err
    assert (stacked / "members" / "a" / "config.json").is_file()
    stacked_config = json.loads((stacked / "config.json").read_text())
    assert stacked_config["version"] == "2026.01.02.2"
    assert "--version 2026.01.02.2" in " ".join(stacked_config["training"]["commands"])
    assert stacked_config["training"]["ensemble"]["thresholds_from"] == "collected"
    assert "--thresholds-from collected" in " ".join(stacked_config["training"]["commands"])
    assert stacked_config["training"]["ensemble"]["zero_shot_languages"] == ["tr"]
    assert "--zero-shot-language tr --zero-shot-member a" in " ".join(
        stacked_config["training"]["commands"])
    loso = tmp_path / "loso.json"
    loso.write_text(json.dumps({"note": "Measured with a cheaper recipe", "matrix": {
        "fixture_en": {"offensive": {"roc_auc": 0.61, "n": 200, "positives": 40}}}}))
    code, stdout, err = _run(["eval", "--model", str(stacked), "--corpus", str(corpus_path),
                              "--suite", str(suite), "--bootstrap", "0", "--beside",
                              f"single={out / 'eval' / 'report.json'}", "--loso-from",
                              str(loso)], capsys)
    assert code == 0, err
    card = (stacked / "README.md").read_text()
    assert "Measured with a cheaper recipe" in card and "| fixture_en | 0.610 / n/a" in card
    assert "## Beside other models" in card and "| single |" in card.replace("| this model ", "")
    assert "warning train baseline" in card and "warning train ensemble --member" in card
    code, _, err = _run(["train", "ensemble", "--member", "oops", "--corpus", str(corpus_path)],
                        capsys)
    assert code == 2 and "NAME=FOLDER" in err
    code, _, err = _run(["train", "ensemble", "--member", f"a={out}", "--corpus",
                         str(corpus_path), "--zero-shot-member", "a"], capsys)
    assert code == 2 and "--zero-shot-member needs --zero-shot-language" in err


def test_train_baseline_reports_a_missing_corpus(tmp_path, capsys) -> None:
    code, _, err = _run(["train", "baseline", "--corpus", str(tmp_path / "none.parquet"),
                         "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and "warning train corpus" in err
