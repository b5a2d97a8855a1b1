"""CSV and TSV feeds: encoding and delimiter detected, read row by row with line numbers.

The file is read line by line (memory holds one record) and the standard library's csv module
parses the records, so every row carries the line it starts on, also when quoted fields span
lines. The delimiter is the one of ``, ; TAB |`` that splits the first 50 records into the
same number of fields (more than one) most consistently; Excel's ``sep=;`` first line is obeyed.
A file whose header has a single field and no delimiter is read one line per record (a
comma in a post is then part of the post).

**Broken rows.** A record with another number of fields than the header, or undecodable bytes,
is returned with its reason, and reading goes on with the next record. A record whose quoting
is broken (a stray ``"`` that opens a field never closed properly, which would otherwise swallow
every line up to the next quote or the end of the file) is rejected on its *first line* alone,
and reading starts again on the line after it: one stray quote costs one row, and its later
lines are read as rows of their own. A record that spans lines and comes out with the wrong
number of fields is treated the same way. The exception is a field longer than
:data:`FIELD_LIMIT`: when its record, read to its end, is well formed, the whole record
(every line of it) is one rejected row, so the lines inside a very long quoted text never
become posts of their own.

**Joined exports.** A row equal to the header (``cat a.csv b.csv``) is rejected as a
``repeated header``. A repeated header with the same names in another order is rejected too,
and the rows after it are read in its order, so that each value still lands in its column.

Example:
    >>> feed = CsvFeed("posts.csv")            # doctest: +SKIP
    >>> feed.notes                              # doctest: +SKIP
    ['encoding: UTF-8', 'delimiter: ;', 'text column: message (detected)', ...]
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from warning.scanning.feeds.base import ColumnMap, Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, normalise_name, pick_columns, show_names
from warning.scanning.feeds.crowdtangle import crowdtangle_mapping, is_crowdtangle
from warning.scanning.feeds.encoding import bad_bytes, detect_encoding, open_text, read_sample

__all__ = ["DELIMITERS", "FIELD_LIMIT", "CsvFeed", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t", "|")
#: Longest field read (characters); a longer one, usually an unclosed quote, is a rejected row.
FIELD_LIMIT = 1 << 22
_SNIFF_RECORDS = 50
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: The csv module's delimiter for a one-column file: a control character texts do not hold.
_NO_DELIMITER = "\x1f"
#: Characters of one record kept to read its lines again after a parse error; a longer record
#: is read again from the file instead.
_KEEP_CHARS = 1 << 23


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
        # newline="": lines may end in CR alone (old Mac exports), as the file is read
        reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
        records: list[list[str]] = []
        while len(records) < _SNIFF_RECORDS:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error:  # a field over the limit: judge by the other records
                continue
            if record:
                records.append(record)
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
            delimiter = sniff_delimiter(text_sample.lstrip("\ufeff"))
            if delimiter is None:
                delimiter = _NO_DELIMITER
                self.notes.append("delimiter: none (the header has a single column: each line "
                                  "is one field, commas included)")
            else:
                self.notes.append(f"delimiter: {_NAMES.get(delimiter, delimiter)} (detected)")
        elif len(delimiter) != 1:
            raise FeedError(f"--delimiter must be one character, got {delimiter!r}")
        else:
            self.notes.append(f"delimiter: {_NAMES.get(delimiter, delimiter)} (as given)")
        self.delimiter = delimiter
        header, self._header_line = self._read_header()
        self._header = header
        self._header_norm = [normalise_name(h) for h in header]
        self._header_keys = {h.strip().lower() for h in header} | set(self._header_norm)
        self.columns = _unique_names(header)
        if self.columns != header:
            self.notes.append("duplicate or empty column names were renamed: "
                              + show_names(self.columns))
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

    def _reader(self, handle: Iterable[str]):
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
                                            f"{self.encoding} ({bad}); pass --encoding")
                        return [f.strip() for f in record], reader.line_num
            except csv.Error as exc:
                raise FeedError(f"{self.path}: cannot read the header row as CSV ({exc}); "
                                f"pass --delimiter or check the file") from None
        raise FeedError(f"{self.path}: no header row found (the file holds only blank lines)")

    @property
    def single_column(self) -> bool:
        """True when each line is read as one field (a one-column file, no delimiter)."""
        return self.delimiter == _NO_DELIMITER

    def rows(self) -> Iterator[FeedRow]:
        width = len(self.columns)
        self._finished = False
        lines = _Lines(self)
        self._order: list[int] | None = None  # after a reordered repeated header
        try:
            lines.skip_to(self._header_line + 1)
            reader = self._reader(lines)
            while True:
                lines.begin()
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield from self._broken(lines, str(exc))
                    continue
                start, end = lines.first, lines.last
                if not record:
                    continue  # a blank line is not a record
                if len(record) != width and end > start and not self.single_column:
                    # a quote opened on the first line made several lines one record
                    yield from self._broken(lines, f"{len(record)} fields where the header "
                                                   f"has {width}")
                    continue
                yield self._row(start, record, width)
        finally:
            lines.close()
            self._handle = None
        self._finished = True

    def _row(self, start: int, record: list[str], width: int) -> FeedRow:
        bad = next((b for b in map(bad_bytes, record) if b), None)
        if bad:
            return FeedRow(start, None, f"not valid {self.encoding} ({bad})",
                           id=self._intact_id(record, width))
        if len(record) != width:
            if self.single_column:
                record = [_NO_DELIMITER.join(record)]
            else:
                return FeedRow(start, None, self._width_error(record, width),
                               id=self._intact_id(record, width))
        again = self._header_again(start, record, width)
        if again is not None:
            return again
        if self._order is not None:
            record = [record[i] for i in self._order]
        return FeedRow(start, dict(zip(self.columns, record, strict=True)))

    def _header_again(self, start: int, record: list[str], width: int) -> FeedRow | None:
        """A rejected row when ``record`` repeats the header (in its order or another)."""
        if width > 1 and record[0].strip().lower() not in self._header_keys:
            return None  # the usual case, decided without normalising every field
        names = [normalise_name(f) for f in record]
        if names == self._header_norm and (width > 1 or record == self._header):
            return FeedRow(start, None, "a repeated header row (files joined together?)",
                           reason="repeated header")
        if width > 1 and sorted(names) == sorted(self._header_norm):
            slots: dict[str, deque[int]] = {}
            for i, name in enumerate(names):
                slots.setdefault(name, deque()).append(i)
            self._order = [slots[name].popleft() for name in self._header_norm]
            return FeedRow(start, None, "a repeated header row with the columns in another "
                                        "order (files joined together?): the rows after it "
                                        "are read in that order", reason="repeated header")
        return None

    def _intact_id(self, record: list[str], width: int) -> str | None:
        """The id of a broken record, when its field can be told apart from the break: a
        record with the header's width (bad bytes elsewhere), or the id column before the text
        column (where a stray delimiter or quote usually is), or after it when the record has
        too many fields (counted from the end). None otherwise, and for a field that does not
        look like an id (over 100 characters, or undecodable)."""
        if not self.mapping.id or self.mapping.id not in self.columns:
            return None
        place = self.columns.index(self.mapping.id)
        text = self.columns.index(self.mapping.text) if self.mapping.text in self.columns \
            else None
        if self._order is not None:  # after a reordered repeated header
            place = self._order[place]
            text = self._order[text] if text is not None else None
        if len(record) == width:
            value = record[place]
        elif text is not None and place < text and place < len(record):
            value = record[place]
        elif text is not None and place > text and len(record) > width:
            value = record[len(record) - (width - place)]
        else:
            return None
        if not value.strip() or len(value) > 100 or bad_bytes(value):
            return None
        return value

    def _width_error(self, record: list[str], width: int) -> str:
        known = sum(normalise_name(f) in self._header_norm for f in record if f.strip())
        if known >= 2:
            return (f"has {len(record)} fields, the header has {width}; it looks like another "
                    f"header with other columns (files joined together?): scan each file "
                    f"on its own")
        return (f"has {len(record)} fields, the header has {width} (an unquoted delimiter or "
                f"a cut row?)")

    def _broken(self, lines: _Lines, problem: str) -> Iterator[FeedRow]:
        """A record that could not be parsed (see the module docstring): its first line is
        rejected (or, in a one-column file, read as it is) and reading starts again on the
        next line; a record with a field over the limit that is well formed to its end is
        rejected whole."""
        start, end, first_line = lines.first, lines.last, lines.first_text
        if start is None:
            return
        if "field larger than field limit" in problem:
            last = lines.measure(start, len(self.columns))
            if last is not None:
                span = f"lines {start}-{last}" if last > start else f"line {start}"
                yield FeedRow(start, None, f"a field over {FIELD_LIMIT:,} characters ({span}: "
                                           f"the whole record is left out)",
                              id=self._id_before_quote(first_line))
                return
        lines.rewind(start + 1)
        if self.single_column and first_line is not None:
            yield self._row(start, [first_line.rstrip("\r\n")], 1)
            return
        span = f"; lines {start}-{end} were read as one record" if end > start else ""
        yield FeedRow(start, None, f"not readable as CSV: {problem}{span} (a stray quote?); "
                                   f"only this line is left out, reading goes on at line "
                                   f"{start + 1}", id=self._id_before_quote(first_line))


    def _id_before_quote(self, line: str | None) -> str | None:
        """The id of a record whose quoting is broken, from the fields of its first line
        before the first one holding a quote (those are intact)."""
        if line is None or self._order is not None:
            return None
        fields = line.rstrip("\r\n").split(self.delimiter)
        intact = next((i for i, f in enumerate(fields) if '"' in f), len(fields))
        width = len(self.columns)
        return self._intact_id(fields[:min(intact, width)], width) if intact else None


class _Lines:
    """The physical lines of a CSV file, numbered, for the csv module to parse. It remembers
    the lines of the record being parsed, so that after a parse error reading can start again
    on the line after the record's first line (:meth:`rewind`)."""

    def __init__(self, feed: CsvFeed) -> None:
        self._feed = feed
        self._handle = feed._open()
        feed._handle = self._handle
        self._number = 1  # the number of the next line read from the file
        self._again: deque[tuple[int, str]] = deque()
        self._kept: list[tuple[int, str]] = []
        self._chars = 0
        self.first: int | None = None
        self.first_text: str | None = None
        self.last = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            number, line = self._again.popleft()
        else:
            line = self._handle.readline()
            if not line:
                raise StopIteration
            number, self._number = self._number, self._number + 1
        if self.first is None:
            self.first, self.first_text = number, line
        self.last = number
        if self._chars <= _KEEP_CHARS:
            self._chars += len(line)
            self._kept.append((number, line))
        return line

    def begin(self) -> None:
        """A new record starts with the next line."""
        self.first = self.first_text = None
        self._kept, self._chars = [], 0

    def skip_to(self, number: int) -> None:
        """Make line ``number`` the next one read (reading the file again if need be)."""
        if self._again and self._again[0][0] <= number:
            while self._again and self._again[0][0] < number:
                self._again.popleft()
            if self._again:
                return
        if self._number > number:
            self._handle.close()
            self._handle = self._feed._open()
            self._feed._handle = self._handle
            self._number = 1
        self._again.clear()
        while self._number < number and self._handle.readline():
            self._number += 1

    def rewind(self, number: int) -> None:
        """Read again from line ``number``, a line of the record just parsed (or the one after
        it): from the lines kept, or from the file when the record was too long to keep."""
        if self._chars <= _KEEP_CHARS:
            self._again.extendleft(reversed([(n, line) for n, line in self._kept
                                             if n >= number]))
        else:
            self.skip_to(number)
        self.begin()

    def measure(self, start: int, width: int) -> int | None:
        """The last line of the record starting at line ``start`` (one of the lines just read)
        when it is well formed (quotes closed, ``width`` fields), its lines then consumed; None
        otherwise. The record is read as a stream: a field of any length costs no memory."""
        self.rewind(start)
        delimiter = self._feed.delimiter
        fields, state = 1, "start"  # start of a field, in a field, quoted, quote in quoted
        for line in self:
            body = line.rstrip("\r\n")
            pos, size = 0, len(body)
            while pos < size:
                if state == "quoted":
                    close = body.find('"', pos)
                    if close < 0:
                        pos = size
                    else:
                        state, pos = "quote", close + 1
                elif state == "quote":
                    if body[pos] == '"':
                        state = "quoted"  # a doubled quote inside the field
                    elif body[pos] == delimiter:
                        state, fields = "start", fields + 1
                    else:
                        return None  # text after a closing quote: broken quoting
                    pos += 1
                elif state == "start" and body[pos] == '"':
                    state, pos = "quoted", pos + 1
                else:
                    nxt = body.find(delimiter, pos)
                    if nxt < 0:
                        state, pos = "field", size
                    else:
                        state, fields, pos = "start", fields + 1, nxt + 1
            if state != "quoted":
                last = self.last
                self.begin()
                return last if fields == width else None
        return None  # the end of the file inside a quoted field

    def close(self) -> None:
        self._handle.close()


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
