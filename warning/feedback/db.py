"""The feedback store's database: its tables as SQLAlchemy 2 models, the engine for SQLite or
PostgreSQL, and the Alembic migrations that create and upgrade the schema
(``warning/feedback/migrations/``).

The same code runs on both:

- **SQLite** (the embedded default, one machine): ``WARNING_FEEDBACK_DB=/path/feedback.db`` or
  ``sqlite:////path/feedback.db``. The file is made readable by its owner only, in WAL mode,
  with ``secure_delete`` (a deleted text is overwritten in the file); every transaction starts
  with ``BEGIN IMMEDIATE``, so a read-then-write (a review) is never interleaved with another
  process's write.
- **PostgreSQL** (replicas on several machines): ``postgresql+psycopg://user@host/db``
  (``postgresql://`` is read as psycopg 3). A review locks its row (``SELECT ... FOR
  UPDATE``); migrations run under an advisory lock, so replicas starting together upgrade the
  schema once.

Only this module (and the store that imports it lazily) needs the ``db`` extra:
``pip install 'early-warning[db]'``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
    CheckConstraint,
    Connection,
    Engine,
    Float,
    Index,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
)
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "HEAD",
    "LEGACY_REVISION",
    "Base",
    "DatabaseRefused",
    "FeedbackRow",
    "MetaRow",
    "ResponseRow",
    "current_revision",
    "database_url",
    "display_url",
    "make_engine",
    "migrate",
    "schema_problem",
]

#: The newest schema revision this code knows (``warning/feedback/migrations/versions/``).
HEAD = "0002"
#: The revision that matches the schema the store made by hand before migrations existed
#: (``PRAGMA user_version = 1``); such a file is stamped with it, then upgraded.
LEGACY_REVISION = "0001"
#: ``PRAGMA user_version`` written into SQLite files at :data:`HEAD`: software from before the
#: migrations refuses files whose version is above 1, instead of misreading them.
SQLITE_USER_VERSION = 2
_OUR_TABLES = frozenset({"meta", "feedback", "recent_responses", "alembic_version"})
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: a constant key for pg_advisory_xact_lock: one migration at a time per database
_PG_LOCK_KEY = 0x5EED_BACC
#: seconds a SQLite connection waits for another process's lock before it gives up
_SQLITE_BUSY_S = 10.0


class DatabaseRefused(ValueError):
    """The location names no usable feedback database (another driver, another
    application's tables, a newer schema); the message says which and what to do."""


class JSONText(TypeDecorator[Any]):
    """JSON kept in a TEXT column (the schema the store always had), the same on SQLite and
    PostgreSQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    """The feedback store's tables."""


class MetaRow(Base):
    """Settings of the database itself: the ``salt`` of key identities."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class FeedbackRow(Base):
    """One correction and its review (see :class:`warning.feedback.store.FeedbackItem`). Times are
    UTC text (``2026-11-27T08:00:00Z``), which sorts as time does."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')",
                        name="feedback_status_check"),
        Index("feedback_status_created", "status", "created"),
        Index("feedback_created", "created"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    lang: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, bool]] = mapped_column(JSONText, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    submitter: Mapped[str] = mapped_column(Text, nullable=False)
    response_id: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, float | None] | None] = mapped_column(JSONText)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    reviewer: Mapped[str | None] = mapped_column(Text)
    reviewed: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)


