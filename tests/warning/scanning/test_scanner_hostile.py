"""Hostile feeds (issue 19): texts with CR, LF, CRLF, quotes, NUL, U+2028 and formula starts;
JSON nested too deep; broken rows whose id is intact; odd inputs and outputs. Every output
format reads back to exactly the rows written, and alerts are the same from each."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from fixtures.outputs import read_back

from warning.alerts import AlertConfig, find_alerts
from warning.cli import main
from warning.scanning.feeds import open_feed
from warning.scanning.scanner import ScanError, ScanOptions, scan, scan_paths

BASELINE = Path(__file__).resolve().parents[3] / "models" / "baseline"
HOSTILE = ["bare\rcarriage return", "two\nlines", "crlf\r\nend", 'say "hi", then go',
           "nul\x00byte", "line\u2028separator", "para\u2029graph", "next\x85line",
           '=HYPERLINK("http://example.com","click")', "+1+1 you stupid idiot", "-2+3",
           "@SUM(A1:A9)", "\ttab first", "'apostrophe first", "''two apostrophes", "-5",
           "you stupid idiot", "the market opens at nine"]
FORMATS = ("parquet", "csv", "jsonl")


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def hostile_feed(path: Path) -> Path:
    """JSONL: each hostile text as a post, over eight days, with hostile ids and channels; the
    last day has many offensive posts (a surge)."""
    lines = []
    for i in range(80):
        day = 1 + i % 8
        text = HOSTILE[i % len(HOSTILE)] if i < 60 else "you stupid idiot"
        if i >= 60:
            day = 9
        channel = ["=chan", "\rch", "plain"][i % 3]
        lines.append(json.dumps({"id": f"=id{i}" if i % 5 == 0 else str(i),
                                 "date": f"2024-05-{day:02d} 10:00", "channel": channel,
                                 "text": text}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_outputs_read_back_identically_in_every_format(tmp_path, tiny_model) -> None:
    source = hostile_feed(tmp_path / "feed.jsonl")
    tables = {}
    for fmt in FORMATS:
        summary = scan(source, tmp_path / f"out.{fmt}", ScanOptions(chunk_rows=7),
                       classifier=tiny_model)
        assert summary.rows_scored == 80 and summary.rows_read == 80
        tables[fmt] = read_back(tmp_path / f"out.{fmt}")
    assert len(tables["csv"]) == len(tables["jsonl"]) == len(tables["parquet"]) == 80
    assert tables["csv"] == tables["parquet"] and tables["jsonl"] == tables["parquet"]
    texts = [row["text"] for row in tables["csv"]]
    assert texts[: len(HOSTILE)] == HOSTILE  # each text exactly as it was, guard removed
    assert all(row["posted_at"] and row["model"] for row in tables["csv"])


def test_scan_alerts_are_the_same_from_every_output_format(tmp_path, tiny_model) -> None:
    source = hostile_feed(tmp_path / "feed.jsonl")
    config = AlertConfig.from_settings(windows=("day",), min_count=3, baseline=4)
    reports = {}
    for fmt in FORMATS:
        scan(source, tmp_path / f"out.{fmt}", ScanOptions(), classifier=tiny_model)
        report = find_alerts(tmp_path / f"out.{fmt}", config)
        data = report.to_dict()
        data.pop("scored_file")
        reports[fmt] = json.dumps(data, sort_keys=True, default=str)
        assert report.posts == 80 and report.posts_without_time == 0
    assert reports["csv"] == reports["parquet"] == reports["jsonl"]
    assert json.loads(reports["csv"])["alerts"], "the planted surge raises an alert"
    # the alerts CSV: channel names from the feed are guarded, the file is owner-only
    alerts_csv = tmp_path / "alerts.csv"
    find_alerts(tmp_path / "out.parquet", AlertConfig.from_settings(
        windows=("day",), min_count=1, baseline=4, fdr=1.0)).write(alerts_csv)
    rows = list(csv.reader(io.StringIO(alerts_csv.read_text(encoding="utf-8"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert "'=chan" in cells or "'\rch" in cells
    assert stat.S_IMODE(alerts_csv.stat().st_mode) == 0o600


def test_score_command_reports_a_deeply_nested_line_and_goes_on(tmp_path, capsys) -> None:
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"text": "hello"}) + "\n" + '{"text": ' + "[" * 50_000
                      + "]" * 50_000 + "}\n" + json.dumps({"text": "bye"}) + "\n",
                      encoding="utf-8")
    assert main(["score", "--model", str(BASELINE), "--input", str(source)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and lines[0]["scores"]["offensive"] is not None
    assert "nested deeper than" in lines[1]["error"] and lines[2].get("error") is None


def test_scan_csv_output_guards_formulas_and_quotes_carriage_returns(tmp_path,
                                                                     tiny_model) -> None:
    source = hostile_feed(tmp_path / "feed.jsonl")
    scan(source, tmp_path / "out.csv", ScanOptions(), classifier=tiny_model)
    raw = (tmp_path / "out.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert len(rows) == 81  # the header and one row per post: no CR split a row
    cells = [cell for row in rows for cell in row]
    for dangerous in ("=", "+", "@", "\t", "\r"):
        assert not any(c.startswith(dangerous) for c in cells), dangerous
    assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()
                   for c in cells)
    assert "'=HYPERLINK(" in raw and "'=chan" in raw and "'=id0" in raw
    assert "\"bare\rcarriage return\"" in raw
    rejects = (tmp_path / "out.rejects.csv").read_bytes()
    assert rejects.startswith(b"line,id,reason,details\r\n")


def test_scan_a_deeply_nested_jsonl_line_is_rejected_and_the_scan_goes_on(tmp_path,
                                                                          tiny_model) -> None:
    deep = '{"id": "7", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [json.dumps({"id": "1", "text": "you stupid idiot"}), deep,
             json.dumps({"id": "2", "text": "the market opens at nine"}),
             '{"id": "3", "text": ' + '{"a": ' * 70 + '"x"' + "}" * 70 + "}"]
    source = tmp_path / "feed.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = scan(source, tmp_path / "out.parquet", ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rejected == {"unreadable": 2}
    rejects = list(csv.DictReader(io.StringIO((tmp_path / "out.rejects.csv").read_text())))
    assert [(r["line"], r["id"]) for r in rejects] == [("2", "7"), ("4", "3")]
    assert all("nested deeper than" in r["details"] for r in rejects)
    assert not scan_paths(tmp_path / "out.parquet")["partial"].exists()


def test_scan_a_telegram_message_nested_too_deep_is_rejected_by_its_id(tmp_path,
                                                                       tiny_model) -> None:
    def message(i: int, text: str) -> str:
        return (f'{{"id": {i}, "type": "message", "date": "2024-05-01T10:00:00", '
                f'"date_unixtime": "1714557600", "from": "A", "from_id": "user1", '
                f'"text": {text}}}')

    messages = [message(1, '"you stupid idiot"'),
                message(2, "[" * 50_000 + "]" * 50_000),
                message(3, '"the market opens at nine"')]
    export = tmp_path / "result.json"
    export.write_text('{"name": "chan", "type": "public_channel", "id": 5, "messages": [\n'
                      + ",\n".join(messages) + "\n]}\n", encoding="utf-8")
    summary = scan(export, tmp_path / "out.parquet", ScanOptions(authors="drop"),
                   classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rejected == {"unreadable": 1}
    rejects = list(csv.DictReader(io.StringIO((tmp_path / "out.rejects.csv").read_text())))
    assert rejects[0]["id"] == "2" and "nested deeper than" in rejects[0]["details"]
    assert not scan_paths(tmp_path / "out.parquet")["partial"].exists()


def test_scan_broken_rows_keep_an_intact_id_and_never_hold_text(tmp_path, tiny_model) -> None:
    source = tmp_path / "feed.csv"
    source.write_bytes(
        b"id,date,text\n"
        + '1,01.05.2024 10:00,"Бүгүн Ошко барам, баарына салам"\n'.encode()
        + b"2,01.05.2024 10:00,an unquoted, comma SECRET\n"               # too many fields
        b"3,01.05.2024 10:00,\"a stray quote SECRET\n"                     # broken quoting
        b"4,01.05.2024 10:00,fine again\n"
        + "5,01.05.2024 10:00,cp1251 SECRET Привет\n".encode("cp1251")     # bad bytes
        + b"6,01.05.2024 10:00,last\n")
    summary = scan(source, tmp_path / "out.parquet", ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 3
    rejects = list(csv.DictReader(io.StringIO((tmp_path / "out.rejects.csv").read_text())))
    assert {r["id"] for r in rejects} == {"2", "3", "5"}
    raw = (tmp_path / "out.rejects.csv").read_bytes()
    assert b"SECRET" not in raw and "Привет".encode("cp1251") not in raw
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text('{"id": "8", "text": "ok"}\n{"id": "9", "text": "SECRET, "broken}\n',
                     encoding="utf-8")
    scan(jsonl, tmp_path / "j.parquet", ScanOptions(), classifier=tiny_model)
    rejects = (tmp_path / "j.rejects.csv").read_text()
    assert ",9,unreadable," in rejects and "SECRET" not in rejects


def test_scan_a_date_out_of_range_in_utc_is_no_time_not_a_failed_scan(tmp_path, tiny_model,
                                                                       scan_env) -> None:
    # 0001-01-01 is a common placeholder for "no date"; in Bishkek (UTC+6) it lies before year
    # 1 in UTC, as 9999-12-31 in a zone west of UTC lies after year 9999
    scan_env.setenv("WARNING_TIMEZONE", "Asia/Bishkek")
    source = tmp_path / "feed.csv"
    source.write_text("id,date,text\n1,01.05.2024 10:00,good morning\n"
                      "2,0001-01-01 00:00:00,no real date here\n"
                      "3,9999-12-31 23:30:00 EST,nor here\n4,02.05.2024 11:00,fine again\n",
                      encoding="utf-8")
    summary = scan(source, tmp_path / "out.csv", ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 4 and summary.rows_rejected == 0
    assert summary.times_missing == 2
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [r["posted_at"] for r in rows] == ["2024-05-01T04:00:00Z", "", "",
                                              "2024-05-02T05:00:00Z"]


def test_scan_reads_a_csv_with_carriage_returns_only(tmp_path, tiny_model) -> None:
    source = tmp_path / "mac.csv"
    source.write_bytes(b"id,date,author,text\r1,01.05.2024 10:00,a,you stupid idiot\r"
                       b"2,01.05.2024 11:00,b,the market opens at nine\r")
    feed = open_feed(source)
    assert feed.columns == ["id", "date", "author", "text"]
    summary = scan(source, tmp_path / "out.parquet", ScanOptions(authors="drop"),
                   classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rows_rejected == 0


def test_scan_outputs_and_partial_folder_are_owner_only(tmp_path, tiny_model,
                                                        monkeypatch) -> None:
    source = hostile_feed(tmp_path / "feed.jsonl")
    out = tmp_path / "out.csv"
    (tmp_path / "out.csv").write_text("old, world-readable")
    os.chmod(out, 0o644)
    seen = {}
    from warning.scanning import scanner

    original = scanner._write_part

    def spy(folder, *args):
        seen["partial"] = stat.S_IMODE(folder.stat().st_mode)
        original(folder, *args)
        seen["part"] = max(stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir())

    monkeypatch.setattr(scanner, "_write_part", spy)
    scan(source, out, ScanOptions(force=True), classifier=tiny_model)
    assert seen == {"partial": 0o700, "part": 0o600}
    for path in scan_paths(out).values():
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_scan_to_an_existing_folder_is_refused_before_scoring(tmp_path, tiny_model) -> None:
    source = hostile_feed(tmp_path / "feed.jsonl")
    folder = tmp_path / "outdir"
    folder.mkdir()
    with pytest.raises(ScanError, match="is a folder"):
        scan(source, folder, ScanOptions(force=True), classifier=tiny_model)
    assert not list(tmp_path.glob("*.tmp")) and list(folder.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_scan_and_score_name_a_folder_or_pipe_as_such(tmp_path, capsys, kind) -> None:
    path = tmp_path / "input"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    assert main(["scan", str(path), "-o", str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err
    assert "not found" not in err
    assert ("is a folder" in err) if kind == "folder" else ("named pipe" in err)
    assert main(["score", "--model", str(BASELINE), "--input", str(path)]) == 2
    assert "not found" not in capsys.readouterr().err


def test_scan_a_one_column_name_with_commas_is_shown_as_one_name(tmp_path) -> None:
    from warning.scanning.feeds import ColumnOverrides, FeedError

    source = tmp_path / "odd.csv"
    source.write_text('"id,date,author,text"\n"1,2,a,hello"\n', encoding="utf-8")
    with pytest.raises(FeedError) as info:
        open_feed(source, columns=ColumnOverrides(text="text"))
    assert "'text' is not a column" in str(info.value)
    assert '"id,date,author,text"' in str(info.value)
