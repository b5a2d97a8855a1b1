"""The feedback store: pending -> confirmed/rejected, four eyes, export of confirmed items only,
deletion, retention with an injected clock, the schema version and the stable key identity;
each on SQLite and on PostgreSQL (a real server, marked ``postgres``)."""

from __future__ import annotations

import csv
import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warning.feedback.store import (
    EXPORT_COLUMNS,
    SCHEMA_VERSION,
    AlreadyReviewed,
    FeedbackError,
    FeedbackNotFound,
    FeedbackStore,
    InvalidFeedback,
    SamePerson,
    check_labels,
)
from warning.labels import LABELS


class Clock:
    """A settable UTC clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path: Path) -> str:
    """Where a new feedback database goes: a SQLite file, or a new PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return str(tmp_path / "feedback.db")


@pytest.fixture
def another_location(location: str, request, tmp_path: Path) -> str:
    """A second new database of the same kind."""
    if location.startswith("postgresql"):
        return request.getfixturevalue("postgres_server").create_database(
            f"t_other_{tmp_path.name[-20:].lower().replace('-', '_')}")
    return str(tmp_path / "other.db")


@pytest.fixture
def store(location: str, clock: Clock):
    with FeedbackStore(location, retention_days=30, allow_extremism=False,
                       clock=clock) as opened:
        yield opened


def test_feedback_life_cycle_pending_confirm_reject_export(store, tmp_path) -> None:
    a = store.submit("Ты тупой идиот", {"offensive": True, "threat": False}, submitter="key:a",
                     note="missed insult")
    b = store.submit("Kyrgyz people are vermin", {"hate": True}, submitter="key:a", lang="en")
    c = store.submit("Бүгүн Ошко барам", {"offensive": False}, submitter="key:b")
    assert (a.status, a.lang, a.labels, a.reviewer) == ("pending", "ru",
                                                         {"offensive": True, "threat": False},
                                                         None)
    assert a.id.startswith("fb-") and len(a.id) == 35 and len({a.id, b.id, c.id}) == 3
    assert store.counts() == {"pending": 3, "confirmed": 0, "rejected": 0}

    done = store.review(a.id, reviewer="Aida", confirm=True, note="agreed")
    assert (done.status, done.reviewer, done.review_note) == ("confirmed", "Aida", "agreed")
    assert done.reviewed == "2026-01-01T12:00:00Z"
    assert store.review(c.id, reviewer="key:a", confirm=False).status == "rejected"
    assert [i.id for i in store.items("pending")] == [b.id]
    assert store.get(a.id).status == "confirmed"  # persisted, not only returned

    n = store.export(tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert n == 1 and len(rows) == 1  # pending b and rejected c are not exported
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["text"] == "Ты тупой идиот" and rows[0]["lang"] == "ru"
    assert {k: rows[0][k] for k in LABELS} == {"offensive": True, "hate": None, "threat": False,
                                               "extremism": None}
    assert "note" not in rows[0] and "submitter" not in rows[0]


def test_feedback_export_csv_writes_one_zero_and_empty(store, tmp_path) -> None:
    item = store.submit("post", {"hate": False, "threat": True}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="Bakyt", confirm=True)
    store.export(tmp_path / "out.csv")
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["offensive"], r["hate"], r["threat"], r["extremism"]) for r in rows] == [
        ("", "0", "1", "")]
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o600


@pytest.mark.parametrize("reviewer", ["key:a", "KEY:A ", "Aida"])
def test_feedback_four_eyes_refuses_the_submitter(store, reviewer) -> None:
    item = store.submit("post", {"hate": True}, submitter="Aida" if reviewer == "Aida"
                        else "key:a", lang="en")
    with pytest.raises(SamePerson, match="second person"):
        store.review(item.id, reviewer=reviewer, confirm=True)
    assert store.get(item.id).status == "pending"


def test_feedback_review_only_once_and_unknown_ids(store) -> None:
    item = store.submit("post", {"hate": True}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="key:b", confirm=False)
    with pytest.raises(AlreadyReviewed, match="already rejected by key:b"):
        store.review(item.id, reviewer="key:c", confirm=True)
    for action in (lambda: store.get("fb-nope"), lambda: store.delete("fb-nope"),
                   lambda: store.review("fb-nope", reviewer="x", confirm=True)):
        with pytest.raises(FeedbackNotFound, match="fb-nope"):
            action()


def test_feedback_delete_unless_confirmed_keeps_a_confirmed_item(store) -> None:
    item = store.submit("post", {"hate": True}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="key:b", confirm=True)
    with pytest.raises(AlreadyReviewed, match="is confirmed"):
        store.delete(item.id, unless_confirmed=True)
    assert store.get(item.id).status == "confirmed"
    with pytest.raises(FeedbackNotFound, match="fb-nope"):
        store.delete("fb-nope", unless_confirmed=True)
    rejected = store.submit("other", {"hate": True}, submitter="key:a", lang="en")
    store.review(rejected.id, reviewer="key:b", confirm=False)
    store.delete(rejected.id, unless_confirmed=True)  # not confirmed: withdrawn
    with pytest.raises(FeedbackNotFound):
        store.get(rejected.id)


