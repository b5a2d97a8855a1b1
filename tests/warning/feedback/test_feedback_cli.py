"""``warning feedback ...``: list, show, review (four eyes by name), export, delete, purge, and
clear errors with non-zero exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from warning.cli import main
from warning.feedback import FeedbackStore


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        first = store.submit("Ты тупой идиот", {"offensive": True}, submitter="key:aaaa",
                             note="missed insult")
        second = store.submit("Kyrgyz people are vermin", {"hate": True, "threat": False},
                              submitter="key:bbbb", lang="en")
    return path, first.id, second.id


def test_feedback_cli_list_show_review_export(db, tmp_path, capsys) -> None:
    path, first, second = db
    code, out, _ = _run(["feedback", "list", "--db", str(path)], capsys)
    assert code == 0
    assert "pending: 2 confirmed: 0 rejected: 0" in out
    assert first in out and second in out and "offensive=1" in out
    assert "идиот" not in out  # the list shows no texts

    code, out, _ = _run(["feedback", "show", first, "--db", str(path)], capsys)
    assert code == 0 and "Ты тупой идиот" in out and "missed insult" in out
    code, out, _ = _run(["feedback", "show", first, "--db", str(path), "--json"], capsys)
    assert json.loads(out)["submitter"] == "key:aaaa"

    code, out, _ = _run(["feedback", "review", first, "--confirm", "--reviewer", "Aida",
                         "--note", "agreed", "--db", str(path)], capsys)
    assert code == 0 and "confirmed by Aida" in out
    code, out, _ = _run(["feedback", "review", second, "--reject", "--reviewer", "Aida",
                         "--db", str(path)], capsys)
    assert code == 0 and "rejected by Aida" in out
    code, out, _ = _run(["feedback", "list", "--status", "pending", "--db", str(path),
                         "--json"], capsys)
    assert code == 0 and out == ""

    export = tmp_path / "out" / "feedback.jsonl"
    code, out, _ = _run(["feedback", "export", "-o", str(export), "--db", str(path)], capsys)
    assert code == 0 and "1 confirmed item(s)" in out and "--feedback" in out
    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [first]


@pytest.mark.parametrize("limit", ["-1", "0", "many"])
def test_feedback_cli_list_refuses_a_limit_below_one(db, capsys, limit) -> None:
    # --limit -1 listed every item (SQLite reads LIMIT -1 as none), --limit 0 listed none
    path, first, _ = db
    with pytest.raises(SystemExit) as exit_:
        main(["feedback", "list", "--db", str(path), "--limit", limit])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --limit" in err and first not in err
    assert "at least 1" in err or limit == "many"  # not a number: refused as before
    code, out, _ = _run(["feedback", "list", "--db", str(path), "--limit", "1"], capsys)
    assert code == 0 and out.count("fb-") == 1


def test_feedback_cli_review_refuses_the_submitter(db, capsys) -> None:
    path, first, _ = db
    code, _, err = _run(["feedback", "review", first, "--confirm", "--reviewer", "key:aaaa",
                         "--db", str(path)], capsys)
    assert code == 1 and "second person" in err and "Traceback" not in err
    with FeedbackStore(path, create=False) as store:
        assert store.get(first).status == "pending"


def test_feedback_cli_review_needs_a_decision(db, capsys) -> None:
    path, first, _ = db
    with pytest.raises(SystemExit) as info:
        main(["feedback", "review", first, "--reviewer", "Aida", "--db", str(path)])
    assert info.value.code == 2
    assert "--confirm" in capsys.readouterr().err


def test_feedback_cli_delete_and_unknown_ids(db, capsys) -> None:
    path, first, _ = db
    code, out, _ = _run(["feedback", "delete", first, "--db", str(path)], capsys)
    assert code == 0 and "deleted" in out
    for argv in (["feedback", "delete", first], ["feedback", "show", first],
                 ["feedback", "review", first, "--reject", "--reviewer", "Aida"]):
        code, _, err = _run([*argv, "--db", str(path)], capsys)
        assert code == 1 and f"no feedback with id {first}" in err


def test_feedback_cli_purge_uses_the_retention_setting(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "feedback.db"
    then = datetime.now(UTC) - timedelta(days=10)
    with FeedbackStore(path, clock=lambda: then) as store:
        store.submit("old post", {"hate": False}, submitter="key:a", lang="en")
    with FeedbackStore(path) as store:
        store.submit("new post", {"hate": False}, submitter="key:a", lang="en")
    code, out, _ = _run(["feedback", "purge", "--db", str(path)], capsys)
    assert code == 0 and "0 item(s) older than 180 days" in out
    monkeypatch.setenv("WARNING_FEEDBACK_RETENTION_DAYS", "7")
    code, out, _ = _run(["feedback", "purge", "--db", str(path)], capsys)
    assert code == 0 and "1 item(s) older than 7 days deleted" in out
    with FeedbackStore(path, create=False) as store:
        assert [i.text for i in store.items()] == ["new post"]


def test_feedback_cli_database_from_the_environment(db, monkeypatch, capsys) -> None:
    path, first, _ = db
    monkeypatch.setenv("WARNING_FEEDBACK_DB", str(path))
    code, out, _ = _run(["feedback", "show", first], capsys)
    assert code == 0 and "Ты тупой идиот" in out


@pytest.mark.parametrize(
    ("argv", "env", "match"),
    [
        (["feedback", "list"], {}, "give --db FILE or set WARNING_FEEDBACK_DB"),
        (["feedback", "list", "--db", "{tmp}/missing.db"], {}, "no feedback database at"),
        (["feedback", "export", "-o", "{tmp}/x.jsonl", "--db", "{tmp}/missing.db"], {},
         "no feedback database at"),
        (["feedback", "purge", "--db", "{db}"], {"WARNING_FEEDBACK_RETENTION_DAYS": "soon"},
         "WARNING_FEEDBACK_RETENTION_DAYS must be a whole number"),
    ],
)
def test_feedback_cli_errors_are_one_line_and_exit_2(db, tmp_path, monkeypatch, capsys, argv,
                                                     env, match) -> None:
    monkeypatch.delenv("WARNING_FEEDBACK_DB", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = [a.format(tmp=tmp_path, db=db[0]) for a in argv]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert match in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "missing.db").exists()


def test_feedback_cli_identity_matches_the_api_and_reads_keys_from_stdin(db, monkeypatch,
                                                                         capsys) -> None:
    import io

    path, _, _ = db
    keys = ["moderator-one-key-123456", "moderator-two-key-654321"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(keys) + "\n\n"))
    code, out, _ = _run(["feedback", "identity", "--db", str(path)], capsys)
    with FeedbackStore(path, create=False) as store:
        assert code == 0 and out.splitlines() == [store.identity(k) for k in keys]
    assert not any(k in out for k in keys)


def test_feedback_cli_reads_the_servers_settings_file(tmp_path, monkeypatch, capsys) -> None:
    """A server configured through WARNING_SETTINGS_FILE: the CLI must use the same database
    and the same retention (a 180-day default would keep and export what the server's 7
    days should have deleted); the environment still wins over the file."""
    path = tmp_path / "feedback.db"
    then = datetime.now(UTC) - timedelta(days=10)
    with FeedbackStore(path, clock=lambda: then) as store:
        store.submit("old post", {"hate": False}, submitter="key:a", lang="en")
    with FeedbackStore(path) as store:
        store.submit("new post", {"hate": False}, submitter="key:a", lang="en")
    env = tmp_path / "serve.env"
    env.write_text(f"# the server's settings\nWARNING_API_KEYS=some-long-key-123456\n"
                   f"WARNING_FEEDBACK_DB=\"{path}\"\nexport WARNING_FEEDBACK_RETENTION_DAYS=7\n")
    for name in ("WARNING_FEEDBACK_DB", "WARNING_FEEDBACK_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WARNING_SETTINGS_FILE", str(env))
    monkeypatch.setenv("WARNING_FEEDBACK_RETENTION_DAYS", "365")  # the environment wins
    code, out, err = _run(["feedback", "purge"], capsys)
    assert code == 0 and "0 item(s) older than 365 days" in out, err
    monkeypatch.delenv("WARNING_FEEDBACK_RETENTION_DAYS")
    code, out, err = _run(["feedback", "purge"], capsys)
    assert code == 0 and "1 item(s) older than 7 days deleted" in out, err
    import os

    assert "WARNING_FEEDBACK_DB" not in os.environ  # the file's values were not left behind


SUBMITTER = "key:3fa85f6457b1c2d4"


@pytest.mark.parametrize("reviewer", [
    SUBMITTER, "KEY:3FA85F6457B1C2D4", "кеу:3fa85f6457b1c2d4", "key 3fa8 5f64 57b1 c2d4",
    "3fa85f6457b1c2d4", "ｋｅｙ：３ｆａ８５ｆ６４５７ｂ１ｃ２ｄ４", "key-3fa85f6457b1c2d4.",
    "key:3fa85f6457b1c2d4\u200b", "key:3fа85f6457b1c2d4"])
def test_feedback_cli_reviewer_cannot_be_the_submitters_identity_in_any_spelling(
        tmp_path, capsys, reviewer) -> None:
    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        item = store.submit("post", {"hate": True}, submitter=SUBMITTER, lang="en")
    code, _, err = _run(["feedback", "review", item.id, "--confirm", "--reviewer", reviewer,
                         "--db", str(path)], capsys)
    assert code == 1 and "Traceback" not in err
    with FeedbackStore(path, create=False) as store:
        assert store.get(item.id).status == "pending"


@pytest.mark.parametrize("reviewer", ["A i d a", "АIDA", "aida.", "Aïda", "ＡＩＤＡ"])
def test_feedback_cli_reviewer_cannot_be_the_submitters_name_in_another_spelling(
        tmp_path, capsys, reviewer) -> None:
    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        item = store.submit("post", {"hate": True}, submitter="Aida", lang="en")
    code, _, err = _run(["feedback", "review", item.id, "--confirm", "--reviewer", reviewer,
                         "--db", str(path)], capsys)
    assert code == 1 and "second person" in err
    code, out, _ = _run(["feedback", "review", item.id, "--confirm", "--reviewer", "Bakyt",
                         "--db", str(path)], capsys)
    assert code == 0 and "confirmed by Bakyt" in out


def test_feedback_cli_export_does_not_overwrite_without_force(db, tmp_path, capsys) -> None:
    import stat

    path, first, _ = db
    _run(["feedback", "review", first, "--confirm", "--reviewer", "Aida", "--db", str(path)],
         capsys)
    out_file = tmp_path / "feedback.csv"
    out_file.write_text("keep me")
    code, _, err = _run(["feedback", "export", "-o", str(out_file), "--db", str(path)], capsys)
    assert code == 2 and "--force" in err and out_file.read_text() == "keep me"
    code, _, _ = _run(["feedback", "export", "-o", str(out_file), "--force", "--db", str(path)],
                      capsys)
    assert code == 0 and first in out_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600


def test_feedback_cli_list_into_a_closed_pipe_is_quiet(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "feedback.db"
    with FeedbackStore(path) as store:
        for i in range(1500):
            store.submit(f"post {i}", {"hate": True}, submitter="key:aaaa", lang="en")
    command = (f"{sys.executable} -m warning.cli feedback list --db {path} | head -n 1")
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("pending: 1500")
    assert done.stderr == ""
