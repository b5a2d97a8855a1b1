"""Reading and writing files that hold what hostile feeds and clients send.

One place for the guards every reader and writer of the project uses:

- **CSV cells** (:func:`csv_escape`, :func:`csv_unescape`, :func:`csv_writer`): a cell that a
  spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) gets a leading apostrophe, and so does a cell that starts with an
  apostrophe, so that removing one leading apostrophe reads every cell back exactly. A plain
  number (``-42``, ``+1.5e3``) is no formula and is written as it is. Rows end in CRLF (RFC
  4180), so that a cell holding a bare carriage return or line feed is always quoted and a
  CSV reader never splits a post into two rows.
- **JSON** (:func:`json_loads`, :func:`json_decode_error`, :func:`json_line`): nesting
  deeper than :data:`MAX_JSON_DEPTH` is refused with :class:`JsonTooDeep`, and an integer
  longer than Python converts from text (4,300 digits) with :class:`JsonNumberTooLong` (both
  ``json.JSONDecodeError``), never a ``RecursionError`` or a bare ``ValueError`` that stops a
  whole scan; a JSON line written by the project keeps U+2028, U+2029 and U+0085 escaped, so
  that a reader splitting on every line break still sees one record per line.
- **Quoted names** (:func:`shown_name`, :func:`without_surrogates`): a name a client sent is
  quoted shortened, and with no lone surrogate, which no UTF-8 answer can hold.
- **Private files** (:func:`private_open`, :func:`private_dir`): files that hold posts are
  readable by their owner only, from their first byte.
- **Inputs** (:func:`input_file_problem`): a folder, a pipe or a device given as an input file
  is named as such, not reported as missing.

Example:
    >>> csv_escape("=HYPERLINK(\\"http://x\\")"), csv_escape("-5"), csv_unescape("'=1+1")
    ('\\'=HYPERLINK("http://x")', '-5', '=1+1')
    >>> json_loads('{"a": [1, 2]}')
    {'a': [1, 2]}
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "CSV_ESCAPED_STARTS",
    "MAX_JSON_DEPTH",
    "JsonNumberTooLong",
    "JsonTooDeep",
    "csv_escape",
    "csv_unescape",
    "csv_writer",
    "input_file_problem",
    "json_decode_error",
    "json_depth",
    "json_line",
    "json_loads",
    "json_problem",
    "private_dir",
    "private_open",
    "shown_name",
    "without_surrogates",
]

#: First characters that make a spreadsheet take a cell for a formula (OWASP's list), and the
#: apostrophe that guards them (escaped too, so that reading back is exact).
CSV_ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

#: Deepest JSON nesting read from a feed, a request body or a user's file. Real exports nest a
#: few levels (a Telegram message's text entities: 4); a parser's recursion fails near 1,000.
MAX_JSON_DEPTH = 64


def csv_escape(value: str) -> str:
    """A cell as written to CSV: a leading apostrophe when a spreadsheet would run it as a
    formula or when it starts with an apostrophe (see the module docstring).

    Example:
        >>> csv_escape("=1+1"), csv_escape("'quoted"), csv_escape("plain"), csv_escape("-0.5")
        ("'=1+1", "''quoted", 'plain', '-0.5')
    """
    if value.startswith(CSV_ESCAPED_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_unescape(value: str) -> str:
    """A cell as read back: one leading apostrophe removed (the inverse of
    :func:`csv_escape`).

    Example:
        >>> csv_unescape("''quoted"), csv_unescape("plain")
        ("'quoted", 'plain')
    """
    return value[1:] if value.startswith("'") else value


class _GuardedWriter:
    """``csv.writer`` whose string cells pass through :func:`csv_escape`."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_escape(v) if isinstance(v, str) else v
                                      for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str]) -> _GuardedWriter:
    """A CSV writer for every CSV file the project writes: string cells guarded by
    :func:`csv_escape`, rows ending in CRLF (so a cell with a bare CR or LF is quoted).
    Open ``handle`` with ``newline=""``.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> csv_writer(out).writerow(["a\\rb", "=1+1", 3])
        >>> out.getvalue()
        '"a\\rb",\\'=1+1,3\\r\\n'
    """
    return _GuardedWriter(handle)


