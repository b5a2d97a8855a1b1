"""Is a candidate better than the shipped model on the same posts, or only by chance?

Usage:
    nice python benchmarks/paired_dev.py --model "shipped=models/default" \
        --model "candidate=runs/default-x" [--corpus corpus/corpus.parquet] [--split dev] \
        [--resamples 2000] [--out benchmarks/results/paired_dev.md]

The dev split decides what is shipped, but its real labelled posts are few: 87 Kyrgyz
comments, 26 of them hateful. A `hate` F1 that moves from 0.60 to 0.50 there is two or three
posts, and a threshold fitted on 20 calib positives moves it as much. This benchmark scores
both models on the same posts, each as a user's post (language detected, that language's
thresholds), and resamples the posts (a paired bootstrap: both models see the same resample)
to give the difference, candidate minus the first model, with its 95% interval and the share
of resamples in which the candidate is ahead:

- each real labelled source's collected rows of the split (no synthetic source, no augmented
  copy), per label with both classes: F1 at the stored thresholds and ROC-AUC (which no
  threshold moves);
- the functional suites (``benchmarks/functional``): the share of hateful cases caught and of
  non-hateful cases passed (a case is hateful when ``hate`` or ``threat`` is flagged);
- the identity-swap templates (``benchmarks/fairness``): the share of toxic sentences flagged
  ``hate`` and of neutral ones flagged ``hate``.

An interval that holds 0 is a difference these posts cannot tell from chance. Figures only, no
post text, are written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_model import REAL_SOURCES

from training.evaluate import HATEFUL_LABELS, load_suite
from training.fairness import expand_templates, load_templates, score_texts_as_posts
from warning import Classifier
from warning.labels import LABELS

HERE = Path(__file__).resolve().parent
SCORED = ("offensive", "hate", "threat")
MIN_CLASS = 5  # a source's label with fewer positives or negatives is not reported


def published_rows(corpus: pd.DataFrame, split: str, source: str) -> pd.DataFrame:
    """One real source's rows of the split, as published (no augmented copy)."""
    mine = corpus["source"].str.split(";").map(lambda names: source in names)
    derived = corpus["derived"].fillna("") if "derived" in corpus else pd.Series("", corpus.index)
    return corpus[mine & corpus["split"].eq(split) & derived.eq("")]


def paired(a: np.ndarray, b: np.ndarray, statistic, resamples: int, seed: int = 0,
           strata: np.ndarray | None = None) -> dict[str, float]:
    """``statistic(indices, model_output)`` for both models on the same resamples.

    Returns the two point values, their difference (b - a), its 95% percentile interval and the
    share of resamples where b is ahead (ties count half). ``strata``: resample within each
    stratum (the positives and the negatives), so every resample keeps both classes.
    """
    rng = np.random.default_rng(seed)
    n = len(a)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s)
                                                      for s in np.unique(strata)]
    diffs = np.empty(resamples)
    for r in range(resamples):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        diffs[r] = statistic(idx, b) - statistic(idx, a)
    whole = np.arange(n)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"a": float(statistic(whole, a)), "b": float(statistic(whole, b)),
            "diff": float(statistic(whole, b) - statistic(whole, a)), "low": float(low),
            "high": float(high), "ahead": float((diffs > 0).mean() + 0.5 * (diffs == 0).mean())}


def source_rows(models: dict[str, Classifier], corpus: pd.DataFrame, split: str,
                resamples: int, sources: tuple[str, ...] = REAL_SOURCES) -> list[dict]:
    """Each source's labels with both classes: F1 and ROC-AUC of both models, paired."""
    out = []
    model_a, model_b = models.values()
    for source in sources:
        rows = published_rows(corpus, split, source)
        if rows.empty:
            continue
        texts = list(rows["text"])
        (_, pa, fa), (_, pb, fb) = (score_texts_as_posts(m, texts) for m in (model_a, model_b))
        for label in SCORED:
            known = rows[label].notna().to_numpy()
            y = rows.loc[known, label].to_numpy(int)
            j = LABELS.index(label)
            if min(y.sum(), len(y) - y.sum()) < MIN_CLASS or \
                    np.isnan(pa[known, j]).all() or np.isnan(pb[known, j]).all():
                continue

            def f1(idx, flags, y=y):
                return f1_score(y[idx], flags[idx], zero_division=0)

            def auc(idx, proba, y=y):
                return roc_auc_score(y[idx], proba[idx])

            figures = {"F1": paired(fa[known, j], fb[known, j], f1, resamples, strata=y),
                       "ROC-AUC": paired(pa[known, j], pb[known, j], auc, resamples, strata=y)}
            for metric, result in figures.items():
                out.append({"what": f"{source} `{label}` {metric}",
                            "n": f"{len(y)} ({int(y.sum())})", **result})
    return out


