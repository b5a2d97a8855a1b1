"""Reviewed feedback: moderators' corrections, kept in SQLite until a second person reviews them.

A correction is stored as ``pending``; another person confirms or rejects it; only confirmed
items are exported for training (:meth:`FeedbackStore.export`, read by ``warning train corpus
--feedback``). Items older than the retention period (``WARNING_FEEDBACK_RETENTION_DAYS``,
default 180) are deleted, reviewed or not, when the store is opened, on every write,
before every read and by :meth:`FeedbackStore.purge`. Deleted rows are overwritten in the
file (``secure_delete``).

Who submitted and who reviewed are *identities*: an API key's identity is ``key:`` and the
first 16 hex digits of an HMAC-SHA-256 of the key under a random salt kept in the database
(:meth:`FeedbackStore.identity`), so it is the same in every worker and after a restart, while
the key itself is never stored; a person reviewing on the command line gives a name. The
reviewer may not be the submitter (four eyes).

Example:
    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "feedback.db"
    >>> with FeedbackStore(db) as store:
    ...     item = store.submit("Ты тупой идиот", {"offensive": True}, submitter="key:aa")
    ...     store.review(item.id, reviewer="Aida", confirm=True).status
    'confirmed'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from warning.labels import LABELS, LANGUAGES
from warning.safe_io import CSV_ESCAPED_STARTS, csv_escape, csv_writer, json_line, private_open
from warning.text.normalize import normalize

__all__ = [
    "CSV_ESCAPED_STARTS",
    "EXPORT_COLUMNS",
    "SCHEMA_VERSION",
    "STATUSES",
    "AlreadyReviewed",
    "FeedbackError",
    "FeedbackItem",
    "FeedbackNotFound",
    "FeedbackStore",
    "InvalidFeedback",
    "SamePerson",
    "check_labels",
    "csv_escape",
    "looks_like_identity",
    "new_id",
]

#: Version of the database layout (``PRAGMA user_version``); a newer file is refused.
SCHEMA_VERSION = 1
STATUSES = ("pending", "confirmed", "rejected")
#: Columns of an export, in order: what ``warning train corpus --feedback`` reads.
EXPORT_COLUMNS = ("id", "text", "lang", *LABELS, "created", "reviewed", "model")
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT,
    labels TEXT NOT NULL,
    note TEXT,
    submitter TEXT NOT NULL,
    response_id TEXT,
    model TEXT,
    scores TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    reviewer TEXT,
    reviewed TEXT,
    review_note TEXT
);
CREATE INDEX IF NOT EXISTS feedback_status_created ON feedback (status, created);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created);
"""


class FeedbackError(ValueError):
    """A feedback operation that cannot be done; the message says why, never quoting a text."""


class FeedbackNotFound(FeedbackError):
    """No item with that id (never stored, deleted, or past the retention period)."""


