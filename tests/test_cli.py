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


def test_warning_does_not_import_training_or_serve() -> None:
    code = ("import sys, warning, warning.cli, warning.lang, warning.targets; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('training', 'serve', 'torch')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
