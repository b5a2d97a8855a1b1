"""CSV and TSV feeds: encoding and delimiter detected, read row by row with line numbers.

The standard library's csv module streams the file (memory holds one record) and tells where
each record ends, so every rejected row carries the line it starts on, also when quoted fields
span lines. The delimiter is the one of ``, ; TAB |`` that splits the first 50 records into the
same number of fields (more than one) most consistently; Excel's ``sep=;`` first line is obeyed.
A record with another number of fields than the header, undecodable bytes, or broken quoting
is returned with its reason, and reading goes on with the next record.

Example:
    >>> feed = CsvFeed("posts.csv")            # doctest: +SKIP
    >>> feed.notes                              # doctest: +SKIP
    ['encoding: UTF-8', 'delimiter: ;', 'text column: message (detected)', ...]
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from .base import ColumnMap, Feed, FeedError, FeedRow
from .columns import ColumnOverrides, pick_columns
from .crowdtangle import crowdtangle_mapping, is_crowdtangle
from .encoding import bad_bytes, detect_encoding, open_text, read_sample

__all__ = ["DELIMITERS", "FIELD_LIMIT", "CsvFeed", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
#: Longest field read (characters); a longer one, usually an unclosed quote, is a rejected row.
FIELD_LIMIT = 1 << 22
_SNIFF_RECORDS = 50
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def sniff_delimiter(sample: str) -> str | None:
    """The delimiter that splits the records of ``sample`` most consistently, or None when
    none splits the header into more than one field.

    Example:
        >>> sniff_delimiter("id;text\\n1;привет, мир\\n2;ok\\n")
        ';'
    """
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside a record
    body = "".join(lines)
    best: tuple[float, int, int] | None = None
    choice = None
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            records = [r for r in csv.reader(io.StringIO(body), delimiter=delimiter) if r]
        except csv.Error:
            continue
        records = records[:_SNIFF_RECORDS]
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistency = sum(len(r) == width for r in records) / len(records)
        key = (consistency, width, -rank)
        if best is None or key > best:
            best, choice = key, delimiter
    return choice


class CsvFeed(Feed):
    """A CSV (or TSV) file with a header row.

    Args:
        path: The file.
        overrides: Columns named by the user.
        encoding: A codec name, or None to detect.
        delimiter: One character, or None to detect.
        presets: Recognise known export layouts (CrowdTangle) by their header.

    Raises:
        FeedError: The file is empty, has no header, or no text column can be decided.
    """

    format = "csv"

    def __init__(self, path: Path | str, overrides: ColumnOverrides | None = None,
                 encoding: str | None = None, delimiter: str | None = None,
                 presets: bool = True) -> None:
        super().__init__(Path(path))
        self._presets = presets
        sample = read_sample(self.path)
        if not sample.strip():
            raise FeedError(f"{self.path}: the file is empty")
        if encoding:
            self.encoding, note = encoding, f"{encoding} (as given)"
        else:
            self.encoding, note = detect_encoding(sample)
        try:
            text_sample = sample.decode(self.encoding, errors="replace")
        except LookupError:
            raise FeedError(f"{self.path}: unknown encoding {self.encoding!r} (try utf-8, "
                            f"cp1251 or utf-16)") from None
        self.notes.append(f"encoding: {note}")
        self._skip_sep_line = False
        first = text_sample.lstrip("\ufeff").split("\n", 1)[0].strip()
        if delimiter is None and first.lower().startswith("sep=") and len(first) == 5:
            delimiter, self._skip_sep_line = first[4], True
            self.notes.append(f"delimiter: {_NAMES.get(delimiter, delimiter)} (from the "
                              f"file's sep= line)")
        elif delimiter is None:
            delimiter = sniff_delimiter(text_sample.lstrip("\ufeff")) or ","
            self.notes.append(f"delimiter: {_NAMES.get(delimiter, delimiter)} (detected)")
        elif len(delimiter) != 1:
            raise FeedError(f"--delimiter must be one character, got {delimiter!r}")
        self.delimiter = delimiter
        header, self._header_line = self._read_header()
        self.columns = _unique_names(header)
        if self.columns != header:
            self.notes.append("duplicate or empty column names were renamed: "
                              + ", ".join(self.columns))
        self.mapping, picked = pick_columns(self.columns, overrides, str(self.path),
                                            preset=self._preset())
        self.notes.extend(picked)

    def _preset(self) -> ColumnMap | None:
        """The mapping a known export layout implies (see ``crowdtangle.py``), or None."""
        if not self._presets or not is_crowdtangle(self.columns):
            return None
        self.format = "crowdtangle"
        mapping = crowdtangle_mapping(self.columns)
        self.notes.append(f"CrowdTangle-style export: {mapping.describe()}")
        return mapping

    def _reader(self, handle: io.TextIOWrapper):
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        return csv.reader(handle, delimiter=self.delimiter, strict=True)

    def _open(self) -> io.TextIOWrapper:
        try:
            return open_text(self.path, self.encoding)
        except LookupError:
            raise FeedError(f"{self.path}: unknown encoding {self.encoding!r}") from None

    def _read_header(self) -> tuple[list[str], int]:
        with self._open() as handle:
            reader = self._reader(handle)
            try:
                for record in reader:
                    if self._skip_sep_line and reader.line_num == 1:
                        continue
                    if record and any(field.strip() for field in record):
                        record[0] = record[0].lstrip("\ufeff")
                        bad = next((b for b in map(bad_bytes, record) if b), None)
                        if bad:
                            raise FeedError(f"{self.path}: the header row is not valid "
                                            f"{self.encoding} (bytes {bad}); pass --encoding")
                        return [f.strip() for f in record], reader.line_num
            except csv.Error as exc:
                raise FeedError(f"{self.path}: cannot read the header row as CSV ({exc}); "
                                f"pass --delimiter or check the file") from None
        raise FeedError(f"{self.path}: no header row found (the file holds only blank lines)")

    def rows(self) -> Iterator[FeedRow]:
        width = len(self.columns)
        self._finished = False
        with self._open() as handle:
            self._handle = handle
            reader = self._reader(handle)
            last = 0
            while True:
                start = last + 1
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    span = (f" (lines {start}-{reader.line_num})"
                            if reader.line_num > start else "")
                    yield FeedRow(start, None, f"not readable as CSV: {exc}{span}")
                    last = reader.line_num
                    continue
                last = reader.line_num
                if last <= self._header_line:
                    continue
                if not record:
                    continue  # a blank line is not a record
                bad = next((b for b in map(bad_bytes, record) if b), None)
                if bad:
                    yield FeedRow(start, None, f"not valid {self.encoding} (bytes {bad})")
                elif len(record) != width:
                    yield FeedRow(start, None, f"has {len(record)} fields, the header has "
                                               f"{width} (an unquoted delimiter or a cut row?)")
                else:
                    yield FeedRow(start, dict(zip(self.columns, record, strict=True)))
        self._handle, self._finished = None, True


def _unique_names(header: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        base = name or f"column_{i}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        out.append(candidate)
    return out
