"""Hostile values in one row that stopped a whole scan: a JSON integer of over 4,300 digits
(Python's int() refuses it with a bare ValueError). It costs its row; every other row is
scanned."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from warning.cli import main
from warning.scanning.scanner import ScanOptions, scan, scan_paths

BASELINE = Path(__file__).resolve().parents[3] / "models" / "baseline"
HUGE = "7" * 5000
TOO_LONG = "a number too long: 5,000 digits, over the limit of 4,300"


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def rejects_of(output: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(scan_paths(output)["rejects"].read_text())))


@pytest.mark.parametrize("place", ["middle", "first"])
def test_scan_a_jsonl_integer_too_long_rejects_its_row_only(tmp_path, tiny_model,
                                                            place) -> None:
    head = '{"id": "2", "text": "you stupid idiot", "views": '
    huge = head + HUGE + "}"
    good = [json.dumps({"id": "1", "text": "the market opens at nine"}),
            json.dumps({"id": "3", "text": "you stupid idiot", "views": 12})]
    lines = [good[0], huge, good[1]] if place == "middle" else [huge, *good]
    source = tmp_path / "feed.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    summary = scan(source, out, ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rejected == {"unreadable": 1}
    (reject,) = rejects_of(out)
    assert reject["line"] == ("2" if place == "middle" else "1") and reject["id"] == "2"
    column = len(head) + 1  # where the number starts
    assert reject["details"] == f"not valid JSON here ({TOO_LONG}, starting at column {column})"
    assert not scan_paths(out)["partial"].exists()


def test_warning_scan_command_goes_on_past_an_integer_too_long(tmp_path, capsys) -> None:
    source = tmp_path / "feed.jsonl"
    source.write_text(json.dumps({"id": "1", "text": "hello"}) + "\n"
                      + '{"id": "2", "text": "x", "n": -' + HUGE + "}\n"
                      + json.dumps({"id": "3", "text": "bye"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["scan", str(source), "-o", str(out), "--model", str(BASELINE), "-q"]) == 0
    assert "digits" not in capsys.readouterr().err
    assert [r["id"] for r in csv.DictReader(io.StringIO(out.read_text()))] == ["1", "3"]
    assert [(r["line"], r["id"]) for r in rejects_of(out)] == [("2", "2")]


def test_score_command_reports_an_integer_too_long_and_goes_on(tmp_path, capsys) -> None:
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"text": "hello"}) + "\n" + '{"text": "x", "n": ' + HUGE
                      + "}\n" + json.dumps({"text": "bye"}) + "\n", encoding="utf-8")
    assert main(["score", "--model", str(BASELINE), "--input", str(source)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and lines[2].get("error") is None
    assert lines[1]["error"] == f"line 2: not valid JSON ({TOO_LONG}, starting at column 20)"


def message(i: int | str, text: str = '"the market opens at nine"', extra: str = "") -> str:
    return (f'{{"id": {i}, "type": "message", "date": "2024-05-01T10:00:00", '
            f'"date_unixtime": "1714557600", "from": "A", "from_id": "user1", '
            f'"text": {text}{extra}}}')


def test_scan_a_telegram_integer_too_long_rejects_its_message_only(tmp_path,
                                                                   tiny_model) -> None:
    export = tmp_path / "result.json"
    export.write_text('{"name": "chan", "type": "public_channel", "id": 5, "messages": [\n'
                      + ",\n".join([message(1), message(2, extra=', "views": ' + HUGE),
                                    message(3, '"you stupid idiot"')]) + "\n]}\n",
                      encoding="utf-8")
    out = tmp_path / "out.parquet"
    summary = scan(export, out, ScanOptions(authors="drop"), classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rejected == {"unreadable": 1}
    (reject,) = rejects_of(out)
    assert (reject["line"], reject["id"]) == ("3", "2")
    assert f"{TOO_LONG}, starting at line 3" in reject["details"]
    assert "reading went on at the next message (line 4)" in reject["details"]
