# Over 500 lines because these end-to-end tests of one scan share the feed builders at the top;
# hostile inputs and the property tests are in test_scanner_hostile.py and
# test_scanner_properties.py.
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from warning.cli import main
from warning.labels import LABELS
from warning.scanning.feeds import ColumnOverrides
from warning.scanning.progress import Progress
from warning.scanning.scanner import (
    ADDED_COLUMNS,
    ScanError,
    ScanOptions,
    pseudonymise,
    read_scan_metadata,
    scan,
    scan_paths,
)

KEY = "test-key-0123456789abcdef"
REPO = Path(__file__).resolve().parents[3]

_TEXTS = ["you stupid idiot", "the market opens at nine", "they are vermin parasites",
          "we will kill and burn them", "Өзбектер кетсин", "погода сегодня хорошая"]


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def _feed_csv(path: Path, n: int = 30, bad: bool = False) -> Path:
    """A CSV feed of ``n`` posts by 4 authors over 3 days; with ``bad``, rows to reject."""
    lines = ["id,date,author,channel,message"]
    for i in range(n):
        lines.append(f"{i},0{1 + i % 3}.05.2024 1{i % 10}:00,user{i % 4},ch{i % 2},"
                     f"{_TEXTS[i % len(_TEXTS)]}")
    body = ("\n".join(lines) + "\n").encode()
    if bad:
        body += (b"100,01.05.2024 10:00,user1,ch0,\n"                       # empty text
                 b"101,01.05.2024 10:00,user1,ch0,   \n"                    # blank text
                 b"102,01.05.2024 10:00,user1,ch0,too,many\n"               # field count
                 + "103,01.05.2024 10:00,user1,ch0,Привет\n".encode("cp1251")  # encoding
                 + b"104,01.05.2024 10:00,user1,ch0," + b"x" * 300 + b"\n"  # over-long
                 + b"105,not a date,user2,ch1,you stupid idiot\n")           # scored, no time
    path.write_bytes(body)
    return path


def _scan(tmp_path, model, source=None, out="out.parquet", **options):
    source = source or _feed_csv(tmp_path / "feed.csv")
    return scan(source, tmp_path / out, ScanOptions(**options), classifier=model)


def test_scan_keeps_input_columns_and_adds_the_scores(tmp_path, tiny_model) -> None:
    summary = _scan(tmp_path, tiny_model)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["id", "date", "author", "channel", "message",
                                  *ADDED_COLUMNS]
    frame = table.to_pandas()
    assert len(frame) == 30 and summary.rows_scored == 30 and summary.rows_rejected == 0
    first = frame.iloc[0]
    assert first["message"] == "you stupid idiot" and list(first["flagged"]) == ["offensive"]
    assert first["risk"] == "low" and first["model"] == "baseline@test"
    assert first["posted_at"] == "2024-05-01T10:00:00Z" and first["line"] == 2
    assert pd.isna(first["score_extremism"]) and 0 <= first["score_offensive"] <= 1
    assert list(frame.iloc[4]["targets"]) == ["uzbek"] and frame.iloc[4]["lang"] == "ky"
    assert summary.flagged["offensive"] >= 5 and summary.model == "baseline@test"
    meta = read_scan_metadata(tmp_path / "out.parquet")
    assert meta["mapping"] == {"text": "message", "time": "date", "id": "id",
                               "channel": "channel", "authors": ["author"]}
    assert meta["model"] == "baseline@test"
    paths = scan_paths(tmp_path / "out.parquet")
    saved = json.loads(paths["summary"].read_text())
    assert saved["rows_scored"] == 30 and saved["model"] == "baseline@test"
    assert paths["rejects"].read_text() == "line,id,reason,details\n"
    assert not paths["partial"].exists()


