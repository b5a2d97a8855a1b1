"""What the synthetic examples and the weak hate labels each change, measured with the cheap
recipes (the LoRA run costs most of an hour per variant on a 2-core CPU).

Usage:
    python benchmarks/data_ablation.py [--corpus corpus/corpus.parquet] [--no-frozen]

The corpus must have been built with ``--synthetic --weak-hate ru``; the four data mixes are
derived from it, so every variant is evaluated on the same test rows:

- ``neither``: synthetic rows dropped, weak ``hate`` labels set back to unknown;
- ``+synthetic``: our written examples only;
- ``+weak labels``: the weak Russian ``hate`` labels only;
- ``both``: the corpus as built.

Recipes: the character n-gram baseline (``training.baseline``, default settings), evaluated on
the whole test split and the functional suites; and, unless ``--no-frozen``, the stage-1
transformer (frozen encoder, MLP head on cached embeddings), evaluated on the suites only
(embedding the 37k test rows would take ten minutes per variant on this CPU). Writes
``benchmarks/results/data_ablation.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from training.baseline import BaselineConfig, fit_baseline
from training.corpus import load_corpus
from training.eval_run import DEFAULT_SUITES
from training.evaluate import evaluate_corpus, run_suite

HERE = Path(__file__).resolve().parent


def mixes(corpus: pd.DataFrame) -> dict[str, pd.DataFrame]:
    synthetic = corpus["source"].str.contains("synthetic_")
    weak = corpus["derived"].fillna("").str.contains("weak:hate")
    if not synthetic.any() or not weak.any():
        raise SystemExit("build the corpus with --synthetic --weak-hate ru first")
    unweak = corpus.copy()
    unweak.loc[weak, "hate"] = np.nan
    return {"neither": unweak[~synthetic], "+synthetic": unweak,
            "+weak labels": corpus[~synthetic], "both": corpus}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--no-frozen", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "data_ablation.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    corpus = load_corpus(args.corpus)
    variants = mixes(corpus)
    test_rows = corpus[corpus["split"] == "test"]
    results: dict[tuple[str, str], dict] = {}
    for name, rows in variants.items():
        start = time.perf_counter()
        model = fit_baseline(rows[rows["split"] != "test"], BaselineConfig(version="ablation"))
        report = evaluate_corpus(model, test_rows.assign(split="test"), "test", n_boot=0)
        report["functional"] = {Path(s).name: run_suite(model, Path(s)) for s in DEFAULT_SUITES}
        report["seconds"] = time.perf_counter() - start
        results[("baseline", name)] = report
    if not args.no_frozen:
        from training.transformer import TransformerConfig, fit_transformer

        for name, rows in variants.items():
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as work:
                model = fit_transformer(rows, TransformerConfig(
                    name="ablation", mode="frozen", per_language_calibration=False,
                    calib_rows=2000), work_dir=Path(work))
            report = {"functional": {Path(s).name: run_suite(model, Path(s))
                                     for s in DEFAULT_SUITES},
                      "seconds": time.perf_counter() - start}
            results[("frozen e5 + MLP head", name)] = report

    names = list(variants)
    lines = [
        "# Data ablation: synthetic examples and weak hate labels",
        "",
        f"Command: `python benchmarks/data_ablation.py --corpus {args.corpus}"
        f"{' --no-frozen' if args.no_frozen else ''}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, Python "
        f"{platform.python_version()}  ",
        f"Test split: {len(test_rows):,} rows (the same for every variant; its Russian `hate` "
        "cells are weak labels and synthetic rows, its Kyrgyz cells synthetic only, so read "
        "those as agreement with our own labelling).",
        "",
        "## Functional suites: hateful / non-hateful accuracy",
        "",
        "| recipe | suite | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for recipe in dict.fromkeys(r for r, _ in results):
        for suite in results[(recipe, names[0])]["functional"]:
            cells = [results[(recipe, n)]["functional"][suite] for n in names]
            lines.append(f"| {recipe} | {suite} | " + " | ".join(
                f"{c['hateful']['accuracy']:.1%} / {c['non_hateful']['accuracy']:.1%}"
                for c in cells) + " |")
    lines += ["", "## Baseline on the test split", "",
              "| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    base = {n: results[("baseline", n)] for n in names}
    langs = sorted({lang for r in base.values() for lang in r["macro_f1_by_language"]})
    for lang in langs:
        lines.append(f"| macro-F1 {lang} | " + " | ".join(
            f"{base[n]['macro_f1_by_language'].get(lang, float('nan')):.3f}" for n in names)
            + " |")
    for label in ("hate", "threat"):
        for lang in ("ru", "ky", "en"):
            cells = [base[n]["by_language"].get(label, {}).get(lang, {}) for n in names]
            if all(c.get("positives") for c in cells):
                lines.append(f"| {label} F1 {lang} | " + " | ".join(
                    f"{c['f1']['value']:.3f}" for c in cells) + " |")
    for lang in sorted({g for r in base.values() for g in r["clean_languages"]}):
        lines.append(f"| clean {lang} flagged | " + " | ".join(
            f"{base[n]['clean_languages'][lang]['any_label_flag_rate']:.2%}" for n in names)
            + " |")
    lines += ["", "Seconds per variant (training and evaluation): " + ", ".join(
        f"{r} {n}: {results[(r, n)]['seconds']:.0f}" for r, n in results), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