class InvalidFeedback(FeedbackError):
    """A correction that cannot be stored.

    Attributes:
        field: The field at fault (``text``, ``labels``, ``labels.hate``, ``note``, ...).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SamePerson(FeedbackError):
    """The reviewer is the person who submitted the item (four eyes)."""


class AlreadyReviewed(FeedbackError):
    """The item was already confirmed or rejected."""


def new_id(prefix: str) -> str:
    """A random, unguessable id (128 bits), e.g. ``fb-3f9c...``."""
    return f"{prefix}-{secrets.token_hex(16)}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def check_labels(labels: Mapping[str, Any], *, allow_extremism: bool = False) -> dict[str, bool]:
    """The corrected labels, validated: our label names, each ``True``/``False``; ``None`` or
    omitted is unknown and dropped. At least one label must be given.

    ``extremism`` is refused unless ``allow_extremism`` (``WARNING_FEEDBACK_EXTREMISM=1``): the
    label is experimental and off, and a list of posts marked for it is dangerous to keep.

    Raises:
        InvalidFeedback: Unknown label, a value that is not true/false/null, extremism while it
            is off, or no label given.

    Example:
        >>> check_labels({"hate": True, "threat": None})
        {'hate': True}
    """
    if not isinstance(labels, Mapping):
        raise InvalidFeedback("labels", "labels must be an object of label: true/false")
    out: dict[str, bool] = {}
    for name, value in labels.items():
        if name not in LABELS:
            raise InvalidFeedback(f"labels.{name}", f"unknown label {name!r}; the labels are "
                                  f"{', '.join(LABELS)}")
        if value is None:
            continue
        if not isinstance(value, bool):
            raise InvalidFeedback(f"labels.{name}", f"label {name!r} must be true, false or "
                                  "null (unknown)")
        if name == "extremism" and not allow_extremism:
            raise InvalidFeedback(
                "labels.extremism", "the extremism label is experimental and off: corrections "
                "for it are not collected unless WARNING_FEEDBACK_EXTREMISM=1 is set (read "
                "'The dual use of extremism' in the README first)")
        out[name] = value
    if not out:
        raise InvalidFeedback("labels", "give at least one label as true or false (e.g. "
                              '{"hate": false}); leave out the labels you do not know')
    return out


@dataclass(frozen=True)
class FeedbackItem:
    """One correction and its review.

    Attributes:
        id: Random id (``fb-`` and 32 hex digits).
        created: Submission time, UTC (``2026-11-27T08:00:00Z``).
        text: The post.
        lang: Its language (given, or detected when submitted).
        labels: Corrected labels, only those given (others unknown).
        note: The moderator's note.
        submitter: Identity of who submitted it (``key:...`` or a name).
        status: ``pending``, ``confirmed`` or ``rejected``.
        response_id: The scoring response it corrects, when it came from one.
        model: ``name@version`` of the model whose scores it corrects, when known.
        scores: Those scores, when known.
        reviewer: Who reviewed it.
        reviewed: When, UTC.
        review_note: The reviewer's note.
    """

    id: str
    created: str
    text: str
    lang: str | None
    labels: dict[str, bool]
    note: str | None
    submitter: str
    status: str
    response_id: str | None = None
    model: str | None = None
    scores: dict[str, float | None] | None = None
    reviewer: str | None = None
    reviewed: str | None = None
    review_note: str | None = None

    def to_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; without ``text`` when ``with_text`` is false."""
        out = asdict(self)
        if not with_text:
            out.pop("text")
        return out

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> FeedbackItem:
        values = dict(row)
        values["labels"] = json.loads(values["labels"])
        values["scores"] = json.loads(values["scores"]) if values["scores"] else None
        return cls(**values)


#: Letters and digits that look alike, mapped to one of them (after case folding): Cyrillic
#: and Greek letters that look Latin, and 0/o, 1/l/i, as in Unicode's confusable skeletons.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "0",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "1", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ӏ": "1", "ү": "y", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b",
    "ε": "e", "η": "n", "ι": "1", "κ": "k", "ν": "v", "ο": "0", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "o": "0", "l": "1", "i": "1", "з": "3",
})
_IDENTITY = re.compile(r"(?:key)?([0-9a-f]{16})")


