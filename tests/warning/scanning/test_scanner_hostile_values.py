"""Hostile values in one row that stopped a whole scan: a JSON integer of over 4,300 digits
(Python's int() refuses it with a bare ValueError), a Telegram chat header whose name or id
cannot be decoded after a broken message, a chat type that is a list, and Parquet values JSON
has no type for (decimals, times of day, durations) written to a JSONL output. Each costs its
row at most; every other row is scanned."""

from __future__ import annotations

import csv
import datetime
import decimal
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


@pytest.mark.parametrize("header", [
    '"name": "b", "type": "public_channel", "id": ' + HUGE,
    '"name": "b\\x", "type": "public_channel", "id": 7',   # an escape JSON does not have
    '"name": "b\tc", "type": "public_channel", "id": 7',   # a raw tab inside a string
], ids=["id-too-long", "bad-escape", "raw-tab"])
def test_scan_a_broken_chat_header_skipped_after_a_broken_message_is_no_failed_scan(
        tmp_path, tiny_model, header) -> None:
    """Reading goes on at the next message, in the next chat: the chat's name, type and id are
    read from the lines skipped, and one that cannot be decoded is left unknown."""
    export = tmp_path / "result.json"
    export.write_text('{"chats": {"list": [\n{"name": "a", "type": "public_channel", "id": 5, '
                      '"messages": [\n' + message(1) + ",\n" + message(2, '"broken \\q"')
                      + "\n]},\n{" + header + ', "messages": [\n' + message(3) + ",\n"
                      + message(4) + "\n]}\n]}}\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    summary = scan(export, out, ScanOptions(authors="drop"), classifier=tiny_model)
    assert summary.rows_scored == 3 and summary.rejected == {"unreadable": 1}
    assert [(r["line"], r["id"]) for r in rejects_of(out)] == [("4", "2")]
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["id"] for r in rows] == ["1", "3", "4"] and rows[0]["channel"] == "a"


@pytest.mark.parametrize("kind", ['["personal_chat"]', '{"a": 1}'], ids=["list", "object"])
def test_scan_a_telegram_chat_type_that_is_no_string_is_no_failed_scan(tmp_path, tiny_model,
                                                                       kind) -> None:
    export = tmp_path / "result.json"
    export.write_text('{"name": "chan", "type": ' + kind + ', "id": 5, "messages": [\n'
                      + ",\n".join([message(1), message(2)]) + "\n]}\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    summary = scan(export, out, ScanOptions(authors="drop"), classifier=tiny_model)
    assert summary.rows_scored == 2 and summary.rows_rejected == 0
    # a type that is no chat type may hide a personal chat: its name and id are dropped with
    # the authors, never written in clear
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["channel"], r["channel_id"]) for r in rows] == [("", "")] * 2


def test_scan_parquet_values_json_has_no_type_for_are_written_to_jsonl(tmp_path,
                                                                      tiny_model) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "feed.parquet"
    pq.write_table(pa.table({
        "id": ["1", "2"], "text": ["you stupid idiot", "the market opens at nine"],
        "amount": pa.array([decimal.Decimal("12.50"), None], pa.decimal128(10, 2)),
        "at": pa.array([datetime.time(14, 30), None], pa.time64("us")),
        "length": pa.array([datetime.timedelta(seconds=90), None], pa.duration("s")),
        "nested": pa.array([{"d": decimal.Decimal("1.5")}, None],
                           pa.struct([("d", pa.decimal128(4, 1))])),
    }), source)
    out = tmp_path / "out.jsonl"
    summary = scan(source, out, ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 2
    first, second = (json.loads(line) for line in out.read_text().splitlines())
    assert (first["amount"], first["at"], first["length"]) == ("12.50", "14:30:00", "0:01:30")
    assert first["nested"] == {"d": "1.5"} and second["amount"] is None
