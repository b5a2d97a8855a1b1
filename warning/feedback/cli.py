"""``warning feedback ...``: the review queue, reviews, export, deletion and purge of the feedback
store (:mod:`warning.feedback`) from the command line.

Every command reads the database named by ``--db`` or ``WARNING_FEEDBACK_DB`` (a SQLite file or
a ``postgresql+psycopg://`` URL) and never creates one (a typo must not start an empty store),
except ``migrate``, which creates the schema or upgrades it to this version's.
``WARNING_FEEDBACK_*`` settings missing from the environment are read from the server's
``WARNING_SETTINGS_FILE`` when it is set. Errors are one line on stderr and a non-zero exit: 2
for a missing or unusable database or a bad setting, 1 for a refused operation (unknown id, same
person, already reviewed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from warning.feedback.store import (
    STATUSES,
    AlreadyReviewed,
    FeedbackError,
    FeedbackItem,
    FeedbackNotFound,
    FeedbackStore,
    SamePerson,
    looks_like_identity,
)
from warning.labels import LABELS

__all__ = ["register"]


def _location(args: argparse.Namespace) -> str:
    from warning.settings import feedback_db, feedback_location

    location = feedback_location(args.db) if args.db else feedback_db()
    if location is None:
        raise _Usage("no feedback database: give --db FILE or set WARNING_FEEDBACK_DB (a file "
                     "or a URL)")
    return location


def _open(args: argparse.Namespace) -> FeedbackStore:
    with _server_settings():
        location = _location(args)
        try:
            return FeedbackStore(location, create=False)
        except FeedbackError as exc:
            raise _Usage(str(exc)) from None


#: what the CLI takes from the server's WARNING_SETTINGS_FILE when the environment lacks it
_SERVER_SETTINGS = ("WARNING_FEEDBACK_DB", "WARNING_FEEDBACK_RETENTION_DAYS",
                    "WARNING_FEEDBACK_EXTREMISM")


@contextmanager
def _server_settings() -> Iterator[None]:
    """While opening the store, the ``WARNING_FEEDBACK_*`` values of the server's settings
    file (``WARNING_SETTINGS_FILE``, ``NAME=value`` lines) where the environment has none, as
    the server reads them: the CLI then opens the same database with the same retention."""
    name = os.environ.get("WARNING_SETTINGS_FILE", "").strip()
    if not name:
        yield
        return
    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise _Usage(f"WARNING_SETTINGS_FILE {name} cannot be read: {exc.strerror}") from None
    added: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in _SERVER_SETTINGS or key in os.environ:
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        added[key] = value
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _positive(value: str) -> int:
    """An argument of at least 1 (``--limit -1`` would list every item, ``0`` none)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


class _Usage(Exception):
    """A setting or database problem: exit 2."""


def _labels(item: FeedbackItem) -> str:
    return " ".join(f"{name}={int(item.labels[name])}" for name in LABELS if name in item.labels)


