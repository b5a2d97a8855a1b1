"""Leave-one-source-out with the transformer's representation: how well does what the encoder
learned from the other sources carry over to a source it never saw?

Usage:
    python benchmarks/loso_frozen.py [--corpus corpus/corpus.parquet] [--per-source 3000]

Retraining the LoRA model once per source is out of reach on a 2-core CPU (most of an hour
each), so this measures the stage-1 recipe: the frozen multilingual-e5-small encoder with the
masked-BCE MLP head (``training.heads``), trained on every source but one and tested on the
held-out source's rows, for each source with positives. Embeddings come from the shared cache
(``WARNING_CACHE_DIR/embeddings``; rows not yet embedded are embedded first, resumably). The
baseline's matrix from ``models/baseline/eval/report.json`` (``warning eval --loso``) is shown
beside it. Cells: ROC-AUC on the held-out source's rows where the label is known.
Writes ``benchmarks/results/loso_frozen.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from training.corpus import load_corpus
from training.embeddings import EmbeddingCache, embed_rows
from training.heads import MLPHead
from warning.settings import cache_dir

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from stage1_heads import sample_per_source  # noqa: E402

SCORED = ("offensive", "hate", "threat")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--per-source", type=int, default=3000)
    parser.add_argument("--baseline-report", type=Path,
                        default=Path("models/baseline/eval/report.json"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "loso_frozen.md")
    args = parser.parse_args()

    corpus = load_corpus(args.corpus)
    rows = sample_per_source(corpus[corpus["split"].isin(["train", "dev"])], args.per_source)
    cache = EmbeddingCache(cache_dir() / "embeddings" / "corpus-e5-q4-128")
    start = time.perf_counter()
    x = embed_rows(rows, cache)
    embed_seconds = time.perf_counter() - start
    y = rows[list(SCORED)].to_numpy(float)
    names = rows["source"].str.split(";")
    has_pos = np.nan_to_num(y).sum(axis=1) > 0
    sources = sorted({s for ss in names[has_pos] for s in ss})
    is_train = (rows["split"] == "train").to_numpy()
    matrix: dict[str, dict[str, tuple[float, int, int]]] = {}
    start = time.perf_counter()
    for source in sources:
        held = names.map(lambda ss, s=source: s in ss).to_numpy()
        fit_rows, dev_rows = ~held & is_train, ~held & ~is_train
        head = MLPHead().fit(x[fit_rows], y[fit_rows], x[dev_rows], y[dev_rows])
        z = head.decision_function(x[held])
        cells = {}
        for j, label in enumerate(SCORED):
            known = ~np.isnan(y[held, j])
            yy = y[held, j][known]
            if known.sum() >= 20 and 0 < yy.sum() < len(yy):
                cells[label] = (roc_auc_score(yy, z[known, j]), int(known.sum()), int(yy.sum()))
        matrix[source] = cells
    loso_seconds = time.perf_counter() - start
    baseline = {}
    if args.baseline_report.is_file():
        baseline = json.loads(args.baseline_report.read_text()).get("leave_one_source_out", {})

    lines = [
        "# Leave one source out: frozen e5 + MLP head beside the baseline",
        "",
        f"Command: `python benchmarks/loso_frozen.py --corpus {args.corpus} --per-source "
        f"{args.per_source}`  ",
        f"Date: {dt.date.today()}  ",
        f"Machine: {platform.node()}, {platform.machine()}, 2 cores, Python "
        f"{platform.python_version()}, torch CPU  ",
        f"Rows: {len(rows):,} train and dev rows (at most {args.per_source:,} per source); "
        f"embedding (cache misses only) {embed_seconds:,.0f} s, {len(sources)} folds "
        f"{loso_seconds:,.0f} s.",
        "",
        "Each fold trains the head on the train rows of every other source (early stopping on "
        "their dev rows) and scores the held-out source's sampled rows. The baseline's cells "
        "are from its own `warning eval --loso` run (full rows, retrained per source). Cells: "
        "ROC-AUC (rows, positives). An AUC near 0.5 means nothing carried over.",
        "",
        "| held-out source | label | frozen e5 + MLP | baseline |",
        "|---|---|---:|---:|",
    ]
    for source in sources:
        for label, (auc, n, pos) in matrix[source].items():
            other = baseline.get(source, {}).get(label, {})
            b = other.get("roc_auc")
            b_text = f"{b:.3f}" if isinstance(b, float) and b == b else ""
            lines.append(f"| {source} | {label} | {auc:.3f} ({n:,}, {pos:,}) | {b_text} |")
    aucs = [auc for cells in matrix.values() for auc, _, _ in cells.values()]
    lines += ["", f"Mean over {len(aucs)} cells: {np.mean(aucs):.3f}.", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    # the matrix for model cards (`warning eval --loso-from`)
    note = ("Measured with the transformer's stage-1 recipe (frozen multilingual-e5-small + "
            "MLP head), retrained without each source on at most "
            f"{args.per_source:,} train rows per source and tested on the held-out source's "
            "sampled train and dev rows (ROC-AUC; no threshold, so F1 is n/a). Retraining the "
            "LoRA model per source is out of reach on the CPU")
    matrix = {source: {label: {"roc_auc": auc, "n": n, "positives": pos}
                       for label, (auc, n, pos) in cells.items()}
              for source, cells in matrix.items()}
    args.out.with_suffix(".json").write_text(json.dumps({"note": note, "matrix": matrix},
                                                        indent=1), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
