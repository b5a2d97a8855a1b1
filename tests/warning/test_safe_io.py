"""The guards of every file the project reads and writes (warning.safe_io)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest

from warning.safe_io import (
    JsonNumberTooLong,
    JsonTooDeep,
    csv_escape,
    csv_unescape,
    csv_writer,
    input_file_problem,
    json_decode_error,
    json_depth,
    json_line,
    json_loads,
    json_problem,
    private_dir,
    private_open,
    shown_name,
)

CELLS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "'quoted", "''two", "plain", "",
         "-5", "+1.5e3", "-0.25", "a\rb", "a\nb", 'say "hi"', "nul\x00", "x\u2028y"]


@pytest.mark.parametrize("cell", CELLS)
def test_safe_io_csv_cells_round_trip_and_never_start_a_formula(cell) -> None:
    guarded = csv_escape(cell)
    assert csv_unescape(guarded) == cell
    if cell in ("-5", "+1.5e3", "-0.25"):
        assert guarded == cell  # a plain number is no formula
    else:
        assert not guarded.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_safe_io_csv_writer_quotes_line_breaks_so_rows_stay_rows() -> None:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["id", "text"])
    writer.writerows([[str(i), cell] for i, cell in enumerate(CELLS)])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == len(CELLS) + 1
    assert [csv_unescape(r[1]) for r in rows[1:]] == CELLS
    assert out.getvalue().endswith("\r\n")


def test_safe_io_json_nesting_is_bounded_without_recursion_errors() -> None:
    assert json_loads('{"a": [1, {"b": []}]}') == {"a": [1, {"b": []}]}
    assert json_depth({"a": [1, {"b": []}]}) == 4
    for depth in (65, 900, 100_000):
        with pytest.raises(JsonTooDeep):
            json_loads("[" * depth + "]" * depth)
    assert json_loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(json.JSONDecodeError):  # JsonTooDeep is a JSONDecodeError
        json_loads(b"[" * 5000 + b"]" * 5000)


def test_safe_io_json_integers_too_long_are_a_decode_error_with_their_place() -> None:
    """Python's int() refuses over 4,300 digits with a bare ValueError, which json.loads lets
    through: it stopped whole scans. It is a JSONDecodeError placed where the number starts."""
    doc = ' \n {"id": "7",\n "n": -' + "9" * 5000 + "}"
    with pytest.raises(json.JSONDecodeError) as caught:  # a JSONDecodeError, like JsonTooDeep
        json_loads(doc)
    error = caught.value
    assert isinstance(error, JsonNumberTooLong) and (error.digits, error.limit) == (5000, 4300)
    assert (error.lineno, error.colno) == (3, 7)
    assert json_problem(error.msg, "column 7") == ("a number too long: 5,000 digits, over the "
                                                   "limit of 4,300, starting at column 7")
    with pytest.raises(JsonNumberTooLong):
        json_loads(("[" + "1" * 4301 + "]").encode("utf-16"))  # bytes read as json.loads reads
    assert json_loads("[" + "1" * 4300 + "]") == [int("1" * 4300)]  # the limit itself is kept
    assert json_loads("[" + "1" * 5000 + ".5]")[0] > 0  # a float has no such limit
    assert json_loads('["' + "1" * 5000 + '"]') == ["1" * 5000]  # nor has a string


def test_safe_io_json_decode_error_places_the_number_from_a_start() -> None:
    doc = 'xx{"a": "' + "1" * 5000 + '", "b": ' + "1" * 5000 + "}"
    try:
        json.JSONDecoder().raw_decode(doc, 2)
    except ValueError as exc:
        error = json_decode_error(exc, doc, 2)
    assert isinstance(error, JsonNumberTooLong)
    assert doc[error.pos :].startswith("1" * 5000 + "}")  # the number, not the string
    broken = json.JSONDecodeError("Expecting value", "x", 0)
    assert json_decode_error(broken, "x") is broken


def test_safe_io_shown_names_never_hold_a_lone_surrogate() -> None:
    assert shown_name("\ud800hate") == "\ufffdhate"
    assert shown_name("\ud83d" * 100).encode("utf-8") == ("\ufffd" * 60 + "...").encode()


def test_safe_io_json_line_keeps_one_record_per_line() -> None:
    line = json_line({"text": "a\u2028b\u2029c\x85d\ne"})
    assert len(line.splitlines()) == 1 and json.loads(line)["text"] == "a\u2028b\u2029c\x85d\ne"


def test_safe_io_private_files_are_owner_only_even_when_they_existed(tmp_path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old")
    os.chmod(path, 0o644)
    with private_open(path, "w") as handle:
        handle.write("new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "new"
    with pytest.raises(FileExistsError):
        private_open(path, "w", exclusive=True)
    folder = private_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_safe_io_input_problems_name_what_the_path_is(tmp_path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "file").write_text("x")
    assert input_file_problem(tmp_path / "file") is None
    assert "not found" in input_file_problem(tmp_path / "missing")
    assert "is a folder" in input_file_problem(tmp_path)
    assert "named pipe" in input_file_problem(fifo)
