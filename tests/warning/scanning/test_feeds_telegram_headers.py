"""Broken JSON outside a Telegram export's messages (a chat's name, type or id with a bad escape,
a raw control character or an integer of over 4,300 digits; a broken member of the export or
garbage between chats) costs that piece only: reading goes on at the next message, the chat's
unreadable fields are left empty, and no line is counted as lost."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fixtures.feeds import rows as _rows

from warning.scanning.feeds import open_feed
from warning.scanning.scanner import ScanOptions, pseudonymise, scan, scan_paths

KEY = "test-key-0123456789abcdef"  # the one scan_env sets (conftest.py)
HUGE = "7" * 5000
BROKEN = {  # what replaces a field's value, and what the rejected record says of it
    "bad-escape": ('"B\\q"', "Invalid \\escape"),
    "raw-tab": ('"B\tc"', "Invalid control character"),
    "id-too-long": (HUGE, "a number too long: 5,000 digits"),
}


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def _messages(start: int, n: int) -> list[dict[str, object]]:
    return [{"id": i, "type": "message", "date_unixtime": "1714552200", "from": "Aibek",
             "from_id": "user1", "text": f"message {i}"} for i in range(start, start + n)]


def _chat(name: str, kind: str, ident: int, start: int, n: int = 2) -> dict[str, object]:
    return {"name": name, "type": kind, "id": ident, "messages": _messages(start, n)}


def _full_export(path: Path, chat: dict[str, object], field: str, value: str) -> str:
    """A full export whose second chat has ``value`` (JSON text, broken) as its ``field``."""
    data = {"about": "export", "chats": {"about": "", "list": [
        _chat("A", "public_channel", 1, 1), {**chat, field: "@BROKEN@"},
        _chat("C", "public_channel", 3, 20)]},
        "left_chats": {"about": "", "list": [_chat("D", "public_channel", 4, 30, n=1)]}}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    assert text.count('"@BROKEN@"') == 1
    path.write_text(text.replace('"@BROKEN@"', value), encoding="utf-8")
    return path.read_text(encoding="utf-8")


def _seen(rows) -> list[tuple[str, str | None, str | None] | None]:
    return [(r.values["id"], r.values["channel"], r.values["channel_id"]) if r.values else None
            for r in rows]


@pytest.mark.parametrize("field", ["name", "id"])
@pytest.mark.parametrize("broken", list(BROKEN), ids=list(BROKEN))
def test_feeds_telegram_a_broken_chat_header_costs_only_the_field(tmp_path, field,
                                                                   broken) -> None:
    value, problem = BROKEN[broken]
    text = _full_export(tmp_path / "result.json", _chat("B", "private_group", 2, 10), field,
                        value)
    rows = _rows(open_feed(tmp_path / "result.json"))
    name, ident = (None, "2") if field == "name" else ("B", None)
    assert _seen(rows) == [("1", "A", "1"), ("2", "A", "1"), None, ("10", name, ident),
                           ("11", name, ident), ("20", "C", "3"), ("21", "C", "3"),
                           ("30", "D", "4")]
    assert all(r.error is None and r.private == () for r in rows if r.values)
    bad = rows[2]
    lines = text.splitlines()
    assert f'"{field}": ' in lines[bad.line - 1]  # the line of the broken field
    assert bad.lost_lines == 0 and bad.count == 1 and bad.id is None
    assert problem in bad.error and f"(in the chat's {field!r}, outside its messages)" in \
        bad.error
    assert f"reading went on at the next message (line {rows[3].line})" in bad.error
    assert f"the chat's {field} could not be read: left empty" in bad.error
    assert "nothing after it" not in bad.error and "\t" not in bad.error


def test_feeds_telegram_a_chat_type_that_cannot_be_read_makes_its_names_private(
        tmp_path) -> None:
    _full_export(tmp_path / "result.json", _chat("Nurlan Asanov", "personal_chat", 4242, 10),
                 "type", '"personal\\qchat"')
    rows = _rows(open_feed(tmp_path / "result.json"))
    assert _seen(rows)[2:5] == [None, ("10", "Nurlan Asanov", "4242"),
                                ("11", "Nurlan Asanov", "4242")]
    assert "its name and id treated as a person's" in rows[2].error
    assert [r.private for r in rows[3:5]] == [("channel", "channel_id")] * 2
    assert rows[5].private == () and rows[5].values["channel"] == "C"


def test_feeds_telegram_a_broken_header_of_a_single_chat_export_keeps_its_messages(
        tmp_path) -> None:
    path = tmp_path / "result.json"
    text = json.dumps(_chat("@BROKEN@", "public_channel", 9, 1, n=3), indent=1)
    path.write_text(text.replace('"@BROKEN@"', '"Kabar\\x"'), encoding="utf-8")
    rows = _rows(open_feed(path))
    assert _seen(rows) == [None, ("1", None, "9"), ("2", None, "9"), ("3", None, "9")]
    assert rows[0].line == 2 and rows[0].lost_lines == 0
    assert "lines 2-5 left out, reading went on at the next message (line 6)" in rows[0].error


@pytest.mark.parametrize(("old", "new", "place"), [
    ('"about": "export"', '"about": "exp\\qort"', "(in 'about', outside the messages)"),
    ('"name": "C"', 'x"name": "C"', "(in a chat's header, outside its messages)"),
    ('},\n   {\n    "name": "C"', '},\n   x{\n    "name": "C"', "(between two chats)"),
], ids=["export-member", "chat-key", "between-chats"])
def test_feeds_telegram_broken_json_outside_any_chat_costs_no_message(tmp_path, old, new,
                                                                      place) -> None:
    text = _full_export(tmp_path / "result.json", _chat("B", "private_group", 2, 10), "name",
                        '"B"')
    assert text.count(old) == 1
    (tmp_path / "result.json").write_text(text.replace(old, new), encoding="utf-8")
    rows = _rows(open_feed(tmp_path / "result.json"))
    good = [row for row in _seen(rows) if row]
    assert good == [("1", "A", "1"), ("2", "A", "1"), ("10", "B", "2"), ("11", "B", "2"),
                    ("20", "C", "3"), ("21", "C", "3"), ("30", "D", "4")]
    (bad,) = [r for r in rows if r.values is None]
    assert place in bad.error and bad.lost_lines == 0 and bad.count == 1


def test_feeds_telegram_reading_after_a_broken_header_still_streams(tmp_path) -> None:
    n = 20_000
    path = tmp_path / "result.json"
    text = json.dumps(_chat("@BROKEN@", "public_channel", 9, 1, n=n), indent=1)
    path.write_text(text.replace('"@BROKEN@"', '"Kabar\\x"'), encoding="utf-8")
    feed = open_feed(path)
    chunks = feed.chunks(100)
    first = next(chunks)
    done, total = feed.position()
    assert len(first) == 100 and 0 < done < total / 10
    assert sum(len(c) for c in chunks) == n + 1 - 100


def test_scan_a_broken_chat_header_is_one_reject_and_its_posts_are_scored(tmp_path,
                                                                        tiny_model) -> None:
    _full_export(tmp_path / "result.json", _chat("Nurlan Asanov", "personal_chat", 4242, 10),
                 "type", '"personal\\qchat"')
    out = tmp_path / "out.csv"
    summary = scan(tmp_path / "result.json", out, ScanOptions(), classifier=tiny_model)
    assert summary.rows_scored == 7 and summary.rejected == {"unreadable": 1}
    assert summary.lines_unreadable == 0
    (reject,) = csv.DictReader(io.StringIO(scan_paths(out)["rejects"].read_text()))
    assert reject["id"] == "" and "(in the chat's 'type', outside its messages)" in \
        reject["details"]
    written = out.read_text(encoding="utf-8")
    assert "Nurlan" not in written
    table = list(csv.DictReader(io.StringIO(written)))
    assert [r["channel"] for r in table[:2]] == ["A", "A"]
    assert [r["channel"] for r in table[4:]] == ["C", "C", "D"]
    key = KEY.encode()
    assert [(r["channel"], r["channel_id"]) for r in table[2:4]] == \
        [(pseudonymise("Nurlan Asanov", key), pseudonymise("4242", key))] * 2
