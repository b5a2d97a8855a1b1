"""Which reader a file needs, decided from its first bytes (then its name), and opening it.

Content wins over the file name, because exports are often renamed. A spreadsheet
(``.xlsx``, ``.xls``, ``.ods``), a ZIP or gzip archive or a PDF is recognised by its first
bytes and refused with what to do (save as CSV, unpack), never read as text, also with
``--input-format``. ``PAR1`` is Parquet; a first line holding a whole JSON object is JSONL (so
is a file whose other lines mostly do, when its first line is broken); a JSON object that
mentions ``messages`` or ``chats`` near the start is a Telegram Desktop export; other text is
CSV (a CrowdTangle-style header is recognised by the CSV reader). ``--input-format``
overrides all of this.

Example:
    >>> feed = open_feed("export/result.json")   # doctest: +SKIP
    >>> feed.format                               # doctest: +SKIP
    'telegram'
"""

from __future__ import annotations

import json
from pathlib import Path

from warning.safe_io import input_file_problem, json_loads
from warning.scanning.feeds.base import Feed, FeedError
from warning.scanning.feeds.columns import ColumnOverrides
from warning.scanning.feeds.encoding import detect_encoding, read_sample
from warning.scanning.feeds.telegram import looks_like_telegram

__all__ = ["FORMATS", "binary_kind", "detect_format", "open_feed"]

FORMATS = ("csv", "crowdtangle", "jsonl", "parquet", "telegram")


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def binary_kind(sample: bytes) -> str | None:
    """What a file that is not text (nor Parquet) is, from its first bytes, in words; None
    for anything else.

    Example:
        >>> binary_kind(b"PK\\x03\\x04" + b"[Content_Types].xml xl/workbook.xml")
        'an Excel workbook (.xlsx)'
    """
    if sample.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"xl/" in sample:
            return "an Excel workbook (.xlsx)"
        if b"opendocument.spreadsheet" in sample:
            return "a LibreOffice/OpenOffice spreadsheet (.ods)"
        if b"word/" in sample or b"opendocument.text" in sample:
            return "a word-processor document (.docx or .odt)"
        return "a ZIP archive"
    if sample.startswith(_OLE):
        return "an old Excel workbook (.xls) or another Microsoft Office file"
    if sample.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file"
    if sample.startswith(b"%PDF"):
        return "a PDF document"
    return None


def _refuse_binary(path: Path, sample: bytes) -> None:
    kind = binary_kind(sample)
    if kind is None:
        return
    if "spreadsheet" in kind or "Excel" in kind:
        raise FeedError(f"{path}: this is an Excel/spreadsheet file ({kind}); save it as CSV "
                        f"(UTF-8) (File > Save As > CSV UTF-8) and scan that")
    what = "unpack it and scan the file inside" if "archive" in kind or "gzip" in kind else \
        "export the posts as CSV (UTF-8) or JSON Lines and scan that"
    raise FeedError(f"{path}: this is {kind}, not a text export; {what}")


def _mostly_json_objects(lines: list[str]) -> bool:
    """True when more than half of the non-blank ``lines`` hold a JSON object each (the lines
    of a JSONL file, not those of one JSON document written over many lines)."""
    lines = [line for line in lines if line.strip()]
    objects = 0
    for line in lines:
        try:
            objects += isinstance(json_loads(line), dict)
        except ValueError:  # not JSON, nested too deep, or an integer too long
            continue
    return objects * 2 > len(lines)


def detect_format(path: Path | str) -> str:
    """``csv``, ``jsonl``, ``parquet`` or ``telegram`` for the file at ``path``.

    Raises:
        FeedError: The file is missing, empty, or a JSON layout no reader knows.
    """
    path = Path(path)
    problem = input_file_problem(path)
    if problem:
        raise FeedError(problem)
    sample = read_sample(path)
    if not sample.strip():
        raise FeedError(f"{path}: the file is empty")
    _refuse_binary(path, sample)
    if sample.startswith(b"PAR1"):
        return "parquet"
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        raise FeedError(f"{path}: not a Parquet file (it does not start with PAR1); pass "
                        f"--input-format if it is CSV or JSONL")
    encoding, _ = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        first = text.split("\n", 1)[0].strip()
        try:
            record = json_loads(first)
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict) and ("messages" in record or "chats" in record):
            return "telegram"  # a Telegram export written on one line
        if isinstance(record, dict) or suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        if looks_like_telegram(sample):
            return "telegram"
        if _mostly_json_objects(text.split("\n")[1:-1]):  # the last line may be cut
            return "jsonl"  # its first line is broken: that line is rejected, not the file
        raise FeedError(f"{path}: a JSON file that is neither JSONL (one object per line) nor a "
                        f"Telegram Desktop export; convert it to JSONL or pass "
                        f"--input-format")
    if text.startswith("["):
        raise FeedError(f"{path}: a JSON array; convert it to JSONL (one object per line)")
    return "csv"


def open_feed(path: Path | str, format: str | None = None,
              columns: ColumnOverrides | None = None, encoding: str | None = None,
              delimiter: str | None = None) -> Feed:
    """The feed reader for ``path``; its ``notes`` say what was detected and picked.

    Args:
        path: The input file.
        format: One of :data:`FORMATS`, or None to detect.
        columns: Columns named by the user (``--text-col`` and the others).
        encoding: For CSV and JSONL: a codec name, or None to detect.
        delimiter: For CSV: one character, or None to detect.

    Raises:
        FeedError: The file cannot be read at all; the message names it and what to pass.
    """
    from warning.scanning.feeds.csv_reader import CsvFeed
    from warning.scanning.feeds.jsonl_reader import JsonlFeed
    from warning.scanning.feeds.parquet_reader import ParquetFeed
    from warning.scanning.feeds.telegram import TelegramFeed

    path = Path(path)
    if format is None:
        format = detect_format(path)
    elif format not in FORMATS:
        raise FeedError(f"unknown input format {format!r}; known: {', '.join(FORMATS)}")
    elif input_file_problem(path):
        raise FeedError(str(input_file_problem(path)))
    elif format != "parquet":
        _refuse_binary(path, read_sample(path, 4096))
    if format in ("csv", "crowdtangle"):
        feed: Feed = CsvFeed(path, columns, encoding=encoding, delimiter=delimiter,
                             presets=True)
        if format == "crowdtangle" and feed.format != "crowdtangle":
            raise FeedError(f"{path}: not a CrowdTangle-style export (no Page Name or Group "
                            f"Name, Post Created and Message columns)")
        if format == "csv" and feed.format == "crowdtangle":
            feed.notes.append("(read with the CrowdTangle column layout)")
        return feed
    if format == "jsonl":
        return JsonlFeed(path, columns, encoding=encoding)
    if format == "parquet":
        return ParquetFeed(path, columns)
    return TelegramFeed(path, columns)
