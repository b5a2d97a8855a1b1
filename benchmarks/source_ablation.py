"""What each data source buys, on dev: stage-1 heads trained with and without it.

Usage:
    nice python benchmarks/source_ablation.py --corpus corpus/corpus.parquet \
        [--per-source 600] [--cached-layers 10]

The corpus must have been built with ``--synthetic --weak-hate ru`` (keyboard variants are on
by default). Every variant is one masked-BCE MLP head (``training.heads.MLPHead``) on frozen
multilingual-e5-small embeddings of the same training rows (at most ``--per-source`` rows per
source, the rows the transformer's CPU recipe trains on), with one part of the data taken out:

- the weak Russian ``hate`` labels (set back to unknown), our synthetic sentences, the
  identity-mention sentences, the keyboard-variant copies;
- each new real source: ``ru_ethnohate``, ``ky_youtube_hate``, ``kk_hate_speech``,
  ``tr_hate_tweets``.

Embeddings come from the layer cache the transformer's CPU recipe fills anyway
(``training.layer_cache``, lower ``--cached-layers`` layers) plus the frozen layers above, so
this costs a fraction of embedding the rows again. Figures (threshold-free, so no calibration
choice hides in them): ``hate`` ROC-AUC and average precision on each real source's dev rows,
``offensive`` ROC-AUC on the Kyrgyz comments, and on the functional suites the ROC-AUC of the
``hate`` score between hateful and non-hateful cases. Writes
``benchmarks/results/source_ablation.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from training.baseline import cap_rows
from training.corpus import load_corpus
from training.eval_run import DEFAULT_SUITES
from training.evaluate import load_suite
from training.heads import MLPHead
from training.layer_cache import LayerCache, cache_rows, pooled, upper_states
from training.transformer import TransformerConfig, _cap_sources
from warning.models.encoder import E5_PREFIX, E5_SHA256, embed, load_encoder
from warning.settings import cache_dir, precision

HERE = Path(__file__).resolve().parent
SCORED = ("offensive", "hate", "threat")
REAL = ("ky_youtube_hate", "kk_hate_speech", "tr_hate_tweets", "ru_ethnohate")


def first_source(rows: pd.DataFrame) -> pd.Series:
    return rows["source"].str.split(";").str[0]


def variants(train: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The training rows of each variant (labels changed where a variant drops labels)."""
    src = first_source(train)
    derived = train["derived"].fillna("")
    synthetic = src.str.startswith("synthetic_")
    mentions = synthetic & src.str.endswith("_mentions")
    out = {"all": train}
    no_weak = train.copy()
    no_weak.loc[derived.str.contains("weak:hate").to_numpy(), "hate"] = np.nan
    out["without weak ru hate labels"] = no_weak
    out["without synthetic sentences"] = train[~(synthetic & ~mentions)]
    out["without identity-mention sentences"] = train[~mentions]
    out["without keyboard variants"] = train[~derived.str.contains("keyboard")]
    for name in REAL:
        out[f"without {name}"] = train[src != name]
    return out


def frozen_embeddings(rows: pd.DataFrame, cache: LayerCache, base, layers: int,
                      batch: int = 128) -> np.ndarray:
    import torch

    ids = list(rows["id"])
    lengths = np.array([cache.index()[i][2] for i in ids])
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(ids), base.config.hidden_size), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                enabled=precision() == "bfloat16"):
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            hidden, mask = cache.batch([ids[i] for i in idx])
            out[idx] = pooled(upper_states(base, hidden, mask, layers), mask).float().numpy()
    return out