def _person(name: str) -> str:
    """A name or identity as compared for four eyes: its skeleton, in which width, case,
    accents, spaces, punctuation, invisible characters and look-alike letters do not make
    another person (``ＫＥＹ:a``, ``key a``, ``кеу:а`` and ``key:a`` with a zero-width space
    are all ``key:a``), and a ``key:`` identity is the same with or without its prefix.

    Example:
        >>> _person("key:3fa85f6457b1c2d4") == _person("КЕУ-3FA85F6457B1C2D4.")
        True
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    skeleton = "".join(c for c in folded if c.isalnum()).translate(_CONFUSABLES)
    identity = _IDENTITY.fullmatch(skeleton)
    return "key:" + identity.group(1) if identity else skeleton


def looks_like_identity(name: str) -> bool:
    """True when ``name`` is, in any spelling, an API key's feedback identity (``key:`` and
    16 hex digits): a person reviewing at the command line gives a name, never one of those.

    Example:
        >>> looks_like_identity("KEY 3fa8 5f64 57b1 c2d4"), looks_like_identity("Aida")
        (True, False)
    """
    return _person(name).startswith("key:")


def _check_text(field: str, value: str | None, limit: int, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidFeedback(field, f"{field} is empty")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFeedback(field, f"{field} is not valid Unicode") from None
    if len(value) > limit:
        raise InvalidFeedback(field, f"{field} is {len(value):,} characters; the limit is "
                              f"{limit:,}")
    return value


class FeedbackStore:
    """The feedback database: one SQLite file in WAL mode, safe to share between threads (one
    connection behind a lock) and between processes (SQLite's own locking).

    Args:
        path: The SQLite file; made (readable by its owner only) when missing, unless
            ``create`` is false.
        retention_days: Days an item is kept (default ``WARNING_FEEDBACK_RETENTION_DAYS``).
        allow_extremism: Accept the ``extremism`` label (default
            ``WARNING_FEEDBACK_EXTREMISM``).
        clock: Current time, UTC (tests inject one).
        create: False to refuse a missing file (the CLI: a typo must not make a new, empty
            database).

    Raises:
        FeedbackError: Missing file with ``create=False``, not a feedback database, or one
            made by a newer version.
    """

    def __init__(self, path: Path | str, *, retention_days: int | None = None,
                 allow_extremism: bool | None = None,
                 clock: Callable[[], datetime] = _utc_now, create: bool = True) -> None:
        from warning import settings

        self.path = Path(path)
        self.retention_days = (settings.feedback_retention_days() if retention_days is None
                               else retention_days)
        if self.retention_days < 1:
            raise FeedbackError("the retention period must be at least 1 day")
        self.allow_extremism = (settings.feedback_extremism() if allow_extremism is None
                                else allow_extremism)
        self.clock = clock
        self._lock = threading.Lock()
        if not self.path.exists():
            if not create:
                raise FeedbackError(f"no feedback database at {self.path} (set "
                                    "WARNING_FEEDBACK_DB or --db to the server's file)")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # owner-only from the first byte: the file holds posts
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise FeedbackError(f"{self.path} is not a usable feedback database ({exc})") \
                from None
        #: items removed for age when the store was opened
        self.purged_on_open = self.purge()

    def _setup(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise FeedbackError(f"{self.path} has schema version {version}; this version of "
                                f"the software reads up to {SCHEMA_VERSION}: upgrade it")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables - {"meta", "feedback"}:
            raise FeedbackError(f"{self.path} is an SQLite file with other tables, not a "
                                "feedback database")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA secure_delete=ON")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)  # idempotent; run outside a transaction (it commits)
        with self._transaction():
            if db.execute("SELECT value FROM meta WHERE key='salt'").fetchone() is None:
                db.execute("INSERT INTO meta VALUES ('salt', ?)", (secrets.token_hex(32),))
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._salt = bytes.fromhex(
            db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- identities ---------------------------------------------------------------------------

    def identity(self, key: str) -> str:
        """The stable identity of an API key in this database: ``key:`` and 16 hex digits of an
        HMAC-SHA-256 under the database's salt. The same in every process and after a restart;
        the key cannot be read back from it.

        Example:
            >>> import tempfile, pathlib
            >>> store = FeedbackStore(pathlib.Path(tempfile.mkdtemp()) / "f.db")
            >>> store.identity("a-long-secret-key") == store.identity("a-long-secret-key")
            True
        """
        return "key:" + hmac.new(self._salt, key.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    # ---- writes -------------------------------------------------------------------------------

    def submit(self, text: str, labels: Mapping[str, Any], *, submitter: str,
               note: str | None = None, lang: str | None = None, response_id: str | None = None,
               model: str | None = None, scores: Mapping[str, float | None] | None = None,
               max_text_chars: int = 20_000) -> FeedbackItem:
        """Store a correction as ``pending``.

        Args:
            text: The post.
            labels: Label -> true/false (None or omitted: unknown); at least one.
            submitter: Who submits it (an identity from :meth:`identity`, or a name).
            note: Free-text note.
            lang: The post's language; detected when None.
            response_id: The scoring response the correction answers, if any.
            model: The model that scored it, when it corrects a scoring response.
            scores: The scores the model gave, when it corrects a scoring response.
            max_text_chars: Longest text accepted.

        Raises:
            InvalidFeedback: Empty or too long text or note, bad labels or language.
        """
        text = _check_text("text", text, max_text_chars, required=True) or ""
        if not normalize(text):
            raise InvalidFeedback("text", "text is empty once invisible characters and markup "
                                  "are removed (as /v1/score reads it): send the post")
        checked = check_labels(labels, allow_extremism=self.allow_extremism)
        note = _check_text("note", note, MAX_NOTE_CHARS, required=False)
        submitter = _check_text("submitter", submitter, MAX_NAME_CHARS, required=True) or ""
        if lang is None:
            from warning.text.lang import detect_language

            lang = detect_language(text)
        elif lang not in LANGUAGES:
            # never echoed: it is whatever the client sent, of any length
            raise InvalidFeedback("lang", f"unknown language code; use one of "
                                  f"{', '.join(LANGUAGES)}")
        item = FeedbackItem(id=new_id("fb"), created=_fmt(self.clock()), text=text, lang=lang,
                            labels=checked, note=note, submitter=submitter, status="pending",
                            response_id=response_id, model=model,
                            scores=dict(scores) if scores is not None else None)
        with self._lock, self._transaction():
            self._purge_locked()
            self._db.execute(
                "INSERT INTO feedback (id, created, text, lang, labels, note, submitter, "
                "response_id, model, scores, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (item.id, item.created, item.text, item.lang, json.dumps(item.labels),
                 item.note, item.submitter, item.response_id, item.model,
                 json.dumps(item.scores) if item.scores is not None else None, item.status))
        return item

    def review(self, item_id: str, *, reviewer: str, confirm: bool,
               note: str | None = None) -> FeedbackItem:
        """Confirm or reject a pending item.

        Raises:
            FeedbackNotFound: No such item.
            SamePerson: ``reviewer`` is the submitter.
            AlreadyReviewed: The item is not pending.
            InvalidFeedback: Empty reviewer or too long note.
        """
        reviewer = _check_text("reviewer", reviewer, MAX_NAME_CHARS, required=True) or ""
        if not _person(reviewer):
            raise InvalidFeedback("reviewer", "reviewer is empty (only invisible characters)")
        note = _check_text("note", note, MAX_NOTE_CHARS, required=False)
        with self._lock, self._transaction():
            self._purge_locked()
            item = self._get_locked(item_id)
            if _person(reviewer) == _person(item.submitter):
                raise SamePerson(f"feedback {item_id} was submitted by {item.submitter}: a "
                                 "second person must review it")
            if item.status != "pending":
                raise AlreadyReviewed(f"feedback {item_id} was already {item.status} by "
                                      f"{item.reviewer} at {item.reviewed}")
            self._db.execute(
                "UPDATE feedback SET status=?, reviewer=?, reviewed=?, review_note=? "
                "WHERE id=?", ("confirmed" if confirm else "rejected", reviewer,
                               _fmt(self.clock()), note, item_id))
            return self._get_locked(item_id)

    def delete(self, item_id: str) -> None:
        """Delete an item (its text is overwritten in the file).

        Raises:
            FeedbackNotFound: No such item.
        """
        with self._lock, self._transaction():
            self._purge_locked()
            if self._db.execute("DELETE FROM feedback WHERE id=?", (item_id,)).rowcount == 0:
                raise FeedbackNotFound(f"no feedback with id {item_id}")
        self._checkpoint()

    def purge(self) -> int:
        """Delete every item older than the retention period; returns how many."""
        with self._lock, self._transaction():
            removed = self._purge_locked()
        if removed:
            self._checkpoint()
        return removed

    def _purge_locked(self) -> int:
        cutoff = _fmt(self.clock() - timedelta(days=self.retention_days))
        return self._db.execute("DELETE FROM feedback WHERE created < ?", (cutoff,)).rowcount

    def _checkpoint(self) -> None:
        # move deleted pages out of the WAL file too, so no copy of a deleted text lingers there
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ---- reads --------------------------------------------------------------------------------

    def _get_locked(self, item_id: str) -> FeedbackItem:
        row = self._db.execute("SELECT * FROM feedback WHERE id=?", (item_id,)).fetchone()
        if row is None:
            raise FeedbackNotFound(f"no feedback with id {item_id}")
        return FeedbackItem._from_row(row)

    def get(self, item_id: str) -> FeedbackItem:
        """The item with this id.

        Raises:
            FeedbackNotFound: No such item.
        """
        self.purge()  # a long-running server must not show an item past the retention period
        with self._lock:
            return self._get_locked(item_id)

    def items(self, status: str | None = None, *, limit: int | None = None,
              oldest_first: bool = True) -> list[FeedbackItem]:
        """Items, oldest first (a review queue), optionally of one status only."""
        if status is not None and status not in STATUSES:
            raise InvalidFeedback("status", f"status must be one of {', '.join(STATUSES)}")
        query = "SELECT * FROM feedback"
        params: list[Any] = []
        if status is not None:
            query += " WHERE status=?"
            params.append(status)
        query += f" ORDER BY created {'ASC' if oldest_first else 'DESC'}, id"
        if limit is not None:
            query += " LIMIT ?"
            params.append(int(limit))
        self.purge()
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [FeedbackItem._from_row(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Items per status."""
        self.purge()
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM feedback GROUP BY status")
            found = dict(rows.fetchall())
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def export(self, path: Path | str, *, overwrite: bool = True) -> int:
        """Write the confirmed items, oldest first, for ``warning train corpus --feedback``.

        ``.csv`` writes CSV (labels ``1``/``0``, empty = unknown; a text that a spreadsheet
        would take for a formula gets a leading apostrophe, see :func:`csv_escape`);
        ``.jsonl`` (or ``.json``, ``.ndjson``) JSON lines (labels ``true``/``false``/``null``),
        with the line separators U+2028, U+2029 and U+0085 escaped so that each item stays on
        one line. Columns: :data:`EXPORT_COLUMNS`. Notes, scores and who submitted or reviewed
        are not exported.

        Args:
            path: The file to write (owner-only: it holds posts).
            overwrite: False refuses an existing file (``FileExistsError``).

        Returns:
            The number of items written.

        Raises:
            FeedbackError: Another file name suffix (the corpus would misread the file).
            FileExistsError: ``path`` exists and ``overwrite`` is false.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", *_JSONL_SUFFIXES):
            raise FeedbackError(f"cannot export to {path.name!r}: name the file .jsonl (JSON "
                                "lines) or .csv, which 'warning train corpus --feedback' reads")
        rows = [_export_row(item) for item in self.items("confirmed")]
        path.parent.mkdir(parents=True, exist_ok=True)
        with private_open(path, "w", exclusive=not overwrite, encoding="utf-8",
                          newline="") as handle:
            if suffix == ".csv":
                writer = csv_writer(handle)  # every cell guarded (warning.safe_io.csv_escape)
                writer.writerow(EXPORT_COLUMNS)
                for row in rows:
                    writer.writerow(["" if v is None else int(v) if isinstance(v, bool) else v
                                     for v in row.values()])
            else:
                for row in rows:
                    handle.write(json_line(row) + "\n")
        return len(rows)

    # ---- life ---------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def _export_row(item: FeedbackItem) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "text": item.text, "lang": item.lang or "other"}
    row.update({label: item.labels.get(label) for label in LABELS})
    row.update({"created": item.created, "reviewed": item.reviewed, "model": item.model})
    return row
