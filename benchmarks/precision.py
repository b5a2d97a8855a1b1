"""What each ``WARNING_PRECISION`` does to the default model's scores on the test split.

Usage:
    python benchmarks/precision.py [--model models/default]
        [--corpus corpus/corpus_synthetic_weak.parquet] [--rows 6000]
        [--precisions float32,int8,bfloat16]

Protocol:

- the test split of the corpus ``warning train corpus --synthetic --weak-hate ru`` builds (the
  one the default's card reads), a random sample of ``--rows`` posts (seed 0; 0 = all);
- the same model object scores the same texts once per precision, in the order given, with
  ``torch.set_num_threads(2)``; the seconds of each pass and the machine's 1-minute load
  average before and after it are written beside it (the machine is shared: compare speeds
  only within one run);
- per label: ROC-AUC of each precision on the rows where the label is known, and its
  difference from float32 (the exact arithmetic); the share of flag decisions (posts x scored
  labels, each post's own language thresholds) equal to float32's, the number that flipped
  either way, and the largest probability difference.

Writes ``benchmarks/results/precision.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--corpus", type=Path,
                        default=Path("corpus/corpus_synthetic_weak.parquet"))
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--precisions", default="float32,int8,bfloat16")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "precision.md")
    args = parser.parse_args()

    import torch
    from sklearn.metrics import roc_auc_score

    from training.corpus import load_corpus
    from warning import Classifier
    from warning.labels import LABELS
    from warning.models.classifier import default_model_path
    from warning.settings import cpu_has_native_bf16

    torch.set_num_threads(2)
    folder = args.model or default_model_path()
    model = Classifier.load(folder)
    test = load_corpus(args.corpus)
    test = test[test["split"] == "test"]
    if args.rows and args.rows < len(test):
        test = test.sample(args.rows, random_state=0)
    texts = list(test["text"])
    langs = model.languages(texts)
    thresholds = model.threshold_matrix(langs, len(texts))
    scored = [LABELS.index(n) for n in model.config.scored_labels]
    precisions = [p for p in args.precisions.split(",") if p]
    if "float32" not in precisions:
        parser.error("float32 is the reference: include it")
    results = {}
    for value in precisions:
        os.environ["WARNING_PRECISION"] = value
        model.predict_proba(texts[:32], langs=langs[:32] if langs else None)  # warm-up
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        proba = model.predict_proba(texts, langs=langs)
        seconds = time.perf_counter() - started
        results[value] = (proba, seconds, load_before, os.getloadavg()[0])
        print(f"{value}: {len(texts) / seconds:.1f} posts/s", file=sys.stderr, flush=True)
    os.environ.pop("WARNING_PRECISION", None)

    reference = results["float32"][0]
    with np.errstate(invalid="ignore"):
        ref_flags = reference >= thresholds
    lines = [
        "# Precision: what each WARNING_PRECISION does to the default model's scores",
        "",
        f"Command: `python benchmarks/precision.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or '?'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, 2 threads, CPU native bfloat16: {cpu_has_native_bf16()}, "
        f"quantised engine {torch.backends.quantized.engine}  ",
        f"Model: `{model.name}` ({folder})  ",
        f"Texts: {len(texts):,} posts of the test split of `{args.corpus}` (random sample, "
        f"seed 0), scored by the same model object once per precision, in the order of the "
        f"table.",
        "",
        "The machine is shared with other sessions: the seconds are comparable only within this "
        "run, and the load average (1 minute, before and after each pass) says how busy it was.",
        "",
        "| precision | seconds | posts/s | load before / after | max prob. diff vs float32 "
        "| flag decisions equal to float32 | flags gained / lost |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for value, (proba, seconds, before, after) in results.items():
        with np.errstate(invalid="ignore"):
            flags = proba >= thresholds
        same = float((flags == ref_flags)[:, scored].mean())
        gained = int((flags & ~ref_flags)[:, scored].sum())
        lost = int((~flags & ref_flags)[:, scored].sum())
        diff = float(np.nanmax(np.abs(proba - reference)))
        lines.append(f"| {value} | {seconds:.1f} | {len(texts) / seconds:.1f} | {before:.1f} / "
                     f"{after:.1f} | {diff:.4f} | {same:.2%} | {gained} / {lost} |")
    lines += ["", "ROC-AUC per label (rows where the label is known; in brackets the "
              "difference from float32):", "",
              "| label | known rows | positives | " + " | ".join(results) + " |",
              "|---|---:|---:|" + "---:|" * len(results)]
    worst = 0.0
    for name in model.config.scored_labels:
        j = LABELS.index(name)
        known = test[name].notna().to_numpy()
        y = test[name].to_numpy()[known].astype(int)
        if y.min() == y.max():
            continue
        ref_auc = roc_auc_score(y, reference[known, j])
        cells = []
        for _value, (proba, *_rest) in results.items():
            auc = roc_auc_score(y, proba[known, j])
            worst = max(worst, ref_auc - auc)
            cells.append(f"{auc:.4f} ({auc - ref_auc:+.4f})")
        lines.append(f"| {name} | {int(known.sum()):,} | {int(y.sum()):,} | "
                     + " | ".join(cells) + " |")
    lines += ["", f"Largest AUC lost against float32 by any precision on any label: "
              f"{worst:.4f} (the issue's bound: 0.005).", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