def figures(dev_scores: np.ndarray, dev: pd.DataFrame,
            suites: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Threshold-free figures from scores ``[n_dev, 3]`` (offensive, hate, threat; any
    increasing function of the probability) and each suite's (hate scores, hateful 1/0)."""
    src = first_source(dev).to_numpy()
    out: dict[str, float] = {}
    hate = SCORED.index("hate")
    for name in REAL:
        sel = (src == name) & dev["hate"].notna().to_numpy()
        y = dev["hate"].to_numpy()[sel]
        if sel.sum() >= 20 and 0 < y.sum() < len(y):
            out[f"{name} hate AUC"] = roc_auc_score(y, dev_scores[sel, hate])
            out[f"{name} hate AP"] = average_precision_score(y, dev_scores[sel, hate])
    sel = (src == "ky_youtube_hate") & dev["offensive"].notna().to_numpy()
    y = dev["offensive"].to_numpy()[sel]
    if sel.sum() >= 20 and 0 < y.sum() < len(y):
        out["ky_youtube_hate offensive AUC"] = roc_auc_score(
            y, dev_scores[sel, SCORED.index("offensive")])
    for name, (scores, y_suite) in suites.items():
        out[f"{name} hateful vs non-hateful AUC"] = roc_auc_score(y_suite, scores)
    return out


def baseline_scores(rows: pd.DataFrame, dev: pd.DataFrame, calib: pd.DataFrame,
                    suite_texts: dict[str, list[str]]):
    """The character n-gram baseline fitted on ``rows`` (one C, 4.0): its raw logits on the
    dev rows and the suites' hate logits."""
    from training.baseline import BaselineConfig, fit_baseline

    model = fit_baseline(pd.concat([rows, dev, calib]),
                         BaselineConfig(c_grid=(4.0,), min_positives=50, version="ablation"))

    def logits(texts: list[str]) -> np.ndarray:
        raw = model.raw_logits(texts)
        out = np.zeros((len(texts), len(SCORED)))
        for j, name in enumerate(SCORED):
            if name in model.config.scored_labels:
                out[:, j] = raw[:, model.config.scored_labels.index(name)]
        return out

    column = "text_norm" if "text_norm" in dev else "text"
    return logits(list(dev[column])), {k: logits(v)[:, SCORED.index("hate")]
                                       for k, v in suite_texts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--config", type=Path, default=Path("training/configs/lora_cpu.json"),
                        help="the transformer configuration whose training rows to take")
    parser.add_argument("--per-source", type=int, default=600,
                        help="training rows per source (as training/configs/lora_cpu.json)")
    parser.add_argument("--dev-real", type=int, default=500,
                        help="dev rows of each new real source")
    parser.add_argument("--dev-other", type=int, default=100,
                        help="dev rows of every other source")
    parser.add_argument("--recipe", choices=("frozen", "baseline"), default="frozen",
                        help="frozen: MLP heads on frozen e5 embeddings (from the layer "
                             "cache); baseline: the character n-gram baseline, one C")
    parser.add_argument("--cached-layers", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None,
                        help="default: benchmarks/results/source_ablation_RECIPE.md")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    args.out = args.out or HERE / "results" / f"source_ablation_{args.recipe}.md"
    load_before = os.getloadavg()
    corpus = load_corpus(args.corpus)
    config = TransformerConfig.from_file(args.config)
    config.train_rows_per_source = args.per_source
    # the same training rows as the transformer's training takes (and so already cached)
    train = _cap_sources(cap_rows(corpus[corpus["split"] == "train"],
                                  config.capped_rows_per_language), config.train_rows_per_source,
                         config.uncapped_sources)
    dev = corpus[corpus["split"] == "dev"]
    dev = pd.concat([_cap_sources(dev[first_source(dev).isin(REAL)], args.dev_real),
                     _cap_sources(dev[~first_source(dev).isin(REAL)], args.dev_other)])
    suite_frames = {Path(p).name: load_suite(p) for p in DEFAULT_SUITES}
    suite_texts = {k: [str(t) for t in v["test_case"]] for k, v in suite_frames.items()}
    suite_y = {k: (v["label_gold"] == "hateful").to_numpy(int) for k, v in suite_frames.items()}
    table: dict[str, dict[str, float]] = {}
    sizes: dict[str, int] = {}
    if args.recipe == "baseline":
        calib = _cap_sources(corpus[corpus["split"] == "calib"], args.dev_other * 2)
        for name, rows_v in variants(train).items():
            dev_scores, suite_scores = baseline_scores(rows_v, dev, calib, suite_texts)
            table[name] = figures(dev_scores, dev,
                                  {k: (suite_scores[k], suite_y[k]) for k in suite_y})
            sizes[name] = len(rows_v)
            print(name, {k: round(v, 3) for k, v in table[name].items()}, flush=True)
    else:
        tokenizer, base = load_encoder()
        mode = precision()
        layers = args.cached_layers
        meta = {"encoder": f"multilingual-e5-small-q4-{E5_SHA256[:12]}", "layers": layers,
                "max_length": config.max_length, "prefix": E5_PREFIX, "precision": mode,
                "hidden": base.config.hidden_size}
        cache = LayerCache(cache_dir() / "layer_states" / f"e5-q4-L{layers}-"
                           f"{config.max_length}-{mode}", meta)
        rows = pd.concat([train, dev]).drop_duplicates("id")
        cache_rows(list(rows["id"]), list(rows["text_norm"]), cache, tokenizer, base,
                   precision=mode)
        x_all = frozen_embeddings(rows, cache, base, layers)
        position = {row_id: i for i, row_id in enumerate(rows["id"])}
        x_dev = x_all[[position[i] for i in dev["id"]]]
        x_suites = {k: embed(v, tokenizer, base, max_length=config.max_length, precision=mode)
                    for k, v in suite_texts.items()}
        for name, rows_v in variants(train).items():
            x = x_all[[position[i] for i in rows_v["id"]]]
            head = MLPHead(epochs=30, seed=0).fit(x, rows_v[list(SCORED)].to_numpy(float),
                                                   x_dev, dev[list(SCORED)].to_numpy(float))
            hate = SCORED.index("hate")
            table[name] = figures(head.decision_function(x_dev), dev,
                                  {k: (head.decision_function(x_suites[k])[:, hate], suite_y[k])
                                   for k in suite_y})
            sizes[name] = len(rows_v)
            print(name, {k: round(v, 3) for k, v in table[name].items()}, flush=True)
    names = list(table)
    metrics = sorted({m for v in table.values() for m in v}, key=lambda m: (
        not any(m.startswith(r) for r in REAL), m))
    lines = ["| figure (dev) | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names),
             "| training rows | " + " | ".join(f"{sizes[n]:,}" for n in names) + " |"]
    for metric in metrics:
        cells = []
        for n in names:
            value = table[n].get(metric, float("nan"))
            delta = value - table["all"].get(metric, float("nan"))
            cells.append(f"{value:.3f}" if n == "all" else f"{value:.3f} ({delta:+.3f})")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    load_after = os.getloadavg()
    text = "\n".join([
        f"# What each data source buys ({args.recipe} recipe, dev)", "",
        f"Command: `nice python benchmarks/source_ablation.py --corpus {args.corpus} "
        f"--per-source {args.per_source} --dev-real {args.dev_real} --dev-other "
        f"{args.dev_other} --recipe {args.recipe} --cached-layers {args.cached_layers}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.node() or 'vm'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}; load average "
        f"{load_before[0]:.1f} / {load_after[0]:.1f} (before / after)  ",
        f"Dev rows: at most {args.dev_real} of each of {', '.join(REAL)} and "
        f"{args.dev_other} of each other source ({len(dev):,}); "
        + ("heads: masked-BCE MLP (256 hidden), early stopping on those dev rows, seed 0. "
           if args.recipe == "frozen" else
           "the character n-gram baseline (training.baseline defaults, C = 4, calibrated on "
           f"at most {args.dev_other * 2} calib rows per source; raw logits scored). ")
        + "In brackets: the change "
        "against `all`. Higher is better for every figure; a drop when a part is removed "
        "is what that part buys.", "",
        *lines, ""])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
