"""Reading the moderators' feedback export (``warning feedback export``) into corpus rows, row by
row: every row is used, or reported with its file, line, id, a reason and the details.

The file is read by the readers of ``warning scan`` (:mod:`warning.scanning.feeds`): its
encoding is detected, a broken JSON line or CSV record (bad bytes, a stray quote, too many or
too few fields, a repeated header) costs that row only, and its line number is known. Each row
is then checked (:func:`read_export`); a row that cannot be used is a :class:`Reject` with one
of :data:`REASONS`. A whole file is refused (:class:`ExportError`) only when it is not an
export at all: not a file, not CSV or JSON lines, or without the columns of an export. An
empty file, or a CSV with its header alone, is an export of no items.

When all sources are read, :func:`check_feedback_rows` looks at the feedback rows beside the
others (the corpus builder, :func:`training.corpus.build_corpus`, calls it): a text with no
words left for the corpus, an id seen twice, and a label on which two copies of a post
disagree (the corpus sets such a label unknown; the row is reported, and used with its other
labels). Rejects hold no text: ``REJECT_COLUMNS`` only, as the rejects file of ``warning
scan``.

A researcher's own labelled file (``--user``, :mod:`training.user_import`) is read with the
same pieces: :func:`open_table`, :func:`unreadable`, :func:`text_problem`,
:func:`label_value`, :func:`text_key`, the same :class:`Reject` and rejects file.

Example:
    >>> export = read_export("feedback.jsonl", source="feedback")  # doctest: +SKIP
    >>> len(export.texts), [r.reason for r in export.rejects]       # doctest: +SKIP
    (41, ['bad label', 'not confirmed'])
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import regex

from warning.feedback.items import EXPORT_COLUMNS
from warning.labels import LABELS, LANGUAGES
from warning.safe_io import csv_unescape, csv_writer, input_file_problem
from warning.scanning.feeds import ColumnOverrides, Feed, FeedError, FeedRow, open_feed
from warning.scanning.feeds.encoding import read_sample
from warning.text.normalize import fold

__all__ = [
    "CONFLICT",
    "EMPTY_DETAILS",
    "FEEDBACK_COLUMNS",
    "FEEDBACK_FILE",
    "FEEDBACK_ID",
    "FEEDBACK_LINE",
    "FILE_KINDS",
    "MAX_TEXT_CHARS",
    "NO_WORDS_DETAILS",
    "REASONS",
    "REJECT_COLUMNS",
    "REQUIRED_COLUMNS",
    "ExportError",
    "ExportRows",
    "Problem",
    "Reject",
    "TableError",
    "check_feedback_rows",
    "feedback_stats",
    "label_value",
    "open_table",
    "quoted",
    "read_export",
    "text_key",
    "text_problem",
    "unreadable",
    "write_rejects",
]

#: Columns of the corpus's rejects file (``corpus.rejects.csv``), one row per reported row.
REJECT_COLUMNS = ("source", "file", "line", "id", "reason", "details")
#: Why a feedback row is reported. All but ``conflicting labels`` leave the row out of the
#: corpus; a row with conflicting labels is used, the disputed labels unknown.
REASONS = ("unreadable", "repeated header", "not confirmed", "no text", "empty text",
           "text too long", "bad label", "no label", "unknown language", "no words",
           "duplicate id", "conflicting labels")
CONFLICT = "conflicting labels"
#: Columns a file must have to be read as an export (``id``, ``created`` and ``model`` may
#: be missing; ``reviewed`` tells a confirmed item).
REQUIRED_COLUMNS = ("text", "lang", *LABELS, "reviewed")
#: Longest text taken by default: the feedback store's default (``WARNING_MAX_TEXT_CHARS``).
MAX_TEXT_CHARS = 20_000
#: Columns that carry each feedback row's origin through the corpus builder.
FEEDBACK_FILE, FEEDBACK_LINE, FEEDBACK_ID = "feedback_file", "feedback_line", "feedback_id"
FEEDBACK_COLUMNS = (FEEDBACK_FILE, FEEDBACK_LINE, FEEDBACK_ID)

#: The reader for each file suffix (of an export, or of a researcher's own labelled file).
FILE_KINDS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
              ".tsv": "csv", ".txt": "csv"}
#: Why a text left empty, or without words, once normalised cannot be kept.
EMPTY_DETAILS = "nothing is left once invisible characters and markup are removed"
NO_WORDS_DETAILS = ("no letter or digit (only emoji, punctuation or symbols): the corpus keeps "
                    "texts with words")
_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f"}
_UNKNOWN = {"", "nan", "none", "null", "?"}
#: Longest value a report quotes: a longer one may be (part of) a post, which rejects never hold.
_QUOTED_CHARS = 12
_NON_WORD = regex.compile(r"[^\p{L}\p{N}]+")


class TableError(ValueError):
    """A labelled file cannot be read as a table of rows at all (the message says why)."""


class ExportError(TableError):
    """The file cannot be read as a feedback export at all (the message says why)."""


class Reject(NamedTuple):
    """One reported feedback row (:data:`REJECT_COLUMNS`); ``details`` never quotes a text.
    A tuple, so that a corpus's ``attrs`` holding rejects stay JSON (``to_parquet``)."""

    source: str
    file: str
    line: int
    id: str
    reason: str
    details: str