def test_scan_rejects_each_bad_row_with_reason_and_line(tmp_path, tiny_model) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=12, bad=True)
    summary = _scan(tmp_path, tiny_model, source, max_chars=200, chunk_rows=5)
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert len(frame) == 13 and summary.rows_read == 18
    rejects = list(csv.DictReader(io.StringIO((tmp_path / "out.rejects.csv").read_text())))
    found = {(r["line"], r["id"], r["reason"]) for r in rejects}
    assert found == {("14", "100", "empty text"), ("15", "101", "empty text"),
                     ("16", "102", "unreadable"), ("17", "103", "unreadable"),
                     ("18", "104", "text too long")}
    details = {r["line"]: r["details"] for r in rejects}
    assert "has 6 fields" in details["16"] and "not valid utf-8" in details["17"]
    # the undecodable bytes are part of the post: counted, never quoted
    assert "6 bytes that cannot be decoded" in details["17"]
    assert "300 characters; the limit is 200" in details["18"]
    assert summary.rejected == {"empty text": 2, "text too long": 1, "unreadable": 2}
    assert summary.times_missing == 1
    late = frame[frame["id"] == "105"].iloc[0]
    assert pd.isna(late["posted_at"]) and list(late["flagged"]) == ["offensive"]
    assert any(line.startswith("rejected: 5 (2 empty text") for line in summary.lines())


def test_scan_jsonl_text_that_is_not_text_is_rejected(tmp_path, tiny_model) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "you stupid idiot"}\n{"id": "b", "text": 5}\n'
                      '{"id": "c"}\n', encoding="utf-8")
    summary = _scan(tmp_path, tiny_model, source, out="out.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a"] and rows[0]["flagged"] == ["offensive"]
    assert summary.rejected == {"no text": 2}


def test_scan_keeps_posts_with_half_an_emoji_and_survives_a_model_failure(tmp_path,
                                                                          tiny_model) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "you stupid idiot \\ud83d"}\n'
                      '{"id": 2, "text": "boom"}\n{"id": 3, "text": "hello there"}\n',
                      encoding="utf-8")

    class Flaky:
        """The tiny model, failing on any batch that holds 'boom'."""

        name = tiny_model.name

        def score(self, texts):
            if "boom" in texts:
                raise RuntimeError("cannot score 'boom'")
            return tiny_model.score(texts)

    summary = scan(source, tmp_path / "out.jsonl", ScanOptions(), classifier=Flaky())
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "3"]
    assert rows[0]["text"] == "you stupid idiot \ufffd" and rows[0]["flagged"] == ["offensive"]
    assert summary.rejected == {"not scored": 1}
    rejects = (tmp_path / "out.rejects.csv").read_text()
    assert "2,2,not scored,the model failed on this text (RuntimeError)" in rejects
    assert "boom" not in rejects


def test_scan_pseudonyms_are_stable_under_one_key_and_differ_under_another(
        tmp_path, tiny_model, monkeypatch) -> None:
    source = _feed_csv(tmp_path / "feed.csv")
    _scan(tmp_path, tiny_model, source, out="a.parquet")
    _scan(tmp_path, tiny_model, source, out="b.parquet")
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", "another-key-fedcba9876543210")
    _scan(tmp_path, tiny_model, source, out="c.parquet")
    a, b, c = (pd.read_parquet(tmp_path / f"{x}.parquet")["author"] for x in "abc")
    assert list(a) == list(b)
    assert set(a).isdisjoint(set(c))
    assert a.nunique() == 4 and all(len(v) == 16 for v in a)
    # the same author keeps one pseudonym across posts
    assert a[0] == a[4] == pseudonymise("user0", KEY.encode())
    assert b"user0" not in (tmp_path / "a.parquet").read_bytes()


def test_scan_refuses_authors_without_a_key_unless_kept_or_dropped(tmp_path, tiny_model,
                                                                   monkeypatch) -> None:
    monkeypatch.delenv("WARNING_PSEUDONYM_KEY")
    with pytest.raises(ScanError) as info:
        _scan(tmp_path, tiny_model)
    message = str(info.value)
    assert "WARNING_PSEUDONYM_KEY" in message and "--drop-authors" in message
    assert "author" in message and "secrets.token_hex" in message
    assert not (tmp_path / "out.parquet").exists()
    _scan(tmp_path, tiny_model, out="drop.parquet", authors="drop")
    assert "author" not in pq.read_schema(tmp_path / "drop.parquet").names
    _scan(tmp_path, tiny_model, out="keep.parquet", authors="keep")
    assert pd.read_parquet(tmp_path / "keep.parquet")["author"][0] == "user0"
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", "short")
    with pytest.raises(ValueError, match="at least 16"):
        _scan(tmp_path, tiny_model, out="short.parquet")


def test_scan_without_author_columns_needs_no_key(tmp_path, tiny_model, monkeypatch) -> None:
    monkeypatch.delenv("WARNING_PSEUDONYM_KEY")
    source = tmp_path / "plain.csv"
    source.write_text("text\nyou stupid idiot\n", encoding="utf-8")
    summary = _scan(tmp_path, tiny_model, source)
    assert summary.rows_scored == 1 and summary.authors == "none found"


