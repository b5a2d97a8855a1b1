"""Stage 1: heads on frozen multilingual-e5-small embeddings, against the baseline, on dev.

Usage:
    python benchmarks/stage1_heads.py [--per-source 3000] [--dev-per-source 600]

Embeds a source-balanced sample of the corpus's train and dev rows with the frozen encoder
(cached in ``WARNING_CACHE_DIR/embeddings``, resumable), trains a logistic regression per label
and a masked-BCE MLP on the embeddings, and compares them with the shipped baseline on the same
dev rows, per language and label (ROC-AUC and average precision, threshold-free). Data-mix
variants of the MLP: everything; without the capped clean-only languages; permissive sources
only. Writes ``benchmarks/results/stage1_heads.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from training.corpus import load_corpus
from training.embeddings import EmbeddingCache, embed_rows
from training.heads import MLPHead, fit_linear_heads
from training.sources import SOURCES
from warning import Classifier
from warning.labels import LABELS
from warning.settings import cache_dir

HERE = Path(__file__).resolve().parent
SCORED = ("offensive", "hate", "threat")


def sample_per_source(rows: pd.DataFrame, per_source: int, seed: int = 0) -> pd.DataFrame:
    """At most ``per_source`` rows of each source (first source of merged rows), seeded."""
    first = rows["source"].str.split(";").str[0]
    parts = [part.sample(min(len(part), per_source), random_state=seed)
             for _, part in rows.groupby(first, sort=True)]
    return pd.concat(parts).sort_values("id")


def _cells(y: np.ndarray, scores: np.ndarray, langs: np.ndarray) -> dict:
    out = {}
    for j, name in enumerate(SCORED):
        col = LABELS.index(name)
        for lang in sorted(set(langs)):
            sel = (langs == lang) & ~np.isnan(y[:, col])
            yy = y[sel, col]
            if sel.sum() < 30 or yy.min() == yy.max():
                continue
            out[(name, lang)] = (roc_auc_score(yy, scores[sel, j]),
                                 average_precision_score(yy, scores[sel, j]), int(sel.sum()),
                                 int(yy.sum()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--per-source", type=int, default=3000)
    parser.add_argument("--dev-per-source", type=int, default=600)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "stage1_heads.md")
    args = parser.parse_args()

    corpus = load_corpus(args.corpus)
    train = sample_per_source(corpus[corpus["split"] == "train"], args.per_source)
    dev = sample_per_source(corpus[corpus["split"] == "dev"], args.dev_per_source)
    cache = EmbeddingCache(cache_dir() / "embeddings" / "corpus-e5-q4-128")
    start = time.perf_counter()
    x_train = embed_rows(train, cache)
    x_dev = embed_rows(dev, cache)
    embed_seconds = time.perf_counter() - start
    y_train = train[list(LABELS)].to_numpy(float)
    y_dev = dev[list(LABELS)].to_numpy(float)
    langs = dev["lang"].to_numpy()

    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    baseline = Classifier.load(Path("models/baseline"))
    results["baseline (char n-grams, full train)"] = _cells(
        y_dev, baseline.raw_logits(list(dev["text"])), langs)

    t = time.perf_counter()
    heads = fit_linear_heads(x_train, y_train, SCORED)
    timings["e5 + logistic regression"] = time.perf_counter() - t
    results["e5 + logistic regression"] = _cells(
        y_dev, np.column_stack([heads[n].decision_function(x_dev) for n in SCORED]), langs)

    permissive = train["licence"].str.split(";").map(
        lambda lics: all(lic == "permissive" for lic in lics)).to_numpy()
    capped = train["capped"].to_numpy()
    variants = {
        "e5 + MLP, all sources": np.ones(len(train), dtype=bool),
        "e5 + MLP, without clean-only ky/kk/uz": ~capped,
        "e5 + MLP, permissive sources only": permissive,
    }
    for name, keep in variants.items():
        t = time.perf_counter()
        mlp = MLPHead().fit(x_train[keep], y_train[keep][:, :3], x_dev, y_dev[:, :3])
        timings[name] = time.perf_counter() - t
        results[name] = _cells(y_dev, mlp.decision_function(x_dev), langs)

    cells = sorted({c for r in results.values() for c in r})
    lines = [
        "# Stage 1: heads on frozen multilingual-e5-small embeddings vs the baseline",
        "",
        f"Command: `python benchmarks/stage1_heads.py --per-source {args.per_source} "
        f"--dev-per-source {args.dev_per_source}`  ",
        f"Date: {dt.date.today()}  ",
        f"Machine: {platform.node()}, {platform.machine()}, 2 cores, Python "
        f"{platform.python_version()}, torch CPU",
        "",
        f"Rows: {len(train):,} train (at most {args.per_source:,} per source), {len(dev):,} dev "
        f"(at most {args.dev_per_source:,} per source). Embedding (cache misses only): "
        f"{embed_seconds:,.0f} s. Head training: " +
        ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ".",
        "",
        "The baseline was trained on the full train split, the heads on the sample. Cells: "
        "ROC-AUC / average precision on dev rows where the label is known.",
        "",
        "| label | lang | n (pos) | " + " | ".join(results) + " |",
        "|---|---|---|" + "---|" * len(results),
    ]
    for name, lang in cells:
        first = next(r[(name, lang)] for r in results.values() if (name, lang) in r)
        row = [f"{r[(name, lang)][0]:.3f} / {r[(name, lang)][1]:.3f}" if (name, lang) in r
               else "" for r in results.values()]
        lines.append(f"| {name} | {lang} | {first[2]} ({first[3]}) | " + " | ".join(row) + " |")
    lines += ["", "Mean ROC-AUC over the cells: " + ", ".join(
        f"{k} {np.mean([v[0] for v in r.values()]):.3f}" for k, r in results.items()
        if r and not math.isnan(np.mean([v[0] for v in r.values()]))), ""]
    sources = sorted(s for s, src in SOURCES.items() if src.default)
    lines.append(f"Default sources: {', '.join(sources)}.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