def test_feedback_delete_removes_the_item_and_its_text_from_the_file(store, tmp_path) -> None:
    secret = "a very particular sentence 8c41"
    item = store.submit(secret, {"offensive": False}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="key:b", confirm=True)
    store.delete(item.id)
    with pytest.raises(FeedbackNotFound):
        store.get(item.id)
    assert store.export(tmp_path / "out.jsonl") == 0
    for path in tmp_path.glob("feedback.db*"):  # the database, its WAL and shared memory
        assert secret.encode() not in path.read_bytes(), path.name


def test_feedback_retention_purges_old_items_on_write_open_and_purge(location, clock) -> None:
    path = location
    store = FeedbackStore(path, retention_days=30, clock=clock)
    old = store.submit("old post", {"hate": True}, submitter="key:a", lang="en")
    store.review(old.id, reviewer="key:b", confirm=True)  # reviewed items age out too
    clock.advance(days=20)
    young = store.submit("young post", {"hate": False}, submitter="key:a", lang="en")
    clock.advance(days=10, seconds=1)  # old is now 30 days and 1 second old
    assert store.purge() == 1
    assert [i.id for i in store.items()] == [young.id]

    clock.advance(days=25)  # young is 35 days old: the next write removes it first
    newest = store.submit("newest", {"threat": False}, submitter="key:a", lang="en")
    assert [i.id for i in store.items()] == [newest.id]
    store.close()

    clock.advance(days=31)
    reopened = FeedbackStore(path, retention_days=30, clock=clock)
    assert reopened.purged_on_open == 1 and reopened.items() == []
    reopened.close()


def test_feedback_retention_setting_is_read_from_the_environment(location, monkeypatch) -> None:
    monkeypatch.setenv("WARNING_FEEDBACK_RETENTION_DAYS", "7")
    with FeedbackStore(location) as store:
        assert store.retention_days == 7
    monkeypatch.setenv("WARNING_FEEDBACK_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="WARNING_FEEDBACK_RETENTION_DAYS must be at least 1"):
        FeedbackStore(location)


@pytest.mark.parametrize(
    ("labels", "field", "match"),
    [
        ({}, "labels", "at least one label"),
        ({"hate": None}, "labels", "at least one label"),
        ({"toxicity": True}, "labels.toxicity", "unknown label 'toxicity'"),
        ({"hate": 1}, "labels.hate", "true, false or null"),
        ({"extremism": True}, "labels.extremism", "WARNING_FEEDBACK_EXTREMISM=1"),
        ({"extremism": False}, "labels.extremism", "experimental"),
    ],
)
def test_feedback_labels_are_checked(labels, field, match) -> None:
    with pytest.raises(InvalidFeedback, match=match) as info:
        check_labels(labels)
    assert info.value.field == field


def test_feedback_extremism_only_when_switched_on(location) -> None:
    assert check_labels({"extremism": True}, allow_extremism=True) == {"extremism": True}
    with FeedbackStore(location, allow_extremism=True) as store:
        item = store.submit("post", {"extremism": False}, submitter="key:a", lang="en")
        assert item.labels == {"extremism": False}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": "  "}, "text"),
        ({"text": "x" * 21}, "text"),
        ({"note": "n" * 2001}, "note"),
        ({"lang": "de"}, "lang"),
        ({"submitter": ""}, "submitter"),
    ],
)
def test_feedback_submit_validates_fields(store, kwargs, field) -> None:
    args = {"text": "a post", "labels": {"hate": True}, "submitter": "key:a", "lang": "en",
            **kwargs}
    with pytest.raises(InvalidFeedback) as info:
        store.submit(max_text_chars=20, **args)
    assert info.value.field == field
    assert store.items() == []


def test_feedback_identity_is_stable_across_reopening_and_hides_the_key(
        location, another_location, tmp_path) -> None:
    key = "moderator-key-0123456789"
    with FeedbackStore(location) as first:
        ident = first.identity(key)
    with FeedbackStore(location) as again:
        assert again.identity(key) == ident
        assert again.identity("another-key-0123456789") != ident
    with FeedbackStore(another_location) as other:
        assert other.identity(key) != ident  # the salt is per database
    assert ident.startswith("key:") and len(ident) == 20
    if not location.startswith("postgresql"):
        assert key.encode() not in Path(location).read_bytes()