class JsonTooDeep(json.JSONDecodeError):
    """JSON nested deeper than the limit (a ``json.JSONDecodeError``, so handlers of invalid
    JSON take it as one)."""

    def __init__(self, doc: str, max_depth: int) -> None:
        super().__init__(f"nested deeper than {max_depth} levels", doc, 0)
        self.max_depth = max_depth


def json_depth(value: Any) -> int:
    """How deep a decoded JSON value nests (a scalar: 0, ``[]``: 1), without recursion.

    Example:
        >>> json_depth({"a": [1, {"b": []}]})
        4
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Iterable[Any] = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in items if isinstance(child, dict | list))
    return deepest


def check_json_depth(value: Any, doc: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``value`` (decoded from ``doc``) when it nests at most ``max_depth`` levels.

    Raises:
        JsonTooDeep: It nests deeper.
    """
    brackets = doc.count("[") + doc.count("{")
    if brackets > max_depth and json_depth(value) > max_depth:
        raise JsonTooDeep(doc, max_depth)
    return value


class JsonNumberTooLong(json.JSONDecodeError):
    """An integer with more digits than Python converts from text
    (``sys.get_int_max_str_digits()``: 4,300 unless changed), a ``json.JSONDecodeError`` so that
    handlers of invalid JSON take it as one. ``pos`` is where the number starts."""

    def __init__(self, doc: str, pos: int, digits: int, limit: int) -> None:
        # ends in "starting at", as the decoder's "Unterminated string starting at": a place
        # follows (json_problem)
        super().__init__(f"a number too long: {digits:,} digits, over the limit of {limit:,}, "
                         f"starting at", doc, pos)
        self.digits = digits
        self.limit = limit


