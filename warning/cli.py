"""The ``warning`` command line.

Built-in commands live in ``warning``; ``train``, ``eval`` and ``serve`` come from the ``training``
and ``serve`` packages, which register themselves under the entry-point group
``warning.commands`` so that ``warning`` never imports them (dependencies point one way).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from . import __version__

# Which extra each plugin command needs, for the message when it is missing.
_EXTRA_OF = {"train": "train", "eval": "train", "serve": "serve", "feedback": "serve"}


def _read_lines(args: argparse.Namespace, stdin: TextIO) -> Iterable[tuple[int, str | None]]:
    """(line number, text or None when unreadable) from arguments, --input or stdin."""
    if args.texts:
        yield from enumerate(args.texts, start=1)
        return
    if args.input:
        with open(args.input, "rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    yield lineno, raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    yield lineno, None
        return
    for lineno, line in enumerate(stdin, start=1):
        yield lineno, line.rstrip("\r\n")


def _cmd_tag(args: argparse.Namespace) -> int:
    from .lang import detect_language
    from .targets import find_targets

    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout
    for lineno, text in _read_lines(args, stdin):
        if text is None:
            record = {"line": lineno, "error": "line is not valid UTF-8"}
        elif not text.strip():
            record = {"line": lineno, "error": "empty text"}
        else:
            record = {"line": lineno, "lang": detect_language(text), "targets": find_targets(text)}
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _add_builtin(sub: argparse._SubParsersAction) -> None:
    tag = sub.add_parser(
        "tag", help="detect the language and the identity groups mentioned, one JSON line per text",
        description="Language and identity-group tags for each text (one JSON object per input "
                    "line, in input order; empty or unreadable lines get an 'error' field).",
    )
    tag.add_argument("texts", nargs="*", help="texts to tag (default: one per line on stdin)")
    tag.add_argument("--input", "-i", help="a UTF-8 text file, one post per line")
    tag.set_defaults(func=_cmd_tag)


def _missing_plugin(name: str, error: Exception):
    extra = _EXTRA_OF.get(name, name)

    def fail(_args: argparse.Namespace) -> int:
        print(
            f"warning {name}: this command needs the '{extra}' extra ({error}).\n"
            f"Install it with:  pip install -e '.[{extra}]'",
            file=sys.stderr,
        )
        return 2

    return fail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warning",
        description="Early-warning classifier for hate speech, threats and extremist content.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_builtin(sub)
    for entry in sorted(importlib.metadata.entry_points(group="warning.commands"),
                        key=lambda e: e.name):
        try:
            register = entry.load()
        except ImportError as exc:
            stub = sub.add_parser(entry.name, help=f"(needs the '{_EXTRA_OF.get(entry.name)}' "
                                                   "extra)")
            stub.set_defaults(func=_missing_plugin(entry.name, exc))
            continue
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