class ResponseRow(Base):
    """A recent scoring response that feedback may name by its id, shared by every replica
    that uses the database; deleted once ``expires`` (seconds since the epoch) has passed."""

    __tablename__ = "recent_responses"
    __table_args__ = (
        Index("recent_responses_created", "created"),
        Index("recent_responses_expires", "expires"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    created: Mapped[float] = mapped_column(Float, nullable=False)
    expires: Mapped[float] = mapped_column(Float, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    lang: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, float | None]] = mapped_column(JSONText, nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)


# ---- where the database is --------------------------------------------------------------------


def database_url(location: str | os.PathLike[str]) -> URL:
    """The SQLAlchemy URL of a feedback database given as a file path or a URL.

    A path (``~`` expanded) or ``sqlite:///...`` is a SQLite file; ``postgresql+psycopg://...``
    (or ``postgresql://...``, read as psycopg 3) a PostgreSQL database.

    Raises:
        DatabaseRefused: Not a URL SQLAlchemy reads, another database or driver, or an
            in-memory SQLite database (it would vanish with the connection).

    Example:
        >>> database_url("postgresql://moderation@db.internal/feedback").drivername
        'postgresql+psycopg'
        >>> database_url("/var/lib/warning/feedback.db").render_as_string()
        'sqlite:////var/lib/warning/feedback.db'
    """
    text = os.fspath(location).strip()
    if not text:
        raise DatabaseRefused("the feedback database is empty: give a file or a URL")
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseRefused(f"{_scheme(text)}... is not a database URL SQLAlchemy can read "
                              "(e.g. postgresql+psycopg://user@host/db or "
                              "sqlite:////path/feedback.db)") from None
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "sqlite":
        if url.drivername != "sqlite":
            raise DatabaseRefused(f"use sqlite:///PATH, not {url.drivername}://")
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise DatabaseRefused("an in-memory SQLite database would vanish with its "
                                  "connection: give a file, e.g. sqlite:////var/lib/warning/"
                                  "feedback.db")
        return url.set(database=str(Path(url.database).expanduser()))
    if backend == "postgresql":
        if "+" not in url.drivername:
            url = url.set(drivername="postgresql+psycopg")
        elif driver != "psycopg":
            raise DatabaseRefused(f"the feedback store speaks to PostgreSQL through psycopg 3: "
                                  f"write postgresql+psycopg://, not {url.drivername}://")
        return url
    raise DatabaseRefused(f"{url.drivername}:// is not supported: the feedback store runs on "
                          "SQLite (a file) or PostgreSQL (postgresql+psycopg://)")


def _scheme(text: str) -> str:
    return text.split("://", 1)[0] + "://"


def display_url(url: URL) -> str:
    """The URL as it may be printed: the password masked."""
    return url.render_as_string(hide_password=True)


# ---- engines ----------------------------------------------------------------------------------


def make_engine(url: URL) -> Engine:
    """An engine for the feedback database, set up for its dialect (see the module's text)."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_S,
                                                  "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # the driver's own transaction handling off: "begin" below emits BEGIN IMMEDIATE
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                _sqlite_wal(cursor)
                cursor.execute("PRAGMA secure_delete=ON")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # take the write lock at the start: a read-then-write transaction (a review)
            # cannot deadlock with, or be overtaken by, another process's write
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         pool_timeout=30,
                         connect_args={"connect_timeout": 10,
                                       "application_name": "early-warning feedback"})


def _sqlite_wal(cursor: Any, clock: Callable[[], float] = time.monotonic) -> None:
    """Put the file in WAL mode (kept in the file: once done, this only reads it).

    The switch from a new file's rollback journal needs SQLite's exclusive lock. When several
    processes open a new file together, SQLite answers "database is locked" at once, without
    waiting, to the one whose wait could deadlock (it holds the shared lock another one needs
    gone), so the switch is tried again, with the lock released between tries, for as long as
    any other wait on this database (``_SQLITE_BUSY_S``).
    """
    deadline = clock() + _SQLITE_BUSY_S
    pause = 0.005
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or clock() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def sqlite_checkpoint(engine: Engine) -> None:
    """Move deleted pages out of SQLite's WAL file, so that no copy of a deleted text lingers
    there (no-op on PostgreSQL, where (auto)vacuum reclaims deleted rows)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


# ---- schema and migrations --------------------------------------------------------------------


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    """The schema revision recorded in the database (None: no migration has run)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _known(connection: Connection, revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(_alembic_config(connection))
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _is_legacy(connection: Connection, tables: set[str]) -> bool:
    """A database the store made by hand before migrations: exactly its two tables and, for
    SQLite, ``user_version`` 1 (0 when the tables were made by hand elsewhere)."""
    if tables != {"meta", "feedback"}:
        return False
    if connection.dialect.name == "sqlite":
        version = connection.exec_driver_sql("PRAGMA user_version").scalar()
        return version in (0, 1)
    return True


def schema_problem(connection: Connection) -> tuple[str | None, str | None]:
    """Where the database stands: ``(revision, problem)``. The revision is None for a database
    without migrations (new, or made by hand before them); the problem is a sentence when the
    database must not be used or migrated by this code, else None."""
    revision = current_revision(connection)
    if revision is not None:
        if not _known(connection, revision):
            return revision, (f"its schema is at revision {revision}, made by a newer version "
                              f"of the software (this one knows up to {HEAD}): upgrade the "
                              "software")
        return revision, None
    tables = _tables(connection)
    if connection.dialect.name == "sqlite":
        version = connection.exec_driver_sql("PRAGMA user_version").scalar() or 0
        if version > 1 and tables:
            return None, (f"it has schema version {version} but no migration record: it was "
                          "not made by this software")
    other = sorted(tables - _OUR_TABLES)
    if other:
        return None, (f"it holds other tables ({', '.join(other[:5])}), not a feedback "
                      "database: give the feedback store a database of its own")
    return None, None


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    if connection.dialect.name == "postgresql":
        # held until the transaction ends; other replicas wait here, then find the schema done
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    # SQLite: the transaction began with BEGIN IMMEDIATE, which already excludes other writers
    yield


def migrate(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema to ``revision`` (default: the newest) with the Alembic
    migrations, in one transaction, under a lock (one migration at a time per database).

    A database the store made by hand before migrations is first stamped with
    :data:`LEGACY_REVISION` (the migration that matches it), so its items, and the salt of its
    key identities, are kept.

    Returns:
        The revision before and after.

    Raises:
        DatabaseRefused: Another application's tables, or a schema newer than this code.
    """
    from alembic import command

    with engine.begin() as connection, _migration_lock(connection):
        before, problem = schema_problem(connection)
        if problem is not None:
            raise DatabaseRefused(problem)
        config = _alembic_config(connection)
        if before is None and _is_legacy(connection, _tables(connection)):
            command.stamp(config, LEGACY_REVISION)
            before = LEGACY_REVISION
        command.upgrade(config, revision)
        after = current_revision(connection)
    return before, after
