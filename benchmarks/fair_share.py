"""Fair share of the model between keys: the latency of a light key's one-text requests while
another key floods the API with heavy ones, against the same requests on an idle server.

Usage:
    python benchmarks/fair_share.py [--model models/baseline] [--seconds 15]
                                    [--flood 100x20000,100x1000] [--flood-clients 4]
                                    [--units 2] [--processes 0,1]
                                    [--out benchmarks/results/fair_share.md]

Protocol (issue 19, point 6):

- the API runs in a uvicorn subprocess on 127.0.0.1 with two keys, A and B, with the shipped
  scheduling settings (``WARNING_BATCH_MAX_UNITS``, given by ``--units``, and
  ``WARNING_MODEL_PROCESSES``, given by ``--processes``; several values compare them) and the
  per-key limits out of the way (the scheduler is measured, not the
  limits that would in practice slow A down too);
- **unloaded**: key B sends one-post requests (the posts of ``examples/posts.txt`` in turn),
  one at a time, for ``--seconds``, on an otherwise idle server (after a warm-up);
- **loaded**, per flood kind ``NxC`` (N texts of C characters per request): key A's
  ``--flood-clients`` clients post such requests back to back, and after 2 s key B sends the
  same one-post requests as before, one at a time, for ``--seconds``;
- the two alternate, ``--rounds`` times on one server (a round's flood is drained before the
  next unloaded measurement), so that a change in the machine's other load bears on both;
- latency = time from sending a request to its full answer (p50, p95 over all rounds); the
  target is B's loaded p50 within 2x its unloaded p50. A's work per second (units of the
  requests answered while B was measured) is recorded too.

The load generator shares the machine's CPUs with the server; the load average at the start
and the end is recorded so a busy machine can be recognised.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import RawClient, free_port, read_posts

ROOT = Path(__file__).resolve().parent.parent
KEY_A = "flooding-key-a-0123456789"
KEY_B = "light-key-b-9876543210abc"


def request(host: str, port: int, key: str, texts: list[str]) -> bytes:
    body = json.dumps({"texts": texts}, ensure_ascii=False).encode("utf-8")
    head = (f"POST /v1/score HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


@contextlib.contextmanager
def server(args: argparse.Namespace, units: float, log_dir: Path,
           serve_path: Path | None = None, processes: int = 1) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "WARNING_API_KEYS": f"{KEY_A},{KEY_B}", "WARNING_API_KEYS_FILE": "",
           "WARNING_OPEN_ACCESS": "0", "WARNING_MODEL": str(args.model),
           "WARNING_BATCH_MAX_UNITS": str(units), "WARNING_MODEL_PROCESSES": str(processes),
           "WARNING_QUEUE_MAX_POSTS": "100000",
           "WARNING_MAX_BODY_BYTES": "10000000", "WARNING_MAX_TEXT_CHARS": "20000",
           "WARNING_RATE_PER_MINUTE": "1e12", "WARNING_RATE_BURST": "1000000000",
           "WARNING_WORK_PER_MINUTE": "1e12", "WARNING_WORK_BURST": "1e12",
           "WARNING_LOAD_IN_BACKGROUND": "1", "OMP_NUM_THREADS": str(args.threads),
           "MKL_NUM_THREADS": str(args.threads)}
    env.pop("WARNING_SETTINGS_FILE", None)
    if serve_path is not None:  # another version of the serve package, e.g. the one before
        env["PYTHONPATH"] = str(serve_path)
        env.pop("WARNING_BATCH_MAX_UNITS")
        env.pop("WARNING_MODEL_PROCESSES")
    log_path = log_dir / f"server-{units:g}-{processes}.log"
    command = [sys.executable, "-m", "uvicorn", "serve.app:app_from_env", "--factory",
               "--host", "127.0.0.1", "--port", str(port),
               "--log-level", os.environ.get("FAIR_LOG", "warning"),
               "--no-access-log"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=serve_path or ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            if process.poll() is not None:
                raise SystemExit("the server exited; its log:\n" + log_path.read_text()[-3000:])
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server was not ready within 600 s")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def light(host: str, port: int, posts: list[str], seconds: float) -> list[float]:
    """Key B: one-post requests, one at a time; latencies in ms."""
    client = RawClient(host, port)
    requests = [request(host, port, KEY_B, [p]) for p in posts]
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    i = 0
    try:
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            status, _ = await client.post(requests[i % len(requests)])
            i += 1
            if status != 200:
                raise SystemExit(f"key B got HTTP {status}")
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        await client.close()
    return latencies


async def loaded(host: str, port: int, posts: list[str], flood: tuple[int, int],
                 args: argparse.Namespace) -> tuple[list[float], float, int, bool]:
    """B's latencies while A floods; A's units scored per second (requests answered while B
    was measured), A's errors, and whether A's last requests were answered within
    ``--drain-timeout`` (so that the server is idle again for the next measurement)."""
    n, chars = flood
    long = (" ".join(posts) + " ") * (chars // max(1, len(" ".join(posts))) + 1)
    texts = [long[i % 97:i % 97 + chars] for i in range(n)]
    heavy = request(host, port, KEY_A, texts)
    units = sum(max(0.1, len(t) / 1000) for t in texts)
    done = 0
    errors = 0
    stop = asyncio.Event()

    async def flood_client() -> None:
        nonlocal done, errors
        client = RawClient(host, port)
        try:
            while not stop.is_set():
                status, _ = await client.post(heavy)
                if status == 200:
                    done += 0 if stop.is_set() else 1
                else:
                    errors += 1
        finally:
            await client.close()

    flooders = [asyncio.create_task(flood_client()) for _ in range(args.flood_clients)]
    await asyncio.sleep(2.0)
    started, done_before = time.perf_counter(), done
    latencies = await light(host, port, posts, args.seconds)
    stop.set()
    rate = (done - done_before) * units / (time.perf_counter() - started)
    drained = True
    try:
        await asyncio.wait_for(asyncio.gather(*flooders), timeout=args.drain_timeout)
    except TimeoutError:
        drained = False
        for task in flooders:
            task.cancel()
    return latencies, rate, errors, drained


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "baseline")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--flood", default="100x20000,100x1000",
                        help="flood kinds, NxC: N texts of C characters per request")
    parser.add_argument("--flood-clients", type=int, default=4)
    parser.add_argument("--units", default="2", help="WARNING_BATCH_MAX_UNITS values")
    parser.add_argument("--processes", default="1", help="WARNING_MODEL_PROCESSES values")
    parser.add_argument("--before", type=Path,
                        help="a folder holding an earlier serve/ package (e.g. from git "
                             "archive): measured too, as 'before'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="unloaded and loaded measurements, alternating, per server")
    parser.add_argument("--posts", type=Path, default=ROOT / "examples" / "posts.txt")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / "fair_share.md")
    args = parser.parse_args(argv)
    args.model = args.model.resolve()
    floods = [tuple(int(x) for x in f.split("x")) for f in args.flood.split(",")]
    posts = read_posts(args.posts)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    load_start = os.getloadavg()
    rows = []
    variants = [("this version", float(u), None, int(p)) for p in args.processes.split(",")
                for u in args.units.split(",")]
    if args.before is not None:
        variants.append(("before", float("nan"), args.before.resolve(), 0))
    with tempfile.TemporaryDirectory(prefix="fair-share-") as tmp:
        for (variant, units, serve_path, processes), flood in itertools.product(variants,
                                                                                 floods):
            # a fresh server per flood: a flood's requests still queued must not slow the next
            with server(args, units, Path(tmp), serve_path, processes) as (host, port):
                asyncio.run(light(host, port, posts, 3.0))  # warm-up
                idle: list[float] = []
                busy: list[float] = []
                rates: list[float] = []
                a_errors, drained = 0, True
                # unloaded and loaded measurements alternate, so that a change in the
                # machine's other load bears on both alike
                for _ in range(args.rounds):
                    idle += asyncio.run(light(host, port, posts, args.seconds))
                    b, rate, errors, ok = asyncio.run(loaded(host, port, posts, flood, args))
                    busy += b
                    rates.append(rate)
                    a_errors += errors
                    drained = drained and ok
                a_rate = float(np.mean(rates))
                ratio = pct(busy, 50) / pct(idle, 50)
                tag = f"[{variant}, units {units:g}, processes {processes}]"
                print(f"{tag} unloaded: p50 {pct(idle, 50):.1f} ms, p95 {pct(idle, 95):.1f} ms "
                      f"({len(idle)} requests); flood {flood[0]}x{flood[1]}: p50 "
                      f"{pct(busy, 50):.1f} ms, p95 {pct(busy, 95):.1f} ms ({len(busy)} "
                      f"requests), {ratio:.2f}x; A {a_rate:.1f} units/s"
                      + ("" if drained else "; A's flood did not drain in time"), flush=True)
                rows.append((variant, units, processes, flood, idle, busy, a_rate, a_errors,
                             drained))
    load_end = os.getloadavg()
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    lines = [
        "# Fair share of the model between keys",
        "",
        f"Written by `benchmarks/fair_share.py` on {started} (UTC).",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{command}` |",
        f"| machine | {platform.platform()}, {platform.processor() or platform.machine()} |",
        f"| CPUs | {os.cpu_count()} (the load generator runs on the same CPUs) |",
        f"| model | `{args.model.name}` |",
        f"| key A (flood) | {args.flood_clients} clients, each posting one request after "
        "another |",
        "| key B (light) | one client, one post per request (`examples/posts.txt`), one at a "
        "time |",
        f"| duration | {args.rounds} rounds of B unloaded then loaded, {args.seconds:g} s "
        "each, on one server per row (p50 and p95 over all rounds) |",
        f"| load average (1, 5, 15 min) | start {', '.join(f'{x:.2f}' for x in load_start)}; "
        f"end {', '.join(f'{x:.2f}' for x in load_end)} |",
        "",
        "| serve | WARNING_BATCH_MAX_UNITS | WARNING_MODEL_PROCESSES | A's flood (texts x "
        "characters per request) | "
        "B unloaded p50 / p95 ms | B during the flood p50 / p95 ms | p50 ratio | target (2x) | A's "
        "units scored per second |",
        "|---|---:|---:|---|---|---|---:|---|---:|",
    ]
    for variant, units, processes, flood, idle, busy, a_rate, a_errors, drained in rows:
        ratio = pct(busy, 50) / pct(idle, 50)
        shown = "–" if units != units else f"{units:g}"
        shown_processes = "–" if variant == "before" else str(processes)
        lines.append(f"| {variant} | {shown} | {shown_processes} | {flood[0]} x {flood[1]:,} | "
                     f"{pct(idle, 50):.1f} / "
                     f"{pct(idle, 95):.1f} | {pct(busy, 50):.1f} / {pct(busy, 95):.1f} | "
                     f"{ratio:.2f} | {'met' if ratio <= 2 else 'NOT met'} | {a_rate:.1f}"
                     + (f" ({a_errors} errors)" if a_errors else "")
                     + ("" if drained else " (not drained)") + " |")
    lines += ["", "A's units scored per second count the requests of A answered within the "
              "measurement (a request still being scored at its end counts nothing), so they "
              "understate A's share when each of its requests takes longer than the window.",
              "'before' is the serve package of an earlier commit, given with `--before` (run "
              "with its own defaults; it has neither WARNING_BATCH_MAX_UNITS nor "
              "WARNING_MODEL_PROCESSES where it predates them)."]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
