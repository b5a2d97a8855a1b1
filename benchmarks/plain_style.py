"""Does a post's style change its verdict? Real posts and templates, as written and plain.

Usage:
    nice python benchmarks/plain_style.py --model "shipped default=models/default" \
        [--model "new=runs/..."] [--corpus corpus/corpus.parquet] [--split dev] \
        [--per-source 400] [--out benchmarks/results/plain_style.md]

Many real posts are typed without capitals or punctuation, and one whole labelled source is
written that way (the Kazakh hate set: lower-cased, no punctuation) while the clean text of
the same language is not. A model can then learn the style as a label. This benchmark scores
the same posts twice through the ordinary path (language detected per post, that language's
thresholds): as written, and lower-cased without punctuation
(:func:`warning.text.normalize.plain_fold`). Per real source (the split's collected rows only:
no synthetic sources, no augmented copies; at most ``--per-source`` rows each, a fixed sample)
and label with at least 20 known rows: the share of negatives flagged and of positives
flagged, as written and plain, the ROC-AUC of each, and the share of posts whose flag
changes. Then the same for the identity-swap template sentences of ``benchmarks/fairness/``.
A model that reads meaning, not style, moves little between the columns. Dev by default:
decisions are made there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from training.fairness import expand_templates, load_templates, score_texts_as_posts
from warning import Classifier
from warning.labels import LABELS
from warning.text.normalize import plain_fold

HERE = Path(__file__).resolve().parent
SCORED = ("offensive", "hate", "threat")
MIN_ROWS = 20  # a source's label with fewer known rows is not reported


def real_rows(corpus: pd.DataFrame, split: str, per_source: int) -> pd.DataFrame:
    """The split's collected rows (no synthetic source, no augmented copy), at most
    ``per_source`` of each source, a fixed sample."""
    rows = corpus[corpus["split"].eq(split) & corpus["derived"].fillna("").eq("")
                  & ~corpus["source"].str.contains("synthetic")]
    keep = [g.sample(min(len(g), per_source), random_state=0).index
            for _, g in rows.groupby("source")]
    return rows.loc[[i for index in keep for i in index]].reset_index(drop=True)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def compare(model: Classifier, texts: list[str], gold: pd.DataFrame) -> list[dict]:
    """Per label with known gold: flagged shares, ROC-AUC and changed flags, as written and
    plain (``gold``: a column per label, NaN = unknown)."""
    _, p_w, f_w = score_texts_as_posts(model, texts)
    _, p_p, f_p = score_texts_as_posts(model, [plain_fold(t) for t in texts])
    out = []
    for label in SCORED:
        j = LABELS.index(label)
        y = gold[label].to_numpy(dtype=float)
        known = ~np.isnan(y) & ~np.isnan(p_w[:, j])
        if known.sum() < MIN_ROWS:
            continue
        y, pos = y[known], y[known] == 1
        w, p = f_w[known, j], f_p[known, j]
        out.append({
            "label": label, "n": int(known.sum()), "positives": int(pos.sum()),
            "neg written": w[~pos].mean() if (~pos).any() else np.nan,
            "neg plain": p[~pos].mean() if (~pos).any() else np.nan,
            "pos written": w[pos].mean() if pos.any() else np.nan,
            "pos plain": p[pos].mean() if pos.any() else np.nan,
            "auc written": _auc(y, p_w[known, j]), "auc plain": _auc(y, p_p[known, j]),
            "changed": (w != p).mean(),
        })
    return out


def _pct(x: float) -> str:
    return "—" if np.isnan(x) else f"{x:.1%}"


def _num(x: float) -> str:
    return "—" if np.isnan(x) else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--split", default="dev", choices=["dev", "calib", "test"])
    parser.add_argument("--per-source", type=int, default=400)
    parser.add_argument("--sources", default="", metavar="NAMES",
                        help="only these sources (comma-separated; default every real one)")
    parser.add_argument("--sets", default="kk,ky,ru,uz,uz-Cyrl,tr,en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "plain_style.md")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    corpus = pd.read_parquet(args.corpus, columns=["text", "lang", "source", "split",
                                                   "derived", *SCORED])
    rows = real_rows(corpus, args.split, args.per_source)
    if args.sources:
        rows = rows[rows["source"].isin(args.sources.split(","))]
    templates = load_templates()
    sets = [s for s in args.sets.split(",") if s]
    real_lines = ["| model | source | label | rows (positives) | negatives flagged: written "
                  "→ plain | positives flagged: written → plain | ROC-AUC: written → plain | "
                  "flag changed |", "|---|---|---|---:|---|---|---|---:|"]
    template_lines = ["| model | set | label | toxic flagged: written → plain | neutral "
                      "flagged: written → plain | flag changed |", "|---|---|---|---|---|---:|"]
    for spec in args.model:
        name, _, folder = spec.partition("=")
        model = Classifier.load(folder)
        for source, group in rows.groupby("source"):
            for r in compare(model, group["text"].tolist(), group):
                print(name, source, r, flush=True)
                real_lines.append(
                    f"| {name} | {source} | {r['label']} | {r['n']} ({r['positives']}) | "
                    f"{_pct(r['neg written'])} → {_pct(r['neg plain'])} | "
                    f"{_pct(r['pos written'])} → {_pct(r['pos plain'])} | "
                    f"{_num(r['auc written'])} → {_num(r['auc plain'])} | "
                    f"{_pct(r['changed'])} |")
        for key in sets:
            expanded = expand_templates(templates[key])
            toxic = expanded["toxic"].to_numpy() == 1
            gold = pd.DataFrame({label: np.where(toxic, 1.0, 0.0) for label in ("hate",)})
            gold["offensive"] = gold["threat"] = np.nan
            for r in compare(model, expanded["text"].tolist(), gold):
                print(name, key, r, flush=True)
                template_lines.append(
                    f"| {name} | {key} | {r['label']} | {_pct(r['pos written'])} → "
                    f"{_pct(r['pos plain'])} | {_pct(r['neg written'])} → "
                    f"{_pct(r['neg plain'])} | {_pct(r['changed'])} |")
    text = "\n".join([
        "# A post's style: as written and lower-cased without punctuation", "",
        "Command: `nice python benchmarks/plain_style.py "
        + " ".join(f"--model '{m}'" for m in args.model)
        + f" --corpus {args.corpus} --split {args.split} --per-source {args.per_source}"
        + (f" --sources {args.sources}" if args.sources else "") + f" --sets {args.sets}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.node() or 'vm'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}  ",
        f"Rows: the {args.split} split's collected posts (no synthetic source, no augmented "
        f"copy), at most {args.per_source} per source (a fixed sample); each scored as a "
        "user's post (language detected, that language's thresholds), once as written and "
        "once lower-cased without punctuation (`plain_fold`). *flag changed*: the share of "
        "posts whose flag for the label differs between the two.", "",
        "## Real posts", "", *real_lines, "",
        "## Identity-swap templates (`benchmarks/fairness/`)", "",
        "Toxic sentences are the `hate` positives, neutral ones the negatives.", "",
        *template_lines, ""])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
