"""Feed readers: JSONL, Parquet, Telegram exports, format detection, dates and streaming."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.feeds import bad as _bad
from fixtures.feeds import good as _good
from fixtures.feeds import rows as _rows

from warning.scanning.feeds import (
    FeedError,
    detect_format,
    open_feed,
    parse_time,
)
from warning.scanning.feeds.telegram import flatten_text

# ---- JSONL -------------------------------------------------------------------------------------


def test_feeds_jsonl_good_broken_and_late_keys(tmp_path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        b'{"id": 1, "text": "\xd0\xa1\xd0\xb0\xd0\xbb\xd0\xb0\xd0\xbc", "meta": {"likes": 3}}\n'
        b"\n"
        b"{not json\n"
        b"[1, 2]\n"
        b'{"id": 5, "text": 42}\n'
        b'{"id": 6, "text": "\xff\xfe"}\n'
        b'{"id": 7, "text": "ok", "channel": "late key"}\n'
        b'{"id": 8, "text": "cut sh'
    )
    feed = open_feed(path)
    assert feed.format == "jsonl"
    assert feed.columns == ["id", "text", "meta", "channel"]
    good = _good(feed)
    assert [r.line for r in good] == [1, 5, 7]
    assert good[0].values == {"id": "1", "text": "Салам", "meta": '{"likes": 3}',
                              "channel": None}
    assert good[1].values["text"] == 42  # kept as it is, so the scan can say it is not text
    assert good[2].values["channel"] == "late key"
    bad = _bad(feed)
    assert set(bad) == {3, 4, 6, 8}
    assert "not valid JSON" in bad[3] and "not an object" in bad[4]
    assert "not valid utf-8" in bad[6] and "not valid JSON" in bad[8]


def test_feeds_jsonl_json_errors_say_at_once(tmp_path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\n{"id": 2, "text": "a\tb"}\n', encoding="utf-8")
    bad = _bad(open_feed(path))
    assert bad == {2: "not valid JSON (Invalid control character at column 21)"}


def test_feeds_jsonl_over_long_line_is_skipped(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.feeds.jsonl_reader.MAX_LINE", 100)
    path = tmp_path / "long.jsonl"
    path.write_text('{"text": "a"}\n{"text": "' + "x" * 500 + '"}\n{"text": "b"}\n',
                    encoding="utf-8")
    feed = open_feed(path)
    assert [r.values["text"] for r in _good(feed)] == ["a", "b"]
    assert "over 100 characters" in _bad(feed)[2]


def test_feeds_jsonl_over_long_line_keeps_its_id_when_it_comes_first(tmp_path,
                                                                    monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.feeds.jsonl_reader.MAX_LINE", 100)
    path = tmp_path / "long.jsonl"
    path.write_text('{"id": 1, "text": "a"}\n{"id": "p2", "text": "' + "x" * 500 + '"}\n'
                    '{"text": "' + "y" * 500 + '", "id": 3}\n{"id": 4, "text": "b"}\n',
                    encoding="utf-8")
    rows = _rows(open_feed(path))
    assert [(r.line, r.id) for r in rows if r.error] == [(2, "p2"), (3, None)]
    assert all("over 100 characters" in r.error for r in rows if r.error)


# ---- Parquet -----------------------------------------------------------------------------------


def _parquet(path, n=10):
    table = pa.table({"post_id": list(range(n)), "body": [f"post {i}" for i in range(n)],
                      "created_at": [datetime(2024, 5, 1, i % 24, tzinfo=UTC) for i in range(n)]})
    pq.write_table(table, path, row_group_size=4)
    return path


def test_feeds_parquet_keeps_types_and_row_numbers(tmp_path) -> None:
    feed = open_feed(_parquet(tmp_path / "p.parquet"))
    assert feed.format == "parquet"
    assert feed.mapping.text == "body" and feed.mapping.id == "post_id"
    assert feed.mapping.time == "created_at"
    rows = _rows(feed)
    assert [r.line for r in rows] == list(range(1, 11))
    assert rows[3].values["post_id"] == 3
    assert feed.schema().field("post_id").type == pa.int64()
    assert feed.position() == (10, 10)


def test_feeds_parquet_truncated_or_fake_file_fails_clearly(tmp_path) -> None:
    good = _parquet(tmp_path / "p.parquet")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(FeedError, match="cannot read as Parquet"):
        open_feed(cut)
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(FeedError, match="not a Parquet file"):
        open_feed(fake)
    assert open_feed(fake, format="csv").mapping.text == "text"


def test_feeds_parquet_duplicate_column_names_are_refused_naming_them(tmp_path) -> None:
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([1]), pa.array(["hi"]), pa.array(["a"]),
                                         pa.array(["b"]), pa.array([2])],
                                        names=["id", "text", "note", "note", "id"]), path)
    with pytest.raises(FeedError, match=r"dup.parquet: more than one column is named id, note"):
        open_feed(path)


def test_feeds_parquet_damaged_row_group_is_one_rejected_block(tmp_path) -> None:
    path = _parquet(tmp_path / "p.parquet", n=12)
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(1)
    start = column.data_page_offset
    data = bytearray(path.read_bytes())
    data[start : start + 40] = b"\x00" * 40  # the second group's text page
    path.write_bytes(bytes(data))
    rows = _rows(open_feed(path))
    bad = [r for r in rows if r.error]
    assert [r.line for r in rows if r.error is None] == [1, 2, 3, 4, 9, 10, 11, 12]
    assert len(bad) == 1 and bad[0].line == 5 and bad[0].count == 4
    assert "row group 2 unreadable" in bad[0].error


def test_feeds_parquet_a_value_python_cannot_hold_costs_only_its_row(tmp_path) -> None:
    # a string column holding bytes that are not UTF-8 (writers that do not check), and a
    # timestamp after the year 9999: only their rows are rejected, by column, never the file
    raw = pa.array([b"post 1", b"post \xff\xfe 2", b"post 3", b"post 4"], pa.binary())
    body = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers()[:3])
    late = pa.array([0, 0, 0, 253402300800000], pa.timestamp("ms"))  # 10000-01-01
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"post_id": ["a", "b", "c", "d"], "body": body,
                             "created_at": late}), path)
    feed = open_feed(path)
    rows = _rows(feed)
    assert [(r.line, r.values["body"]) for r in rows if r.error is None] == [(1, "post 1"),
                                                                            (3, "post 3")]
    bad = {r.line: r for r in rows if r.error}
    assert set(bad) == {2, 4} and bad[2].id == "b" and bad[4].id == "d"
    assert "body" in bad[2].error and "UTF-8" in bad[2].error and "post" not in bad[2].error
    assert "created_at" in bad[4].error
    assert feed.position() == (4, 4)


# ---- Telegram ----------------------------------------------------------------------------------


def _telegram_export(messages, name="Test chat"):
    return {"name": name, "type": "public_channel", "id": 777, "messages": messages}


_MESSAGES = [
    {"id": 1, "type": "message", "date": "2024-05-01T14:30:00", "date_unixtime": "1714552200",
     "from": "Aibek", "from_id": "user1", "text": "Салам баарына"},
    {"id": 2, "type": "service", "date": "2024-05-01T14:31:00", "date_unixtime": "1714552260",
     "actor": "Aibek", "action": "pin_message", "text": ""},
    {"id": 3, "type": "message", "date": "2024-05-01T14:32:00", "date_unixtime": "1714552320",
     "from": "Nurlan", "from_id": "user2",
     "text": ["Кара ", {"type": "bold", "text": "жаңылык"}, {"type": "link", "text": "http://x"}]},
    {"id": 4, "type": "message", "date": "2024-05-01T14:33:00", "date_unixtime": "1714552380",
     "from": "Nurlan", "from_id": "user2", "text": {"odd": True}},
    {"id": 5, "type": "message", "date": "2024-05-01T14:34:00", "date_unixtime": "1714552440",
     "from": "Aibek", "from_id": "user1", "forwarded_from": "Other channel",
     "photo": "photos/1.jpg", "text": ""},
]


def test_feeds_telegram_single_chat_export(tmp_path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_telegram_export(_MESSAGES), ensure_ascii=False, indent=1),
                    encoding="utf-8")
    feed = open_feed(path)
    assert feed.format == "telegram"
    assert feed.mapping.time == "date_unixtime" and feed.mapping.channel == "channel"
    assert feed.mapping.authors == ["from", "from_id", "forwarded_from"]
    rows = _rows(feed)
    assert [r.values["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0].values["text"] == "Салам баарына" and rows[0].values["channel"] == "Test chat"
    assert rows[0].values["channel_id"] == "777" and rows[0].error is None
    assert rows[1].reason == "not a post" and "pin_message" in rows[1].error
    assert rows[2].values["text"] == "Кара жаңылыкhttp://x" and rows[2].error is None
    assert "neither a string nor a list" in rows[3].error
    assert rows[4].error is None and rows[4].values["text"] == ""
    assert rows[4].values["forwarded_from"] == "Other channel"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[rows[2].line - 1].strip() == "{"  # each message's line is where it starts


def test_feeds_telegram_full_export_with_chat_list(tmp_path) -> None:
    data = {"about": "export", "personal_information": {"first_name": "X"},
            "chats": {"about": "chats", "list": [
                _telegram_export(_MESSAGES[:1], name="A"),
                _telegram_export(_MESSAGES[2:3], name="B")]},
            "left_chats": {"list": [_telegram_export(_MESSAGES[:1], name="C")]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    rows = _good(open_feed(path))
    assert [(r.values["channel"], r.values["id"]) for r in rows] == [("A", "1"), ("B", "3"),
                                                                      ("C", "1")]


@pytest.mark.parametrize("cut", [0.5, 0.93])
def test_feeds_telegram_truncated_export_keeps_what_came_before(tmp_path, cut) -> None:
    text = json.dumps(_telegram_export(_MESSAGES * 40), ensure_ascii=False, indent=1)
    path = tmp_path / "result.json"
    path.write_text(text[: int(len(text) * cut)], encoding="utf-8")
    rows = _rows(open_feed(path))
    assert "cut short" in rows[-1].error and "nothing after it" in rows[-1].error
    assert len(rows) > 10 and all(r.values for r in rows[:-1])


def test_feeds_telegram_broken_json_in_the_middle_is_rejected_and_reading_goes_on(tmp_path) -> None:
    text = json.dumps(_telegram_export(_MESSAGES), ensure_ascii=False, indent=1)
    broken = text.replace('"id": 3,', '"id": 3,,', 1)
    path = tmp_path / "result.json"
    path.write_text(broken, encoding="utf-8")
    rows = _rows(open_feed(path))
    assert [r.values["id"] for r in rows[:2]] == ["1", "2"]
    assert "broken JSON" in rows[2].error and rows[2].line > 1
    # the messages after it are read again (4 has a text that is not text, 5 is fine)
    assert [r.values["id"] for r in rows[3:]] == ["4", "5"] and rows[4].error is None


def test_feeds_telegram_broken_json_says_at_once(tmp_path) -> None:
    text = json.dumps(_telegram_export(_MESSAGES), ensure_ascii=False, indent=1)
    path = tmp_path / "result.json"
    path.write_text(text.replace("Салам баарына", "Салам\tбаарына", 1), encoding="utf-8")
    (row,) = [r for r in _rows(open_feed(path)) if r.error and "broken JSON" in r.error]
    assert "Invalid control character at line " in row.error and " at at " not in row.error


def _many(n, start=1):
    return [{**_MESSAGES[0], "id": i, "text": f"message {i}"} for i in range(start, start + n)]


def test_feeds_telegram_a_broken_message_costs_only_itself(tmp_path) -> None:
    text = json.dumps(_telegram_export(_many(200)), ensure_ascii=False, indent=1)
    broken = text.replace('"text": "message 90"', '"text": "message 90" "oops"', 1)
    path = tmp_path / "result.json"
    path.write_text(broken, encoding="utf-8")
    rows = _rows(open_feed(path))
    assert len(rows) == 200
    assert [int(r.values["id"]) for r in rows if r.error is None] == \
        [i for i in range(1, 201) if i != 90]
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].count == 1 and bad[0].lost_lines == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[bad[0].line - 1].strip() == "{" and '"id": 90' in lines[bad[0].line]
    assert "reading went on at the next message" in bad[0].error
    after = next(r for r in rows if r.values and r.values["id"] == "91")
    assert f"(line {after.line})" in bad[0].error


def _broken_before_a_second_chat(tmp_path, name: str, kind: str, chat_id: int):
    """A full export of chat A (messages 1-3, message 3 broken) then chat ``name``."""
    data = {"about": "export", "chats": {"about": "chats", "list": [
        _telegram_export(_many(3), name="A"),
        {"name": name, "type": kind, "id": chat_id, "messages": _many(2, start=10)}]}}
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path = tmp_path / "result.json"
    path.write_text(text.replace('"text": "message 3"', '"text": "message 3" x', 1),
                    encoding="utf-8")
    return open_feed(path)


def test_feeds_telegram_recovery_follows_the_next_chat_of_a_full_export(tmp_path) -> None:
    feed = _broken_before_a_second_chat(tmp_path, "Aibek Nurlanov", "personal_chat", 4242)
    rows = _rows(feed)
    assert [(r.values or {}).get("id") for r in rows] == ["1", "2", None, "10", "11"]
    # a person's name stays out of the rejects file, which is not pseudonymised
    assert "another" in rows[2].error and "Aibek" not in rows[2].error
    assert rows[3].values["channel"] == "Aibek Nurlanov"
    assert rows[3].values["channel_id"] == "4242"
    assert rows[3].private == ("channel", "channel_id") and rows[0].private == ()
    assert any("personal chats" in n for n in feed.notes)


def test_feeds_telegram_recovery_names_a_public_chat_it_skipped_into(tmp_path) -> None:
    feed = _broken_before_a_second_chat(tmp_path, "Batken News", "public_channel", 77)
    assert "another ('Batken News')" in _rows(feed)[2].error


def test_feeds_telegram_cut_short_counts_the_lines_it_could_not_read(tmp_path) -> None:
    text = json.dumps(_telegram_export(_many(50)), ensure_ascii=False, indent=1)
    cut = text[: text.index('"text": "message 30"') + 12]
    path = tmp_path / "result.json"
    path.write_text(cut, encoding="utf-8")
    rows = _rows(open_feed(path))
    assert len(rows) == 30 and all(r.error is None for r in rows[:29])
    total = cut.count("\n") + 1
    last = rows[-1]
    assert last.lost_lines == total - last.line + 1
    assert f"({last.lost_lines} lines) unreadable" in last.error


def test_feeds_telegram_older_export_without_unix_time(tmp_path) -> None:
    messages = [{k: v for k, v in m.items() if k != "date_unixtime"} for m in _MESSAGES[:1]]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_telegram_export(messages)), encoding="utf-8")
    feed = open_feed(path)
    assert feed.mapping.time == "date"
    assert any("older export" in n for n in feed.notes)


def test_feeds_telegram_invalid_bytes_reject_only_their_message(tmp_path) -> None:
    text = json.dumps(_telegram_export(_MESSAGES[:1] + _MESSAGES[2:3]), ensure_ascii=False,
                      indent=1).encode()
    broken = text.replace("Кара ".encode(), "Кара ".encode("cp1251"))
    path = tmp_path / "result.json"
    path.write_bytes(broken)
    rows = _rows(open_feed(path))
    assert rows[0].error is None
    assert rows[1].values["id"] == "3" and "not valid UTF-8" in rows[1].error


def test_feeds_json_half_emoji_becomes_a_replacement_character(tmp_path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "c", "id": 1, "messages": [{"id": 1, "type": "message", '
                    '"from": "x\\ud83d", "text": ["a \\ud83d", {"type": "bold", '
                    '"text": "b"}]}]}', encoding="utf-8")
    row = _rows(open_feed(path))[0]
    assert row.error is None
    assert row.values["text"] == "a \ufffdb" and row.values["from"] == "x\ufffd"


def test_feeds_telegram_flatten_text() -> None:
    assert flatten_text("x") == "x"
    assert flatten_text(["a", {"type": "mention", "text": "@b"}]) == "a@b"
    assert flatten_text([{"type": "bold"}]) is None
    assert flatten_text(5) is None


# ---- format detection -----------------------------------------------------------------------


def test_feeds_format_follows_content_not_name(tmp_path) -> None:
    jsonl = tmp_path / "posts.csv"
    jsonl.write_text('{"text": "x"}\n', encoding="utf-8")
    assert detect_format(jsonl) == "jsonl"
    parquet = tmp_path / "posts.dat"
    _parquet(parquet)
    assert detect_format(parquet) == "parquet"
    array = tmp_path / "posts.json"
    array.write_text('[{"text": "x"}]', encoding="utf-8")
    with pytest.raises(FeedError, match="JSON array"):
        detect_format(array)
    other = tmp_path / "other.json"
    other.write_text('{\n "data": {"posts": []}\n}\n', encoding="utf-8")
    with pytest.raises(FeedError, match="neither JSONL"):
        detect_format(other)
    with pytest.raises(FeedError, match="not found"):
        open_feed(tmp_path / "missing.csv")
    with pytest.raises(FeedError, match="unknown input format"):
        open_feed(jsonl, format="xml")


def test_feeds_a_json_lines_file_with_a_broken_first_line_is_still_jsonl(tmp_path) -> None:
    # named .json, as exports often are: the broken first line costs that line only
    path = tmp_path / "posts.json"
    path.write_text('{"id": 1, "text": "cut short\n{"id": 2, "text": "good one"}\n'
                    '{"id": 3, "text": "good two"}\n', encoding="utf-8")
    assert detect_format(path) == "jsonl"
    feed = open_feed(path)
    assert [r.values["text"] for r in _good(feed)] == ["good one", "good two"]
    assert list(_bad(feed)) == [1]
    # a JSON document that is not JSONL is still refused, naming the flag that reads it anyway
    other = tmp_path / "other.json"
    other.write_text('{"data": [\n  {"text": "a"},\n  {"text": "b"}\n]}\n', encoding="utf-8")
    with pytest.raises(FeedError, match=r"neither JSONL.*--input-format"):
        detect_format(other)
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(FeedError, match="--input-format"):
        detect_format(fake)


def test_feeds_spreadsheets_and_archives_are_named_not_read(tmp_path) -> None:
    import zipfile

    book = tmp_path / "book.xlsx"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<x>Айбек Иванов</x>" * 50)
    renamed = tmp_path / "posts.csv"
    renamed.write_bytes(book.read_bytes())
    for path, format in ((book, None), (renamed, None), (renamed, "csv"), (book, "jsonl")):
        with pytest.raises(FeedError) as info:
            open_feed(path, format=format)
        message = str(info.value)
        assert "this is an Excel/spreadsheet file" in message
        assert "save it as CSV (UTF-8)" in message and "scan that" in message
        assert "PK" not in message and "Айбек" not in message and "\x00" not in message
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(FeedError, match=r"\(an old Excel workbook \(\.xls\).*save it as CSV"):
        open_feed(old)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("posts.csv", "text\nhello\n")
    with pytest.raises(FeedError, match="a ZIP archive, not a text export; unpack it"):
        open_feed(archive)


def test_feeds_chunks_bound_the_rows_held(tmp_path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("text\n" + "".join(f"post {i}\n" for i in range(25)), encoding="utf-8")
    sizes = [len(c) for c in open_feed(path).chunks(10)]
    assert sizes == [10, 10, 5]


# ---- dates -------------------------------------------------------------------------------------

_BISHKEK = ZoneInfo("Asia/Bishkek")


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-01T14:30:00+06:00", "2024-05-01T08:30:00"),
    ("2024-05-01T08:30:00Z", "2024-05-01T08:30:00"),
    ("2024-05-01 14:30", "2024-05-01T08:30:00"),          # no zone: WARNING_TIMEZONE
    ("2024-05-01", "2024-04-30T18:00:00"),
    ("2024/05/01 14:30", "2024-05-01T08:30:00"),
    ("01.05.2024 14:30", "2024-05-01T08:30:00"),
    ("1.5.2024", "2024-04-30T18:00:00"),
    ("01.05.2024 14:30:15", "2024-05-01T08:30:15"),
    ("1714552200", "2024-05-01T08:30:00"),
    ("1714552200000", "2024-05-01T08:30:00"),            # milliseconds
    (1714552200, "2024-05-01T08:30:00"),
    ("2024-05-01 03:30:00 EST", "2024-05-01T08:30:00"),  # CrowdTangle
    ("Wed May 01 08:30:00 +0000 2024", "2024-05-01T08:30:00"),
    (datetime(2024, 5, 1, 14, 30), "2024-05-01T08:30:00"),
])
def test_feeds_parse_time_formats(value, expected) -> None:
    moment = parse_time(value, _BISHKEK)
    assert moment is not None and moment.tzinfo is not None
    assert moment.astimezone(UTC).replace(tzinfo=None).isoformat() == expected


@pytest.mark.parametrize("value", ["", None, "yesterday", "05/01/2024", "32.13.2024", "12",
                                   float("nan"), True])
def test_feeds_parse_time_refuses_what_it_cannot_read(value) -> None:
    assert parse_time(value, UTC) is None


def test_feeds_parse_time_with_a_format() -> None:
    moment = parse_time("05/01/2024 14:30", UTC, "%m/%d/%Y %H:%M")
    assert moment == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)
    assert parse_time("garbage", UTC, "%m/%d/%Y") is None


@pytest.mark.parametrize("kind", ["csv", "jsonl", "telegram"])
def test_feeds_stream_without_reading_the_whole_file(tmp_path, kind) -> None:
    n = 20_000
    if kind == "csv":
        path = tmp_path / "big.csv"
        path.write_text("id,text\n" + "".join(f"{i},post number {i}\n" for i in range(n)),
                        encoding="utf-8")
    elif kind == "jsonl":
        path = tmp_path / "big.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": f"post {i}"}) + "\n"
                                for i in range(n)), encoding="utf-8")
    else:
        path = tmp_path / "result.json"
        messages = [{**_MESSAGES[0], "id": i} for i in range(n)]
        path.write_text(json.dumps(_telegram_export(messages), indent=1), encoding="utf-8")
    feed = open_feed(path)
    chunks = feed.chunks(100)
    first = next(chunks)
    done, total = feed.position()
    assert len(first) == 100 and 0 < done < total / 10
    assert sum(len(c) for c in chunks) == n - 100
    assert feed.position() == (total, total)