class _LongInteger(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(f"{len(token)} characters")
        self.token = token


#: A JSON string or number, whole (a string's digits and a fraction are no integer).
_STRING_OR_NUMBER = re.compile(r'"(?:[^"\\]++|\\.)*+"|-?[0-9]++(?:\.[0-9]++)?(?:[eE][-+]?[0-9]++)?')


def _checked_int(token: str) -> int:
    """``int(token)``, or :class:`_LongInteger` when ``int`` would refuse it for its length."""
    limit = sys.get_int_max_str_digits()
    if limit and len(token.lstrip("-")) > limit:
        raise _LongInteger(token)
    return int(token)


def json_decode_error(exc: ValueError, doc: str, start: int = 0) -> json.JSONDecodeError:
    """The ``json.JSONDecodeError`` for an error that decoding ``doc`` from ``start`` raised:
    ``exc`` itself when it is one; :class:`JsonNumberTooLong`, placed where the number starts,
    for the bare ``ValueError`` that ``int()`` raises for an integer of over 4,300 digits
    (found by decoding again, which only a failed decode costs).

    Example:
        >>> doc = '{"id": ' + "9" * 5000 + "}"
        >>> try:
        ...     json.loads(doc)
        ... except ValueError as exc:
        ...     error = json_decode_error(exc, doc)
        >>> json_problem(error.msg, f"column {error.colno}")
        'a number too long: 5,000 digits, over the limit of 4,300, starting at column 8'
    """
    if isinstance(exc, json.JSONDecodeError):
        return exc
    rest = doc[start:]
    start += len(rest) - len(rest.lstrip(" \t\n\r"))  # raw_decode skips no space before it
    try:
        json.JSONDecoder(parse_int=_checked_int).raw_decode(doc, start)
    except _LongInteger as long:
        found = next((m.start() for m in _STRING_OR_NUMBER.finditer(doc, start)
                      if m.group() == long.token), start)  # the number, not a string's digits
        return JsonNumberTooLong(doc, found, len(long.token.lstrip("-")),
                                 sys.get_int_max_str_digits())
    except (ValueError, RecursionError):
        pass
    return json.JSONDecodeError("a value that cannot be read", doc, start)


def json_loads(doc: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth`` and integers longer than
    Python converts, as ``json.JSONDecodeError``.

    Raises:
        json.JSONDecodeError: Invalid JSON, :class:`JsonTooDeep` or
            :class:`JsonNumberTooLong`.

    Example:
        >>> json_loads("[" * 100 + "]" * 100)
        Traceback (most recent call last):
        ...
        warning.safe_io.JsonTooDeep: nested deeper than 64 levels: line 1 column 1 (char 0)
        >>> try:
        ...     json_loads('[1, ' + "2" * 4301 + ']')
        ... except JsonNumberTooLong as exc:
        ...     print(exc.msg, exc.colno)
        a number too long: 4,301 digits, over the limit of 4,300, starting at 5
    """
    # bytes as json.loads reads them: UTF-8 (a byte-order mark skipped), or UTF-16/32
    text = doc.decode(json.detect_encoding(doc), errors="surrogateescape") \
        if isinstance(doc, bytes) else doc
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(text, max_depth) from None
    except ValueError as exc:  # a JSONDecodeError, or int()'s refusal of a long number
        raise json_decode_error(exc, text) from None
    return check_json_depth(value, text, max_depth)


def json_problem(msg: str, place: str) -> str:
    """A JSON decoder's message (``json.JSONDecodeError.msg``) with where it happened: some
    end in "at" ("Invalid control character at", "Unterminated string starting at"), and the
    place follows that "at" instead of a second one.

    Example:
        >>> json_problem("Invalid control character at", "column 9")
        'Invalid control character at column 9'
        >>> json_problem("Expecting value", "line 3")
        'Expecting value at line 3'
    """
    return f"{msg.removesuffix(' at')} at {place}"


#: The most characters of a name the client sent (a field, a label) that an error quotes.
MAX_SHOWN_CHARS = 60


def shown_name(name: object) -> str:
    """A name the client sent, as an error quotes it: at most :data:`MAX_SHOWN_CHARS`
    characters (it could be a whole post pasted in the wrong place), lone surrogates replaced
    (:func:`without_surrogates`).

    Example:
        >>> shown_name("hate")
        'hate'
        >>> len(shown_name("x" * 1000))
        63
    """
    text = without_surrogates(str(name))
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "..."


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate (JSON allows ``"\\ud800"``; no UTF-8 answer
    or file can hold one) replaced by U+FFFD, so that quoting it never fails to encode.

    Example:
        >>> without_surrogates("ok \\ud83d")
        'ok \\ufffd'
    """
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


#: line breaks json.dumps leaves raw with ensure_ascii=False, which str.splitlines() splits on
_LINE_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def json_line(value: Any, **options: Any) -> str:
    """``value`` as one line of JSON (no newline at the end): UTF-8 characters kept, and the
    line separators that ``json.dumps`` leaves raw escaped (valid JSON: they can only appear
    inside strings).

    Example:
        >>> json_line({"text": "a\\u2028b"})
        '{"text": "a\\\\u2028b"}'
    """
    encoded = json.dumps(value, ensure_ascii=False, **options)
    for raw, escaped in _LINE_SEPARATORS.items():
        if raw in encoded:
            encoded = encoded.replace(raw, escaped)
    return encoded


def private_open(path: Path | str, mode: str = "w", *, exclusive: bool = False,
                 **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing, readable and writable by its owner only (0600) from its
    first byte, also when it existed with other permissions.

    Args:
        path: The file.
        mode: ``"w"`` or ``"wb"`` (``"a"``/``"ab"`` append).
        exclusive: Refuse an existing file (``FileExistsError``) instead of replacing it.
        kwargs: Passed to :func:`open` (``encoding``, ``newline``).
    """
    flags = os.O_CREAT | os.O_WRONLY
    flags |= os.O_APPEND if mode.startswith("a") else (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):  # the mode above applies to a new file only
            os.fchmod(fd, 0o600)
        return open(fd, mode, **kwargs)  # the caller closes it
    except BaseException:
        os.close(fd)
        raise


def private_dir(path: Path | str) -> Path:
    """Make the folder ``path`` (and its parents), itself readable by its owner only."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def input_file_problem(path: Path | str, what: str = "input file") -> str | None:
    """Why ``path`` cannot be read as an input file, in words; None when it is a regular file.

    Example:
        >>> input_file_problem("/")
        'input file / is a folder, not a file'
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{what} {path} not found"
    except OSError as exc:
        return f"{what} {path} cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return f"{what} {path} is a folder, not a file"
    if stat.S_ISREG(mode):
        return None
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device")
    return f"{what} {path} is {kind}, not a regular file: save the data to a file first"