@dataclass
class ExportRows:
    """The rows of one export that passed the row checks, and those that did not.

    Attributes:
        texts, langs, labels: The usable rows (labels as 1.0, 0.0 or NaN per :data:`LABELS`).
        lines, ids: Where each usable row is (line number, item id or empty).
        rejects: The rows left out.
        format: ``jsonl`` or ``csv``.
        notes: What the reader detected (the encoding), in plain words.
    """

    texts: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    labels: list[tuple[float, ...]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    format: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Rows read: used plus left out."""
        return len(self.texts) + len(self.rejects)

    def with_origin(self, frame: pd.DataFrame, path: Path) -> pd.DataFrame:
        """``frame`` (the usable rows, in order) with each row's :data:`FEEDBACK_COLUMNS`."""
        frame[FEEDBACK_FILE] = str(path)
        frame[FEEDBACK_LINE] = pd.Series(self.lines, dtype="int64")
        frame[FEEDBACK_ID] = pd.Series(self.ids, dtype=object)
        return frame

    def summary(self, path: Path) -> dict[str, Any]:
        """What :func:`feedback_stats` needs of the file."""
        return {"file": str(path), "kind": "feedback", "format": self.format,
                "notes": self.notes, "records": self.records}


class Problem(NamedTuple):
    """Why a row cannot be used: one of :data:`REASONS`, and the details (never the text)."""

    reason: str
    details: str


def quoted(value: object) -> str:
    """``value`` as a report may quote it: in full up to 12 characters, else its length only
    (a longer value may be, or be part of, a post)."""
    text = str(value)
    return repr(text) if len(text) <= _QUOTED_CHARS else f"a value of {len(text):,} characters"


def text_key(text_norm: str) -> str:
    """The corpus's key of a normalised text: case folded, each run of characters that are
    not letters or digits one space. Empty for a text without words (exact duplicates share
    it)."""
    return _NON_WORD.sub(" ", fold(text_norm)).strip()


_EXPORT_HINT = (": not a file written by 'warning feedback export' (columns "
                f"{', '.join(EXPORT_COLUMNS)})")


def open_table(path: Path, kind: str, *, text_col: str = "text",
               required: Sequence[str] = REQUIRED_COLUMNS, hint: str = _EXPORT_HINT) -> Feed:
    """The scan's reader (``kind``: ``csv`` or ``jsonl``) for ``path``, its text in
    ``text_col``.

    Raises:
        TableError: The file cannot be read as a table (the reader's message, without the
            path), or lacks one of the ``required`` columns (named, then ``hint``).
    """
    try:
        # the columns read are kept past the JSON Lines reader's limit of 256 columns
        feed = open_feed(path, kind, columns=ColumnOverrides(text=text_col, keep=required))
    except FeedError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        try:  # without the text column: read the columns only to name what is missing
            columns = open_feed(path, kind, columns=ColumnOverrides(keep=required)).columns
        except FeedError:
            raise TableError(problem) from None
        _require_columns(columns, required, hint)
        raise TableError(problem) from None
    _require_columns(feed.columns, required, hint)
    return feed


def _require_columns(columns: Sequence[str], required: Sequence[str], hint: str) -> None:
    missing = [c for c in dict.fromkeys(required) if c not in columns]
    if missing:
        raise TableError(f"missing column(s) {missing}; found {list(columns)[:12]}{hint}")


def read_export(path: Path | str, *, source: str = "feedback",
                max_chars: int = MAX_TEXT_CHARS) -> ExportRows:
    """Read an export (JSON lines, or CSV) row by row; see the module docstring.

    Args:
        path: The file (``.jsonl``, ``.json``, ``.ndjson``; ``.csv``, ``.tsv``, ``.txt``).
        source: The source name, for the rejects.
        max_chars: Longest text used; a longer one is ``text too long``.

    Raises:
        ExportError: Not a file, another file type, or not an export (columns missing).
    """
    path = Path(path)
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise ExportError("unsupported file type; a feedback export is .jsonl or .csv")
    problem = input_file_problem(path, "feedback file")
    if problem:
        raise ExportError(problem)
    out = ExportRows(format=kind)
    sample = read_sample(path)
    if not sample.lstrip(b"\xef\xbb\xbf").strip() and path.stat().st_size <= len(sample):
        out.notes.append("the file is empty: an export of no items")
        return out
    try:
        feed = open_table(path, kind)
    except TableError as exc:
        raise ExportError(str(exc)) from None
    out.notes.extend(n for n in feed.notes if n.startswith("encoding"))
    extra = [c for c in feed.columns if c not in EXPORT_COLUMNS and c != "status"]
    for row in feed.rows():
        _add_row(out, source, str(path), row, kind, extra, max_chars)
    return out


def unreadable(source: str, file: str, row: FeedRow) -> Reject | None:
    """The reject of a row the reader could not read (``unreadable``, ``repeated header``);
    None for a row it read."""
    if row.values is not None and row.error is None:
        return None
    reason = row.reason if row.reason in REASONS else "unreadable"
    return Reject(source, file, row.line, row.id or "", reason, row.error or "unreadable")


def _add_row(out: ExportRows, source: str, file: str, row: FeedRow, kind: str,
             extra: list[str], max_chars: int) -> None:
    broken = unreadable(source, file, row)
    if broken is not None:
        out.rejects.append(broken)
        return
    values = row.values or {}
    if kind == "csv":  # every string cell of an export is guarded (warning.safe_io.csv_escape)
        values = {k: csv_unescape(v) if isinstance(v, str) else v for k, v in values.items()}
    ident = values.get("id")
    ident = "" if ident is None else str(ident).strip()
    checked = _check(values, extra, max_chars)
    if isinstance(checked, Problem):
        out.rejects.append(Reject(source, file, row.line, ident, *checked))
        return
    text, lang, labels = checked
    out.texts.append(text)
    out.langs.append(lang)
    out.labels.append(labels)
    out.lines.append(row.line)
    out.ids.append(ident)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _UNKNOWN)


