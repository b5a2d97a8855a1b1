"""Scan throughput against the model's own, the Ray engine beside the local one, peak memory.

Usage:
    python benchmarks/scan_speed.py                          # the full protocol (long)
    python benchmarks/scan_speed.py --rows 5000 --models baseline --engines local --memory-rows ''

Protocol:

- Feeds are synthetic: the posts of ``examples/make_feed.py`` (ru, ky, en), drawn with a fixed
  seed and given fresh ids, times and channels, written as a CSV. ``--distinct`` appends a
  different tag of Greek letters to each post, so that no two posts are the same (the example
  feed has about 600 posts, so a plain 100,000-row feed repeats each one about 170 times, and
  whatever works per distinct text in a chunk looks cheaper than on real posts). ``--corpus
  corpus/corpus.parquet`` takes ``--rows`` real posts of the corpus instead (every split and
  language, a random sample, seed 0): different posts with the vocabulary of real feeds.
- **Throughput** (``--rows``, default 100,000), per model (``--models``: ``baseline`` is
  ``models/baseline``, ``default`` the shipped default): *raw*, the model alone
  (``Classifier.predict_proba`` over the feed's texts in calls of 2,000, the texts already in
  memory), against *scan*, ``warning.scanning.scanner.scan`` end to end (loading the model,
  reading the CSV, normalising, language ID, the model, target tagging, writing Parquet).
  The machine is shared, so the two are interleaved (raw, scan, raw, scan: ``--repeats``) and
  the 1-minute load average is written beside each pass; the ratio is scan over raw of the
  same round.
- **Engines** (``--engines``): ``local``, as ``warning scan`` runs by default (worker
  processes ``auto``: one per core for the baseline, one for the default); ``local1``, the
  local engine in one process (``--workers 1``); ``ray2``, the Ray engine on a Ray it starts
  on this machine with 2 actors of one CPU; ``cluster2``, the Ray engine joining a two-node
  cluster started with ``ray start`` (head and one more node, one CPU each:
  ``warning.scanning.ray_cluster``), start-up of the cluster not included.
- **Profile** (``--profile-rows``, default 20,000; 0 for none): cProfile of one local scan
  (one process, ``--workers 1``) of the baseline in a fresh process (nothing cached by the
  passes before it), its time summed by stage (the module each function lives in; the main
  thread only: the writer thread that encodes and syncs the chunks while the next is scored
  is not in it).
- **Memory** (``--memory-rows``; ``--memory-model``): each scan alone in a fresh process
  (``warning scan``) reporting its own peak resident memory (``VmHWM``).

Writes ``benchmarks/results/scan_speed.md`` (``--out``), with the machine, date and command.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import importlib.util
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODELS = {"baseline": REPO / "models" / "baseline", "default": None}
_GREEK = "αβγδεζηθικ"


def _example_posts() -> list[dict[str, str]]:
    spec = importlib.util.spec_from_file_location("make_feed", REPO / "examples" / "make_feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_posts()


def _corpus_posts(corpus: Path, rows: int) -> list[dict[str, str]]:
    """``rows`` real posts of the corpus (every split and language), a random sample, seed 0."""
    import pandas as pd

    texts = pd.read_parquet(corpus, columns=["text"])["text"]
    if rows > len(texts):
        raise SystemExit(f"{corpus} has {len(texts):,} posts, fewer than --rows {rows:,}")
    return [{"text": t} for t in texts.sample(rows, random_state=0)]


def write_feed(path: Path, rows: int, seed: int = 0, distinct: bool = False,
               corpus: Path | None = None) -> Path:
    """A CSV of ``rows`` posts drawn from the example feed's (or, with ``corpus``, that many
    different real posts in a random order), streamed to disk."""
    posts = _example_posts() if corpus is None else _corpus_posts(corpus, rows)
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "date", "channel", "text"])
        for i in range(rows):
            text = posts[rng.randrange(len(posts)) if corpus is None else i]["text"]
            # a tag in letters of neither script the posts use, so nothing else changes
            if distinct and corpus is None:
                text += " " + "".join(_GREEK[int(c)] for c in str(i))
            moment = start + dt.timedelta(seconds=i * 97)
            writer.writerow([i + 1, moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             f"channel_{i % 20}", text])
    return path


def _texts(feed: Path) -> list[str]:
    with open(feed, encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def raw_pass(model, texts: list[str]) -> float:
    """Seconds of ``predict_proba`` over the texts, in calls of 2,000."""
    started = time.perf_counter()
    for start in range(0, len(texts), 2000):
        model.predict_proba(texts[start : start + 2000])
    return time.perf_counter() - started


def fresh_caches() -> None:
    """Empty what this process keeps between calls (language ID's answers and word votes), so
    each scan pass starts as `warning scan` does, in a new process (the model is loaded anew by
    the scan itself)."""
    from warning.text import lang

    lang._SEEN.clear()
    lang._VOTES.clear()


def scan_pass(name: str, feed: Path, out: Path, engine: str, cluster=None) -> float:
    """Seconds of one scan of the feed, model load included, from cold caches."""
    from warning.scanning.scanner import ScanOptions, scan

    fresh_caches()

    options = {"force": True, "authors": "drop"}
    if engine == "local1":
        options.update(workers=1)
    elif engine == "ray2":
        options.update(engine="ray", ray_actors=2)
    elif engine == "cluster2":
        options.update(engine="ray", ray_address=cluster.address, ray_actors=2)
    started = time.perf_counter()
    summary = scan(feed, out, ScanOptions(**options), model_path=MODELS[name])
    seconds = time.perf_counter() - started
    if summary.rows_scored + summary.rows_rejected != summary.rows_read:
        raise SystemExit(f"{engine} scan lost rows: {summary}")
    return seconds


def throughput(name: str, feed: Path, folder: Path, engines: list[str], repeats: int,
               cluster) -> list[dict[str, object]]:
    """Raw and scan passes, interleaved, for one model."""
    from warning import Classifier

    texts = _texts(feed)
    started = time.perf_counter()
    model = Classifier.load(MODELS[name])
    load_seconds = time.perf_counter() - started
    model.predict_proba(texts[:32])  # warm-up: lazy imports, first allocations
    out = []
    for round_ in range(repeats):
        for engine in engines:
            if engine == "cluster2" and cluster is None:
                continue
            load = os.getloadavg()[0]
            raw = raw_pass(model, texts)
            load_mid = os.getloadavg()[0]
            try:
                seconds = scan_pass(name, feed, folder / f"scored_{name}_{engine}.parquet",
                                    engine, cluster)
            except Exception as exc:  # recorded, not fatal: the other engines still run
                print(f"{name} {engine}: failed: {exc}", flush=True)
                last = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ""
                out.append({"model": model.name, "engine": engine, "round": round_ + 1,
                            "rows": len(texts), "raw": raw,
                            "failed": f"{type(exc).__name__}: {last}",
                            "load_seconds": load_seconds,
                            "loads": (load, load_mid, os.getloadavg()[0])})
                continue
            row = {"model": model.name, "name": name, "engine": engine, "round": round_ + 1,
                   "rows": len(texts), "raw": raw, "scan": seconds, "load_seconds":
                   load_seconds, "loads": (load, load_mid, os.getloadavg()[0])}
            print(f"{name} {engine} round {round_ + 1}: raw {len(texts) / raw:.0f} posts/s, "
                  f"scan {len(texts) / seconds:.0f} posts/s ({raw / seconds:.0%}), load "
                  f"{row['loads']}", flush=True)
            out.append(row)
    return out


# (module path, function) whose cumulative time is a stage of the scan; what is left is the
# scan's own loop (chunking, counting, the rejects).
_STAGES = [
    ("loading the model", "warning/models/classifier.py", "load"),
    ("reading the feed", "warning/scanning/feeds/base.py", "chunks"),
    ("normalisation", "warning/text/normalize.py", "normalize"),
    ("language ID", "warning/text/lang.py", "detect_languages"),
    ("the model (features, heads, calibration)", "warning/models/classifier.py",
     "predict_proba"),
    ("target tagging", "warning/text/targets.py", "find_targets_batch"),
    ("flags, risk and review", "warning/models/batch.py", "_decisions"),
    ("output records (columns)", "warning/scanning/scoring.py", "_records"),
    ("writing the parts and the output", "warning/scanning/output.py", "_write_part"),
    ("writing the parts and the output", "warning/scanning/output.py", "_merge"),
]


def profile(rows: int, folder: Path, distinct: bool, corpus: Path | None = None
            ) -> tuple[float, list[tuple[str, float]]]:
    """cProfile of a local baseline scan in a fresh process (nothing cached from the passes
    before it); (seconds, [(stage, share of the time)])."""
    feed = write_feed(folder / f"profile_{rows}.csv", rows, distinct=distinct, corpus=corpus)
    result = subprocess.run([sys.executable, __file__, "--profile-child", str(feed)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the profiled scan failed: {result.stderr[-2000:]}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return data["seconds"], [tuple(x) for x in data["stages"]]


def _profile_child(feed: Path) -> None:
    """The profiled scan of :func:`profile`, printed as one JSON line."""
    from warning.scanning.scanner import ScanOptions, scan

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    scan(feed, feed.with_suffix(".parquet"), ScanOptions(force=True, authors="drop", workers=1),
         model_path=MODELS["baseline"])
    profiler.disable()
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    totals: dict[str, float] = {}
    whole = 0.0
    for (filename, _line, function), (_cc, _nc, _tt, cumtime, _callers) in \
            stats.stats.items():  # type: ignore[attr-defined]
        where = filename.replace("\\", "/")
        if where.endswith("warning/scanning/scanner.py") and function == "scan":
            whole = cumtime
        for stage, module, name in _STAGES:
            if where.endswith(module) and function == name:
                totals[stage] = totals.get(stage, 0.0) + cumtime
    whole = whole or seconds
    totals["the scan's own loop and the rest"] = max(0.0, whole - sum(totals.values()))
    stages = sorted(((k, v / whole) for k, v in totals.items()), key=lambda x: -x[1])
    print(json.dumps({"seconds": seconds, "stages": stages}))


# Runs `warning scan` in this fresh process, then reports the process's own peak resident
# memory. VmHWM is reset by exec, whereas a child's ru_maxrss (os.wait4, RUSAGE_CHILDREN) also
# counts the parent's pages it held between fork and exec: with a model loaded in the parent,
# that is the parent's size, not the scan's.
_CHILD = """
import resource, sys
from warning.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("VmHWM_kB", peak, file=sys.stderr)
print("children_kB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
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
    worker_kb = int(result.stderr.split("children_kB", 1)[1].split()[0])
    return {"rows": rows, "file_mb": feed.stat().st_size / 2**20, "peak_mb": peak_kb / 1024,
            "worker_mb": worker_kb / 1024, "seconds": seconds}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(r) + " |" for r in rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="posts for throughput")
    parser.add_argument("--models", default="baseline,default",
                        help="models to time: baseline, default (comma-separated; '' for none)")
    parser.add_argument("--engines", default="local,ray2,cluster2",
                        help="local (worker processes: auto, as `warning scan`), local1 (one "
                             "process), ray2, cluster2 (comma-separated)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--distinct", action="store_true",
                        help="make every post of the feed different")
    parser.add_argument("--corpus", type=Path,
                        help="a corpus Parquet (`warning corpus`): the feed is --rows of its real "
                             "posts instead of the example feed's")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile-rows", type=int, default=20_000)
    parser.add_argument("--memory-rows", default="100000",
                        help="feed sizes for peak memory (comma-separated; '' for none)")
    parser.add_argument("--memory-model", default="baseline", choices=sorted(MODELS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scan_speed.md")
    parser.add_argument("--profile-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_child:
        _profile_child(args.profile_child)
        return
    models = [m for m in args.models.split(",") if m]
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(models) - set(MODELS)
    if unknown or set(engines) - {"local", "local1", "ray2", "cluster2"}:
        parser.error(f"unknown model(s) or engine(s): {sorted(unknown)} {engines}")
    sizes = [int(s.replace("_", "")) for s in args.memory_rows.split(",") if s]
    try:
        import torch

        torch.set_num_threads(args.threads)
        torch_info = f"torch {torch.__version__}, {args.threads} threads"
    except ImportError:
        torch_info = "torch not installed"

    speed, memory, profiled = [], [], None
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="scan-speed-") as tmp:
        folder = Path(tmp)
        feed = write_feed(folder / f"feed_{args.rows}.csv", args.rows, distinct=args.distinct,
                          corpus=args.corpus)
        cluster = None
        cluster_error = ""
        try:
            if "cluster2" in engines:
                from warning.scanning.ray_cluster import LocalCluster

                for attempt in (1, 2):  # a busy machine can time a node's start-up out
                    try:
                        cluster = LocalCluster(nodes=2, cpus_per_node=1).start()
                        break
                    except RuntimeError as exc:
                        cluster_error = str(exc).strip().splitlines()[-1][:200]
                        print(f"cluster start {attempt} failed: {cluster_error}", flush=True)
                if cluster is not None:
                    os.environ.update(cluster.driver_env)
            for name in models:
                speed += throughput(name, feed, folder, engines, args.repeats, cluster)
        finally:
            if cluster is not None:
                cluster.stop()
        if args.profile_rows:
            profiled = profile(args.profile_rows, folder, args.distinct, args.corpus)
        for rows in sizes:
            result = peak_memory(rows, args.memory_model, folder)
            print(f"memory: {rows:,} rows, peak {result['peak_mb']:.0f} MB, worker "
                  f"{result['worker_mb']:.0f} MB", flush=True)
            memory.append(result)
    load_after = os.getloadavg()[0]

    from warning.settings import precision

    command = "python benchmarks/scan_speed.py " + " ".join(sys.argv[1:])
    lines = ["# Scan throughput and memory", "",
             f"Command: `{command.strip()}`  ",
             f"Date: {dt.date.today().isoformat()}  ",
             f"Machine: {platform.node() or '?'}, {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, {torch_info}, "
             f"WARNING_PRECISION={precision()}  ",
             f"Load average (1 min) at the start and the end: {load_before:.1f}, "
             f"{load_after:.1f}  ",
             ((f"Feed: {args.rows:,} real posts of `{args.corpus}` (a random sample, seed 0, of "
               "every split and language; the posts differ)" if args.corpus else
               f"Feed: {args.rows:,} synthetic posts drawn from `examples/make_feed.py` (seed 0)"
               + (", each made different by a tag" if args.distinct else
                  ", about 600 distinct posts repeated")) if models or args.profile_rows else
              "Feeds: the memory table's sizes of synthetic posts drawn from "
              "`examples/make_feed.py` (seed 0), about 600 distinct posts repeated")
             + "; chunks of "
             f"{os.environ.get('WARNING_SCAN_CHUNK_ROWS', '2000')} rows.", "",
             "This machine is shared with other sessions (a model trains on it): a figure is "
             "only meaningful against the one measured beside it, in the same round, with the "
             "load average (1 minute) written beside it; above 2, other jobs shared the 2 cores.",
             ""]
    if speed:
        rows = []
        for r in speed:
            n = r["rows"]
            if "failed" in r:
                rows.append([f"`{r['model']}`", r["engine"], str(r["round"]), f"{n:,}",
                             f"{n / r['raw']:.0f}", f"failed ({r['failed']})", "", "",
                             " / ".join(f"{x:.1f}" for x in r["loads"])])
                continue
            rows.append([f"`{r['model']}`", r["engine"], str(r["round"]), f"{n:,}",
                         f"{n / r['raw']:.0f}", f"{n / r['scan']:.0f}",
                         f"{r['raw'] / r['scan']:.0%}", f"{r['load_seconds']:.1f}",
                         " / ".join(f"{x:.1f}" for x in r["loads"])])
        lines += ["## Throughput: `warning scan` end to end against the model alone", "",
                  "raw: `predict_proba` over the texts in memory; scan: `scan()` of the CSV, "
                  "model load included (its seconds in the load column are the in-process "
                  "load before the rounds), reading, normalising, language ID, the model, "
                  "targets and writing Parquet. Engines: local (as `warning scan` runs by "
                  "default: worker processes auto, one per core for the baseline, one for a "
                  "transformer), local1 (one process), ray2 (a Ray "
                  "started on this machine by the scan, 2 actors of one CPU; its start-up "
                  "included), cluster2 (joining a two-node `ray start` cluster, one CPU per "
                  "node). Load: 1-minute load average before the raw pass, between the two, "
                  "after the scan.", "",
                  *_table(["model", "engine", "round", "posts", "raw posts/s", "scan posts/s",
                           "scan / raw", "model load s", "load"], rows), ""]
        if cluster_error and "cluster2" in engines and not any(
                r["engine"] == "cluster2" for r in speed):
            lines += [f"The two-node cluster did not start (twice): {cluster_error}", ""]
    if profiled:
        seconds, stages = profiled
        lines += [f"## Where the time goes: a local baseline scan of {args.profile_rows:,} "
                  f"posts under cProfile ({seconds:.1f} s with the profiler)", "",
                  *_table(["stage", "share of the time"],
                          [[k, f"{v:.0%}"] for k, v in stages if v >= 0.005]), ""]
    if memory:
        rows = [[f"{r['rows']:,}", f"{r['file_mb']:.1f}", f"{r['peak_mb']:.0f}",
                 f"{r['worker_mb']:.0f}", f"{r['seconds']:.0f}"] for r in memory]
        lines += [f"## Peak memory of `warning scan` ({args.memory_model} model)", "",
                  "Each scan (`warning scan`, worker processes auto) alone in a fresh process: "
                  "its peak resident memory (`VmHWM`), start-up and model included, and the "
                  "largest peak of its worker processes (`RUSAGE_CHILDREN`; 0 without workers). "
                  "A forked worker shares the scan's pages until it writes to them, and each "
                  "process's figure counts the shared pages, so the sum of the two columns "
                  "(times the workers) is an upper bound.", "",
                  *_table(["posts", "CSV MB", "scan peak MB", "worker peak MB", "seconds"],
                          rows), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
