"""Per-source yardsticks on the real labelled sources: an in-domain reference and our models.

For each source (default: the four real hate sets of issue 15), on that source's own rows of
the corpus:

- the **reference**: a character n-gram TF-IDF logistic regression trained on the source's
  ``train`` rows alone (as published: no keyboard variants), its C chosen on the source's
  ``dev`` rows, evaluated on its ``test`` rows: per label (where the source has both classes),
  and on the source's own classes where it has three (Kyrgyz non_hate / offensive / hate,
  Turkish hiçbiri / saldırgan / nefret: macro-F1 over the three, the papers' metric);
- each model given with ``--model NAME=FOLDER`` (default: ``models/baseline``), on the same
  test rows: per label at its stored thresholds (each post's language's, as `predict` flags
  it), and on the three classes by its flags (hate
  flagged -> hate, else offensive flagged -> offensive, else neither).

Only real posts are scored here (keyboard variants and our synthetic sources never are).

Usage:
    python benchmarks/source_reference.py [--corpus corpus/corpus.parquet]
        [--model baseline=models/baseline] [--model default=models/default]

Writes ``benchmarks/results/source_reference.md`` and ``.json`` (figures only, no text).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

from warning.labels import LABELS
from warning.text.normalize import fold

HERE = Path(__file__).resolve().parent
SOURCES = ("ky_youtube_hate", "kk_hate_speech", "tr_hate_tweets", "ru_ethnohate")
#: The sources' own three classes, in the order none / offensive / hate.
THREE_CLASSES = {
    "ky_youtube_hate": ("non_hate", "offensive", "hate"),
    "tr_hate_tweets": ("hiçbiri", "saldırgan", "nefret"),
}
C_GRID = (1.0, 4.0, 16.0)


def _rows(corpus: pd.DataFrame, source: str, split: str) -> pd.DataFrame:
    mine = corpus["source"].str.split(";").map(lambda names: source in names)
    real = ~corpus["derived"].fillna("").str.contains("keyboard|plain")
    return corpus[mine & real & corpus["split"].eq(split)]


def _features() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                           min_df=2, max_features=200_000, lowercase=False)


def _texts(frame: pd.DataFrame) -> list[str]:
    return [fold(t) for t in frame["text_norm"]]


def _fit(x_train, y_train, x_dev, y_dev, score) -> LogisticRegression:
    best, best_score = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
        model.fit(x_train, y_train)
        value = score(y_dev, model.predict(x_dev)) if len(y_dev) else 0.0
        if value > best_score:
            best, best_score = model, value
    return best


def _binary(y_true: np.ndarray, prob: np.ndarray, flag: np.ndarray) -> dict:
    out = {"n": len(y_true), "positives": int(y_true.sum()),
           "f1": float(f1_score(y_true, flag, zero_division=0))}
    out["roc_auc"] = float(roc_auc_score(y_true, prob)) if 0 < y_true.sum() < len(y_true) \
        else None
    return out


def reference(corpus: pd.DataFrame, source: str) -> dict:
    """The in-domain reference of one source: per label and on its own three classes."""
    train, dev, test = (_rows(corpus, source, s) for s in ("train", "dev", "test"))
    vec = _features()
    x_train = vec.fit_transform(_texts(train))
    x_dev, x_test = vec.transform(_texts(dev)), vec.transform(_texts(test))
    calib = _rows(corpus, source, "calib")
    out: dict = {"rows": {"train": len(train), "dev": len(dev), "calib": len(calib),
                          "test": len(test)}, "labels": {}}
    for label in LABELS:
        known = [frame[label].notna().to_numpy() for frame in (train, dev, test)]
        y = [frame.loc[k, label].to_numpy(int) for frame, k in zip((train, dev, test), known,
                                                                    strict=True)]
        if len(np.unique(y[0])) < 2 or len(np.unique(y[2])) < 2:
            continue
        model = _fit(x_train[known[0]], y[0], x_dev[known[1]], y[1],
                     lambda a, b: f1_score(a, b, zero_division=0))
        prob = model.predict_proba(x_test[known[2]])[:, 1]
        out["labels"][label] = _binary(y[2], prob, prob >= 0.5)
    if source in THREE_CLASSES:
        classes = THREE_CLASSES[source]
        model = _fit(x_train, train["meta_label"].to_numpy(), x_dev, dev["meta_label"].to_numpy(),
                     lambda a, b: f1_score(a, b, labels=list(classes), average="macro",
                                           zero_division=0))
        pred = model.predict(x_test)
        out["three_class_macro_f1"] = float(f1_score(test["meta_label"], pred,
                                                     labels=list(classes), average="macro",
                                                     zero_division=0))
    return out


def model_figures(model, corpus: pd.DataFrame, source: str) -> dict:
    """A trained model's figures on one source's test rows."""
    test = _rows(corpus, source, "test")
    texts = list(test["text"])
    start = time.perf_counter()
    langs = model.languages(texts)
    probs = model.predict_proba(texts, langs=langs)
    seconds = time.perf_counter() - start
    # each post's own language's thresholds, as a user's posts are flagged (``predict``)
    thresholds = model.threshold_matrix(langs, len(texts))
    scored = set(model.config.thresholds)
    out: dict = {"labels": {}, "seconds": round(seconds, 1)}
    for j, label in enumerate(model.labels):
        known = test[label].notna().to_numpy()
        y = test.loc[known, label].to_numpy(int)
        p = probs[known, j]
        if label not in scored or np.isnan(p).all() or len(np.unique(y)) < 2:
            continue
        out["labels"][label] = _binary(y, p, p >= thresholds[known, j])
    if source in THREE_CLASSES and {"offensive", "hate"} <= scored:
        none, offensive, hate = THREE_CLASSES[source]
        i_off, i_hate = model.labels.index("offensive"), model.labels.index("hate")
        pred = np.where(probs[:, i_hate] >= thresholds[:, i_hate], hate,
                        np.where(probs[:, i_off] >= thresholds[:, i_off], offensive, none))
        out["three_class_macro_f1"] = float(f1_score(test["meta_label"], pred,
                                                     labels=[none, offensive, hate],
                                                     average="macro", zero_division=0))
    return out


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _markdown(results: dict, models: list[str], machine: str) -> str:
    lines = [
        "# Real labelled sources: in-domain reference and our models",
        "",
        "Command: `python benchmarks/source_reference.py " +
        " ".join(f"--model {m}" for m in results["model_args"]) + "`  ",
        f"Date: {dt.date.today()}  ",
        f"Machine: {machine}",
        "",
        "Models: " + "; ".join(f"*{name}* `{folder}` ({ident})"
                               for name, (folder, ident) in results["models"].items()) + ".",
        "",
        "Each source's **test** split of the corpus (real posts only: no keyboard variants, no "
        "synthetic rows), per label where the source has both classes. *reference*: character "
        "2-5-gram TF-IDF logistic regression trained on that source's train split alone (C "
        "chosen on its dev split, threshold 0.5): the in-domain yardstick. Model columns: the "
        "model folder's stored thresholds, each post's own language's where the model has "
        "them (as a user's posts are flagged). F1 of the positive class; ROC-AUC in brackets. "
        "*3-class*: macro-F1 over the source's own three classes (none / offensive / hate), "
        "a model's classes read from its flags (hate, else offensive, else none).",
        "",
        "| source (language) | label | test rows (positives) | reference | " +
        " | ".join(models) + " |",
        "|---|---|---|---|" + "---|" * len(models),
    ]
    for source, res in results["sources"].items():
        ref = res["reference"]
        lang = res["lang"]
        for label, fig in ref["labels"].items():
            cells = [f"{_fmt(fig['f1'])} ({_fmt(fig['roc_auc'])})"]
            for name in models:
                m = res["models"][name]["labels"].get(label)
                cells.append(f"{_fmt(m['f1'])} ({_fmt(m['roc_auc'])})" if m else "—")
            lines.append(f"| {source} ({lang}) | {label} | {fig['n']} ({fig['positives']}) | " +
                         " | ".join(cells) + " |")
        if "three_class_macro_f1" in ref:
            cells = [_fmt(ref["three_class_macro_f1"])] + [
                _fmt(res["models"][n].get("three_class_macro_f1")) for n in models]
            lines.append(f"| {source} ({lang}) | 3-class | {ref['rows']['test']} | " +
                         " | ".join(cells) + " |")
    lines += ["", "Rows per split of each source (as published, without keyboard variants):", "",
              "| source | train | dev | calib | test |", "|---|---:|---:|---:|---:|"]
    for source, res in results["sources"].items():
        r = res["reference"]["rows"]
        lines.append(f"| {source} | {r['train']} | {r['dev']} | {r['calib']} | {r['test']} |")
    lines += ["", "The test splits are small (the Kyrgyz one has under a hundred comments): "
              "read differences of a few points as noise. The sources' published test parts "
              "are not in our data (SOURCES.md), so these are not the papers' test sets.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--model", action="append", metavar="NAME=FOLDER",
                        help="a model folder to score (repeatable; default baseline=models/"
                             "baseline)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "source_reference.md")
    args = parser.parse_args()
    from training.corpus import load_corpus
    from warning.models.classifier import Classifier

    corpus = load_corpus(args.corpus)
    model_args = args.model or ["baseline=models/baseline"]
    models = {}
    for value in model_args:
        name, _, folder = value.partition("=")
        models[name] = Classifier.load(Path(folder))
    results: dict = {"model_args": model_args, "sources": {},
                     "models": {name: (value.partition("=")[2], models[name].name)
                                for name, value in zip(models, model_args, strict=True)}}
    for source in args.sources.split(","):
        rows = _rows(corpus, source, "test")
        entry = {"lang": rows["lang"].mode().iloc[0] if len(rows) else "?",
                 "reference": reference(corpus, source), "models": {}}
        for name, model in models.items():
            entry["models"][name] = model_figures(model, corpus, source)
        results["sources"][source] = entry
        print(source, json.dumps(entry["reference"].get("three_class_macro_f1")), flush=True)
    machine = f"{platform.node() or 'unknown'}, {platform.processor() or platform.machine()}, " \
              f"Python {platform.python_version()}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_markdown(results, list(models), machine), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