def case_rows(models: dict[str, Classifier], resamples: int) -> list[dict]:
    """The suites' and the templates' cases: the share caught or passed, paired per case."""
    model_a, model_b = models.values()
    out = []
    hateful = [LABELS.index(n) for n in HATEFUL_LABELS]

    def share(idx, hits):
        return hits[idx].mean()

    for path in sorted((HERE / "functional").glob("*.csv")):
        suite = load_suite(path)
        texts = list(suite["test_case"])
        gold = suite["label_gold"].eq("hateful").to_numpy()
        predicted = [score_texts_as_posts(m, texts)[2][:, hateful].any(axis=1)
                     for m in (model_a, model_b)]
        for kind, mask, correct in (("hateful cases caught", gold, True),
                                    ("non-hateful cases passed", ~gold, False)):
            hits = [p[mask] == correct for p in predicted]
            out.append({"what": f"{path.name}: {kind}", "n": str(int(mask.sum())),
                        **paired(hits[0], hits[1], share, resamples)})
    for key, template_set in load_templates().items():
        rows = expand_templates(template_set)
        toxic = rows["toxic"].to_numpy() == 1.0
        flags = [score_texts_as_posts(m, list(rows["text"]))[2][:, LABELS.index("hate")]
                 for m in (model_a, model_b)]
        for kind, mask in (("toxic flagged `hate`", toxic),
                           ("neutral flagged `hate` (lower is better)", ~toxic)):
            out.append({"what": f"templates {key}: {kind}", "n": str(int(mask.sum())),
                        **paired(flags[0][mask], flags[1][mask], share, resamples)})
    return out


def markdown(rows: list[dict], names: list[str], command: str) -> str:
    lines = [
        "# Paired comparison on the same posts", "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}", "",
        f"*A*: {names[0]}; *B*: {names[1]}. Each post scored as a user's (language detected, "
        "that language's thresholds). *B - A*: the difference on all the posts, then its 95% "
        "interval over paired resamples (real sources: resampled within positives and "
        "negatives) and the share of resamples where B is ahead. An interval that holds 0 "
        "cannot be told from chance on these posts.", "",
        "| figure | posts (positives) | A | B | B - A | 95% interval | B ahead in |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['what']} | {r['n']} | {r['a']:.3f} | {r['b']:.3f} | "
                     f"{r['diff']:+.3f} | [{r['low']:+.3f}, {r['high']:+.3f}] | "
                     f"{r['ahead']:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FOLDER",
                        help="exactly two: the first is A (the shipped one), the second B")
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--sources", default=",".join(REAL_SOURCES),
                        help="comma-separated real sources (default: the four real hate sets)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "paired_dev.md")
    args = parser.parse_args()
    if len(args.model) != 2:
        parser.error("give --model exactly twice: A (the shipped model), then B")
    models = {}
    for value in args.model:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            parser.error(f"--model takes NAME=FOLDER, got {value!r}")
        models[name] = Classifier.load(Path(folder))
    if len(models) != 2:
        parser.error("the two --model names must differ")
    if args.resamples < 100:
        parser.error("--resamples must be at least 100")
    from training.corpus import load_corpus

    corpus = load_corpus(args.corpus)
    sources = tuple(s for s in args.sources.split(",") if s)
    rows = source_rows(models, corpus, args.split, args.resamples, sources) + \
        case_rows(models, args.resamples)
    command = "python benchmarks/paired_dev.py " + " ".join(
        f"--model '{v}'" for v in args.model) + f" --corpus {args.corpus} --split {args.split}" \
        f" --resamples {args.resamples}" + \
        (f" --sources {args.sources}" if sources != REAL_SOURCES else "")
    text = markdown(rows, [f"{n} (`{m.name}`)" for n, m in models.items()], command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