def text_problem(text: Any, column: str = "text", max_chars: int | None = None,
                 flag: str = "--feedback-max-chars") -> Problem | None:
    """Why ``text`` (the value of the text ``column``) cannot be used: none (``no text``), not
    a string, blank (``empty text``), or over ``max_chars`` (``text too long``); else None."""
    if text is None:
        return Problem("no text", f"the {column!r} field is missing or null")
    if not isinstance(text, str):
        kind = {bool: "true/false", int: "number", float: "number", list: "list",
                dict: "object"}.get(type(text), type(text).__name__)
        return Problem("no text", f"the {column!r} field is a JSON {kind}, not text")
    if not text.strip():
        return Problem("empty text", "the text is empty")
    if max_chars is not None and len(text) > max_chars:
        return Problem("text too long", f"{len(text):,} characters; the limit is "
                       f"{max_chars:,} ({flag})")
    return None


def label_value(value: Any) -> float | None:
    """A label cell as 1.0 (``1``, ``true``, ``yes``...), 0.0 (``0``, ``false``, ``no``...)
    or NaN (empty, ``null``, ``?``: unknown); None for any other value."""
    cell = "" if value is None else str(value).strip().lower()
    if cell in _TRUE:
        return 1.0
    if cell in _FALSE:
        return 0.0
    return math.nan if cell in _UNKNOWN else None


