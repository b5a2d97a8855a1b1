"""Scoring speed of the default model against a naive ``transformers.pipeline`` loop.

Usage:
    python benchmarks/speed.py [--model models/default] [--corpus corpus/corpus.parquet]
                               [--texts 2000] [--naive-texts 2000]

Fixed protocol (issue "The default model"):

- the same 2,000 test-split texts for both paths (sampled with seed 0; their length histogram in
  tokens is recorded), the same maximum length and the same token windows;
- ``torch.set_num_threads(2)`` for both, one warm-up pass over 32 texts each;
- ours: ``TransformerClassifier.predict_proba`` (sorted by length, padded per batch,
  ``torch.inference_mode``) on the whole list, as shipped (``WARNING_PRECISION=auto``: bfloat16
  on a CPU with native bf16, else float32) and in float32;
- naive: a loop over ``transformers.pipeline("feature-extraction")`` with the same merged
  weights, one window at a time, then the same pooling, head, window max and calibration
  (per language, as ours);
- the outputs are asserted close before any number is written: our float32 path within 1e-3 of
  the naive one, our shipped path within 0.02 (max absolute difference of probabilities);
- where the shipped path runs in bfloat16, the naive loop is also timed under bfloat16 autocast,
  so the gain from the arithmetic and the gain from the code are told apart;
- when the default is an ensemble, the whole ensemble (transformer, baseline, language ID and
  stacking) is timed as well, on the same texts;
- with ``--profile-texts N``, one more pass of the shipped path over the first N texts under
  cProfile, its time split into cutting the windows (normalisation and the tokeniser's offsets),
  the forward pass of the encoder and head (torch), the rest of the embedding (tokenising the
  batches, padding, pooling) and the rest (sorting, window max, calibration).

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
from warning.models.classifier import default_model_path
from warning.models.encoder import E5_PREFIX
from warning.settings import cpu_has_native_bf16, precision

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
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision() == "bfloat16")
    logits = np.zeros((len(texts), len(model.config.scored_labels)))
    for i, text in enumerate(texts):
        window_logits = []
        for window in model.windows(text):
            with autocast:
                tokens = np.asarray(extractor(E5_PREFIX + window)[0], dtype=float)
            pooled = tokens.mean(axis=0)
            pooled = pooled / max(np.linalg.norm(pooled), 1e-12)
            with torch.inference_mode():
                head_out = model.head(torch.from_numpy(pooled[None].astype(np.float32)))
            window_logits.append(head_out.numpy()[0].astype(float))
        logits[i] = np.max(window_logits, axis=0)
    # the same calibration (per language where the model has it) on the pipeline's logits
    return model.calibrate(logits, model.languages(texts))


def _timed(fn, texts: list[str], value: str):
    """``fn(texts)`` under ``WARNING_PRECISION=value`` after a warm-up on 32 texts; returns the
    result and the seconds it took."""
    before = os.environ.get("WARNING_PRECISION")
    os.environ["WARNING_PRECISION"] = value
    try:
        fn(texts[:32])  # warm-up
        start = time.perf_counter()
        out = fn(texts)
        return out, time.perf_counter() - start
    finally:
        if before is None:
            os.environ.pop("WARNING_PRECISION")
        else:
            os.environ["WARNING_PRECISION"] = before


def _profile(transformer, texts: list[str], arithmetic: str
             ) -> tuple[float, list[tuple[str, float]]]:
    """cProfile of ``transformer.predict_proba`` over ``texts`` in ``arithmetic``: (seconds,
    [(stage, share of the time)])."""
    import cProfile
    import pstats

    previous = os.environ.get("WARNING_PRECISION")
    os.environ["WARNING_PRECISION"] = arithmetic
    transformer.predict_proba(texts[:32])  # warm-up
    profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        profiler.enable()
        transformer.predict_proba(texts)
        profiler.disable()
    finally:
        if previous is None:
            os.environ.pop("WARNING_PRECISION", None)
        else:
            os.environ["WARNING_PRECISION"] = previous
    seconds = time.perf_counter() - started
    found: dict[str, float] = {}
    wanted = {("warning/models/transformer.py", "windows"): "windows",
              ("warning/models/encoder.py", "embed"): "embed",
              ("warning/models/classifier.py", "predict_proba"): "total",
              ("torch/nn/modules/module.py", "_call_impl"): "forward"}
    for (filename, _line, function), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        for (module, name), key in wanted.items():
            if filename.replace("\\", "/").endswith(module) and function == name:
                found[key] = found.get(key, 0.0) + row[3]  # cumulative seconds
    total = found.get("total") or seconds
    forward = found.get("forward", 0.0)
    stages = [("the forward pass of the encoder and head (torch)", forward),
              ("cutting the windows (normalisation, the tokeniser's offsets)",
               found.get("windows", 0.0)),
              ("the rest of the embedding (tokenising the batches, padding, pooling)",
               max(0.0, found.get("embed", 0.0) - forward)),
              ("the rest (sorting, window max, calibration)",
               max(0.0, total - found.get("windows", 0.0) - max(found.get("embed", 0.0),
                                                                forward)))]
    return seconds, [(name, value / total) for name, value in stages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--naive-texts", type=int, default=2000,
                        help="texts for the naive loop (fewer to save time; the rate is per "
                             "post either way)")
    parser.add_argument("--profile-texts", type=int, default=0,
                        help="texts for a profile of the shipped path (0: none)")
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

    def naive(batch: list[str]) -> np.ndarray:
        return naive_proba(transformer, batch)

    default_precision = precision()  # what WARNING_PRECISION (default auto) gives here
    load_start = os.getloadavg()[0]
    ours, ours_s = _timed(transformer.predict_proba, texts, default_precision)
    exact, exact_s = _timed(transformer.predict_proba, texts, "float32")
    int8, int8_s = _timed(transformer.predict_proba, texts, "int8")
    k = min(args.naive_texts, len(texts))
    naive_out, naive_s = _timed(naive, texts[:k], "float32")
    exact_diff = float(np.nanmax(np.abs(naive_out - exact[:k])))
    diff = float(np.nanmax(np.abs(naive_out - ours[:k])))
    assert exact_diff < 1e-3, f"our float32 path disagrees with the naive one by {exact_diff}"
    assert diff < 0.02, f"our default path disagrees with the naive one by {diff}"
    thresholds = transformer.threshold_matrix(transformer.languages(texts), len(texts))
    with np.errstate(invalid="ignore"):
        agree = float(((ours >= thresholds) == (exact >= thresholds))[:, :3].mean())
        int8_agree = float(((int8 >= thresholds) == (exact >= thresholds))[:, :3].mean())
    int8_diff = float(np.nanmax(np.abs(int8 - exact)))
    rows = [(f"transformer, ours as shipped ({default_precision}: WARNING_PRECISION="
             f"{os.environ.get('WARNING_PRECISION', 'auto')})",
             len(texts), ours_s),
            ("transformer, ours in float32 (WARNING_PRECISION=float32)", len(texts), exact_s),
            ("transformer, ours in int8 (WARNING_PRECISION=int8: dynamic quantisation)",
             len(texts), int8_s),
            ("transformer, transformers.pipeline one window at a time (float32)", k, naive_s)]
    bf16_naive_s = None
    if default_precision == "bfloat16":  # the same arithmetic given to the naive loop
        _, bf16_naive_s = _timed(naive, texts[:k], "bfloat16")
        rows.append(("transformer, transformers.pipeline one window at a time under bfloat16 "
                     "autocast", k, bf16_naive_s))
    if model is not transformer:
        _, whole_s = _timed(model.predict_proba, texts, default_precision)
        rows.append((f"whole default model ({model.config.kind}: members, language ID, "
                     f"stacking; {default_precision})", len(texts), whole_s))
    speedup = (len(texts) / ours_s) / (k / naive_s)
    exact_speedup = (len(texts) / exact_s) / (k / naive_s)
    summary = [
        f"Speed-up of the default path ({default_precision}) over the pipeline loop: "
        f"**{speedup:.1f}x** (target: at least 3x). Its probabilities are within {diff:.4f} "
        f"of the pipeline's and {agree:.2%} of its flag decisions (texts x labels) are the same "
        "as in float32.",
        "",
        f"In float32 on both sides: {exact_speedup:.1f}x (probabilities within "
        f"{exact_diff:.1e}).",
        "",
        f"int8 (for CPUs without native bfloat16): {exact_s / int8_s:.1f}x the float32 path; "
        f"its probabilities are within {int8_diff:.4f} of float32's and {int8_agree:.2%} of "
        "its flag decisions are the same (per-label AUC on the test split: "
        "`benchmarks/results/precision.md`).",
        "",
        f"Load average (1 minute) at the start and the end: {load_start:.1f}, "
        f"{os.getloadavg()[0]:.1f}. The machine is shared: compare rows of this run with each "
        "other, not with another run's.",
    ]
    if bf16_naive_s:
        summary += ["", "With bfloat16 on both sides: "
                    f"{(len(texts) / ours_s) / (k / bf16_naive_s):.1f}x. So the default's gain "
                    "splits into the code (batching, length sorting, dynamic padding: the "
                    "speed-ups with the same arithmetic on both sides) and the arithmetic "
                    f"(bfloat16 makes our path {exact_s / ours_s:.1f}x faster than float32)."]
    profiled = (_profile(transformer, texts[:args.profile_texts], default_precision)
                if args.profile_texts else None)
    if profiled:
        seconds, stages = profiled
        summary += ["", f"Where the shipped path's time goes ({default_precision}, "
                    f"{min(args.profile_texts, len(texts))} texts under cProfile, {seconds:.1f} s "
                    "with the profiler):", "", "| stage | share of the time |", "|---|---:|",
                    *[f"| {name} | {share:.0%} |" for name, share in stages]]
    edges = [0, 16, 32, 64, 128, 256, 512, 10**9]
    hist = np.histogram(lengths, bins=edges)[0]
    lines = [
        "# Scoring speed: the default model against a naive pipeline loop",
        "",
        f"Command: `python benchmarks/speed.py{' --model ' + str(args.model) if args.model else ''}"
        f" --corpus {args.corpus} --texts {args.texts} --naive-texts {args.naive_texts}"
        f"{f' --profile-texts {args.profile_texts}' if args.profile_texts else ''}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} "
        f"cores, torch threads 2, Python {platform.python_version()}, torch "
        f"{torch.__version__}  ",
        f"Model: `{model.name}` ({folder}); transformer `{transformer.name}`, max length "
        f"{transformer.max_length} tokens, windows of {transformer.config.window_words} tokens "
        f"every {transformer.config.window_stride}  ",
        f"Texts: {len(texts)} from the test split (seed 0), {windows} windows; one warm-up "
        "pass over 32 texts before each timing.  ",
        f"CPU native bfloat16: {cpu_has_native_bf16()}.",
        "",
        "| path | posts | seconds | posts/s |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {n} | {s:.1f} | {n / s:.1f} |" for name, n, s in rows],
        "",
        *summary,
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