def test_scan_no_text_and_column_name_clashes(tmp_path, tiny_model) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text,risk,lang\nyou stupid idiot,their own,xx\n", encoding="utf-8")
    summary = _scan(tmp_path, tiny_model, source, keep_text=False)
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert "text" not in frame.columns
    assert frame["input_risk"][0] == "their own" and frame["risk"][0] == "low"
    assert frame["input_lang"][0] == "xx" and frame["lang"][0] == "en"
    assert any("input_risk" in n for n in summary.notes)
    assert read_scan_metadata(tmp_path / "out.parquet")["mapping"]["text"] is None


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_scan_csv_and_jsonl_outputs_hold_the_same_posts(tmp_path, tiny_model, fmt) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=8)
    _scan(tmp_path, tiny_model, source, out="ref.parquet")
    _scan(tmp_path, tiny_model, source, out=f"out.{fmt}")
    ref = pd.read_parquet(tmp_path / "ref.parquet")
    if fmt == "csv":
        got = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
        assert list(got.columns) == list(ref.columns)
        assert list(got["flagged"]) == [";".join(f) for f in ref["flagged"]]
        assert list(got["review"]) == ["true" if r else "false" for r in ref["review"]]
        assert list(got["score_extremism"]) == [""] * 8
        assert [float(x) for x in got["score_hate"]] == list(ref["score_hate"])
    else:
        rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
        assert [r["flagged"] for r in rows] == [list(f) for f in ref["flagged"]]
        assert all(r["score_extremism"] is None for r in rows)
        assert [r["author"] for r in rows] == list(ref["author"])
    assert read_scan_metadata(tmp_path / f"out.{fmt}")["mapping"]["channel"] == "channel"


def test_scan_parquet_input_keeps_types_and_telegram_input(tmp_path, tiny_model) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"post_id": [1, 2], "text": ["you stupid idiot", "hello there"],
                  "likes": [3.5, None]}).to_parquet(source)
    _scan(tmp_path, tiny_model, source)
    table = pq.read_table(tmp_path / "out.parquet")
    assert str(table.schema.field("post_id").type) == "int64"
    assert table.column("likes").to_pylist() == [3.5, None]
    telegram = tmp_path / "result.json"
    telegram.write_text(json.dumps({"name": "Кабар", "id": 9, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1714552200", "from": "A",
         "from_id": "user1", "text": ["you ", {"type": "bold", "text": "stupid idiot"}]},
        {"id": 2, "type": "service", "action": "join", "date_unixtime": "1714552200",
         "text": ""}]}, ensure_ascii=False), encoding="utf-8")
    summary = _scan(tmp_path, tiny_model, telegram, out="tg.parquet")
    frame = pd.read_parquet(tmp_path / "tg.parquet")
    assert list(frame["channel"]) == ["Кабар"] and frame["posted_at"][0] == "2024-05-01T08:30:00Z"
    assert frame["from"][0] == pseudonymise("A", KEY.encode())
    assert summary.rejected == {"not a post": 1}


def _telegram_full_export(path: Path, cut: bool = False) -> Path:
    def messages(start):
        return [{"id": i, "type": "message", "date_unixtime": "1714552200", "from": "Aibek",
                 "from_id": "user1", "text": "you stupid idiot"} for i in range(start, start + 3)]

    data = {"about": "export", "chats": {"about": "", "list": [
        {"name": "Кабар", "type": "public_channel", "id": 9, "messages": messages(1)},
        {"name": "Nurlan Asanov", "type": "personal_chat", "id": 4242,
         "messages": messages(10)}]}}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path.write_text(text[: text.index('"id": 12')] if cut else text, encoding="utf-8")
    return path


