"""The baseline's raw speed and load time: the compiled path against the scikit-learn one.

Usage:
    python benchmarks/baseline_speed.py [--model models/baseline]
        [--corpus corpus/corpus.parquet] [--texts 20000] [--repeats 3]

Protocol:

- texts: ``--repeats`` disjoint random samples (seed 0) of ``--texts`` posts each from the
  corpus's test split (real posts in every language of the corpus), one per round, so no
  round scores a post the compiled path has seen (its per-word cache would make a repeated
  post cheaper than a new one); before the rounds, ``--texts`` posts of the train split are
  scored once, as the first posts of a long feed fill that cache; without a corpus, the
  example feed's posts (repeated: an upper bound);
- raw throughput: ``Classifier.predict_proba`` over the texts in calls of 2,000, in one
  process, against the scikit-learn path of the previous release in the same process (each
  window normalised again before the features, scikit-learn's ``transform`` and one
  ``decision_function`` per head; with today's ``normalize``); the two are interleaved
  (old, new, old, new, ...: ``--repeats`` rounds) with the 1-minute load average beside each
  pass, because the machine is shared; the probabilities of the two are compared (largest
  absolute difference);
- a stream (``--stream N``, default 100,000; 0 for none): N posts of the whole corpus (every
  split and language, a random order, seed 1) scored in calls of 2,000 by a freshly loaded
  model, from an empty per-word cache: what a long real feed costs, new words, the cache
  filling and emptying included (the compiled path only);
- load: ``Classifier.load`` of the folder in a fresh process, with an empty
  ``WARNING_CACHE_DIR`` (the first load: skops, then the compiled arrays are cached) and again
  with that cache (every later load), each timed inside the process after ``import warning``.

Writes ``benchmarks/results/baseline_speed.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

_STREAM = """
import sys, time
import pandas as pd
from warning import Classifier
texts = pd.read_parquet(sys.argv[2], columns=["text"])["text"]
texts = list(texts.sample(min(int(sys.argv[3]), len(texts)), random_state=1))
model = Classifier.load(sys.argv[1])
model.predict_proba(["warm-up of the imports"])
model.fast.branches[0]._cache.clear()
started = time.perf_counter()
for s in range(0, len(texts), 2000):
    model.predict_proba(texts[s : s + 2000])
