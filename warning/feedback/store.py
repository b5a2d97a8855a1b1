"""Reviewed feedback: moderators' corrections, kept in a database (a SQLite file, or PostgreSQL
for API replicas on several machines) until a second person reviews them.

Over 500 lines because :class:`FeedbackStore` is one class whose methods all run inside the
store's transaction and retention rules; its records, checks and errors are in
:mod:`warning.feedback.items`, its tables and migrations in :mod:`warning.feedback.db`.

A correction is stored as ``pending``; another person confirms or rejects it; only confirmed
items are exported for training (:meth:`FeedbackStore.export`, read by ``warning train corpus
--feedback``). Items older than the retention period (``WARNING_FEEDBACK_RETENTION_DAYS``,
default 180) are deleted, reviewed or not, when the store is opened, on every write,
before every read and by :meth:`FeedbackStore.purge`. In a SQLite file, deleted rows are
overwritten (``secure_delete``); in PostgreSQL, (auto)vacuum reclaims them.

The database is reached through SQLAlchemy and its schema made and upgraded by Alembic
migrations (:mod:`warning.feedback.db`; ``warning feedback migrate``); both come with the
``db`` extra. The rest of this module (labels, ids, exports) needs no extra.

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
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from warning.feedback.items import (
    _JSONL_SUFFIXES,
    _REVIEW_FIELDS,
    EXPORT_COLUMNS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    SCHEMA_VERSION,
    STATUSES,
    AlreadyReviewed,
    FeedbackError,
    FeedbackItem,
    FeedbackNotFound,
    InvalidFeedback,
    SamePerson,
    StoredResponse,
    _check_text,
    _export_row,
    _fmt,
    _item,
    _person,
    _utc_now,
    check_labels,
    looks_like_identity,
    new_id,
)
from warning.labels import LANGUAGES
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
    "StoredResponse",
    "check_labels",
    "csv_escape",
    "looks_like_identity",
    "new_id",
]

def _db_module() -> Any:
    """:mod:`warning.feedback.db`, imported when a store is opened: the ``db`` extra is
    needed only for the store, not for scoring."""
    try:
        from warning.feedback import db as feedback_db
    except ImportError as exc:
        raise FeedbackError(f"the feedback store needs the 'db' extra ({exc.name} is missing): "
                            "pip install 'early-warning[db]'") from None
    return feedback_db


class FeedbackStore:
    """The feedback database, through SQLAlchemy: a SQLite file (the embedded default, one
    machine) or a PostgreSQL database shared by API replicas on several machines; safe to
    share between threads (a connection pool) and between processes (SQLite's locking, or
    PostgreSQL's row locks). The schema is made and upgraded by Alembic migrations
    (:func:`warning.feedback.db.migrate`, ``warning feedback migrate``).

    Needs the ``db`` extra (SQLAlchemy, Alembic, psycopg): ``pip install
    'early-warning[db]'`` (``serve`` includes it).

    Args:
        path: The database: a SQLite file path, ``sqlite:///PATH`` or
            ``postgresql+psycopg://user@host/db``. A SQLite file is made (readable by its owner
            only) when missing, unless ``create`` is false.
        retention_days: Days an item is kept (default ``WARNING_FEEDBACK_RETENTION_DAYS``).
        allow_extremism: Accept the ``extremism`` label (default
            ``WARNING_FEEDBACK_EXTREMISM``).
        clock: Current time, UTC (tests inject one).
        create: True: make a missing SQLite file, and create or upgrade the schema to the
            newest migration (under a lock: replicas starting together upgrade it once). False
            (the CLI): refuse a missing file (a typo must not make a new, empty database) and a
            schema that is not the newest (``warning feedback migrate`` upgrades it).

    Raises:
        FeedbackError: The ``db`` extra is missing, a missing file with ``create=False``, a
            database that cannot be reached, is not a feedback database, was made by a newer
            version, or (with ``create=False``) needs its migrations run.
    """

    def __init__(self, path: Path | str, *, retention_days: int | None = None,
                 allow_extremism: bool | None = None,
                 clock: Callable[[], datetime] = _utc_now, create: bool = True) -> None:
        from warning import settings

        self.retention_days = (settings.feedback_retention_days() if retention_days is None
                               else retention_days)
        if self.retention_days < 1:
            raise FeedbackError("the retention period must be at least 1 day")
        self.allow_extremism = (settings.feedback_extremism() if allow_extremism is None
                                else allow_extremism)
        self.clock = clock
        db = _db_module()
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.orm import sessionmaker

        try:
            url = db.database_url(path)
        except db.DatabaseRefused as exc:
            raise FeedbackError(f"WARNING_FEEDBACK_DB: {exc}") from None
        #: the database, as it may be printed (password masked)
        self.url = db.display_url(url)
        #: the SQLite file, or None on PostgreSQL
        self.path: Path | None = None
        if url.get_backend_name() == "sqlite":
            self.path = Path(url.database or "")
            where = str(self.path)
            if not self.path.exists():
                if not create:
                    raise FeedbackError(f"no feedback database at {self.path} (set "
                                        "WARNING_FEEDBACK_DB or --db to the server's file or "
                                        "URL)")
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # owner-only from the first byte: the file holds posts (SQLite gives its WAL
                # and shared-memory files the same mode)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        else:
            where = self.url
        self._engine = db.make_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        try:
            self._open(db, create)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise FeedbackError(f"{where} is not a usable feedback database ({reason})") \
                from None
        except FeedbackError:
            self._engine.dispose()
            raise
        #: items removed for age when the store was opened
        self.purged_on_open = self.purge()

    def _open(self, db: Any, create: bool) -> None:
        from sqlalchemy import select

        with self._engine.connect() as connection:
            revision, problem = db.schema_problem(connection)
            connection.rollback()
        where = str(self.path) if self.path is not None else self.url
        if problem is not None:
            raise FeedbackError(f"{where}: {problem}")
        if revision != db.HEAD:
            if not create:
                state = (f"schema revision {revision}" if revision is not None
                         else "no schema revision (made before migrations)")
                raise FeedbackError(f"{where} has {state}; this version needs {db.HEAD}: run "
                                    "'warning feedback migrate' (with the same --db or "
                                    "WARNING_FEEDBACK_DB) first")
            try:
                db.migrate(self._engine)
            except db.DatabaseRefused as exc:
                raise FeedbackError(f"{where}: {exc}") from None
        with self._sessions() as session:
            salt = session.scalar(select(db.MetaRow.value).where(db.MetaRow.key == "salt"))
        if salt is None:
            raise FeedbackError(f"{where} has no salt for key identities: it was not made by "
                                "'warning feedback migrate'")
        self._salt = bytes.fromhex(salt)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A session in one transaction, committed at the end (rolled back on an error; on
        SQLite it begins with ``BEGIN IMMEDIATE``)."""
        with self._sessions.begin() as session:
            yield session

    # ---- identities ---------------------------------------------------------------------------

    def identity(self, key: str) -> str:
        """The stable identity of an API key in this database: ``key:`` and 16 hex digits of an
        HMAC-SHA-256 under the database's salt. The same in every process, on every replica
        that shares the database and after a restart; the key cannot be read back from it.

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
        """Store a correction as ``pending``; committed when this returns.

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
        row = _db_module().FeedbackRow(**{k: v for k, v in item.to_dict().items()
                                          if k not in _REVIEW_FIELDS})
        with self._transaction() as session:
            self._purge_in(session)
            session.add(row)
        return item

    def review(self, item_id: str, *, reviewer: str, confirm: bool,
               note: str | None = None) -> FeedbackItem:
        """Confirm or reject a pending item; committed when this returns. Two reviews of one
        item at once, from any process or replica, are one after the other: the second finds
        it reviewed.

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
        with self._transaction() as session:
            self._purge_in(session)
            row = self._row(session, item_id, lock=True)
            if _person(reviewer) == _person(row.submitter):
                raise SamePerson(f"feedback {item_id} was submitted by {row.submitter}: a "
                                 "second person must review it")
            if row.status != "pending":
                raise AlreadyReviewed(f"feedback {item_id} was already {row.status} by "
                                      f"{row.reviewer} at {row.reviewed}")
            row.status = "confirmed" if confirm else "rejected"
            row.reviewer = reviewer
            row.reviewed = _fmt(self.clock())
            row.review_note = note
            session.flush()
            return _item(row)

    def delete(self, item_id: str, *, unless_confirmed: bool = False) -> None:
        """Delete an item (on SQLite its text is overwritten in the file).

        Args:
            item_id: The item.
            unless_confirmed: Delete it only while it is not confirmed, in the same statement
                (a submitter withdrawing its item: a review between reading the item and
                deleting it cannot slip through).

        Raises:
            FeedbackNotFound: No such item.
            AlreadyReviewed: ``unless_confirmed`` and the item is confirmed (it is kept).
        """
        from sqlalchemy import delete

        table = _db_module().FeedbackRow
        with self._transaction() as session:
            self._purge_in(session)
            where = table.id == item_id
            if unless_confirmed:
                where = where & (table.status != "confirmed")
            result = session.execute(delete(table).where(where),
                                     execution_options={"synchronize_session": False})
            if result.rowcount == 0:  # type: ignore[attr-defined]
                if unless_confirmed:
                    self._row(session, item_id)  # FeedbackNotFound when there is none
                    raise AlreadyReviewed(f"feedback {item_id} is confirmed: only a reviewer "
                                          "may delete it")
                raise FeedbackNotFound(f"no feedback with id {item_id}")
        self._checkpoint()

    def purge(self) -> int:
        """Delete every item older than the retention period, and every recent response past
        its lifetime; returns how many items."""
        with self._transaction() as session:
            removed = self._purge_in(session)
            expired = self._purge_responses_in(session, self.clock().timestamp())
        if removed or expired:
            self._checkpoint()
        return removed

    def _purge_in(self, session: Any) -> int:
        from sqlalchemy import delete

        table = _db_module().FeedbackRow
        cutoff = _fmt(self.clock() - timedelta(days=self.retention_days))
        result = session.execute(delete(table).where(table.created < cutoff),
                                 execution_options={"synchronize_session": False})
        return int(result.rowcount)

    def _checkpoint(self) -> None:
        # SQLite: move deleted pages out of the WAL file too, so no copy of a deleted text
        # lingers there
        _db_module().sqlite_checkpoint(self._engine)

    # ---- recent scoring responses -------------------------------------------------------------

    def add_responses(self, responses: Sequence[tuple[str, str | None,
                                                      Mapping[str, float | None], str]],
                      *, now: float, lifetime_s: float, max_items: int) -> list[str]:
        """Keep scoring responses that feedback may name by id, for ``lifetime_s`` seconds,
        shared by every process and replica that uses this database. Responses past their
        lifetime, and the oldest beyond the newest ``max_items``, are deleted first.

        Args:
            responses: ``(text, lang, scores, model)`` per scored text.
            now: Seconds since the epoch (the caller's clock: tests inject one).
            lifetime_s: Seconds each is kept.
            max_items: Most responses kept in the database.

        Returns:
            The new ids (``resp-`` + 32 hex digits), in order.
        """
        from sqlalchemy import delete, select

        table = _db_module().ResponseRow
        ids = [new_id("resp") for _ in responses]
        # a microsecond apart within one call, so that "the oldest" is well defined
        rows = [table(id=rid, created=now + i * 1e-6, expires=now + lifetime_s, text=text,
                      lang=lang, scores=dict(scores), model=model)
                for i, (rid, (text, lang, scores, model))
                in enumerate(zip(ids, responses, strict=True))]
        with self._transaction() as session:
            self._purge_responses_in(session, now)
            session.add_all(rows)
            session.flush()
            beyond = (select(table.id).order_by(table.created.desc(), table.id.desc())
                      .offset(max_items).scalar_subquery())
            session.execute(delete(table).where(table.id.in_(beyond)),
                            execution_options={"synchronize_session": False})
        return ids

    def get_response(self, response_id: str, *, now: float) -> tuple[StoredResponse, bool]:
        """A recent response by id, and whether it is past its lifetime at ``now`` (then it
        is deleted, with every other expired one).

        Raises:
            KeyError: No response with that id is kept.
        """
        from sqlalchemy import select

        table = _db_module().ResponseRow
        with self._transaction() as session:
            row = session.scalar(select(table).where(table.id == response_id))
            if row is None:
                raise KeyError(response_id)
            found = StoredResponse(id=row.id, created=row.created, expires=row.expires,
                                   text=row.text, lang=row.lang, scores=dict(row.scores),
                                   model=row.model)
            self._purge_responses_in(session, now)
        return found, found.expires < now

    def count_responses(self) -> int:
        """How many recent responses are kept (expired ones included until the next purge)."""
        from sqlalchemy import func, select

        table = _db_module().ResponseRow
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    def _purge_responses_in(self, session: Any, now: float) -> int:
        from sqlalchemy import delete

        table = _db_module().ResponseRow
        result = session.execute(delete(table).where(table.expires < now),
                                 execution_options={"synchronize_session": False})
        return int(result.rowcount)

    # ---- reads --------------------------------------------------------------------------------

    def _row(self, session: Any, item_id: str, *, lock: bool = False) -> Any:
        from sqlalchemy import select

        table = _db_module().FeedbackRow
        query = select(table).where(table.id == item_id)
        if lock:  # PostgreSQL: the row stays locked until the review commits
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise FeedbackNotFound(f"no feedback with id {item_id}")
        return row

    def get(self, item_id: str) -> FeedbackItem:
        """The item with this id.

        Raises:
            FeedbackNotFound: No such item.
        """
        # a long-running server must not show an item past the retention period
        with self._transaction() as session:
            self._purge_in(session)
            return _item(self._row(session, item_id))

    def items(self, status: str | None = None, *, limit: int | None = None,
              oldest_first: bool = True) -> list[FeedbackItem]:
        """Items, oldest first (a review queue), optionally of one status only."""
        from sqlalchemy import select

        if status is not None and status not in STATUSES:
            raise InvalidFeedback("status", f"status must be one of {', '.join(STATUSES)}")
        table = _db_module().FeedbackRow
        query = select(table)
        if status is not None:
            query = query.where(table.status == status)
        query = query.order_by(table.created.asc() if oldest_first else table.created.desc(),
                               table.id)
        if limit is not None:
            query = query.limit(int(limit))
        with self._transaction() as session:
            self._purge_in(session)
            return [_item(row) for row in session.scalars(query)]

    def counts(self) -> dict[str, int]:
        """Items per status."""
        from sqlalchemy import func, select

        table = _db_module().FeedbackRow
        with self._transaction() as session:
            self._purge_in(session)
            found = dict(session.execute(select(table.status, func.count())
                                         .group_by(table.status)).all())
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
        """Close the database connections (the store cannot be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
