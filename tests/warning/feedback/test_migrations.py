"""The feedback store's Alembic migrations: from empty they make exactly the models' schema, on
SQLite and on PostgreSQL; a SQLite file made by the hand-written schema of earlier versions,
and a database at the previous revision, are upgraded with their items and key identities
kept; replicas migrating at once upgrade the schema once."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from warning.cli import main
from warning.feedback import SCHEMA_VERSION, FeedbackError, FeedbackStore

sa = pytest.importorskip("sqlalchemy")
feedback_db = pytest.importorskip("warning.feedback.db")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

#: The schema the store made by hand before migrations existed (warning/feedback.py up to
#: this change), statement for statement, with the steps it took on a new file.
PREVIOUS_SCHEMA = """
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
SALT = "ab" * 32
KEY = "moderator-key-0123456789"


def _previous_version_file(path: Path) -> None:
    """A file as the previous version left it: WAL, user_version 1, a salt, two items."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(PREVIOUS_SCHEMA)
    db.execute("INSERT INTO meta VALUES ('salt', ?)", (SALT,))
    db.execute("PRAGMA user_version=1")
    rows = [
        ("fb-" + "1" * 32, "2099-01-01T08:00:00Z", "Ты тупой идиот", "ru",
         json.dumps({"offensive": True}), None, "key:aaaa", None, None, None, "pending", None,
         None, None),
        ("fb-" + "2" * 32, "2099-01-02T08:00:00Z", "Kyrgyz people are vermin", "en",
         json.dumps({"hate": True}), "missed", "key:bbbb", "resp-" + "3" * 32, "fake@1",
         json.dumps({"hate": 0.2, "extremism": None}), "confirmed", "Aida",
         "2099-01-02T09:00:00Z", "agreed"),
    ]
    db.executemany(f"INSERT INTO feedback VALUES ({','.join('?' * 14)})", rows)
    db.close()


def _clock():
    from datetime import UTC, datetime

    return datetime(2099, 1, 3, tzinfo=UTC)


def _schema_differences(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = feedback_db.make_engine(feedback_db.database_url(url))
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection),
                                    feedback_db.Base.metadata)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "feedback.db")


def test_feedback_migrations_from_empty_make_the_models_schema(location) -> None:
    engine = feedback_db.make_engine(feedback_db.database_url(location))
    try:
        assert feedback_db.migrate(engine) == (None, SCHEMA_VERSION)
        assert feedback_db.migrate(engine) == (SCHEMA_VERSION, SCHEMA_VERSION)  # idempotent
    finally:
        engine.dispose()
    assert _schema_differences(location) == []
    assert feedback_db.HEAD == SCHEMA_VERSION


def test_feedback_migrations_go_down_and_up_again(location) -> None:
    engine = feedback_db.make_engine(feedback_db.database_url(location))
    try:
        feedback_db.migrate(engine)
        from alembic import command

        with engine.begin() as connection:
            command.downgrade(feedback_db._alembic_config(connection), "0001")
        with engine.connect() as connection:
            assert feedback_db.current_revision(connection) == "0001"
            assert "recent_responses" not in sa.inspect(connection).get_table_names()
        assert feedback_db.migrate(engine) == ("0001", SCHEMA_VERSION)
    finally:
        engine.dispose()
    assert _schema_differences(location) == []


def test_feedback_migrate_upgrades_a_file_of_the_previous_schema(tmp_path, capsys) -> None:
    path = tmp_path / "feedback.db"
    _previous_version_file(path)
    path.chmod(0o600)

    # the CLI refuses to read it before the migration, and says what to run
    assert main(["feedback", "list", "--db", str(path)]) == 2
    assert "run 'warning feedback migrate'" in capsys.readouterr().err

    assert main(["feedback", "migrate", "--db", str(path)]) == 0
    assert f"upgraded from 0001 to revision {SCHEMA_VERSION}" in capsys.readouterr().out
    assert main(["feedback", "migrate", "--db", str(path)]) == 0
    assert "already at revision" in capsys.readouterr().out

    with FeedbackStore(path, create=False, clock=_clock) as store:
        items = {item.id: item for item in store.items()}
        assert store.counts() == {"pending": 1, "confirmed": 1, "rejected": 0}
        old = items["fb-" + "2" * 32]
        assert (old.text, old.labels, old.scores, old.reviewer, old.review_note) == (
            "Kyrgyz people are vermin", {"hate": True}, {"hate": 0.2, "extremism": None},
            "Aida", "agreed")
        # the salt is kept: every key keeps its identity, so four eyes hold across the upgrade
        expected = "key:" + hmac.new(bytes.fromhex(SALT), KEY.encode(),
                                     hashlib.sha256).hexdigest()[:16]
        assert store.identity(KEY) == expected
        # and the upgraded file works as a new one does
        new = store.submit("a new post", {"hate": False}, submitter="key:cccc", lang="en")
        assert store.review(new.id, reviewer="Bakyt", confirm=True).status == "confirmed"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2  # old software refuses it
        # the rebuilt table keeps the status check and no longer takes a NULL id
        for row in (("fb-x", "bogus"), (None, "pending")):
            with pytest.raises(sqlite3.IntegrityError):
                db.execute("INSERT INTO feedback (id, created, text, labels, submitter, status)"
                           " VALUES (?, '2099-01-01T00:00:00Z', 't', '{}', 'k', ?)", row)
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE "
                                            "type='index' AND tbl_name='feedback'")}
        assert {"feedback_status_created", "feedback_created"} <= indexes
    assert _schema_differences(str(path)) == []


def test_feedback_server_start_upgrades_a_file_of_the_previous_schema(tmp_path) -> None:
    """The server opens its store with create=True: an old file is upgraded at start-up."""
    path = tmp_path / "feedback.db"
    _previous_version_file(path)
    with FeedbackStore(path, clock=_clock) as store:
        assert len(store.items()) == 2


def test_feedback_postgres_database_at_the_previous_revision_is_upgraded(postgres_url,
                                                                         capsys) -> None:
    engine = feedback_db.make_engine(feedback_db.database_url(postgres_url))
    try:
        assert feedback_db.migrate(engine, "0001") == (None, "0001")
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO feedback (id, created, text, lang, labels, submitter, status) "
                "VALUES ('fb-old', '2099-01-01T08:00:00Z', 'Бүгүн Ошко барам', 'ky', "
                "'{\"offensive\": false}', 'key:aaaa', 'pending')"))
            salt = connection.execute(sa.text("SELECT value FROM meta")).scalar_one()
    finally:
        engine.dispose()
    with pytest.raises(FeedbackError, match="warning feedback migrate"):
        FeedbackStore(postgres_url, create=False)
    assert main(["feedback", "migrate", "--db", postgres_url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from 0001 to revision {SCHEMA_VERSION}" in out
    assert "postgresql+psycopg://postgres@127.0.0.1" in out
    with FeedbackStore(postgres_url, create=False, clock=_clock) as store:
        assert [(i.id, i.text, i.labels) for i in store.items()] == [
            ("fb-old", "Бүгүн Ошко барам", {"offensive": False})]
        assert store.identity(KEY) == "key:" + hmac.new(
            bytes.fromhex(salt), KEY.encode(), hashlib.sha256).hexdigest()[:16]
    assert _schema_differences(postgres_url) == []


def test_feedback_replicas_starting_together_migrate_once(location) -> None:
    """Four replicas open a new database at the same moment: the schema is made once (one
    salt), and every replica opens it."""
    if not location.startswith("postgresql"):
        Path(location).touch(mode=0o600)
    barrier = threading.Barrier(4)
    identities: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            with FeedbackStore(location) as store:
                identities.append(store.identity(KEY))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(identities) == 4 and len(set(identities)) == 1


def test_feedback_migrate_refuses_another_applications_database(location, capsys) -> None:
    engine = feedback_db.make_engine(feedback_db.database_url(location))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE invoices (id INTEGER)"))
    finally:
        engine.dispose()
    assert main(["feedback", "migrate", "--db", location]) == 2
    err = capsys.readouterr().err
    assert "other tables (invoices)" in err and err.count("\n") == 1


class _BusyCursor:
    """A DB-API cursor whose WAL switch finds the file locked ``busy`` times (SQLite's answer,
    without waiting, to the one of several new connections whose wait could deadlock)."""

    def __init__(self, busy: int, error: str = "database is locked") -> None:
        self.busy, self.error, self.mode, self.calls = busy, error, "delete", 0

    def execute(self, sql: str) -> _BusyCursor:
        self.calls += 1
        if sql == "PRAGMA journal_mode=WAL":
            if self.busy:
                self.busy -= 1
                raise sqlite3.OperationalError(self.error)
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_sqlite_wal_switch_is_tried_again_while_the_file_is_locked() -> None:
    cursor = _BusyCursor(busy=3)
    feedback_db._sqlite_wal(cursor)
    assert cursor.mode == "wal" and cursor.busy == 0


def test_sqlite_wal_switch_gives_up_after_the_busy_timeout() -> None:
    now = iter([0.0, 5.0, feedback_db._SQLITE_BUSY_S + 1])
    cursor = _BusyCursor(busy=10)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        feedback_db._sqlite_wal(cursor, clock=lambda: next(now))
    assert cursor.busy == 8  # tried twice, then the deadline had passed


def test_sqlite_wal_switch_raises_other_errors_at_once() -> None:
    cursor = _BusyCursor(busy=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        feedback_db._sqlite_wal(cursor)
    assert cursor.busy == 0


def test_sqlite_wal_mode_already_set_is_only_read() -> None:
    cursor = _BusyCursor(busy=5)
    cursor.mode = "wal"
    feedback_db._sqlite_wal(cursor)
    assert cursor.calls == 1 and cursor.busy == 5