def test_scan_telegram_personal_chat_names_are_treated_like_authors(tmp_path, tiny_model,
                                                                    ) -> None:
    source = _telegram_full_export(tmp_path / "result.json")
    summary = _scan(tmp_path, tiny_model, source, out="tg.csv")
    frame = pd.read_csv(tmp_path / "tg.csv", dtype=str)
    assert list(frame["channel"][:3]) == ["Кабар"] * 3 and list(frame["channel_id"][:3]) == \
        ["9"] * 3
    assert set(frame["channel"][3:]) == {pseudonymise("Nurlan Asanov", KEY.encode())}
    assert set(frame["channel_id"][3:]) == {pseudonymise("4242", KEY.encode())}
    assert "Nurlan" not in (tmp_path / "tg.csv").read_text(encoding="utf-8")
    assert any("personal chats" in n for n in summary.notes)
    _scan(tmp_path, tiny_model, source, out="drop.csv", authors="drop")
    dropped = pd.read_csv(tmp_path / "drop.csv", dtype=str, keep_default_na=False)
    assert list(dropped["channel"]) == ["Кабар"] * 3 + [""] * 3
    _scan(tmp_path, tiny_model, source, out="keep.csv", authors="keep")
    assert pd.read_csv(tmp_path / "keep.csv", dtype=str)["channel"][3] == "Nurlan Asanov"


def test_scan_counts_the_lines_of_a_telegram_export_it_could_not_read(tmp_path,
                                                                    tiny_model) -> None:
    source = _telegram_full_export(tmp_path / "result.json", cut=True)
    summary = _scan(tmp_path, tiny_model, source, out="tg.csv")
    assert summary.rows_scored == 5 and summary.rejected == {"unreadable": 1}
    assert summary.lines_unreadable >= 1
    assert any(line.startswith(f"lost:     {summary.lines_unreadable} lines unreadable")
               for line in summary.lines())
    rejects = (tmp_path / "tg.rejects.csv").read_text(encoding="utf-8")
    assert f"({summary.lines_unreadable} lines) unreadable" in rejects


def test_scan_refuses_to_overwrite_or_to_ignore_an_interrupted_scan(tmp_path, tiny_model,
                                                                    monkeypatch) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=30)
    _scan(tmp_path, tiny_model, source)
    with pytest.raises(ScanError, match="exists; pass --force"):
        _scan(tmp_path, tiny_model, source)
    with pytest.raises(ScanError, match="nothing to resume"):
        _scan(tmp_path, tiny_model, source, resume=True)
    _interrupt_after(monkeypatch, chunks=1)
    with pytest.raises(RuntimeError, match="simulated"):
        _scan(tmp_path, tiny_model, source, force=True, chunk_rows=10)
    monkeypatch.undo()
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    with pytest.raises(ScanError, match="pass --resume to continue it or --force"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10)


def _interrupt_after(monkeypatch, chunks: int) -> None:
    """Make the scan fail while writing chunk number ``chunks`` (0-based)."""
    import warning.scanning.scanner as scanner

    real = scanner._write_part

    def failing(folder, index, *args):
        if index >= chunks:
            raise RuntimeError("simulated interruption")
        return real(folder, index, *args)

    monkeypatch.setattr(scanner, "_write_part", failing)


def test_scan_resume_refused_when_input_options_key_or_model_change(tmp_path, tiny_model,
                                                                    monkeypatch) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=30, bad=True)
    _interrupt_after(monkeypatch, chunks=2)
    with pytest.raises(RuntimeError):
        _scan(tmp_path, tiny_model, source, chunk_rows=10)
    monkeypatch.undo()
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    state = json.loads((tmp_path / "out.partial" / "state.json").read_text())
    assert state["chunks_done"] == 2
    with pytest.raises(ScanError, match="the option keep_text was True, now False"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True, keep_text=False)
    with pytest.raises(ScanError, match="WARNING_SCAN_CHUNK_ROWS was 10, now 7"):
        _scan(tmp_path, tiny_model, source, chunk_rows=7, resume=True)
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", "another-key-fedcba9876543210")
    with pytest.raises(ScanError, match="WARNING_PSEUDONYM_KEY is not the one"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True)
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    other = tiny_model
    other.config.version = "other"
    with pytest.raises(ScanError, match="used the model baseline@test"):
        _scan(tmp_path, other, source, chunk_rows=10, resume=True)
    other.config.version = "test"
    original = source.read_bytes()
    source.write_bytes(original + b"999,01.05.2024 10:00,user1,ch0,late post\n")
    with pytest.raises(ScanError, match="the input's size"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True)
    source.write_bytes(original)
    os.utime(source, ns=(state["fingerprint"]["input_mtime_ns"],) * 2)
    resumed = _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True)
    assert resumed.resumed_at_chunk == 2
    full = _scan(tmp_path, tiny_model, source, out="full.parquet", chunk_rows=10)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"),
                                  pd.read_parquet(tmp_path / "full.parquet"))
    assert (tmp_path / "out.rejects.csv").read_bytes() == \
        (tmp_path / "full.rejects.csv").read_bytes()
    assert (resumed.rows_read, resumed.rejected, resumed.flagged) == \
        (full.rows_read, full.rejected, full.flagged)