def _check(values: dict[str, Any], extra: list[str], max_chars: int
           ) -> Problem | tuple[str, str, tuple[float, ...]]:
    """``(text, lang, labels)`` of a usable row, or why it cannot be used."""
    status = values.get("status")
    if not _blank(status) and str(status).strip().lower() != "confirmed":
        return Problem("not confirmed", f"status {quoted(status)}: only items a second "
                       "person confirmed may reach training")
    if _blank(values.get("reviewed")):
        return Problem("not confirmed", "no review time ('reviewed' is empty): only items a "
                       "second person confirmed may reach training")
    text = values.get("text")
    problem = text_problem(text, max_chars=max_chars)
    if problem is not None:
        return problem
    labels: list[float] = []
    for label in LABELS:
        value = label_value(values.get(label))
        if value is None:
            return Problem("bad label", f"column {label!r} has {quoted(values.get(label))}; "
                           "use true/false or 1/0, or leave it empty for unknown")
        labels.append(value)
    if all(math.isnan(v) for v in labels):
        filled = [c for c in extra if not _blank(values.get(c))]
        also = f"; column(s) not read: {', '.join(map(quoted, filled[:5]))}" if filled else ""
        return Problem("no label", "no label is true or false (a correction gives at least "
                       "one)" + also)
    lang = values.get("lang")
    code = "" if lang is None else str(lang).strip().lower()
    if code not in LANGUAGES:
        shown = "no language" if not code else f"language {quoted(lang)}"
        return Problem("unknown language", f"{shown}; the codes are {', '.join(LANGUAGES)}")
    return text, code, tuple(labels)


# ----------------------------------------------------------------------------------------------
# Checks across all rows of the corpus, once every source is read.


def _where(row: pd.Series) -> str:
    ident = f" ({row[FEEDBACK_ID]})" if row[FEEDBACK_ID] else ""
    return f"{row[FEEDBACK_FILE]} line {int(row[FEEDBACK_LINE])}{ident}"


def _reject(row: pd.Series, reason: str, details: str) -> Reject:
    return Reject(str(row["source"]), str(row[FEEDBACK_FILE]), int(row[FEEDBACK_LINE]),
                  str(row[FEEDBACK_ID]), reason, details)


def _content(row: pd.Series) -> tuple:
    return (row["text"], row["lang"],
            *(None if math.isnan(row[label]) else row[label] for label in LABELS))


def check_feedback_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[Reject]]:
    """The corpus rows less the feedback rows left out (and less the columns
    :data:`FEEDBACK_COLUMNS`), and the rejects: the rows left out, and a
    ``conflicting labels`` report for each feedback row with a label set unknown because
    copies of its post disagree.

    ``rows`` holds every source's rows with ``text_norm`` and the deduplication ``key``;
    feedback rows carry :data:`FEEDBACK_FILE`, :data:`FEEDBACK_LINE` and :data:`FEEDBACK_ID`
    (missing, NaN, for other rows). Left out: a text with nothing left once normalised
    (``empty text``) or without letters or digits (``no words``: emoji or punctuation only),
    which the corpus cannot keep; a repeated id (``duplicate id``): the first copy is used when
    the copies are the same item, none when they differ.
    """
    if FEEDBACK_LINE not in rows:
        return rows, []
    feedback = rows[FEEDBACK_LINE].notna()
    rejects: list[Reject] = []
    drop = pd.Series(False, index=rows.index)
    for index in rows.index[feedback & rows["key"].eq("")]:
        row = rows.loc[index]
        if not row["text_norm"]:
            rejects.append(_reject(row, "empty text", EMPTY_DETAILS))
        else:
            rejects.append(_reject(row, "no words", NO_WORDS_DETAILS))
        drop[index] = True
    with_id = rows[feedback & ~drop & rows[FEEDBACK_ID].fillna("").ne("")]
    for _, copies in with_id.groupby(FEEDBACK_ID, sort=False):
        if len(copies) < 2:
            continue
        first = copies.iloc[0]
        same = all(_content(copy) == _content(first) for _, copy in copies.iloc[1:].iterrows())
        named = [(i, _where(o)) for i, o in copies.head(4).iterrows()]  # never all: k^2
        for position, (index, copy) in enumerate(copies.iterrows()):
            others = [where for i, where in named if i != index][:3]
            if same and position == 0:
                continue
            if same:
                details = f"the same item as {_where(first)}: used once"
            else:
                details = (f"the id is also on {', '.join(others)} with another text, language "
                           "or labels: none of the copies is used")
            rejects.append(_reject(copy, "duplicate id", details))
            drop[index] = True
    kept = rows[~drop]
    return kept.drop(columns=list(FEEDBACK_COLUMNS)), rejects + _conflicts(kept)