print(len(texts), f"{time.perf_counter() - started:.3f}")
"""

_LOAD = """
import sys, time
from warning import Classifier
started = time.perf_counter()
Classifier.load(sys.argv[1])
print(f"{time.perf_counter() - started:.3f}")
"""


def previous_proba(model, texts: list[str]) -> np.ndarray:
    """``predict_proba`` as the previous release computed it (see the module docstring)."""
    from warning.text.normalize import fold

    windows, owner = [], []
    for i, text in enumerate(texts):
        for window in model.windows(text):
            windows.append(window)
            owner.append(i)
    matrix = model.features.transform([fold(w) for w in windows])
    logits = np.column_stack([head.decision_function(matrix) for head in model.heads])
    out = np.full((len(texts), logits.shape[1]), -np.inf)
    np.maximum.at(out, np.asarray(owner), logits)
    return model.calibrate(out)


def _texts(corpus: Path, n: int, rounds: int) -> tuple[list[str], list[list[str]], str]:
    """Warm-up posts, one list of posts per round, and their description."""
    if corpus.is_file():
        from training.corpus import load_corpus

        frame = load_corpus(corpus)
        test = frame[frame["split"] == "test"]
        per_round = min(n, len(test) // rounds)
        test = test.sample(per_round * rounds, random_state=0)
        train = frame[frame["split"] == "train"].sample(n, random_state=0)
        texts = list(test["text"])
        return (list(train["text"]),
                [texts[r * per_round:(r + 1) * per_round] for r in range(rounds)],
                f"{rounds} disjoint random samples (seed 0) of {per_round:,} posts of the "
                f"test split of `{corpus}`, one per round, after {n:,} train-split posts "
                "scored once to warm the per-word cache")
    spec = importlib.util.spec_from_file_location("make_feed", REPO / "examples" / "make_feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    posts = [p["text"] for p in module.make_posts()]
    return posts, [posts] * rounds, \
        f"the {len(posts)} posts of `examples/make_feed.py` in every round (no corpus found)"


def _load_seconds(folder: Path, cache: Path) -> float:
    env = {**os.environ, "WARNING_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-c", _LOAD, str(folder)], env=env,
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "baseline")
    parser.add_argument("--corpus", type=Path,
                        default=Path("corpus/corpus.parquet"))
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stream", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "baseline_speed.md")
    args = parser.parse_args()

    from warning import Classifier

    model = Classifier.load(args.model)
    if model.config.kind != "baseline" or model.fast is None:
        raise SystemExit(f"{args.model} is not a baseline the compiled path can score")
    warm, samples, described = _texts(args.corpus, args.texts, args.repeats)
    previous_proba(model, warm[:100])
    for s in range(0, len(warm), 2000):  # warm-up, as the first posts of a long feed
        model.predict_proba(warm[s : s + 2000])

    def timed(fn, texts: list[str]) -> tuple[np.ndarray, float, float]:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        parts = [fn(texts[s : s + 2000]) for s in range(0, len(texts), 2000)]
        return np.vstack(parts), time.perf_counter() - started, load

    rows = []
    diff = 0.0
    for round_, texts in enumerate(samples):
        old, old_s, old_load = timed(lambda t: previous_proba(model, t), texts)
        new, new_s, new_load = timed(model.predict_proba, texts)
        diff = max(diff, float(np.nanmax(np.abs(old - new))))
        rows.append((round_ + 1, old_s, old_load, new_s, new_load))
        print(f"round {round_ + 1}: previous {len(texts) / old_s:.0f} posts/s, compiled "
              f"{len(texts) / new_s:.0f} posts/s", file=sys.stderr, flush=True)
    stream = None
    if args.stream and args.corpus.is_file():
        load = os.getloadavg()[0]
        done = subprocess.run([sys.executable, "-c", _STREAM, str(args.model), str(args.corpus),
                               str(args.stream)], capture_output=True, text=True, check=True)
        posts, seconds = done.stdout.split()[-2:]
        stream = (int(posts), float(seconds), load)
        print(f"stream: {int(posts) / float(seconds):.0f} posts/s", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="baseline-load-") as tmp:
        first = _load_seconds(args.model, Path(tmp))
        later = [_load_seconds(args.model, Path(tmp)) for _ in range(3)]

    n = len(samples[0])
    lines = [
        "# The baseline's raw speed and load time",
        "",
        f"Command: `python benchmarks/baseline_speed.py {' '.join(sys.argv[1:])}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or '?'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}  ",
        f"Model: `{model.name}` ({args.model})  ",
        f"Texts: {described}, scored in calls of 2,000.",
        "",
        "The machine may be shared with other sessions: each round times the "
        "previous path and the compiled one back to back, with the 1-minute load average "
        "before each pass; compare within a round. Both run in this one process on one core "
        "(the arithmetic is single-threaded).",
        "",
        "| round | scikit-learn path posts/s | load | compiled path posts/s | load | speed-up |",
        "|---:|---:|---:|---:|---:|---:|",
        *[f"| {r} | {n / a:,.0f} | {la:.1f} | {n / b:,.0f} | {lb:.1f} | {a / b:.1f}x |"
          for r, a, la, b, lb in rows],
        "",
        f"Largest difference between the two paths' probabilities: {diff:.1e} (float "
        "rounding; `tests/warning/models/test_hashed_linear.py` checks the decision values "
        "against scikit-learn's to 1e-9).",
        "",
        *([f"A stream of {stream[0]:,} posts of the whole corpus (every split and language, a "
           f"random order), scored in calls of 2,000 by a freshly loaded model from an empty "
           f"per-word cache, in a fresh process: {stream[0] / stream[1]:,.0f} posts/s "
           f"({stream[1]:.1f} s, load {stream[2]:.1f}).", ""] if stream else []),
        "Load (`Classifier.load` in a fresh process, after `import warning`): first load "
        f"{first:.2f} s (skops, then the compiled arrays are written to the cache); later "
        f"loads {', '.join(f'{x:.2f}' for x in later)} s (the compiled arrays, no skops, no "
        "scikit-learn).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
