"""``warning train ...``: thin argument parsing over the plain functions of ``training``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from warning.labels import LABELS

from .corpus import CorpusConfig, build_corpus, corpus_table, write_corpus
from .sources import DEFAULT_LICENCES, LICENCE_CLASSES, SOURCES, SourceError, UserSource


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
    for path in args.user or []:
        users.append(UserSource(path, text_col=args.text_col, labels=_label_map(args.label or []),
                                lang=args.lang, lang_col=args.lang_col, split_col=args.split_col))
    try:
        config = CorpusConfig(
            sources=args.sources, licences=args.licences, user_sources=users,
            data_dir=Path(args.data_dir) if args.data_dir else None,
        )
        corpus = build_corpus(config)
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = write_corpus(corpus, Path(args.out))
    print(corpus_table(corpus))
    stats = corpus.attrs["stats"]
    print(
        f"\n{stats['rows']} rows from {stats['rows_read']} read: "
        f"{stats['exact_duplicates_merged']} exact duplicates merged, "
        f"{stats['label_conflicts_set_unknown']} label conflicts set unknown, "
        f"{stats['empty_after_normalisation']} empty dropped, "
        f"{stats['near_duplicate_groups']} near-duplicate groups.\n"
        f"label cells are positive/negative/unknown. Written to {path}"
    )
    return 0


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
    user = corpus.add_argument_group("your own labelled file (CSV, TSV or JSONL)")
    user.add_argument("--user", action="append", metavar="FILE", help="a labelled file to add")
    user.add_argument("--text-col", default="text", help="column with the post (default: text)")
    user.add_argument("--label", action="append", metavar="LABEL=COLUMN",
                      help="map one of our labels to a column of 1/0 values (repeatable)")
    user.add_argument("--lang", help="language of every row (default: detected per row)")
    user.add_argument("--lang-col", help="column with each row's language")
    user.add_argument("--split-col", help="column marking rows that must stay in test ('test')")
    corpus.set_defaults(func=_cmd_corpus)
