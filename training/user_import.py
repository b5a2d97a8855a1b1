"""Reading a researcher's own labelled file (``warning train corpus --user``) row by row: every
row is used, or reported with its file, line, id, a reason and the details.

It is read as the feedback export is (:mod:`training.feedback_import`), with the readers of
``warning scan``: the encoding is detected, and a broken JSON line or CSV record (bad bytes, a
stray quote, too many or too few fields, a repeated header) costs that row only. Each row is
then checked; a row that cannot be used is a :class:`~training.feedback_import.Reject` with
one of these reasons:

- ``unreadable``, ``repeated header``: the reader could not read it;
- ``no text``, ``empty text``: no text, a text that is not a string, or a blank one (also
  one left empty once invisible characters and markup are removed);
- ``bad label``: a label cell other than ``1``/``0``, ``true``/``false``, ``yes``/``no`` or
  empty (unknown);
- ``unknown language``: with a language column, a row with no language, or a value that is
  not a language code (two or three letters, as ``ky``, or ``other``);
- ``no words``: no letter or digit (emoji or punctuation only).

A whole file is refused (:class:`~training.feedback_import.TableError`) only when it cannot be
read as a table at all: not a file, another file type, empty, not CSV or JSON lines, or without
a column it was told to read.

Example:
    >>> rows = read_user_file("mine.csv", source="user:mine", text_col="message",
    ...                       labels={"hate": "is_hate"}, lang="ky")  # doctest: +SKIP
    >>> len(rows.texts), [(r.line, r.reason) for r in rows.rejects]     # doctest: +SKIP
    (118, [(7, 'bad label'), (40, 'empty text')])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from warning.labels import LABELS, LANGUAGES
from warning.safe_io import input_file_problem
from warning.scanning.feeds import FeedRow
from warning.text.normalize import normalize

from .feedback_import import (
    EMPTY_DETAILS,
    FILE_KINDS,
    NO_WORDS_DETAILS,
    ExportRows,
    Problem,
    Reject,
    TableError,
    label_value,
    open_table,
    quoted,
    text_key,
    text_problem,
    unreadable,
)

__all__ = ["UserRows", "language_code", "read_user_file"]

_CODE = regex.compile(r"[a-z]{2,3}")
_HINT = " (name the columns with --text-col, --label LABEL=COLUMN, --lang-col, --split-col)"


@dataclass
class UserRows(ExportRows):
    """The usable rows of a user's file and the rows left out (see
    :class:`~training.feedback_import.ExportRows`), with each usable row's ``splits``
    (``test`` for a row that must stay in test, else empty)."""

    splits: list[str] = field(default_factory=list)

    def summary(self, path: Path) -> dict[str, Any]:
        return {**super().summary(path), "kind": "user"}


def language_code(value: Any) -> str | None:
    """``value`` as a language code (trimmed, lower case) when it is one: a code of
    :data:`~warning.labels.LANGUAGES` or any other two- or three-letter code; else None.

    Example:
        >>> language_code(" KY "), language_code("fr"), language_code("Kyrgyz"), language_code("")
        ('ky', 'fr', None, None)
    """
    if not isinstance(value, str):
        return None
    code = value.strip().lower()
    return code if code in LANGUAGES or _CODE.fullmatch(code) else None


def read_user_file(path: Path | str, *, source: str, text_col: str = "text",
                   labels: Mapping[str, str] | None = None, lang: str | None = None,
                   lang_col: str | None = None, split_col: str | None = None,
                   apostrophe_escaped: bool = False) -> UserRows:
    """Read a user's labelled file (CSV, TSV or JSON lines) row by row; see the module
    docstring and :class:`training.sources.UserSource` for the arguments.

    Raises:
        TableError: The file cannot be read as a table, lacks a column it is told to read,
            or ``lang`` is not a language code.
    """
    path, labels = Path(path), dict(labels or {})
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise TableError("unsupported file type; use .csv, .tsv or .jsonl (save a spreadsheet "
                         "as CSV UTF-8)")
    fixed = None
    if lang:
        fixed = language_code(lang)
        if fixed is None:
            raise TableError(f"--lang {quoted(lang)} is not a language code (two or three "
                             f"letters: {', '.join(LANGUAGES)})")
    problem = input_file_problem(path, "labelled file")
    if problem:
        raise TableError(problem)
    required = [text_col, *labels.values(), *(c for c in (lang_col, split_col) if c)]
    feed = open_table(path, kind, text_col=text_col, required=required, hint=_HINT)
    out = UserRows(format=kind)
    out.notes.extend(n for n in feed.notes if n.startswith("encoding"))
    columns = _Columns(text_col, labels, fixed, lang_col, split_col,
                       apostrophe_escaped and kind == "csv")
    for row in feed.rows():
        broken = unreadable(source, str(path), row)
        if broken is not None:
            out.rejects.append(broken)
            continue
        _add_row(out, source, str(path), row, feed.mapping.id, columns)
    return out


@dataclass(frozen=True)
class _Columns:
    text: str
    labels: dict[str, str]
    lang: str | None
    lang_col: str | None
    split: str | None
    apostrophe: bool


def _add_row(out: UserRows, source: str, file: str, row: FeedRow, id_col: str | None,
             columns: _Columns) -> None:
    values = row.values or {}
    ident = values.get(id_col) if id_col else None
    ident = "" if ident is None else str(ident).strip()
    checked = _check(values, columns)
    if isinstance(checked, Problem):
        out.rejects.append(Reject(source, file, row.line, ident, *checked))
        return
    text, lang, labels, split = checked
    out.texts.append(text)
    out.langs.append(lang)
    out.labels.append(labels)
    out.splits.append(split)
    out.lines.append(row.line)
    out.ids.append(ident)


def _check(values: dict[str, Any], columns: _Columns
           ) -> Problem | tuple[str, str, tuple[float, ...], str]:
    """``(text, lang, labels, split)`` of a usable row, or why it cannot be used."""
    text = values.get(columns.text)
    if columns.apostrophe and isinstance(text, str) and text.startswith("'"):
        text = text[1:]
    problem = text_problem(text, columns.text)
    if problem is not None:
        return problem
    labels = [math.nan] * len(LABELS)
    for label, column in columns.labels.items():
        value = label_value(values.get(column))
        if value is None:
            return Problem("bad label", f"column {column!r} has {quoted(values.get(column))}; "
                           "use 1/0, true/false, yes/no, or leave it empty for unknown")
        labels[LABELS.index(label)] = value
    if columns.lang_col:
        lang = language_code(values.get(columns.lang_col))
        if lang is None:
            given = values.get(columns.lang_col)
            shown = "no language" if given is None or not str(given).strip() else \
                f"language {quoted(given)}"
            return Problem("unknown language", f"{shown} in column {columns.lang_col!r}; use a "
                           f"code of two or three letters ({', '.join(LANGUAGES)})")
    elif columns.lang:
        lang = columns.lang
    else:
        from warning.text.lang import detect_language

        lang = detect_language(text)
    normalised = normalize(text)
    if not normalised:
        return Problem("empty text", EMPTY_DETAILS)
    if not text_key(normalised):
        return Problem("no words", NO_WORDS_DETAILS)
    split = values.get(columns.split) if columns.split else None
    test = isinstance(split, str) and split.strip().lower() == "test"
    return text, lang, tuple(labels), "test" if test else ""
