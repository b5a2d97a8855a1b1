"""Feed readers: CSV (encodings, delimiters, broken rows, CrowdTangle) and column detection."""

import codecs
from datetime import UTC, datetime

import pytest
from fixtures.feeds import bad as _bad
from fixtures.feeds import good as _good
from fixtures.feeds import rows as _rows

from warning.scanning.feeds import (
    ColumnMap,
    ColumnOverrides,
    FeedError,
    open_feed,
    parse_time,
)
from warning.scanning.feeds.columns import pick_columns
from warning.scanning.feeds.encoding import detect_encoding

# ---- CSV ---------------------------------------------------------------------------------------

_CSV = "id;message;date;author\n1;Салам, баарына;01.05.2024 14:30;aibek\n2;Өзбектер кетсин;" \
       "2024-05-02;nurlan\n"


@pytest.mark.parametrize(("encoding", "prefix", "expected"), [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", codecs.BOM_UTF8, "byte-order mark"),
    ("cp1251", b"", "Windows-1251"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16"),
])
def test_feeds_csv_reads_each_encoding_spreadsheets_write(tmp_path, encoding, prefix,
                                                          expected) -> None:
    path = tmp_path / "posts.csv"
    text = _CSV if encoding != "cp1251" else _CSV.replace("Өзбектер", "Узбеки")
    path.write_bytes(prefix + text.replace("\n", "\r\n").encode(encoding))
    feed = open_feed(path)
    assert feed.format == "csv"
    assert any(expected in note for note in feed.notes)
    rows = _good(feed)
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].values == {"id": "1", "message": "Салам, баарына", "date": "01.05.2024 14:30",
                              "author": "aibek"}
    assert feed.mapping.text == "message" and feed.mapping.time == "date"
    assert feed.mapping.id == "id" and feed.mapping.authors == ["author"]


