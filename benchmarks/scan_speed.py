"""Scan throughput against a one-post-at-a-time loop, and the scan's peak memory by feed size.

Usage:
    python benchmarks/scan_speed.py                         # the full protocol (long)
    python benchmarks/scan_speed.py --rows 1000 --memory-rows 10000,50000   # a quick check

Protocol:

- Feeds are synthetic: the posts of ``examples/make_feed.py`` (ru, ky, en), drawn with a fixed
  seed and given fresh ids, times and channels, written as a CSV. No real data is needed.
- **Throughput** (``--rows``, default 10,000), per model (``--models``: ``baseline`` is
  ``models/baseline``, ``default`` the shipped default, the transformer ensemble): the model is
  loaded once and warmed up, then timed twice on the same texts with the same threads
  (``torch.set_num_threads(--threads)``, default 2):
  ours, ``warning.scanning.scanner.scan`` of the whole CSV (reading, scoring in batches, writing
  Parquet), against a loop calling ``Classifier.score([text])`` once per post (scoring only).
  The two paths' probabilities are compared before anything is written.
- **Memory** (``--memory-rows``, default 10,000, 100,000 and 1,000,000; ``--memory-model``,
  default ``baseline``), measured after the throughput: each scan runs alone in a fresh process
  (``warning scan``), which reports its own peak resident memory (``VmHWM``; a child's
  ``ru_maxrss`` would also count the parent's pages between fork and exec). Memory must stay
  flat: the scan holds one chunk (``WARNING_SCAN_CHUNK_ROWS``) at a time.

Writes ``benchmarks/results/scan_speed.md`` (``--out``), with the machine, date and command.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODELS = {"baseline": REPO / "models" / "baseline", "default": None}


def _example_posts() -> list[dict[str, str]]:
    spec = importlib.util.spec_from_file_location("make_feed", REPO / "examples" / "make_feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_posts()


def write_feed(path: Path, rows: int, seed: int = 0) -> Path:
    """A CSV of ``rows`` posts drawn from the example feed's, streamed to disk."""
    posts = _example_posts()
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "date", "channel", "text"])
        for i in range(rows):
            post = posts[rng.randrange(len(posts))]
            moment = start + dt.timedelta(seconds=i * 97)
            writer.writerow([i + 1, moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             f"channel_{i % 20}", post["text"]])
    return path


def _threads(n: int) -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    torch.set_num_threads(n)
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def throughput(name: str, rows: int, threads: int, folder: Path) -> dict[str, object]:
    """Scan vs one-at-a-time loop for one model, on the same ``rows`` texts."""
    import pyarrow.parquet as pq

    from warning import Classifier
    from warning.scanning.scanner import ScanOptions, scan

    feed = write_feed(folder / f"feed_{rows}.csv", rows)
    with open(feed, encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    model = Classifier.load(MODELS[name])
    torch_info = _threads(threads)
    model.score(texts[:32])  # warm-up: lazy loads, first allocations
    loads = [os.getloadavg()[0]]
    started = time.perf_counter()
    out = folder / f"scored_{name}.parquet"
    summary = scan(feed, out, ScanOptions(force=True), classifier=model)
    scan_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loads.append(os.getloadavg()[0])
    looped = [model.score([text])[0] for text in texts]
    loop_seconds = time.perf_counter() - started
    loads.append(os.getloadavg()[0])
    table = pq.read_table(out, columns=["score_offensive", "score_hate", "score_threat"])
    ours = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(float)
                            for c in table.column_names])
    theirs = np.array([[p.scores[n] if p.scores[n] is not None else np.nan
                        for n in ("offensive", "hate", "threat")] for p in looped], dtype=float)
    difference = float(np.nanmax(np.abs(ours - theirs))) if len(texts) else 0.0
    return {"model": model.name, "name": name, "rows": summary.rows_scored,
            "scan_seconds": scan_seconds, "loop_seconds": loop_seconds,
            "difference": difference, "torch": torch_info, "loads": loads}


# Runs `warning scan` in this fresh process, then reports the process's own peak resident
# memory. VmHWM is reset by exec, whereas a child's ru_maxrss (os.wait4, RUSAGE_CHILDREN) also
# counts the parent's pages it held between fork and exec: with a model loaded in the parent,
# that is the parent's size, not the scan's.
_CHILD = """
import sys
from warning.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("VmHWM_kB", peak, file=sys.stderr)
sys.exit(code)
"""