def _cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as store:
        items = store.items(args.status, limit=args.limit)
        if args.json:
            for item in items:
                print(json.dumps(item.to_dict(with_text=False), ensure_ascii=False))
            return 0
        counts = store.counts()
    print(" ".join(f"{status}: {counts[status]}" for status in STATUSES))
    for item in items:
        print(f"{item.id}  {item.status:9}  {item.created}  {item.lang or '-':5}  "
              f"{_labels(item):28}  by {item.submitter}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        item = store.get(args.id)
    if args.json:
        print(json.dumps(item.to_dict(), ensure_ascii=False))
        return 0
    rows = [("id", item.id), ("status", item.status), ("created", item.created),
            ("submitter", item.submitter), ("lang", item.lang), ("labels", _labels(item)),
            ("note", item.note), ("response id", item.response_id), ("model", item.model),
            ("model scores", " ".join(f"{k}={'-' if v is None else f'{v:.3f}'}"
                                      for k, v in item.scores.items()) if item.scores else None),
            ("reviewer", item.reviewer), ("reviewed", item.reviewed),
            ("review note", item.review_note)]
    for name, value in rows:
        if value is not None:
            print(f"{name + ':':14}{value}")
    print("text:")
    print(item.text)
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    if looks_like_identity(args.reviewer):
        # an identity names an API key, not the person at this terminal; typed here in any
        # spelling it could pass a submitter's own key off as a second person
        print("error: --reviewer takes your name, not a 'key:...' identity (those name API "
              "keys; review through the API with your own key instead)", file=sys.stderr)
        return 1
    with _open(args) as store:
        item = store.review(args.id, reviewer=args.reviewer, confirm=args.confirm,
                            note=args.note)
    print(f"{item.id} {item.status} by {item.reviewer}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        try:
            n = store.export(args.output, overwrite=args.force)
        except FileExistsError:
            raise _Usage(f"{args.output} exists; pass --force to overwrite it") from None
    print(f"{n} confirmed item(s) written to {args.output}\n"
          f"use them with: warning train corpus --feedback {args.output}")
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    with _open(args) as store:
        store.delete(args.id)
    print(f"{args.id} deleted")
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    with _open(args) as store:
        n = store.purge()  # opening purged already: count what it removed too
        print(f"{n + store.purged_on_open} item(s) older than {store.retention_days} days "
              "deleted")
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from warning.feedback.store import _db_module

    with _server_settings():
        location = _location(args)
    try:
        db = _db_module()
        url = db.database_url(location)
    except (FeedbackError, ValueError) as exc:
        raise _Usage(str(exc)) from None
    from sqlalchemy.exc import SQLAlchemyError

    shown = db.display_url(url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # owner-only from the first byte: the file will hold posts
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = db.make_engine(url)
    try:
        before, after = db.migrate(engine, args.revision)
    except db.DatabaseRefused as exc:
        raise _Usage(f"{shown}: {exc}") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _Usage(f"{shown} cannot be migrated ({reason})") from None
    finally:
        engine.dispose()
    if before == after:
        print(f"{shown}: schema already at revision {after}")
    else:
        done = "created at" if before is None else f"upgraded from {before} to"
        print(f"{shown}: schema {done} revision {after}")
    return 0


def _cmd_identity(args: argparse.Namespace) -> int:
    with _open(args) as store:
        for line in sys.stdin:
            if line.strip():
                print(store.identity(line.strip()))
    return 0


def _run(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except _Usage as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (FeedbackNotFound, SamePerson, AlreadyReviewed) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except ValueError as exc:  # other FeedbackErrors and bad WARNING_* values
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not an error (warning.cli.main)
        except OSError as exc:
            print(f"error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
            return 2

    return run


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``warning feedback`` and its subcommands."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", help="the feedback database: a SQLite file or a "
                        "postgresql+psycopg:// URL (default: WARNING_FEEDBACK_DB)")
    feedback = sub.add_parser(
        "feedback", help="review, export and delete moderators' corrections",
        description="Moderators' corrections sent to POST /v1/feedback wait as 'pending' until "
                    "a second person confirms or rejects them; only confirmed ones are "
                    "exported for training. Items older than WARNING_FEEDBACK_RETENTION_DAYS "
                    "(default 180) are deleted.")
    fsub = feedback.add_subparsers(dest="feedback_command", metavar="ACTION")
    fsub.required = True

    lst = fsub.add_parser("list", parents=[parent], help="the review queue and the rest, "
                          "oldest first (no texts)")
    lst.add_argument("--status", choices=STATUSES, help="only this status (pending: the queue)")
    lst.add_argument("--limit", type=_positive, default=None,
                     help="at most this many items (at least 1)")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(func=_run(_cmd_list))

    show = fsub.add_parser("show", parents=[parent], help="one item, with its text")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="as one JSON object")
    show.set_defaults(func=_run(_cmd_show))

    review = fsub.add_parser(
        "review", parents=[parent], help="confirm or reject a pending item",
        description="A second person's decision. Refused when --reviewer is the submitter "
                    "(its 'key:...' identity or name, as 'warning feedback show' prints it).")
    review.add_argument("id")
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--confirm", action="store_true", dest="confirm",
                          help="the correction is right: it may reach training")
    decision.add_argument("--reject", action="store_false", dest="confirm",
                          help="the correction is wrong: it never reaches training")
    review.add_argument("--reviewer", required=True, help="your name")
    review.add_argument("--note", help="why")
    review.set_defaults(func=_run(_cmd_review))

    export = fsub.add_parser(
        "export", parents=[parent], help="write the confirmed items for training",
        description="JSON lines (a .jsonl name) or CSV (a .csv name) with id, text, lang, "
                    "one column per label (true/false, empty = unknown), created, reviewed, "
                    "model: the input of 'warning train corpus --feedback FILE'. The file "
                    "holds posts: keep it as safe as the database.")
    export.add_argument("-o", "--output", required=True, help="output file (.jsonl or .csv)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    export.set_defaults(func=_run(_cmd_export))

    delete = fsub.add_parser("delete", parents=[parent], help="delete an item for good")
    delete.add_argument("id")
    delete.set_defaults(func=_run(_cmd_delete))

    identity = fsub.add_parser(
        "identity", parents=[parent], help="the feedback identity (key:...) of API keys read "
                                           "from stdin",
        description="Prints, for each API key on stdin (one per line), the identity that names "
                    "it in this database's items, so an administrator can tell whose key "
                    "submitted or reviewed an item. Keys are read from stdin, never from the "
                    "command line (which shell history and process lists keep).")
    identity.set_defaults(func=_run(_cmd_identity))

    migrate = fsub.add_parser(
        "migrate", parents=[parent], help="create the database's schema, or upgrade it to this "
                                          "version's",
        description="Runs the database's migrations (Alembic) up to this version's schema, in "
                    "one transaction, under a lock: run it once after installing a new version, "
                    "before starting the API's replicas (which also upgrade an older schema at "
                    "start-up). A SQLite file made before migrations existed is upgraded in "
                    "place, keeping its items and key identities. Makes a missing SQLite file "
                    "(owner-only); a PostgreSQL database must exist (createdb).")
    migrate.add_argument("--revision", default="head",
                         help="the revision to reach (default: head, the newest)")
    migrate.set_defaults(func=_run(_cmd_migrate))

    purge = fsub.add_parser("purge", parents=[parent],
                            help="delete items older than WARNING_FEEDBACK_RETENTION_DAYS")
    purge.set_defaults(func=_run(_cmd_purge))
