"""JSON Lines feeds: one JSON object per line, read line by line.

The columns are the top-level keys of all objects, in the order first seen (one quick pass
before the scan collects them, so a key that appears only late in the file is kept too). Nested
values are kept as JSON text in their column. A line that is not JSON, not an object, not valid
in the file's encoding, longer than :data:`MAX_LINE` characters, nested deeper than 64 levels or
holding an integer of over 4,300 digits is returned with its reason; blank lines are skipped.

**Columns are limited.** Every column is written for every row, so one line with thousands of
keys made every row thousands of cells wide. A line with more than :data:`MAX_FIELDS` (256)
fields (a scraper's dump of a dictionary, say) is still read and scored, but adds no columns:
only its fields under the file's columns are kept. Keys first seen once the file has 256
columns are left out of the output. Keys named by a column flag (``--text-col`` and the others)
are always kept, as are those a caller reads (``ColumnOverrides.keep``: the label columns of a
researcher's file). When every line has more than 256 fields, the first 256 keys of the first line
are the columns. The notes (printed, and kept in the scan's summary) say which lines and how
many fields were left out.

Example:
    >>> feed = JsonlFeed("posts.jsonl")         # doctest: +SKIP
    >>> next(feed.rows()).values                 # doctest: +SKIP
    {'id': '1', 'text': 'Салам', 'date': '2024-05-01'}
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import regex

from warning.safe_io import JsonNumberTooLong, JsonTooDeep, json_loads, json_problem
from warning.scanning.feeds.base import Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, pick_columns, show_names
from warning.scanning.feeds.encoding import (
    bad_bytes,
    detect_encoding,
    fix_surrogates,
    open_text,
    read_sample,
)

__all__ = ["MAX_FIELDS", "MAX_LINE", "JsonlFeed"]

#: Longest line read (characters); a longer line is rejected and skipped.
MAX_LINE = 1 << 22
#: Most fields of a line that become columns, and most columns of a file (see the docstring).
MAX_FIELDS = 256
#: Lines over :data:`MAX_FIELDS` named in the notes.
_SHOWN = 5


class JsonlFeed(Feed):
    """A JSONL file (see the module docstring).

    Raises:
        FeedError: The file is empty or holds no JSON object, or no text column can be decided.
    """

    format = "jsonl"

    def __init__(self, path: Path | str, overrides: ColumnOverrides | None = None,
                 encoding: str | None = None) -> None:
        super().__init__(Path(path))
        sample = read_sample(self.path)
        if not sample.strip():
            raise FeedError(f"{self.path}: the file is empty")
        self.encoding, note = (encoding, f"{encoding} (as given)") if encoding else \
            detect_encoding(sample)
        self.notes.append(f"encoding: {note}")
        self.columns = self._collect_columns(overrides)
        self.mapping, picked = pick_columns(self.columns, overrides, str(self.path))
        self.notes.extend(picked)

    def _collect_columns(self, overrides: ColumnOverrides | None) -> list[str]:
        """The columns (one pass over the file; see the module docstring), with notes on the
        fields left out."""
        named = list(dict.fromkeys(filter(None, [
            overrides.text, overrides.time, overrides.id, overrides.channel,
            *(overrides.authors or []), *(overrides.keep or [])]))) if overrides else []
        keys: dict[str, None] = {}
        wide: list[tuple[int, int]] = []  # (line, fields) of the first lines over the limit
        first_wide: list[str] = []  # the first 256 keys of the first of them
        wide_lines = narrow_lines = left_out = left_lines = 0
        examples: dict[str, None] = {}
        for row in self._records():
            if row.values is None:
                continue
            if len(row.values) > MAX_FIELDS:  # adds no columns, but those named by a flag
                wide_lines += 1
                if len(wide) < _SHOWN:
                    wide.append((row.line, len(row.values)))
                if not first_wide:
                    first_wide = list(itertools.islice(row.values, MAX_FIELDS))
                keys.update(dict.fromkeys(k for k in named if k in row.values))
                continue
            narrow_lines += 1
            if not row.values.keys() - keys.keys():  # the usual line: nothing new
                continue
            dropped = 0
            for key in row.values:
                if key in keys:
                    continue
                if len(keys) < MAX_FIELDS or key in named:
                    keys[key] = None
                else:
                    dropped += 1
                    if len(examples) < _SHOWN:
                        examples[key] = None
            left_out, left_lines = left_out + dropped, left_lines + bool(dropped)
        if not narrow_lines and first_wide:  # every object is that wide
            keys = {**dict.fromkeys(first_wide), **keys}
            self.notes.append(f"columns: every line has more than {MAX_FIELDS} fields: the "
                              f"columns are the first {MAX_FIELDS} keys of line {wide[0][0]}; "
                              f"the other fields are left out of the output (a CSV or Parquet "
                              f"file keeps all its columns)")
        elif wide_lines:
            shown = ", ".join(f"line {line} ({n:,} fields)" for line, n in wide) + \
                (f" and {wide_lines - len(wide):,} more" if wide_lines > len(wide) else "")
            self.notes.append(f"columns: {wide_lines:,} line(s) with more than {MAX_FIELDS} "
                              f"fields: {shown}; they are read and scored, but add no "
                              f"columns: their fields under other keys are left out of the "
                              f"output")
        if left_out:
            self.notes.append(f"columns: the lines hold more than {MAX_FIELDS} different keys: "
                              f"the first {MAX_FIELDS} are the columns, and {left_out:,} "
                              f"field(s) under other keys in {left_lines:,} line(s) are "
                              f"left out of the output (first: {show_names(list(examples))})")
        if not keys:
            raise FeedError(f"{self.path}: no line holds a JSON object; is it JSONL?")
        return list(keys)

    def _lines(self, handle: io.TextIOWrapper) -> Iterator[tuple[int, str, bool]]:
        """(line number, line, whether it is over :data:`MAX_LINE`: then only its first
        :data:`MAX_LINE` characters), never holding more."""
        lineno = 0
        while True:
            line = handle.readline(MAX_LINE)
            if not line:
                return
            lineno += 1
            if len(line) >= MAX_LINE and not line.endswith("\n"):
                while True:  # skip the rest of the over-long line
                    rest = handle.readline(MAX_LINE)
                    if not rest or rest.endswith("\n"):
                        break
                yield lineno, line, True
                continue
            yield lineno, line, False

    def _records(self) -> Iterator[FeedRow]:
        try:
            handle = open_text(self.path, self.encoding)
        except LookupError:
            raise FeedError(f"{self.path}: unknown encoding {self.encoding!r}") from None
        with handle:
            self._handle = handle
            for lineno, line, over in self._lines(handle):
                if over:  # its id is read from its start
                    yield FeedRow(lineno, None, f"line over {MAX_LINE:,} characters",
                                  id=self._intact_id(line))
                    continue
                if lineno == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    continue
                bad = bad_bytes(line)
                if bad:
                    yield FeedRow(lineno, None, f"not valid {self.encoding} ({bad})",
                                  id=self._intact_id(line))
                    continue
                try:
                    record = json_loads(line)
                except JsonTooDeep as exc:
                    yield FeedRow(lineno, None, f"not valid JSON here ({exc.msg})",
                                  id=self._intact_id(line))
                    continue
                except JsonNumberTooLong as exc:  # valid JSON, but no Python int holds it
                    where = json_problem(exc.msg, f"column {exc.colno}")
                    yield FeedRow(lineno, None, f"not valid JSON here ({where})",
                                  id=self._intact_id(line))
                    continue
                except json.JSONDecodeError as exc:
                    where = json_problem(exc.msg, f"column {exc.colno}")
                    yield FeedRow(lineno, None, f"not valid JSON ({where})",
                                  id=self._intact_id(line))
                    continue
                if not isinstance(record, dict):
                    yield FeedRow(lineno, None, f"a JSON {type(record).__name__}, not an "
                                                f"object")
                    continue
                yield FeedRow(lineno, {str(k): v for k, v in fix_surrogates(record).items()})
        self._handle = None

    def _intact_id(self, line: str) -> str | None:
        """The id of a line that is not valid JSON, when its id member can still be read
        (the first ``"ID": "..."`` or ``"ID": 123`` in the line, up to 100 characters)."""
        name = self.mapping.id
        if not name:
            return None
        match = regex.search(r'"' + regex.escape(json.dumps(name, ensure_ascii=False)[1:-1]) +
                             r'"\s*:\s*("(?:[^"\\\n]|\\.){0,100}"|-?\d{1,30})(?=\s*[,}])', line)
        if match is None:
            return None
        try:
            value = json.loads(match.group(1))
        except json.JSONDecodeError:
            return None
        value = str(value).strip()
        return value if value and not bad_bytes(value) else None

    def rows(self) -> Iterator[FeedRow]:
        self._finished = False
        for row in self._records():
            if row.values is not None:
                row.values = {name: _cell(row.values.get(name), name == self.mapping.text)
                              for name in self.columns}
            yield row
        self._finished = True


def _cell(value: Any, keep: bool) -> Any:
    """A field as text (JSON for numbers, lists and objects); the text field is kept as it is,
    so that a text that is not a string can be rejected as such."""
    if keep or value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