def test_feeds_utf16_tab_export_without_bom(tmp_path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes("text\tdate\nПривет всем\t2024-05-01\nжакшы\t2024-05-02\n"
                     .encode("utf-16-le"))
    feed = open_feed(path)
    assert feed.delimiter == "\t"
    assert [r.values["text"] for r in _good(feed)] == ["Привет всем", "жакшы"]


@pytest.mark.parametrize(("body", "delimiter"), [
    ("a,text\n1,x\n2,y\n", ","),
    ("a;text\n1;x, y\n2;z\n", ";"),
    ("a\ttext\n1\tx;y\n", "\t"),
    ("a|text\n1|x\n", "|"),
    ("sep=;\na;text\n1;x,y\n", ";"),
])
def test_feeds_csv_delimiter_detected(tmp_path, body, delimiter) -> None:
    path = tmp_path / "f.csv"
    path.write_text(body, encoding="utf-8")
    feed = open_feed(path)
    assert feed.delimiter == delimiter
    assert _good(feed)[0].values["a"] == "1"


def test_feeds_csv_broken_rows_are_returned_with_line_and_reason(tmp_path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(
        b"id,text,date\n"
        b'1,"a post that spans\ntwo lines",2024-05-01\n'   # lines 2-3: fine
        b"2,too,many,fields\n"                           # line 4
        b"3,short\n"                                     # line 5
        b'4,"bad "quote" here",2024-05-01\n'             # line 6
        b"\n"                                            # line 7: blank, skipped
        + "5,Салам,2024-05-02\n".encode("cp1251")        # line 8: not UTF-8
        + "6,жакшы күн,2024-05-03\n".encode()            # line 9
        + b'7,"cut off in the middle'                    # line 10: truncated file
    )
    feed = open_feed(path)
    good = _good(feed)
    assert [(r.line, r.values["id"]) for r in good] == [(2, "1"), (9, "6")]
    assert good[0].values["text"] == "a post that spans\ntwo lines"
    bad = _bad(feed)
    assert set(bad) == {4, 5, 6, 8, 10}
    assert "has 4 fields, the header has 3" in bad[4]
    assert "has 2 fields" in bad[5]
    assert "not readable as CSV" in bad[6]
    assert "not valid utf-8" in bad[8]
    assert "not readable as CSV" in bad[10]


def test_feeds_csv_over_long_field_is_one_bad_row(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.feeds.csv_reader.FIELD_LIMIT", 1000)
    import csv

    old = csv.field_size_limit(1000)
    try:
        path = tmp_path / "long.csv"
        path.write_text("id,text\n1,ok\n2," + "x" * 5000 + "\n3,fine\n", encoding="utf-8")
        feed = open_feed(path)
        assert [r.values["id"] for r in _good(feed)] == ["1", "3"]
        assert "a field over 1,000 characters (line 3: the whole record" in _bad(feed)[3]
    finally:
        csv.field_size_limit(old)


def test_feeds_csv_over_long_field_keeps_the_rows_id(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.feeds.csv_reader.FIELD_LIMIT", 1000)
    import csv

    old = csv.field_size_limit(1000)
    try:
        path = tmp_path / "long.csv"
        path.write_text('id,text\n1,ok\n2,"' + "x,\n" * 2000 + '"\n3,' + "y" * 5000
                        + "\n4,fine\n", encoding="utf-8")
        rows = _rows(open_feed(path))
        assert [(r.line, r.id) for r in rows if r.error] == [(3, "2"), (2004, "3")]
        assert all("a field over 1,000 characters" in r.error for r in rows if r.error)
    finally:
        csv.field_size_limit(old)


def _numbered(ids, broken=None):
    """CSV lines ``id,post number id,01.05.2024 10:00`` for ``ids``; ``broken`` maps an id to
    the line written instead."""
    broken = broken or {}
    return "".join(broken.get(i, f"{i},post number {i},01.05.2024 10:00") + "\n" for i in ids)


def test_feeds_csv_a_stray_quote_costs_its_own_line_only(tmp_path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text("id,text,date\n" + _numbered(range(1, 301), {
        6: '6,"unclosed quote here,01.05.2024 10:00',      # line 7: never closed
        40: '40,"another stray,01.05.2024 10:00',           # line 41: closes at line 90
        89: '89,he said "hi" there,01.05.2024 10:00',       # a quote inside a field: fine
        150: '150,"a post ""quoted"" right,\nover two lines",01.05.2024 10:00',
    }), encoding="utf-8")
    feed = open_feed(path)
    good = _good(feed)
    assert [int(r.values["id"]) for r in good] == [i for i in range(1, 301) if i not in (6, 40)]
    by_id = {r.values["id"]: r for r in good}
    assert by_id["7"].line == 8 and by_id["89"].values["text"] == 'he said "hi" there'
    assert by_id["150"].values["text"] == 'a post "quoted" right,\nover two lines'
    assert by_id["151"].line == 153
    bad = _bad(feed)
    assert set(bad) == {7, 41}
    assert "not readable as CSV" in bad[7] and "reading goes on at line 8" in bad[7]
    assert "lines 41-" in bad[41]


def test_feeds_csv_a_huge_quoted_field_over_many_lines_is_one_rejected_record(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.feeds.csv_reader.FIELD_LIMIT", 1000)
    import csv

    old = csv.field_size_limit(1000)
    try:
        path = tmp_path / "huge.csv"
        path.write_text("id,text,date\n1,first post,01.05.2024 10:00\n2,\"" + "a,b,c\n" * 600
                        + '",01.05.2024 10:00\n3,third post,01.05.2024 10:00\n'
                        '4,fourth post,01.05.2024 10:00\n', encoding="utf-8")
        feed = open_feed(path)
        assert [(r.line, r.values["id"]) for r in _good(feed)] == [(2, "1"), (604, "3"),
                                                                    (605, "4")]
        bad = _bad(feed)
        assert list(bad) == [3]
        assert "a field over 1,000 characters (lines 3-603: the whole record" in bad[3]
        # the same field, never closed: only its first line is lost
        path.write_text("id,text,date\n1,first post,01.05.2024 10:00\n2,\"" + "a,b,c\n" * 600,
                        encoding="utf-8")
        rows = _rows(open_feed(path))
        assert rows[1].line == 3 and "not readable as CSV" in rows[1].error
        assert len(rows) == 601 and rows[2].values == {"id": "a", "text": "b", "date": "c"}
    finally:
        csv.field_size_limit(old)


def test_feeds_csv_one_column_file_keeps_lines_with_commas(tmp_path) -> None:
    path = tmp_path / "onecol.csv"
    path.write_text('text\nhello, world\nСалам, баарына; кандайсыңар\nok\n"quoted, with '
                    'comma"\n"Quote" he said, twice\n"not closed, and more\nlast, one\n',
                    encoding="utf-8")
    feed = open_feed(path)
    assert any("delimiter: none" in n and "single column" in n for n in feed.notes)
    assert not any("delimiter: comma" in n for n in feed.notes)
    rows = _rows(feed)
    assert all(r.error is None for r in rows)
    assert [(r.line, r.values["text"]) for r in rows] == [
        (2, "hello, world"), (3, "Салам, баарына; кандайсыңар"), (4, "ok"),
        (5, "quoted, with comma"), (6, '"Quote" he said, twice'),
        (7, '"not closed, and more'), (8, "last, one")]
    given = open_feed(path, delimiter=",")
    assert any("delimiter: comma (as given)" in n for n in given.notes)


def test_feeds_csv_joined_exports_repeated_headers(tmp_path) -> None:
    path = tmp_path / "joined.csv"
    path.write_text("id,text,author\n1,hello there,aibek\n"
                    "id,text,author\n2,second post,nurlan\n"
                    "id,author,text\n3,timur,you are all stupid idiots\n"
                    "4,dana,and the fourth\n", encoding="utf-8")
    feed = open_feed(path)
    rows = _rows(feed)
    good = [(r.line, r.values) for r in rows if r.error is None]
    assert good == [
        (2, {"id": "1", "text": "hello there", "author": "aibek"}),
        (4, {"id": "2", "text": "second post", "author": "nurlan"}),
        (6, {"id": "3", "text": "you are all stupid idiots", "author": "timur"}),
        (7, {"id": "4", "text": "and the fourth", "author": "dana"})]
    bad = {r.line: r for r in rows if r.error}
    assert set(bad) == {3, 5} and {r.reason for r in bad.values()} == {"repeated header"}
    assert "another order" in bad[5].error
    other = tmp_path / "other.csv"
    other.write_text("id,text,author\n1,a,b\nid,text,author,likes\n2,c,d,5\n",
                     encoding="utf-8")
    assert "another header with other columns" in _bad(open_feed(other))[3]


def test_feeds_mostly_utf8_file_keeps_utf8_and_rejects_the_odd_row(tmp_path) -> None:
    lines = [f"{i},Бүгүн Ошто жамгыр {i}\n".encode() for i in range(40)]
    lines.insert(3, "99,Привет из Windows\n".encode("cp1251"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,text\n" + b"".join(lines))
    feed = open_feed(path)
    assert feed.encoding == "utf-8"
    assert len(_good(feed)) == 40
    assert list(_bad(feed)) == [5]


def test_feeds_detect_encoding_on_samples() -> None:
    assert detect_encoding("Салам".encode())[0] == "utf-8"
    assert detect_encoding("Салам дос, как дела".encode("cp1251"))[0] == "cp1251"
    assert detect_encoding(codecs.BOM_UTF16_LE + "x".encode("utf-16-le"))[0] == "utf-16"
    assert detect_encoding(b"plain ascii")[0] == "utf-8"


def test_feeds_csv_header_only_gives_no_rows_and_empty_file_fails(tmp_path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("id,text\n", encoding="utf-8")
    assert _rows(open_feed(path)) == []
    empty = tmp_path / "e.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(FeedError, match="empty"):
        open_feed(empty)


def test_feeds_crowdtangle_export(tmp_path) -> None:
    path = tmp_path / "ct.csv"
    path.write_text(
        "Page Name,User Name,Facebook Id,Page Category,Post Created,Post Created Date,Type,"
        "Message,Link,URL,Description\n"
        "Ош Ньюс,oshnews,123,MEDIA,2024-05-01 14:30:00 EST,2024-05-01,Status,Бүгүн митинг,,"
        "https://facebook.com/1,\n"
        "Ош Ньюс,oshnews,123,MEDIA,2024-05-01 15:00:00 EST,2024-05-01,Photo,,,"
        "https://facebook.com/2,a photo\n", encoding="utf-8")
    feed = open_feed(path)
    assert feed.format == "crowdtangle"
    m = feed.mapping
    assert (m.text, m.time, m.id, m.channel) == ("Message", "Post Created", "URL", "Page Name")
    assert m.authors == ["User Name", "Facebook Id"]
    rows = _good(feed)
    assert parse_time(rows[0].values["Post Created"], UTC) == datetime(2024, 5, 1, 19, 30,
                                                                       tzinfo=UTC)
    assert rows[1].values["Message"] == ""  # a photo post: rejected as empty by the scan
    overridden = open_feed(path, columns=ColumnOverrides(text="Description"))
    assert overridden.mapping.text == "Description" and overridden.mapping.id == "URL"


def test_feeds_crowdtangle_saved_again_as_utf16_and_cut_short(tmp_path) -> None:
    text = ("Page Name\tPost Created\tMessage\tURL\n"
            "Кабар\t2024-05-01 14:30:00 EST\tБүгүн митинг\thttps://fb.com/1\n"
            "Кабар\t2024-05-01 15:00:00 EST\t\"Эртең да")
    path = tmp_path / "ct.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    feed = open_feed(path)
    assert feed.format == "crowdtangle" and feed.delimiter == "\t"
    assert [r.values["Message"] for r in _good(feed)] == ["Бүгүн митинг"]
    assert "not readable as CSV" in _bad(feed)[3]


def test_feeds_crowdtangle_format_refused_for_another_csv(tmp_path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("text\nx\n", encoding="utf-8")
    with pytest.raises(FeedError, match="not a CrowdTangle"):
        open_feed(path, format="crowdtangle")


# ---- columns -----------------------------------------------------------------------------------


def test_feeds_columns_ambiguous_text_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("id,text,message\n1,a,b\n", encoding="utf-8")
    with pytest.raises(FeedError) as info:
        open_feed(path)
    message = str(info.value)
    assert str(path) in message and "text, message" in message and "--text-col" in message
    feed = open_feed(path, columns=ColumnOverrides(text="message"))
    assert _good(feed)[0].values["message"] == "b"


def test_feeds_columns_no_text_column_and_unknown_flag(tmp_path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("id,likes\n1,2\n", encoding="utf-8")
    with pytest.raises(FeedError, match="no text column found among id, likes; pass --text-col"):
        open_feed(path)
    with pytest.raises(FeedError, match="--time-col 'when' is not a column"):
        open_feed(path, columns=ColumnOverrides(text="id", time="when"))


def test_feeds_columns_detection_says_what_it_picked() -> None:
    mapping, notes = pick_columns(["Post ID", "Created At", "Full Text", "Screen Name",
                                   "Channel", "Date"])
    assert mapping.text == "Full Text" and mapping.id == "Post ID"
    assert mapping.time == "Created At" and mapping.channel == "Channel"
    assert mapping.authors == ["Screen Name"]
    assert any("time column: Created At" in n and "also seen: Date" in n for n in notes)
    _, notes = pick_columns(["text"])
    assert any("no time column" in n for n in notes)


_AUTHOR_NAMES = ["Отправитель", "Никнейм", "Имя пользователя", "Автор поста", "Логин", "Профиль",
                 "Ссылка на профиль", "Username (@)", "author_handle", "from_name", "owner_id",
                 "signer_id", "user_screen_name", "fromUser", "userId", "posted_by",
                 "Автор сообщения", "ФИО", "Колдонуучу", "Колдонуучунун аты", "Аты-жөнү",
                 "Жөнөтүүчү", "Foydalanuvchi", "Foydalanuvchi nomi", "Muallif", "Yuboruvchi",
                 "Фойдаланувчи", "Пайдаланушы", "Пайдаланушы аты", "Жіберуші", "phone_number",
                 "Получатель"]
_NOT_AUTHOR_NAMES = ["from_date", "date_from", "channel_name", "chat", "page_name", "Имя канала",
                     "Название канала", "Kanal nomi", "file_name", "user_followers_count",
                     "Дата отправки", "likes", "reply_to_message_id", "media_type", "Тема",
                     "nominal", "Page Category", "Total Interactions"]


@pytest.mark.parametrize("name", _AUTHOR_NAMES)
def test_feeds_columns_author_names_in_many_forms_and_languages(name) -> None:
    mapping, notes = pick_columns(["id", "text", "date", "channel", name])
    assert mapping.authors == [name]
    assert any(n.startswith(f"author column(s): {name} (detected") for n in notes)


@pytest.mark.parametrize("name", _NOT_AUTHOR_NAMES)
def test_feeds_columns_time_channel_and_object_names_are_not_authors(name) -> None:
    mapping, notes = pick_columns(["id", "text", "date", "channel", name])
    assert mapping.authors == [] and mapping.text == "text"
    assert any(n.startswith("warning: no author column found") and "--author-col" in n
               for n in notes)


def test_feeds_columns_author_col_adds_to_the_detected_ones() -> None:
    columns = ["text", "author", "user_id", "Отправитель", "extra", "page_owner"]
    mapping, notes = pick_columns(columns, ColumnOverrides(authors=["extra"]))
    assert mapping.authors == ["author", "user_id", "Отправитель", "extra"]
    assert any("author column(s): author, user_id, Отправитель, extra (detected: author, "
               "user_id, Отправитель; named with --author-col: extra)" in n for n in notes)
    # a column whose name could mean a person but is qualified is named as kept in clear
    assert any(n.startswith("warning: kept in clear") and "page_owner" in n for n in notes)
    mapping, notes = pick_columns(columns, ColumnOverrides(authors=["Отправитель"],
                                                           not_authors=["user_id"]))
    assert mapping.authors == ["author", "Отправитель"]
    assert any("--not-author-col" in n and "user_id" in n and n.startswith("warning")
               for n in notes)
    with pytest.raises(FeedError, match="both to --author-col and to --not-author-col"):
        pick_columns(columns, ColumnOverrides(authors=["author"], not_authors=["author"]))
    with pytest.raises(FeedError, match="--author-col 'text' is the text column"):
        pick_columns(columns, ColumnOverrides(authors=["text"]))
    with pytest.raises(FeedError, match="--not-author-col 'nobody' is not a column"):
        pick_columns(columns, ColumnOverrides(not_authors=["nobody"]))
    # export presets keep their authors and gain the detected ones
    preset = pick_columns(["text", "from", "Sender Phone"], preset=ColumnMap(
        text="text", authors=["from"]))[0]
    assert preset.authors == ["from", "Sender Phone"]


def test_feeds_columns_a_headerless_file_is_named_without_quoting_its_data(tmp_path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("1,Айбек Иванов,Уйгуры паразиты их надо выгнать,01.05.2024 14:30\n"
                    "2,Нурлан,hello,02.05.2024 10:00\n", encoding="utf-8")
    with pytest.raises(FeedError) as info:
        open_feed(path)
    message = str(info.value)
    assert "the first row looks like data, not column names" in message
    assert "header row" in message and "--text-col" in message
    for value in ("Айбек", "паразиты", "01.05.2024", "Уйгуры"):
        assert value not in message
    # other messages cut and clean the names they list
    odd = tmp_path / "odd.csv"
    odd.write_text("likes,\"" + "x" * 80 + "\nmore\"\n1,2\n", encoding="utf-8")
    with pytest.raises(FeedError) as info:
        open_feed(odd, columns=ColumnOverrides(text="nothing"))
    message = str(info.value)
    assert "--text-col 'nothing' is not a column; its columns are: likes, xxx" in message
    assert "x" * 41 not in message and "\n" not in message and "more" not in message