def test_scan_resume_refused_when_the_arithmetic_or_the_batch_changes(tmp_path, tiny_model,
                                                                     monkeypatch) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=30)
    monkeypatch.setenv("WARNING_PRECISION", "float32")
    _interrupt_after(monkeypatch, chunks=1)
    with pytest.raises(RuntimeError):
        _scan(tmp_path, tiny_model, source, chunk_rows=10)
    monkeypatch.undo()
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("WARNING_PRECISION", "bfloat16")
    with pytest.raises(ScanError, match=r"WARNING_PRECISION \(as resolved\) was 'float32', "
                                        r"now 'bfloat16'"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True)
    monkeypatch.setenv("WARNING_PRECISION", "float32")
    monkeypatch.setenv("WARNING_SCAN_BATCH", "8")
    with pytest.raises(ScanError, match="WARNING_SCAN_BATCH was 2000, now 8"):
        _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True)
    monkeypatch.delenv("WARNING_SCAN_BATCH")
    assert _scan(tmp_path, tiny_model, source, chunk_rows=10, resume=True).resumed_at_chunk == 1


def test_scan_resume_after_a_killed_process_equals_a_full_run(tmp_path, tiny_model_dir,
                                                              monkeypatch) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=300, bad=True)
    out = tmp_path / "killed.csv"
    state_file = tmp_path / "killed.partial" / "state.json"
    env = {**os.environ, "WARNING_SCAN_CHUNK_DELAY": "0.3", "WARNING_PSEUDONYM_KEY": KEY,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    argv = ["scan", str(source), "-o", str(out), "--model", str(tiny_model_dir),
            "--chunk-size", "20", "--max-chars", "200"]
    process = subprocess.Popen([sys.executable, "-m", "warning.cli", *argv], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and process.poll() is None:
            if state_file.is_file():
                try:
                    done = json.loads(state_file.read_text())["chunks_done"]
                except (json.JSONDecodeError, KeyError):
                    done = 0
                if done >= 2:
                    break
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert not out.exists() and done >= 2
    assert json.loads(state_file.read_text())["chunks_done"] < 16  # 306 records / 20
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    assert main([*argv, "--resume", "--quiet"]) == 0
    assert main(["scan", str(source), "-o", str(tmp_path / "full.csv"), "--model",
                 str(tiny_model_dir), "--chunk-size", "20", "--max-chars", "200",
                 "--quiet"]) == 0
    assert out.read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert (tmp_path / "killed.rejects.csv").read_bytes() == \
        (tmp_path / "full.rejects.csv").read_bytes()
    resumed = json.loads((tmp_path / "killed.summary.json").read_text())
    full = json.loads((tmp_path / "full.summary.json").read_text())
    assert resumed["resumed_at_chunk"] >= 2 and full["resumed_at_chunk"] is None
    for name in ("rows_read", "rows_scored", "rejected", "flagged", "risk", "times_missing"):
        assert resumed[name] == full[name]
    assert len(pd.read_csv(out)) == 301 and resumed["rows_rejected"] == 5


def test_scan_progress_plain_lines_when_not_a_terminal(tmp_path, tiny_model) -> None:
    stream = io.StringIO()
    source = _feed_csv(tmp_path / "feed.csv", n=30)
    scan(source, tmp_path / "out.parquet", ScanOptions(chunk_rows=10), classifier=tiny_model,
         progress=lambda total, unit: Progress(total, unit, stream=stream, every=0))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("scan: 10 rows")
    assert "rows/s" in lines[0] and lines[-1].endswith("(done)") and "100%" in lines[-1]


# ---- the command -------------------------------------------------------------------------------


def test_scan_command_prints_notes_and_summary(tmp_path, tiny_model_dir, capsys) -> None:
    source = _feed_csv(tmp_path / "feed.csv", n=12, bad=True)
    code = main(["scan", str(source), "-o", str(tmp_path / "out.jsonl"), "--model",
                 str(tiny_model_dir), "--max-chars", "200", "--no-text"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "scan: text column: message (detected)" in err
    assert "scan: author column(s): author" in err
    assert "scored:   13 posts with baseline@test" in out and "rejected: 5" in out
    row = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert "message" not in row and set(LABELS) <= {k[6:] for k in row if k.startswith("score_")}


def test_scan_command_author_col_adds_to_the_detected_authors(tmp_path, tiny_model_dir,
                                                              capsys) -> None:
    source = tmp_path / "authors.csv"
    source.write_text("text,author,user_id,Отправитель,Подпись\n"
                      "hello there,Aibek,user777,Айбек Иванов,Aibek I.\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code = main(["scan", str(source), "-o", str(out), "--model", str(tiny_model_dir),
                 "--author-col", "Подпись", "--quiet"])
    assert code == 0
    row = pd.read_csv(out, dtype=str).iloc[0]
    for column, name in (("author", "Aibek"), ("user_id", "user777"),
                         ("Отправитель", "Айбек Иванов"), ("Подпись", "Aibek I.")):
        assert row[column] == pseudonymise(name, KEY.encode())
    text = out.read_text(encoding="utf-8")
    assert "Aibek" not in text and "Айбек" not in text and "user777" not in text
    code = main(["scan", str(source), "-o", str(tmp_path / "o2.csv"), "--model",
                 str(tiny_model_dir), "--not-author-col", "user_id"])
    captured = capsys.readouterr()
    assert code == 0
    assert "scan: author columns pseudonymised (keyed hash): author, Отправитель" in captured.err
    assert "warning: kept in clear as asked (--not-author-col)" in captured.err
    assert "authors:  pseudonymise (author, Отправитель)" in captured.out
    assert pd.read_csv(tmp_path / "o2.csv", dtype=str)["user_id"][0] == "user777"


def test_scan_joined_exports_keep_texts_and_authors_in_their_columns(tmp_path,
                                                                      tiny_model) -> None:
    source = tmp_path / "joined.csv"
    source.write_text("id,text,author\n1,hello there,aibek\nid,author,text\n"
                      "2,nurlan,you are all stupid idiots\n", encoding="utf-8")
    summary = _scan(tmp_path, tiny_model, source, out="out.csv")
    frame = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert list(frame["text"]) == ["hello there", "you are all stupid idiots"]
    assert list(frame["author"]) == [pseudonymise(a, KEY.encode()) for a in ("aibek", "nurlan")]
    assert summary.rejected == {"repeated header": 1} and summary.rows_scored == 2
    rejects = (tmp_path / "out.rejects.csv").read_text(encoding="utf-8")
    assert "3,,repeated header,a repeated header row with the columns in another order" in rejects


def test_scan_command_errors_name_the_file_and_the_flag(tmp_path, tiny_model_dir,
                                                        capsys) -> None:
    source = tmp_path / "two.csv"
    source.write_text("text,message\na,b\n", encoding="utf-8")
    code = main(["scan", str(source), "-o", str(tmp_path / "o.parquet"), "--model",
                 str(tiny_model_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "could not decide the text column among text, message" in err
    assert "--text-col" in err and str(source) in err
    code = main(["scan", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o.parquet")])
    assert code == 2 and "not found" in capsys.readouterr().err
    code = main(["scan", str(source), "-o", str(tmp_path / "o.parquet"), "--text-col",
                 "message", "--model", str(tmp_path / "nomodel")])
    assert code == 2 and "not found" in capsys.readouterr().err


def test_scan_options_are_validated() -> None:
    with pytest.raises(ValueError, match="authors"):
        ScanOptions(authors="hash")
    with pytest.raises(ValueError, match="exclude"):
        ScanOptions(resume=True, force=True)
    with pytest.raises(ValueError, match="chunk_rows"):
        ScanOptions(chunk_rows=0)
    assert ScanOptions(columns=ColumnOverrides(text="t")).columns.text == "t"


def test_scan_normalises_each_post_once(tmp_path, tiny_model, monkeypatch) -> None:
    import importlib

    calls: list[str] = []
    module = importlib.import_module("warning.text.normalize")
    original = module.normalize

    def counting(text: str) -> str:
        calls.append(text)
        return original(text)

    for name in ("warning.text.normalize", "warning.models.classifier",
                 "warning.scanning.scoring", "warning.models.transformer"):
        monkeypatch.setattr(importlib.import_module(name), "normalize", counting)
    summary = _scan(tmp_path, tiny_model, authors="drop")
    assert summary.rows_scored == 30
    assert len(calls) == 30  # the scan's empty-text check; nothing after it normalises again