def _value(value: float) -> str:
    return "true" if value == 1.0 else "false"


def _conflicts(rows: pd.DataFrame) -> list[Reject]:
    """A report for each feedback row with a label that another copy of its post (same key)
    gives the other value: the corpus sets that label unknown."""
    feedback = rows[FEEDBACK_LINE].notna()
    shared = rows[rows["key"].isin(set(rows.loc[feedback, "key"]))]
    out = []
    for _, copies in shared.groupby("key", sort=False):
        if len(copies) < 2:
            continue
        against: dict[tuple[str, float], list[str]] = {}  # the first 3 copies per label, value
        for _, row in copies[copies[FEEDBACK_LINE].notna()].iterrows():
            parts = []
            for label in LABELS:
                mine = row[label]
                if math.isnan(mine):
                    continue
                if (label, mine) not in against:  # once per group, not once per row: k^2
                    others = copies[copies[label].notna() & copies[label].ne(mine)].head(3)
                    against[label, mine] = [
                        f"on {_where(o)}" if not pd.isna(o[FEEDBACK_LINE])
                        else f"in source {o['source']}" for _, o in others.iterrows()]
                if against[label, mine]:
                    parts.append(f"{label} {_value(mine)} here, {_value(1.0 - mine)} "
                                 f"{', '.join(against[label, mine])}")
            if parts:
                out.append(_reject(row, CONFLICT, "; ".join(parts) + ": set unknown "
                                   "in the corpus, the row's other labels are used"))
    return out


def feedback_stats(files: Sequence[dict], rejects: Sequence[Reject]) -> dict[str, Any]:
    """The corpus stats of the rows read row by row (feedback exports and researchers' own
    files): rows left out in all (``rows_rejected``) and per reason (``rejected``), feedback
    rows with a label set unknown (``feedback_label_conflicts``), and per file its rows read,
    used and left out (``feedback_files``, and ``user_files`` for summaries of ``kind``
    ``user``)."""
    left_out = [r for r in rejects if r.reason != CONFLICT]
    per_kind: dict[str, list[dict]] = {"feedback": [], "user": []}
    for summary in files:
        mine = [r for r in rejects if r.file == summary["file"]]
        gone = sum(r.reason != CONFLICT for r in mine)
        per_kind[summary.get("kind", "feedback")].append({
            "file": summary["file"], "format": summary["format"], "notes": summary["notes"],
            "rows_read": summary["records"], "rows_used": summary["records"] - gone,
            "rows_rejected": gone, "label_conflicts": len(mine) - gone})
    return {"rows_rejected": len(left_out),
            "rejected": dict(sorted(Counter(r.reason for r in left_out).items())),
            "feedback_label_conflicts": len(rejects) - len(left_out),
            "feedback_files": per_kind["feedback"], "user_files": per_kind["user"]}


def write_rejects(path: Path | str, rejects: Iterable[Reject]) -> Path:
    """Write the rejects as CSV (:data:`REJECT_COLUMNS`, cells guarded as every CSV the
    project writes), in the order given."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(REJECT_COLUMNS)
        writer.writerows(rejects)
    return path
