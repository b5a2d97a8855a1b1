"""``warning train ...``: thin argument parsing over the plain functions of ``training``."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from warning.labels import LABELS

from .corpus import CorpusConfig, build_corpus, corpus_table, write_corpus
from .feedback_import import MAX_TEXT_CHARS
from .sources import (
    DEFAULT_LICENCES,
    LICENCE_CLASSES,
    SOURCES,
    SourceError,
    UserSource,
    feedback_source,
)


def _csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _label_map(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        label, sep, column = value.partition("=")
        if not sep or label not in LABELS or not column:
            raise argparse.ArgumentTypeError(
                f"--label takes LABEL=COLUMN with LABEL one of {list(LABELS)}, got {value!r}"
            )
        out[label] = column
    return out


def _cmd_corpus(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    users = []
    try:
        for path in args.user or []:
            users.append(UserSource(path, text_col=args.text_col,
                                    labels=_label_map(args.label or []), lang=args.lang,
                                    lang_col=args.lang_col, split_col=args.split_col))
        users += [feedback_source(path, max_chars=args.feedback_max_chars)
                  for path in args.feedback or []]
        config = CorpusConfig(
            sources=args.sources, licences=args.licences, user_sources=users,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            synthetic=args.synthetic, add_sources=tuple(args.add_source or ()),
            weak_hate_languages=tuple(args.weak_hate or ()),
            keyboard_variants=tuple(lang for lang in args.keyboard_variants if lang != "none"),
            plain_variants=tuple(lang for lang in args.plain_variants or () if lang != "none"),
        )
        corpus = build_corpus(config)
    except (SourceError, ValueError, argparse.ArgumentTypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = write_corpus(corpus, Path(args.out))
    print(corpus_table(corpus))
    stats = corpus.attrs["stats"]
    print(
        f"\n{stats['rows']} rows from {stats['rows_read']} read: "
        f"{stats['exact_duplicates_merged']} exact duplicates merged, "
        f"{stats['label_conflicts_set_unknown']} label conflicts set unknown, "
        f"{stats['weak_hate_labels']} weak hate labels derived, "
        f"{stats['keyboard_variants_added']} keyboard variants added, "
        f"{stats.get('plain_variants_added', 0)} plain variants added, "
        f"{stats['empty_after_normalisation']} empty dropped, "
        f"{stats['near_duplicate_groups']} near-duplicate groups.\n"
        f"label cells are positive/negative/unknown. Written to {path}"
    )
    _print_feedback(stats, path)
    return 0


def _print_feedback(stats: dict, path: Path) -> None:
    """Each user and feedback file's rows read, used and left out, and where the rejects
    are."""
    for file in stats.get("user_files", []):
        notes = "; ".join(file["notes"])
        print(f"user file {file['file']}: {file['rows_read']} row(s) read, {file['rows_used']} "
              f"used, {file['rows_rejected']} rejected" + (f" ({notes})" if notes else ""))
    for file in stats["feedback_files"]:
        notes = "; ".join(file["notes"])
        print(f"feedback {file['file']}: {file['rows_read']} row(s) read, {file['rows_used']} "
              f"used, {file['rows_rejected']} rejected, {file['label_conflicts']} with "
              f"conflicting labels" + (f" ({notes})" if notes else ""))
    if stats["rows_rejected"] or stats["feedback_label_conflicts"]:
        reasons = ", ".join(f"{n} {reason}" for reason, n in stats["rejected"].items()) or "none"
        conflicts = (f"; labels set unknown where copies disagree: "
                     f"{stats['feedback_label_conflicts']} feedback row(s)"
                     if stats["feedback_files"] else "")
        print(f"rejected: {stats['rows_rejected']} ({reasons}){conflicts}; each with its line "
              f"and id in {path.with_suffix('.rejects.csv')}")


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)


def _train_and_evaluate(args: argparse.Namespace, read_config, train) -> int:
    """Shared body of ``train baseline`` and ``train transformer``: read the corpus and the
    config, train and save, then evaluate (report and card) unless told not to."""
    from .corpus import load_corpus
    from .eval_run import run_evaluation

    _setup_logging()
    try:
        corpus = load_corpus(Path(args.corpus))
        config = read_config(Path(args.config) if args.config else None)
        if args.version:
            config.version = args.version
    except (SourceError, ValueError, OSError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = train(corpus, config, Path(args.out))
    print(f"model written to {out}")
    if not args.skip_eval:
        report = run_evaluation(out, corpus, loso=getattr(args, "loso", False),
                                n_boot=args.bootstrap)
        print(f"evaluation in {out / 'eval'}, card in {out / 'README.md'}")
        print("macro-F1 per language:", {k: round(v, 3) for k, v in
                                         report["macro_f1_by_language"].items()})
    return 0


def _cmd_baseline(args: argparse.Namespace) -> int:
    import json

    from .baseline import BaselineConfig, train_baseline

    return _train_and_evaluate(
        args, lambda path: BaselineConfig.from_dict(json.loads(path.read_text())) if path
        else BaselineConfig(), train_baseline)


def _cmd_transformer(args: argparse.Namespace) -> int:
    from .transformer import TransformerConfig, train_transformer

    work_dir = Path(args.work_dir) if args.work_dir else None
    return _train_and_evaluate(
        args, lambda path: TransformerConfig.from_file(path) if path else TransformerConfig(),
        lambda corpus, config, out: train_transformer(corpus, config, out, work_dir))


def _cmd_ensemble(args: argparse.Namespace) -> int:
    from warning.models.classifier import Classifier, ModelLoadError

    from .corpus import load_corpus
    from .ensemble import EnsembleConfig, fit_ensemble
    from .eval_run import run_evaluation

    _setup_logging()
    try:
        members = {}
        for value in args.member:
            name, sep, folder = value.partition("=")
            if not sep or not name.isidentifier() or not folder:
                raise ValueError(f"--member takes NAME=FOLDER (NAME a plain word), got {value!r}")
            members[name] = Classifier.load(Path(folder))
        if args.zero_shot_member and not args.zero_shot_language:
            raise ValueError("--zero-shot-member needs --zero-shot-language")
        corpus = load_corpus(Path(args.corpus))
        config = EnsembleConfig(**({"name": args.name} if args.name else {}),
                                **({"version": args.version} if args.version else {}),
                                calib_rows=args.calib_rows,
                                global_members=tuple(args.global_member or ()) or None,
                                thresholds_from=args.thresholds_from,
                                max_clean_flagged=args.max_clean_flagged,
                                threshold_bootstrap=args.threshold_bootstrap,
                                weak_labels=not args.no_weak_labels,
                                zero_shot_languages=tuple(args.zero_shot_language or ()),
                                **({"zero_shot_members": tuple(args.zero_shot_member)}
                                   if args.zero_shot_member else {}))
        model = fit_ensemble(members, corpus, config)
        command = ["warning", "train", "ensemble",
                   *[x for m in args.member for x in ("--member", m)], "--corpus", args.corpus,
                   "--out", args.out, *config.flags()]
        model.config.training["commands"] = [*(args.reproduce or []), shlex.join(command)]
    except (SourceError, ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = model.save(Path(args.out))
    print(f"model written to {out}")
    if not args.skip_eval:
        report = run_evaluation(out, corpus, n_boot=args.bootstrap)
        print("macro-F1 per language:", {k: round(v, 3) for k, v in
                                         report["macro_f1_by_language"].items()})
    return 0


def _named_path(value: str) -> tuple[str, Path]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise ValueError(f"expected NAME=PATH, got {value!r}")
    return name, Path(path)


def _cmd_eval(args: argparse.Namespace) -> int:
    from warning.models.classifier import ModelLoadError, default_model_path

    from .corpus import load_corpus
    from .eval_run import DEFAULT_SUITES, run_evaluation
    from .evaluate import SuiteError

    _setup_logging()
    model_dir = Path(args.model) if args.model else default_model_path()
    if args.card_only:
        from .eval_run import rerender_card

        try:
            card = rerender_card(model_dir, dict(_named_path(v) for v in args.beside or []))
        except (ModelLoadError, ValueError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"card written from {model_dir / 'eval' / 'report.json'}: {card}")
        return 0
    try:
        corpus = load_corpus(Path(args.corpus))
        report = run_evaluation(model_dir, corpus, suites=args.suite or DEFAULT_SUITES,
                                loso=args.loso, n_boot=args.bootstrap,
                                out_dir=Path(args.out) if args.out else None,
                                beside=dict(_named_path(v) for v in args.beside or []),
                                loso_from=args.loso_from)
    except (SourceError, SuiteError, ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {Path(args.out) if args.out else model_dir / 'eval'}; "
          f"card: {model_dir / 'README.md'}")
    print("macro-F1 per language:", {k: round(v, 3) for k, v in
                                     report["macro_f1_by_language"].items()})
    for suite, res in report["functional"].items():
        print(f"{suite}: hateful {res['hateful']['accuracy']:.1%}, non-hateful "
              f"{res['non_hateful']['accuracy']:.1%}")
    return 0


VERSION_HELP = ("model version (default: the settings' or today's, YYYY.MM.DD); give a new one "
                "to a second model of the same name made the same day")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` and its sub-commands to the ``warning`` parser."""
    train = sub.add_parser("train", help="build the corpus and train models")
    tsub = train.add_subparsers(dest="train_command", metavar="STEP")
    tsub.required = True
    corpus = tsub.add_parser(
        "corpus", help="build the training corpus (Parquet) from the labelled sources",
        description="Reads the chosen sources, normalises, deduplicates, groups near-duplicates "
                    "and writes a corpus with deterministic train/dev/calib/test splits.",
    )
    corpus.add_argument("--sources", type=_csv_list, default=None,
                        help=f"comma-separated source names (default: every default source in "
                             f"the allowed licence classes); registered: {', '.join(SOURCES)}")
    corpus.add_argument("--licences", type=_csv_list, default=list(DEFAULT_LICENCES),
                        help=f"allowed licence classes, of {', '.join(LICENCE_CLASSES)} "
                             f"(default: {','.join(DEFAULT_LICENCES)})")
    corpus.add_argument("--data-dir", help="datasets folder (default: WARNING_DATA_DIR or "
                                           "../shared/data)")
    corpus.add_argument("--out", "-o", default="corpus/corpus.parquet",
                        help="output Parquet file (default: corpus/corpus.parquet)")
    corpus.add_argument("--synthetic", action="store_true",
                        help="add our own written examples (training/synthetic/), a flagged "
                             "source")
    corpus.add_argument("--add-source", type=_csv_list, metavar="NAMES",
                        help="add these registered sources to the chosen ones, such as the "
                             "opt-in synthetic_ru_frames,synthetic_ky_frames,"
                             "synthetic_kk_frames (measured, not in the shipped model's corpus)")
    corpus.add_argument("--weak-hate", type=_csv_list, metavar="LANGS",
                        help="derive hate positives in these languages (e.g. ru): offensive "
                             "rows that name an identity group; flagged derived=weak:hate")
    corpus.add_argument("--keyboard-variants", type=_csv_list, default=["ky", "kk"],
                        metavar="LANGS",
                        help="add these languages' training rows also as typed on a Russian "
                             "keyboard, their own letters folded (flagged derived=keyboard; "
                             "default: ky,kk; 'none' to switch it off)")
    corpus.add_argument("--plain-variants", type=_csv_list, metavar="LANGS",
                        help="add these languages' training rows also lower-cased and without "
                             "punctuation (flagged derived=plain; e.g. ru,ky,kk,uz,tr,en), so "
                             "a source's style is not learned as its label; default off")
    user = corpus.add_argument_group("your own labelled file (CSV, TSV or JSONL)")
    user.add_argument("--user", action="append", metavar="FILE",
                      help="a labelled file to add (a row that cannot be used is left out and "
                           "listed with its line, id and reason in CORPUS.rejects.csv)")
    user.add_argument("--text-col", default="text", help="column with the post (default: text)")
    user.add_argument("--label", action="append", metavar="LABEL=COLUMN",
                      help="map one of our labels to a column of 1/0 values (repeatable)")
    user.add_argument("--lang", help="language of every row (default: detected per row)")
    user.add_argument("--lang-col", help="column with each row's language")
    user.add_argument("--split-col", help="column marking rows that must stay in test ('test')")
    corpus.add_argument("--feedback", action="append", metavar="FILE",
                        help="the moderators' confirmed corrections, as written by 'warning "
                             "feedback export' (source 'feedback'; labels a moderator left "
                             "out stay unknown; a row that cannot be used is left out and "
                             "listed with its line, id and reason in CORPUS.rejects.csv)")
    corpus.add_argument("--feedback-max-chars", type=int, default=MAX_TEXT_CHARS, metavar="N",
                        help="longest feedback text used (default: %(default)s, the feedback "
                             "store's default WARNING_MAX_TEXT_CHARS)")
    corpus.set_defaults(func=_cmd_corpus)

    baseline = tsub.add_parser(
        "baseline", help="train the character n-gram baseline, evaluate it and write its card",
        description="Trains one logistic regression per label on hashed character and word "
                    "n-grams, fits calibration, thresholds and review bands on the calib split, "
                    "saves the model folder, then evaluates it (report and card).",
    )
    baseline.add_argument("--corpus", default="corpus/corpus.parquet",
                          help="corpus built by `warning train corpus`")
    baseline.add_argument("--out", "-o", default="models/baseline", help="model folder to write")
    baseline.add_argument("--config", help="JSON file with BaselineConfig fields")
    baseline.add_argument("--version", help=VERSION_HELP)
    baseline.add_argument("--skip-eval", action="store_true", help="do not evaluate")
    baseline.add_argument("--loso", action="store_true",
                          help="add the leave-one-source-out matrix (retrains once per source)")
    baseline.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    baseline.set_defaults(func=_cmd_baseline)

    transformer = tsub.add_parser(
        "transformer", help="train the multilingual transformer (frozen head or LoRA)",
        description="Trains multilingual-e5-small with a head: 'frozen' mode trains the head on "
                    "cached embeddings; 'lora' mode fine-tunes LoRA adapters and the head with "
                    "masked BCE, balanced sampling, early stopping and resumable checkpoints. "
                    "Then calibrates on calib, saves the folder (head and adapters only) and "
                    "evaluates it.",
    )
    transformer.add_argument("--config", help="JSON file with TransformerConfig fields")
    transformer.add_argument("--corpus", default="corpus/corpus.parquet")
    transformer.add_argument("--out", "-o", default="models/default", help="model folder")
    transformer.add_argument("--work-dir", help="checkpoints and embedding cache (default: "
                                                "WARNING_CACHE_DIR/runs/NAME-MODE); rerun with "
                                                "the same folder to resume")
    transformer.add_argument("--version", help=VERSION_HELP)
    transformer.add_argument("--skip-eval", action="store_true", help="do not evaluate")
    transformer.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    transformer.set_defaults(func=_cmd_transformer)

    ensemble = tsub.add_parser(
        "ensemble", help="stack trained models on the calib split into one",
        description="Fits one logistic regression per label (and per language where calib has "
                    "enough positives) over the members' raw logits on the calib split, "
                    "calibrates the result, saves a self-contained folder (the members are "
                    "copied into it) and evaluates it.",
    )
    ensemble.add_argument("--member", action="append", required=True, metavar="NAME=FOLDER",
                          help="a trained model folder (repeat for each member)")
    ensemble.add_argument("--corpus", default="corpus/corpus.parquet")
    ensemble.add_argument("--out", "-o", default="models/default", help="model folder")
    ensemble.add_argument("--name", help="model name (default: e5-lora+baseline)")
    ensemble.add_argument("--version", help="model version (default: today, YYYY.MM.DD); give "
                                            "a new one to a second model made the same day, "
                                            "so that name@version names one model")
    ensemble.add_argument("--global-member", action="append", metavar="NAME",
                          help="member(s) used for languages and labels without their own stack "
                               "(repeatable; default: all members)")
    ensemble.add_argument("--calib-rows", type=int, default=0,
                          help="calib rows to fit on (default: all)")
    ensemble.add_argument("--thresholds-from", choices=("all", "collected"), default="all",
                          help="fit thresholds and review bands on all calib rows, or on "
                               "collected posts only where they hold 20 positives and 20 "
                               "negatives for a label (our own sentences then never decide "
                               "where to flag)")
    ensemble.add_argument("--max-clean-flagged", type=float, default=None, metavar="SHARE",
                          help="with --thresholds-from collected: where a label's positives "
                               "in calib are (almost) all our own sentences (Uzbek hate), raise "
                               "its threshold until at most this share of the collected posts "
                               "without the label are flagged (e.g. 0.02)")
    ensemble.add_argument("--threshold-bootstrap", type=int, default=0, metavar="N",
                          help="each threshold the median best-F1 point of N resamples of the "
                               "calib rows (steadier where a language has few positives); 0: "
                               "the best-F1 point of the rows themselves")
    ensemble.add_argument("--no-weak-labels", action="store_true",
                          help="leave the calib rows' weak (rule-derived) labels out of the "
                               "stack, calibration and thresholds: human labels only")
    ensemble.add_argument("--zero-shot-language", action="append", metavar="LANG",
                          help="a language without labelled posts for some labels (uz): there "
                               "those labels are decided by the --zero-shot-member(s) alone "
                               "(repeatable)")
    ensemble.add_argument("--zero-shot-member", action="append", metavar="NAME",
                          help="member(s) deciding in the zero-shot languages (repeatable; "
                               "default: transformer)")
    ensemble.add_argument("--reproduce", action="append", metavar="COMMAND",
                          help="a command that made a member (repeatable; shown in the card's "
                               "Reproduce section before this one)")
    ensemble.add_argument("--skip-eval", action="store_true", help="do not evaluate")
    ensemble.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    ensemble.set_defaults(func=_cmd_ensemble)

    evaluate = sub.add_parser(
        "eval", help="evaluate a model: metrics, calibration, functional suites, card",
        description="Per language x label precision, recall, F1, ROC-AUC with bootstrap "
                    "intervals; adaptive ECE and Brier; functional suites (HateCheck CSV); "
                    "optionally the leave-one-source-out matrix. Writes report.json, "
                    "report.md and plots, and regenerates the model's card.",
    )
    evaluate.add_argument("--model", help="model folder (default: the shipped default)")
    evaluate.add_argument("--corpus", default="corpus/corpus.parquet")
    evaluate.add_argument("--suite", action="append", type=Path,
                          help="functional suite CSV (repeatable; default: "
                               "benchmarks/functional/*_suite.csv)")
    evaluate.add_argument("--loso", action="store_true", help="leave-one-source-out matrix")
    evaluate.add_argument("--loso-from", type=Path, metavar="JSON",
                          help="a leave-one-source-out matrix measured elsewhere, for models "
                               "that cannot be retrained per source here (see "
                               "benchmarks/loso_frozen.py), or an earlier report.json of the "
                               "same model and corpus made with --loso")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    evaluate.add_argument("--out", help="report folder (default: MODEL/eval)")
    evaluate.add_argument("--beside", action="append", metavar="NAME=REPORT_JSON",
                          help="another model's report.json (same corpus) to show next to this "
                               "one in the card, e.g. permissive-only=models/x/eval/report.json")
    evaluate.add_argument("--card-only", action="store_true",
                          help="write the card again from the model's eval/report.json, "
                               "evaluating nothing (after a change of the card's template)")
    evaluate.set_defaults(func=_cmd_eval)