def peak_memory(rows: int, model: str, folder: Path) -> dict[str, object]:
    """Peak resident memory of ``warning scan`` over ``rows`` posts, in a fresh process."""
    feed = write_feed(folder / f"memory_{rows}.csv", rows)
    command = [sys.executable, "-c", _CHILD, "scan", str(feed), "-o",
               str(folder / f"memory_{rows}.parquet"), "--force", "--quiet"]
    if MODELS[model] is not None:
        command += ["--model", str(MODELS[model])]
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "VmHWM_kB" not in result.stderr:
        raise SystemExit(f"scan of {rows:,} rows failed: {result.stderr[-2000:]}")
    peak_kb = int(result.stderr.split("VmHWM_kB", 1)[1].split()[0])
    return {"rows": rows, "file_mb": feed.stat().st_size / 2**20, "peak_mb": peak_kb / 1024,
            "seconds": seconds}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(r) + " |" for r in rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="posts for throughput")
    parser.add_argument("--models", default="baseline,default",
                        help="models to time: baseline, default (comma-separated; '' for none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-rows", default="10000,100000,1000000",
                        help="feed sizes for peak memory (comma-separated; '' for none)")
    parser.add_argument("--memory-model", default="baseline", choices=sorted(MODELS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scan_speed.md")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; known: {sorted(MODELS)}")
    sizes = [int(s.replace("_", "")) for s in args.memory_rows.split(",") if s]
    os.environ.setdefault("WARNING_PSEUDONYM_KEY", "benchmark-key-0123456789")

    speed, memory = [], []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="scan-speed-") as tmp:
        folder = Path(tmp)
        for name in models:
            result = throughput(name, args.rows, args.threads, folder)
            print(f"{name}: scan {result['rows'] / result['scan_seconds']:.1f} posts/s, loop "
                  f"{result['rows'] / result['loop_seconds']:.1f} posts/s", flush=True)
            speed.append(result)
        for rows in sizes:
            result = peak_memory(rows, args.memory_model, folder)
            print(f"memory: {rows:,} rows, peak {result['peak_mb']:.0f} MB", flush=True)
            memory.append(result)
    load_after = os.getloadavg()[0]

    from warning.settings import precision

    command = "python benchmarks/scan_speed.py " + " ".join(sys.argv[1:])
    lines = ["# Scan throughput and memory", "",
             f"Command: `{command.strip()}`  ",
             f"Date: {dt.date.today().isoformat()}  ",
             f"Machine: {platform.node() or '?'}, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, WARNING_PRECISION={precision()}  ",
             f"Load average (1 min) at the start and the end: {load_before:.1f}, "
             f"{load_after:.1f} (above the 2 cores: other jobs shared the machine, and the "
             f"times are slower than on an idle one)  " if max(load_before, load_after) > 2.5
             else f"Load average (1 min) at the start and the end: {load_before:.1f}, "
                  f"{load_after:.1f}  ",
             f"Feeds: synthetic CSV, posts drawn from `examples/make_feed.py` (seed 0); chunks "
             f"of {os.environ.get('WARNING_SCAN_CHUNK_ROWS', '2000')} rows.", ""]
    if speed:
        rows = []
        for r in speed:
            scan_rate = r["rows"] / r["scan_seconds"]
            loop_rate = r["rows"] / r["loop_seconds"]
            rows.append([f"`{r['model']}`", f"{r['rows']:,}", f"{r['scan_seconds']:.1f}",
                         f"{scan_rate:.1f}", f"{r['loop_seconds']:.1f}", f"{loop_rate:.1f}",
                         f"{scan_rate / loop_rate:.1f}x", f"{r['difference']:.1e}",
                         " / ".join(f"{x:.1f}" for x in r["loads"])])
        lines += ["## Throughput: `warning scan` against a loop of `score([text])`", "",
                  f"Same model object, same texts, {speed[0]['torch']}. The scan's time "
                  f"includes reading the CSV and writing Parquet; the loop's is scoring only. "
                  f"Max diff: the largest difference between the two paths' probabilities "
                  f"(in bfloat16 a post's result depends a little on its batch). Load: the "
                  f"machine's 1-minute load average before the scan, between the two and after "
                  f"the loop (above {os.cpu_count()}, other jobs shared the cores).",
                  "", *_table(["model", "posts", "scan s", "scan posts/s", "loop s",
                               "loop posts/s", "speed-up", "max diff", "load"], rows), ""]
    if memory:
        rows = [[f"{r['rows']:,}", f"{r['file_mb']:.1f}", f"{r['peak_mb']:.0f}",
                 f"{r['seconds']:.0f}"] for r in memory]
        lines += [f"## Peak memory of `warning scan` ({args.memory_model} model)", "",
                  "Each scan (`warning scan`) alone in a fresh process; its peak resident "
                  "memory (`VmHWM`), start-up and model included.", "",
                  *_table(["posts", "CSV MB", "peak MB", "seconds"], rows), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
