"""The ``warning`` command line.

Built-in commands live in ``warning``; ``train``, ``eval`` and ``serve`` come from the ``training``
and ``serve`` packages, which register themselves under the entry-point group
``warning.commands`` so that ``warning`` never imports them (dependencies point one way).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from warning import __version__
from warning.safe_io import input_file_problem, json_loads, json_problem

# Which extra each plugin command needs, for the message when it is missing.
_EXTRA_OF = {"training": "train", "serve": "serve"}
_SCORE_BATCH = 256


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
    from warning.text.lang import detect_language
    from warning.text.normalize import normalize
    from warning.text.targets import find_targets

    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout
    problem = input_file_problem(args.input) if args.input else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for lineno, text in _read_lines(args, stdin):
        if text is None:
            record = {"line": lineno, "error": "line is not valid UTF-8"}
        elif not text.strip():
            record = {"line": lineno, "error": "empty text"}
        else:
            clean = normalize(text)  # once, for both
            record = {"line": lineno, "lang": detect_language(clean, normalized=True),
                      "targets": find_targets(clean, normalized=True)}
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _score_inputs(args: argparse.Namespace) -> Iterable[tuple[str | None, str | None]]:
    """(text, None) or (None, error) per input line, from arguments, JSONL or stdin."""
    if args.texts:
        for text in args.texts:
            yield text, None
        return
    if args.input:
        with open(args.input, "rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield None, f"line {lineno}: not valid UTF-8"
                    continue
                if not line.strip():
                    yield None, f"line {lineno}: empty line"
                    continue
                try:
                    record = json_loads(line)  # nesting bounded: a deep line is one error
                except json.JSONDecodeError as exc:
                    where = json_problem(exc.msg, f"column {exc.colno}")
                    yield None, f"line {lineno}: not valid JSON ({where})"
                    continue
                if not isinstance(record, dict) or "text" not in record:
                    yield None, f"line {lineno}: no 'text' field"
                elif not isinstance(record["text"], str):
                    yield None, f"line {lineno}: 'text' is not a string"
                else:
                    yield record["text"], None
        return
    for line in sys.stdin:
        yield line.rstrip("\r\n"), None


def _cmd_score(args: argparse.Namespace) -> int:
    from warning.labels import ScoredPost
    from warning.models.classifier import Classifier, ModelLoadError

    try:
        model = Classifier.load(args.model)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = input_file_problem(args.input) if args.input else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    out = sys.stdout

    def flush(batch: list[tuple[str | None, str | None]]) -> None:
        texts = [t for t, err in batch if err is None]
        scored = iter(model.score(texts, explain=args.explain))
        for _text, err in batch:
            post = ScoredPost.failed(err, model.name) if err else next(scored)
            out.write(json.dumps(post.to_dict(), ensure_ascii=False) + "\n")
        out.flush()

    batch: list[tuple[str | None, str | None]] = []
    for item in _score_inputs(args):
        batch.append(item)
        if len(batch) >= _SCORE_BATCH:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    return 0


_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _cmd_scan(args: argparse.Namespace) -> int:
    from warning.models.classifier import ModelLoadError
    from warning.scanning.feeds import ColumnOverrides, FeedError
    from warning.scanning.progress import Progress
    from warning.scanning.scanner import ScanError, ScanOptions, scan

    def note(message: str) -> None:
        if not args.quiet:
            print(f"scan: {message}", file=sys.stderr)

    def progress(total: int | None, unit: str) -> Progress:
        return Progress(total=total, unit=unit, enabled=not args.quiet)

    try:
        options = ScanOptions(
            output_format=args.format, input_format=args.input_format,
            columns=ColumnOverrides(text=args.text_col, time=args.time_col, id=args.id_col,
                                    authors=args.author_col, channel=args.channel_col,
                                    not_authors=args.not_author_col),
            encoding=args.encoding,
            delimiter=_DELIMITER_NAMES.get(args.delimiter, args.delimiter)
            if args.delimiter else None,
            time_format=args.time_format,
            authors="keep" if args.keep_authors else "drop" if args.drop_authors
            else "pseudonymise",
            keep_text=not args.no_text, chunk_rows=args.chunk_size, max_chars=args.max_chars,
            resume=args.resume, force=args.force, engine=args.engine, workers=args.workers,
            ray_address=args.ray_address, ray_actors=args.ray_actors,
            ray_cpus_per_actor=args.ray_cpus_per_actor)
        # with --report on this machine, one model scores the feed and explains its posts
        classifier = None
        if args.report is not None and args.engine != "ray":
            from warning.models.classifier import Classifier

            classifier = Classifier.load(args.model)
        summary = scan(args.input, args.output, options, classifier=classifier,
                       model_path=args.model, progress=progress, log=note)
    except (FeedError, ScanError, ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
    if args.report is not None:
        from warning.report import ReportError, default_report_path, write_report

        path = args.report or default_report_path(args.output)
        try:
            write_report(args.output, path, model_path=args.model, classifier=classifier,
                         log=None if args.quiet else lambda m: print(m, file=sys.stderr))
        except (ReportError, ModelLoadError, ValueError, OSError) as exc:
            print(f"error: the scan is written, but not the report: {exc}", file=sys.stderr)
            return 2
        print(f"report:   {path}")
    return 0


def _cmd_alerts(args: argparse.Namespace) -> int:
    from warning.alerts.cells import AlertConfig, AlertError, find_alerts

    try:
        config = AlertConfig.from_settings(
            windows=tuple(args.window) if args.window else None, baseline=args.baseline,
            min_count=args.min_count, fdr=args.fdr, measure=args.measure,
            labels=tuple(args.label) if args.label else None, evidence=args.evidence,
            timezone=args.timezone, questions=tuple(args.question) if args.question else None)
        report = find_alerts(args.scored, config, channel_col=args.channel_col,
                             id_col=args.id_col, text_col=args.text_col)
        for path in args.output:
            report.write(path, args.format)
        first = Path(args.output[0])
        campaigns = args.campaigns or first.with_name(first.stem + ".campaigns.csv")
        report.write_campaigns(campaigns)
    except (AlertError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"alerts: {note}", file=sys.stderr)
    for line in report.lines():
        print(line)
    print("written: " + ", ".join([*args.output, str(campaigns)]))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from warning.alerts.cells import AlertConfig
    from warning.models.classifier import ModelLoadError
    from warning.report import ReportError, default_report_path, write_report

    def note(message: str) -> None:
        print(message, file=sys.stderr)

    output = args.output or default_report_path(args.scored)
    try:
        config = AlertConfig.from_settings(
            windows=tuple(args.window) if args.window else None, timezone=args.timezone)
        path = write_report(args.scored, output, config, model_path=args.model, top=args.top,
                            explain=not args.no_explain, log=note, lang=args.lang)
    except (ReportError, ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


def _add_builtin(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score", help="score posts: one JSON object per input, in input order",
        description="Scores each text for offensive, hate, threat and extremism (null where the "
                    "model cannot score a label) and adds the flagged labels, language, target "
                    "groups, risk and review. Every input line gets exactly one output line; an "
                    "empty or unreadable line gets an object with an 'error' field.",
    )
    score.add_argument("texts", nargs="*", help="texts to score (default: one per line on stdin)")
    score.add_argument("--input", "-i", help="a JSONL file with a 'text' field per line")
    score.add_argument("--model", "-m", help="model folder (default: the shipped default model)")
    score.add_argument("--explain", action="store_true",
                       help="add the words that drove each flagged label (occlusion)")
    score.set_defaults(func=_cmd_score)

    tag = sub.add_parser(
        "tag", help="detect the language and the identity groups mentioned, one JSON line per text",
        description="Language and identity-group tags for each text (one JSON object per input "
                    "line, in input order; empty or unreadable lines get an 'error' field).",
    )
    tag.add_argument("texts", nargs="*", help="texts to tag (default: one per line on stdin)")
    tag.add_argument("--input", "-i", help="a UTF-8 text file, one post per line")
    tag.set_defaults(func=_cmd_tag)

    scan = sub.add_parser(
        "scan", help="score a whole feed (CSV, JSONL, Parquet, Telegram or CrowdTangle export) "
                     "into a file",
        description="Streams INPUT in chunks, scores every post and writes OUTPUT with the "
                    "input's columns plus scores, flagged labels, language, targets, risk and "
                    "review. Rows that cannot be scored go to OUTPUT's .rejects.csv with their "
                    "line number and reason; the summary goes to .summary.json. Authors are "
                    "pseudonymised with WARNING_PSEUDONYM_KEY unless you keep or drop them.",
    )
    scan.add_argument("input", help="the feed: .csv/.tsv, .jsonl, .parquet, a Telegram Desktop "
                                    "result.json or a CrowdTangle-style CSV")
    scan.add_argument("--output", "-o", required=True,
                      help="scored file (.parquet by default; .csv or .jsonl by suffix)")
    scan.add_argument("--format", choices=("parquet", "csv", "jsonl"),
                      help="output format (default: from the output's suffix, else parquet)")
    scan.add_argument("--input-format", choices=("csv", "crowdtangle", "jsonl", "parquet",
                                                 "telegram"),
                      help="input format (default: detected from the file's content)")
    columns = scan.add_argument_group("columns (detected by name when not given)")
    columns.add_argument("--text-col", help="column with the post's text")
    columns.add_argument("--time-col", help="column with the post's date and time")
    columns.add_argument("--id-col", help="column with the post's id")
    columns.add_argument("--author-col", action="append",
                         help="column naming people, pseudonymised like the author columns "
                              "detected (added to them; repeat for several)")
    columns.add_argument("--not-author-col", action="append",
                         help="a column detected as an author column that does not name "
                              "people: keep it in clear (repeatable)")
    columns.add_argument("--channel-col", help="column naming the channel, page or group")
    reading = scan.add_argument_group("reading")
    reading.add_argument("--encoding", help="text encoding of a CSV or JSONL file, e.g. utf-8, "
                                            "cp1251, utf-16 (default: detected)")
    reading.add_argument("--delimiter", help="CSV delimiter: a character, or tab, comma, "
                                             "semicolon, pipe (default: detected)")
    reading.add_argument("--time-format", help="strptime format of the time column, e.g. "
                                               "'%%m/%%d/%%Y %%H:%%M' (default: detected)")
    privacy = scan.add_mutually_exclusive_group()
    privacy.add_argument("--keep-authors", action="store_true",
                         help="keep author names as they are (no pseudonyms)")
    privacy.add_argument("--drop-authors", action="store_true",
                         help="leave author columns out of the output")
    scan.add_argument("--no-text", action="store_true", help="leave the text out of the output")
    scan.add_argument("--model", "-m", help="model folder (default: the shipped default model)")
    restart = scan.add_mutually_exclusive_group()
    restart.add_argument("--resume", action="store_true",
                         help="continue an interrupted scan from its last finished chunk")
    restart.add_argument("--force", action="store_true",
                         help="overwrite OUTPUT and discard an interrupted scan of it")
    scan.add_argument("--chunk-size", type=int,
                      help="records per chunk (default: WARNING_SCAN_CHUNK_ROWS, 2000)")
    scan.add_argument("--max-chars", type=int,
                      help="longer texts go to the rejects file (default: "
                           "WARNING_SCAN_MAX_CHARS, 20000)")
    scan.add_argument("--quiet", "-q", action="store_true", help="no progress and no notes")
    scan.add_argument("--report", nargs="?", const="", metavar="HTML",
                      help="also write the HTML report (default path: OUTPUT's .report.html; "
                           "see `warning report`)")
    engine = scan.add_argument_group("engine (see the README, \"Running on a Ray cluster\")")
    engine.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where posts are scored: this process (default) or Ray Data "
                             "actors (needs the 'scale' extra)")
    engine.add_argument("--workers", type=int,
                        help="with the local engine: processes that score chunks (default: "
                             "WARNING_SCAN_WORKERS, auto: one per core for a baseline, one for "
                             "a model with a transformer, which uses every core already)")
    engine.add_argument("--ray-address",
                        help="Ray cluster to join, e.g. auto or ray://HEAD:10001 (default: "
                             "RAY_ADDRESS, else a Ray started on this machine)")
    engine.add_argument("--ray-actors", type=int,
                        help="scoring actors (default: one per CPU of the cluster)")
    engine.add_argument("--ray-cpus-per-actor", type=float, default=1.0,
                        help="CPUs (and torch threads) per actor (default 1)")
    scan.set_defaults(func=_cmd_scan)

    alerts = sub.add_parser(
        "alerts", help="early-warning alerts from a scanned file",
        description="Finds windows (days, weeks) in which the share of flagged posts rose "
                    "significantly against the past windows, per channel, target group and "
                    "label, with a false-discovery correction across all cells. Writes the "
                    "alerts, ranked, with their figures and evidence posts (JSON or CSV).",
    )
    alerts.add_argument("scored", help="the output of `warning scan` (.parquet, .csv, .jsonl)")
    alerts.add_argument("--output", "-o", required=True, action="append",
                        help="alerts file, .json or .csv (repeat to write both)")
    alerts.add_argument("--format", choices=("json", "csv"),
                        help="output format (default: from the suffix, else json)")
    alerts.add_argument("--window", action="append", choices=("day", "week"),
                        help="window length, repeatable (default: WARNING_ALERT_WINDOWS, "
                             "day and week)")
    alerts.add_argument("--baseline", type=int,
                        help="past windows compared with, at most 365 (default: "
                             "WARNING_ALERT_BASELINE, 4)")
    alerts.add_argument("--min-count", type=int,
                        help="fewest flagged posts in a window for an alert (and in it and "
                             "its baseline together for a test; default: "
                             "WARNING_ALERT_MIN_COUNT, 5)")
    alerts.add_argument("--fdr", type=float,
                        help="false discovery rate across cells (default: WARNING_ALERT_FDR, "
                             "0.05)")
    alerts.add_argument("--measure", choices=("flagged", "expected"),
                        help="count flagged posts, or sum probabilities (default: "
                             "WARNING_ALERT_MEASURE, flagged)")
    alerts.add_argument("--label", action="append",
                        help="label to test, repeatable (default: every scored label)")
    alerts.add_argument("--evidence", type=int,
                        help="evidence posts per alert (default: WARNING_ALERT_EVIDENCE, 5)")
    alerts.add_argument("--timezone", help="time zone of days and weeks (default: "
                                           "WARNING_TIMEZONE, UTC)")
    alerts.add_argument("--question", action="append", choices=("share", "count"),
                        help="what to test (repeat; default: WARNING_ALERT_QUESTIONS, both): "
                             "share = a larger share of the cell's posts flagged; count = many "
                             "more flagged posts about a group against its channel's volume")
    alerts.add_argument("--campaigns", type=Path,
                        help="the campaigns' CSV (default: the first output's name with "
                             ".campaigns.csv)")
    alerts.add_argument("--channel-col", help="channel column (default: the scan's)")
    alerts.add_argument("--id-col", help="post id column (default: the scan's)")
    alerts.add_argument("--text-col", help="text column for evidence (default: the scan's)")
    alerts.set_defaults(func=_cmd_alerts)

    report = sub.add_parser(
        "report", help="one HTML page from a scanned file: figures, plots, alerts, posts",
        description="Writes a self-contained HTML report (opens offline, in any browser): "
                    "summary figures, flagged shares over time per label and target group with "
                    "the alerts marked, the alert table, the most severe posts with the words "
                    "that drove their scores highlighted, a breakdown by language marking the "
                    "languages the model is weak in, and the model's key figures.",
    )
    report.add_argument("scored", help="the output of `warning scan` (.parquet, .csv, .jsonl)")
    report.add_argument("--output", "-o",
                        help="the HTML file (default: SCORED's .report.html, beside it)")
    report.add_argument("--model", "-m",
                        help="the model folder that scored the file, for its card and the "
                             "highlighted words (default: found by the name the file records)")
    report.add_argument("--top", type=int, default=20,
                        help="most severe posts shown (default 20, at least 1)")
    report.add_argument("--lang", choices=("en", "ru"),
                        help="language of the page (default: WARNING_REPORT_LANG, else en)")
    report.add_argument("--no-explain", action="store_true",
                        help="do not highlight words (does not load the model)")
    report.add_argument("--window", action="append", choices=("day", "week"),
                        help="alert window length, repeatable (default: WARNING_ALERT_WINDOWS)")
    report.add_argument("--timezone", help="time zone of days and weeks (default: "
                                           "WARNING_TIMEZONE, UTC)")
    report.set_defaults(func=_cmd_report)

    from warning.feedback.cli import register as register_feedback

    register_feedback(sub)


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
        # the reader went away (`warning feedback list | head`): stop quietly, and keep
        # Python from failing again when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