def test_feedback_database_is_versioned_and_owner_only(tmp_path) -> None:
    path = tmp_path / "f.db"
    FeedbackStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        # the migrations' revision; user_version 2 makes software from before them refuse it
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            SCHEMA_VERSION
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(FeedbackError, match="newer version of the software"):
        FeedbackStore(path)
    for name in ("f.db-wal", "f.db-shm"):  # SQLite gives them the database's mode
        if (tmp_path / name).exists():
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_feedback_refuses_a_missing_file_or_another_database(tmp_path) -> None:
    with pytest.raises(FeedbackError, match="no feedback database"):
        FeedbackStore(tmp_path / "typo.db", create=False)
    assert not (tmp_path / "typo.db").exists()
    (tmp_path / "text.db").write_text("not a database at all, just text" * 10)
    with pytest.raises(FeedbackError, match="not a usable feedback database"):
        FeedbackStore(tmp_path / "text.db")
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(FeedbackError, match="other tables"):
        FeedbackStore(tmp_path / "other.db")
    with pytest.raises(FeedbackError, match="psycopg"):
        FeedbackStore("postgresql+psycopg2://user@host/db")
    with pytest.raises(FeedbackError, match="in-memory"):
        FeedbackStore("sqlite://")
    with pytest.raises(FeedbackError, match="not supported"):
        FeedbackStore("mysql://user@host/db")


def test_feedback_store_is_safe_for_threads(store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                item = store.submit(f"post {n} {i}", {"hate": bool(i % 2)},
                                    submitter=f"key:{n}", lang="en")
                store.review(item.id, reviewer=f"key:{n + 1}", confirm=True)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counts() == {"pending": 0, "confirmed": 40, "rejected": 0}


def test_feedback_retention_applies_to_reads_of_a_long_running_store(store, clock,
                                                                      tmp_path) -> None:
    """A server opens the store once: an item past the retention period must not be listed,
    shown, counted or exported even when nothing was written since it aged out."""
    item = store.submit("old post", {"hate": True}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="key:b", confirm=True)
    clock.advance(days=30, seconds=1)
    assert store.items() == [] and store.items("confirmed") == []
    assert store.counts() == {"pending": 0, "confirmed": 0, "rejected": 0}
    with pytest.raises(FeedbackNotFound):
        store.get(item.id)
    assert store.export(tmp_path / "out.jsonl") == 0


@pytest.mark.parametrize("reviewer", ["key:a\u200b", "\ufeffkey:a", "ｋｅｙ:ａ", "key:\u00a0a",
                                      "open\u2060", "ＯＰＥＮ"])
def test_feedback_four_eyes_sees_through_invisible_and_lookalike_characters(store,
                                                                           reviewer) -> None:
    """A name that only differs from the submitter's by invisible characters, width or
    spaces is the same person."""
    submitter = "open" if reviewer.casefold().startswith(("open", "ｏ")) else "key:a"
    item = store.submit("post", {"hate": True}, submitter=submitter, lang="en")
    with pytest.raises(SamePerson):
        store.review(item.id, reviewer=reviewer, confirm=True)
    assert store.get(item.id).status == "pending"


def test_feedback_export_over_an_existing_file_is_owner_only(store, tmp_path) -> None:
    """os.open's mode applies only to a new file: exporting over a world-readable one left
    the posts readable by everyone."""
    item = store.submit("post", {"hate": False}, submitter="key:a", lang="en")
    store.review(item.id, reviewer="Bakyt", confirm=True)
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    out.chmod(0o644)
    store.export(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_feedback_reviewer_of_invisible_characters_only_is_refused(store) -> None:
    item = store.submit("post", {"hate": True}, submitter="key:a", lang="en")
    with pytest.raises(InvalidFeedback, match="reviewer"):
        store.review(item.id, reviewer="\u200b\u2060", confirm=True)
    assert store.get(item.id).status == "pending"


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\ufeff", " \u2060 "])
def test_feedback_text_of_invisible_characters_is_empty(tmp_path, text) -> None:
    from warning.feedback import FeedbackStore, InvalidFeedback

    with FeedbackStore(tmp_path / "f.db") as store, pytest.raises(InvalidFeedback) as info:
        store.submit(text, {"hate": True}, submitter="key:aa", lang="en")
    assert info.value.field == "text"


def test_feedback_unknown_language_is_not_echoed(tmp_path) -> None:
    from warning.feedback import FeedbackStore, InvalidFeedback

    with FeedbackStore(tmp_path / "f.db") as store, pytest.raises(InvalidFeedback) as info:
        store.submit("post", {"hate": True}, submitter="key:aa", lang="Q" * 100_000)
    assert "QQQ" not in str(info.value) and len(str(info.value)) < 200


def test_feedback_store_without_the_db_extra_says_which_install_fixes_it(tmp_path,
                                                                         monkeypatch) -> None:
    """The core install scores without SQLAlchemy; only the store needs the 'db' extra, and
    says so."""
    import sys

    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "warning.feedback.db", raising=False)
    monkeypatch.delattr("warning.feedback.db", raising=False)
    with pytest.raises(FeedbackError, match=r"pip install 'early-warning\[db\]'"):
        FeedbackStore(tmp_path / "f.db")
    assert not (tmp_path / "f.db").exists()
