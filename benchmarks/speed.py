"""Scoring speed of the default model against a naive ``transformers.pipeline`` loop.

Usage:
    python benchmarks/speed.py [--model models/default] [--corpus corpus/corpus.parquet]
                               [--texts 2000] [--naive-texts 2000]

Fixed protocol (issue "The default model"):

- the same 2,000 test-split texts for both paths (sampled with seed 0; their length histogram in
  tokens is recorded), the same maximum length and the same token windows;
- ``torch.set_num_threads(2)`` for both, one warm-up pass over 32 texts each;
- ours: ``TransformerClassifier.predict_proba`` (sorted by length, padded per batch,
  ``torch.inference_mode``) on the whole list;
- naive: a loop over ``transformers.pipeline("feature-extraction")`` with the same merged
  weights, one window at a time, then the same pooling, head, window max and calibration
  (per language, as ours);
- the outputs of the two paths are asserted close (max absolute difference of probabilities
  under 1e-3) before any number is written;
- when the default is an ensemble, the whole ensemble (transformer, baseline, language ID and
  stacking) is timed as well, on the same texts.

Writes ``benchmarks/results/speed.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np

from training.corpus import load_corpus
from warning import Classifier
from warning.classifier import default_model_path
from warning.encoder import E5_PREFIX

HERE = Path(__file__).resolve().parent


def _transformer_of(model: Classifier):
    if model.config.kind == "transformer":
        return model
    for member in getattr(model, "members", {}).values():
        if member.config.kind == "transformer":
            return member
    raise SystemExit(f"{model.name} has no transformer to time")


def naive_proba(model, texts: list[str]) -> np.ndarray:
    """The transformer's probabilities through ``transformers.pipeline``, one window at a
    time (the path a first implementation would take)."""
    import torch
    from transformers import pipeline

    extractor = pipeline("feature-extraction", model=model.encoder, tokenizer=model.tokenizer,
                         device=-1, tokenize_kwargs={"truncation": True,
                                                     "max_length": model.max_length})
    logits = np.zeros((len(texts), len(model.config.scored_labels)))
    for i, text in enumerate(texts):
        window_logits = []
        for window in model.windows(text):
            tokens = np.asarray(extractor(E5_PREFIX + window)[0])
            pooled = tokens.mean(axis=0)
            pooled = pooled / max(np.linalg.norm(pooled), 1e-12)
            with torch.inference_mode():
                head_out = model.head(torch.from_numpy(pooled[None].astype(np.float32)))
            window_logits.append(head_out.numpy()[0].astype(float))
        logits[i] = np.max(window_logits, axis=0)
    # the same calibration (per language where the model has it) on the pipeline's logits
    return model.calibrate(logits, model.languages(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--naive-texts", type=int, default=2000,
                        help="texts for the naive loop (fewer to save time; the rate is per "
                             "post either way)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "speed.md")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    folder = args.model or default_model_path()
    model = Classifier.load(folder)
    transformer = _transformer_of(model)
    transformer.config.training["threads"] = 2
    test = load_corpus(args.corpus)
    test = test[test["split"] == "test"].sample(args.texts, random_state=0)
    texts = list(test["text"])
    lengths = np.array([len(transformer.tokenizer(E5_PREFIX + t)["input_ids"]) for t in texts])
    windows = sum(len(transformer.windows(t)) for t in texts)

    transformer.predict_proba(texts[:32])  # warm-up
    naive_proba(transformer, texts[:32])
    start = time.perf_counter()
    ours = transformer.predict_proba(texts)
    ours_s = time.perf_counter() - start
    k = min(args.naive_texts, len(texts))
    start = time.perf_counter()
    naive = naive_proba(transformer, texts[:k])
    naive_s = time.perf_counter() - start
    diff = float(np.nanmax(np.abs(naive - ours[:k])))
    assert diff < 1e-3, f"the naive path disagrees with ours by {diff}"
    rows = [("transformer, ours (batched, sorted, inference_mode)", len(texts), ours_s),
            ("transformer, transformers.pipeline one window at a time", k, naive_s)]
    # the opt-in bfloat16 path (WARNING_PRECISION=bfloat16), against our float32 outputs
    os.environ["WARNING_PRECISION"] = "bfloat16"
    try:
        transformer.predict_proba(texts[:32])
        start = time.perf_counter()
        fast = transformer.predict_proba(texts)
        fast_s = time.perf_counter() - start
    finally:
        os.environ.pop("WARNING_PRECISION")
    thresholds = transformer.threshold_matrix(transformer.languages(texts), len(texts))
    with np.errstate(invalid="ignore"):
        agree = float(((fast >= thresholds) == (ours >= thresholds))[:, :3].mean())
    fast_diff = float(np.nanmax(np.abs(fast - ours)))
    rows.append(("transformer, ours with WARNING_PRECISION=bfloat16 (opt-in)", len(texts),
                 fast_s))
    if model is not transformer:
        model.predict_proba(texts[:32])
        start = time.perf_counter()
        model.predict_proba(texts)
        rows.append((f"whole default model ({model.config.kind}: members, language ID, "
                     "stacking)", len(texts), time.perf_counter() - start))
    speedup = (len(texts) / ours_s) / (k / naive_s)
    fast_speedup = (len(texts) / fast_s) / (k / naive_s)
    edges = [0, 16, 32, 64, 128, 256, 512, 10**9]
    hist = np.histogram(lengths, bins=edges)[0]
    lines = [
        "# Scoring speed: the default model against a naive pipeline loop",
        "",
        f"Command: `python benchmarks/speed.py{' --model ' + str(args.model) if args.model else ''}"
        f" --texts {args.texts} --naive-texts {args.naive_texts}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} "
        f"cores, torch threads 2, Python {platform.python_version()}, torch "
        f"{torch.__version__}  ",
        f"Model: `{model.name}` ({folder}); transformer `{transformer.name}`, max length "
        f"{transformer.max_length} tokens, windows of {transformer.config.window_words} tokens "
        f"every {transformer.config.window_stride}  ",
        f"Texts: {len(texts)} from the test split (seed 0), {windows} windows; outputs of the "
        f"two paths agree within {diff:.1e} (max absolute difference of probabilities).",
        "",
        "| path | posts | seconds | posts/s |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {n} | {s:.1f} | {n / s:.1f} |" for name, n, s in rows],
        "",
        f"Speed-up of our transformer path over the pipeline loop: **{speedup:.1f}x** "
        f"(target: at least 3x). With the opt-in bfloat16 arithmetic: {fast_speedup:.1f}x, "
        f"probabilities within {fast_diff:.4f} of the float32 ones and "
        f"{agree:.2%} of the flag decisions (texts x labels) unchanged.",
        "",
        "Length of the texts in tokens (prefix and special tokens included):",
        "",
        "| tokens | " + " | ".join(f"{a}-{b - 1}" if b < 10**9 else f"{a}+"
                                  for a, b in itertools.pairwise(edges)) + " |",
        "|---|" + "---:|" * len(hist),
        "| texts | " + " | ".join(str(int(h)) for h in hist) + " |",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
