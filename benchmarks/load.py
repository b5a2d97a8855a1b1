"""Load benchmark of the HTTP API: requests per second and p50/p99 latency with and without
micro-batching; with ``--proxy``, one API replica against two behind nginx.

Over 500 lines because it is one script a user runs as it is: the servers (alone or behind
nginx), the clients, the measurements and the results table, with nothing to import.

Usage:
    python benchmarks/load.py [--model models/default] [--seconds 20] [--clients 1,8,32]
                              [--soak-seconds 60] [--threads 2] [--out benchmarks/results/load.md]
    python benchmarks/load.py --proxy [--replicas 1,2] [--clients 32]
                              [--out benchmarks/results/load_proxy.md]

Protocol (issue 8, part 4):

- for each mode (micro-batching on, then off) the API is started with uvicorn on 127.0.0.1 in a
  subprocess, with the same model, the same torch threads (``OMP_NUM_THREADS``), an open server
  (no keys) and rate limits out of the way; the benchmark waits for ``/readyz``;
- one warm-up pass (not counted), then for each number of concurrent clients a bounded run of
  ``--seconds``: each client (an async task in this process, with its own keep-alive
  connection) posts one post per request to ``/v1/score``, as moderators do, taking the
  example posts in turn, and waits for the answer before its next request; any answer but a
  200 with one result, and any transport error, counts as an error;
- the clients speak HTTP/1.1 through a minimal client written here (``--client raw``, the
  default) rather than ``httpx`` (``--client httpx``): on 2 cores shared with the server,
  httpx's own CPU cost at 32 clients capped the measurement (a short check with the baseline
  model: about 140 requests/s with httpx against 390 with the minimal client, the same
  server);
- requests per second = answers 200 / wall time of the cell; latency = time from sending to
  the full answer, per request (p50, p99);
- the mean batch size per mode comes from the server's own ``/metrics``;
- last, a ``--soak-seconds`` run at the largest number of clients with batching, which must
  end with zero errors.

Targets: at 32 clients batching gives at least 3x the requests per second of one model call per
request; the soak run ends with zero errors.

Protocol of ``--proxy`` (issue 20, part 5): the deployment of ``deploy/``, on this machine. A
PostgreSQL server (Debian's, started in a temporary folder, as the tests do) holds the feedback
database, with feedback on, so every scored post is also written there as a recent response
(what replicas share); for each number of replicas, that many ``warning serve`` processes (with
batching) start on loopback ports, and nginx runs ``deploy/nginx/early-warning.conf`` in front
of them, with TLS, changed only in its ports, certificate (self-signed, made here) and the
per-key rate (raised so that the limit, a policy, does not cap the measurement). The CPU's
threads are shared out: ``--threads`` torch threads in all, divided between the replicas. The
clients (the minimal client, over TLS, with a key) go through nginx; a request counts as an
error unless it is a 200 with one result. The CPU seconds used by the replicas, nginx,
PostgreSQL and the load generator during each cell are recorded, to show where the CPUs went.

The load generator shares the machine's cores with the server, as a moderation tool on the same
host would; the load average at the start and the end is recorded so a busy machine can be
recognised.

Writes a Markdown table to ``--out`` (default ``benchmarks/results/load.md``, or
``benchmarks/results/load_proxy.md`` with ``--proxy``).
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
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cell:
    """One bounded run: a mode and a number of clients."""

    mode: str
    clients: int
    seconds: float
    ok: int
    errors: int
    latencies_ms: list[float]
    error_kinds: dict[str, int]
    mean_batch: float | None = None

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_posts(path: Path) -> list[str]:
    posts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    if not posts:
        raise SystemExit(f"no posts in {path}")
    return posts


@contextlib.contextmanager
def server(model: Path, batching: bool, threads: int, args: argparse.Namespace,
           log_dir: Path) -> Iterator[str]:
    """The API in a uvicorn subprocess on loopback; yields its base URL once /readyz is 200."""
    port = free_port()
    env = {**os.environ,
           "WARNING_OPEN_ACCESS": "1", "WARNING_API_KEYS": "", "WARNING_API_KEYS_FILE": "",
           "WARNING_MODEL": str(model), "WARNING_BATCHING": "1" if batching else "0",
           "WARNING_BATCH_MAX_POSTS": str(args.batch_max_posts),
           "WARNING_BATCH_MAX_WAIT_MS": str(args.batch_max_wait_ms),
           "WARNING_QUEUE_MAX_POSTS": str(args.queue_max_posts),
           "WARNING_RATE_PER_MINUTE": "1e12", "WARNING_RATE_BURST": "1000000000",
           "WARNING_WORK_PER_MINUTE": "1e12", "WARNING_WORK_BURST": "1e9",
           "WARNING_LOAD_IN_BACKGROUND": "1",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env.pop("WARNING_SETTINGS_FILE", None)
    log_path = log_dir / f"server-{'batching' if batching else 'single'}.log"
    command = [sys.executable, "-m", "uvicorn", "serve.app:app_from_env", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
               "--no-access-log"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + args.start_timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited ({process.returncode}); its log:\n"
                                 + log_path.read_text()[-3000:])
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server was not ready within {args.start_timeout} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on one connection: a pre-encoded request out,
    the status line, headers and ``Content-Length`` body in. It costs the shared CPUs far less
    than a full client library, so the numbers measure the server, not the load generator."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls,
                server_hostname=self.host if self.tls is not None else None)
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = None, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and "close" in value.lower():
                close = True
        if length is None:
            raise ValueError("an answer without Content-Length")
        body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body


def raw_request(host: str, port: int, text: str, key: str | None = None) -> bytes:
    body = json.dumps({"texts": text}, ensure_ascii=False).encode("utf-8")
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    head = (f"POST /v1/score HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


async def drive(base: str, posts: list[str], clients: int, seconds: float,
                mode: str, client_kind: str = "raw", *, tls: ssl.SSLContext | None = None,
                key: str | None = None) -> Cell:
    """``clients`` concurrent clients, each one request at a time, for ``seconds``."""
    if client_kind == "raw":
        return await drive_raw(base, posts, clients, seconds, mode, tls=tls, key=key)
    turn = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    ok = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        start = time.perf_counter()
        stop_at = start + seconds

        async def one_client() -> None:
            nonlocal ok
            while time.perf_counter() < stop_at:
                text = posts[next(turn) % len(posts)]
                sent = time.perf_counter()
                try:
                    response = await client.post("/v1/score", json={"texts": text})
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                else:
                    if response.status_code == 200:
                        ok += 1
                        latencies.append((time.perf_counter() - sent) * 1000)
                        continue
                    kind = f"HTTP {response.status_code}"
                errors[kind] = errors.get(kind, 0) + 1

        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return Cell(mode, clients, elapsed, ok, sum(errors.values()), latencies, errors)


async def drive_raw(base: str, posts: list[str], clients: int, seconds: float,
                    mode: str, *, tls: ssl.SSLContext | None = None,
                    key: str | None = None) -> Cell:
    host, port = base.removeprefix("http://").removeprefix("https://").rsplit(":", 1)
    requests = [raw_request(host, int(port), text, key) for text in posts]
    turn = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    ok = 0
    start = time.perf_counter()
    stop_at = start + seconds

    async def one_client() -> None:
        nonlocal ok
        client = RawClient(host, int(port), tls)
        try:
            while time.perf_counter() < stop_at:
                request = requests[next(turn) % len(requests)]
                sent = time.perf_counter()
                try:
                    status, body = await client.post(request)
                    answer = json.loads(body) if status == 200 else None
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    kind = type(exc).__name__
                    await client.close()
                else:
                    if answer is not None and len(answer.get("results", ())) == 1:
                        ok += 1
                        latencies.append((time.perf_counter() - sent) * 1000)
                        continue
                    kind = f"HTTP {status}" if status != 200 else "malformed answer"
                errors[kind] = errors.get(kind, 0) + 1
        finally:
            await client.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return Cell(mode, clients, elapsed, ok, sum(errors.values()), latencies, errors)


def batch_stats(base: str, key: str | None = None) -> tuple[float, float]:
    """(sum, count) of the server's batch-size histogram."""
    from prometheus_client.parser import text_string_to_metric_families

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    text = httpx.get(f"{base}/metrics", timeout=10, headers=headers).text
    values = {s.name: s.value for family in text_string_to_metric_families(text)
              for s in family.samples if s.name.startswith("warning_batch_size_posts_")}
    return values.get("warning_batch_size_posts_sum", 0.0), values.get(
        "warning_batch_size_posts_count", 0.0)


def run_mode(batching: bool, args: argparse.Namespace, posts: list[str],
             log_dir: Path) -> tuple[list[Cell], Cell | None, str]:
    mode = "batching" if batching else "one call per request"
    cells: list[Cell] = []
    soak: Cell | None = None
    with server(args.model, batching, args.threads, args, log_dir) as base:
        model = httpx.get(f"{base}/readyz", timeout=10).json().get("model", "?")
        warm = asyncio.run(drive(base, posts, max(args.clients), args.warmup, mode,
                                args.client))
        print(f"[{mode}] warm-up: {warm.ok} requests, {warm.errors} errors", flush=True)
        for clients in args.clients:
            before = batch_stats(base)
            cell = asyncio.run(drive(base, posts, clients, args.seconds, mode, args.client))
            after = batch_stats(base)
            calls = after[1] - before[1]
            cell.mean_batch = (after[0] - before[0]) / calls if calls else None
            cells.append(cell)
            print(f"[{mode}] {clients:>3} clients: {cell.rps:7.1f} req/s, "
                  f"p50 {cell.percentile(50):7.1f} ms, p99 {cell.percentile(99):7.1f} ms, "
                  f"{cell.errors} errors", flush=True)
        if batching and args.soak_seconds > 0:
            before = batch_stats(base)
            soak = asyncio.run(drive(base, posts, max(args.clients), args.soak_seconds,
                                     f"{mode}, soak", args.client))
            after = batch_stats(base)
            calls = after[1] - before[1]
            soak.mean_batch = (after[0] - before[0]) / calls if calls else None
            print(f"[soak] {soak.clients} clients for {soak.seconds:.0f} s: {soak.ok} requests, "
                  f"{soak.errors} errors {soak.error_kinds or ''}", flush=True)
    return cells, soak, model


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}f}"


def report(args: argparse.Namespace, cells: list[Cell], soak: Cell | None, model: str,
           load_start: tuple[float, ...], load_end: tuple[float, ...], started: str) -> str:
    by = {(c.mode, c.clients): c for c in cells}
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    generator = ("raw: a minimal HTTP/1.1 keep-alive client, one connection per client"
                 if args.client == "raw" else "httpx.AsyncClient")
    top = max(args.clients)
    lines = [
        "# Load benchmark of the HTTP API",
        "",
        f"Written by `benchmarks/load.py` on {started} (UTC).",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{command}` |",
        f"| machine | {platform.platform()}, {platform.processor() or platform.machine()} |",
        f"| CPUs | {os.cpu_count()} (the load generator runs on the same CPUs) |",
        f"| model | `{args.model}` ({model}) |",
        f"| torch threads | {args.threads} (`OMP_NUM_THREADS`) |",
        f"| batching settings | `WARNING_BATCH_MAX_POSTS={args.batch_max_posts}`, "
        f"`WARNING_BATCH_MAX_WAIT_MS={args.batch_max_wait_ms:g}`, "
        f"`WARNING_QUEUE_MAX_POSTS={args.queue_max_posts}` |",
        f"| load generator | {generator}, in one process on the same CPUs |",
        f"| requests | `POST /v1/score`, one post each, the {args.n_posts} posts of "
        f"`{args.posts}` in turn; each client waits for its answer before the next |",
        f"| duration | {args.seconds:g} s per cell after {args.warmup:g} s of warm-up |",
        f"| load average (1, 5, 15 min) | start {', '.join(f'{x:.2f}' for x in load_start)}; "
        f"end {', '.join(f'{x:.2f}' for x in load_end)} |",
        "",
        "| mode | clients | requests | errors | requests/s | p50 ms | p99 ms | mean posts per "
        "model call |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells + ([soak] if soak else []):
        lines.append(f"| {c.mode} | {c.clients} | {c.ok} | {c.errors} | {fmt(c.rps)} | "
                     f"{fmt(c.percentile(50))} | {fmt(c.percentile(99))} | "
                     f"{fmt(c.mean_batch)} |")
    lines.append("")
    batched, single = by.get(("batching", top)), by.get(("one call per request", top))
    if batched and single and single.rps:
        gain = batched.rps / single.rps
        lines.append(f"- At {top} clients, micro-batching gives {gain:.1f}x the requests per "
                     f"second of one model call per request (target: at least 3x: "
                     f"{'met' if gain >= 3 else 'NOT met'}).")
    if soak:
        lines.append(f"- The {soak.seconds:.0f}-second run at {soak.clients} clients with "
                     f"batching ended with {soak.errors} errors (target: zero: "
                     f"{'met' if soak.errors == 0 else 'NOT met'})"
                     + (f": {soak.error_kinds}" if soak.errors else "") + ".")
    errors = sum(c.errors for c in cells)
    if errors:
        lines.append(f"- {errors} errors in the timed cells: "
                     + "; ".join(f"{c.mode} x{c.clients}: {c.error_kinds}"
                                 for c in cells if c.errors))
    return "\n".join(lines) + "\n"


# ---- --proxy: replicas behind nginx, sharing PostgreSQL ------------------------------------

BENCH_KEY = "load-benchmark-key-0123456789"


@dataclass
class ProxyCell:
    """One bounded run through the proxy: a number of replicas and of clients."""

    replicas: int
    threads_per_replica: int
    cell: Cell
    cpu_seconds: dict[str, float]


def _services():  # the tests' helpers for Debian's postgresql and nginx
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures import services

    return services


def _cpu_seconds(pids: list[int], children: bool = True) -> float:
    """User+system CPU seconds of these processes (and all their children)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family = [process, *(process.children(recursive=True) if children else [])]
        except psutil.NoSuchProcess:
            continue
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
    return total


def _postmaster_pid(postgres) -> int:
    return int((postgres.data / "postmaster.pid").read_text().splitlines()[0])


@contextlib.contextmanager
def proxied(n_replicas: int, threads: int, postgres, args: argparse.Namespace,
            log_dir: Path) -> Iterator[tuple[str, ssl.SSLContext, list, object]]:
    """``n_replicas`` replicas behind nginx, on a new feedback database; yields the proxy's
    URL, its TLS context, the replicas and nginx."""
    services = _services()
    db = postgres.create_database(f"bench_{n_replicas}_{int(time.time())}")
    env = {"WARNING_API_KEYS": BENCH_KEY, "WARNING_API_KEYS_FILE": "",
           "WARNING_OPEN_ACCESS": "0", "WARNING_MODEL": str(args.model),
           "WARNING_FEEDBACK_DB": db, "WARNING_BATCHING": "1",
           "WARNING_BATCH_MAX_POSTS": str(args.batch_max_posts),
           "WARNING_BATCH_MAX_WAIT_MS": str(args.batch_max_wait_ms),
           "WARNING_QUEUE_MAX_POSTS": str(args.queue_max_posts),
           "WARNING_RATE_PER_MINUTE": "1e12", "WARNING_RATE_BURST": "1000000000",
           "WARNING_WORK_PER_MINUTE": "1e12", "WARNING_WORK_BURST": "1000000000",
           "WARNING_DEFAULT_KEY_ROLE": "admin",  # /metrics, where keys have roles
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    replicas = [services.Replica(env, log_dir, f"replica{n_replicas}-{i}")
                for i in range(n_replicas)]
    nginx = None
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_ready(timeout=args.start_timeout)
        cert, key = services.self_signed_certificate(log_dir)
        port = services.free_port()
        site = services.render_site(
            (ROOT / "deploy" / "nginx" / "early-warning.conf").read_text(encoding="utf-8"),
            listen_port=port, replica_ports=[r.port for r in replicas], cert=cert, key=key,
            logs=log_dir)
        site = site.replace("rate=2r/s;", "rate=100000r/s;", 1)
        nginx_binary = services.find_nginx()
        if nginx_binary is None:
            raise SystemExit("nginx is not installed (bash scripts/setup.sh installs it)")
        nginx = services.NginxServer(nginx_binary, site).start(port)
        yield (f"https://127.0.0.1:{port}", ssl.create_default_context(cafile=str(cert)),
               replicas, nginx)
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()


def run_proxy(args: argparse.Namespace, posts: list[str],
              log_dir: Path) -> tuple[list[ProxyCell], str]:
    services = _services()
    bindir = services.find_postgres_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (bash scripts/setup.sh installs it)")
    postgres = services.PostgresServer(bindir).start()
    results: list[ProxyCell] = []
    model = "?"
    try:
        for n in args.replicas:
            threads = max(1, args.threads // n)
            with proxied(n, threads, postgres, args, log_dir) as (base, tls, replicas, nginx):
                model = httpx.get(f"{replicas[0].url}/readyz", timeout=10).json().get("model",
                                                                                       "?")
                warm = asyncio.run(drive(base, posts, max(args.clients), args.warmup,
                                         f"{n} replica(s)", tls=tls, key=BENCH_KEY))
                print(f"[{n} replica(s)] warm-up: {warm.ok} requests, {warm.errors} errors",
                      flush=True)
                for clients in args.clients:
                    groups = {"replicas": [r.process.pid for r in replicas],
                              "nginx": [nginx.process.pid],
                              "postgresql": [_postmaster_pid(postgres)],
                              "load generator": [os.getpid()]}
                    # the load generator alone: the servers are its child processes
                    alone = {"load generator"}
                    before_cpu = {name: _cpu_seconds(pids, name not in alone)
                                  for name, pids in groups.items()}
                    before = [batch_stats(r.url, BENCH_KEY) for r in replicas]
                    cell = asyncio.run(drive(base, posts, clients, args.seconds,
                                             f"{n} replica(s)", tls=tls, key=BENCH_KEY))
                    after = [batch_stats(r.url, BENCH_KEY) for r in replicas]
                    cpu = {name: _cpu_seconds(pids, name not in alone) - before_cpu[name]
                           for name, pids in groups.items()}
                    calls = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
                    posts_scored = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
                    cell.mean_batch = posts_scored / calls if calls else None
                    results.append(ProxyCell(n, threads, cell, cpu))
                    print(f"[{n} replica(s)] {clients:>3} clients: {cell.rps:7.1f} req/s, "
                          f"p50 {cell.percentile(50):7.1f} ms, p99 {cell.percentile(99):7.1f} "
                          f"ms, {cell.errors} errors {cell.error_kinds or ''}", flush=True)
    finally:
        postgres.stop()
    return results, model


def report_proxy(args: argparse.Namespace, results: list[ProxyCell], model: str,
                 load_start: tuple[float, ...], load_end: tuple[float, ...],
                 started: str) -> str:
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    lines = [
        "# Load benchmark through the proxy: one API replica against two",
        "",
        f"Written by `benchmarks/load.py --proxy` on {started} (UTC).",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{command}` |",
        f"| machine | {platform.platform()}, {platform.processor() or platform.machine()} |",
        f"| CPUs | {os.cpu_count()}, shared by the replicas, nginx, PostgreSQL and the load "
        "generator |",
        f"| model | `{args.model}` ({model}) |",
        f"| torch threads | {args.threads} in all, divided between the replicas "
        "(`OMP_NUM_THREADS`) |",
        "| deployment | `deploy/nginx/early-warning.conf` (TLS, least-conn upstream), its "
        "per-key rate raised so as not to cap the measurement; `warning serve` replicas with "
        "micro-batching (`WARNING_BATCH_MAX_POSTS="
        f"{args.batch_max_posts}`, `WARNING_BATCH_MAX_WAIT_MS={args.batch_max_wait_ms:g}`); "
        "feedback on, in PostgreSQL (each scored post is written there as a recent "
        "response) |",
        "| load generator | a minimal HTTP/1.1 keep-alive client over TLS, one connection per "
        "client, one key, in one process on the same CPUs |",
        f"| requests | `POST /v1/score`, one post each, the {args.n_posts} posts of "
        f"`{args.posts}` in turn; each client waits for its answer before the next |",
        f"| duration | {args.seconds:g} s per cell after {args.warmup:g} s of warm-up |",
        f"| load average (1, 5, 15 min) | start {', '.join(f'{x:.2f}' for x in load_start)}; "
        f"end {', '.join(f'{x:.2f}' for x in load_end)} |",
        "",
        "| replicas | torch threads each | clients | requests | errors | requests/s | p50 ms | "
        "p99 ms | mean posts per model call | CPU s: replicas / nginx / PostgreSQL / "
        "load generator |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        c = r.cell
        cpu = " / ".join(fmt(r.cpu_seconds.get(name)) for name in
                         ("replicas", "nginx", "postgresql", "load generator"))
        lines.append(f"| {r.replicas} | {r.threads_per_replica} | {c.clients} | {c.ok} | "
                     f"{c.errors} | {fmt(c.rps)} | {fmt(c.percentile(50))} | "
                     f"{fmt(c.percentile(99))} | {fmt(c.mean_batch)} | {cpu} |")
    lines.append("")
    by = {(r.replicas, r.cell.clients): r.cell for r in results}
    for clients in args.clients:
        one, two = by.get((1, clients)), by.get((2, clients))
        if one and two and one.rps:
            lines.append(f"- At {clients} clients, two replicas answer {two.rps / one.rps:.2f}x "
                         f"the requests per second of one (p50 {fmt(two.percentile(50))} "
                         f"against {fmt(one.percentile(50))} ms, p99 "
                         f"{fmt(two.percentile(99))} against {fmt(one.percentile(99))} ms).")
    errors = sum(r.cell.errors for r in results)
    lines.append(f"- Errors in all cells: {errors}"
                 + (": " + "; ".join(f"{r.replicas} replica(s) x{r.cell.clients}: "
                                     f"{r.cell.error_kinds}" for r in results if r.cell.errors)
                    if errors else "") + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--seconds", type=float, default=20.0, help="per cell (default: 20)")
    parser.add_argument("--clients", default="1,8,32",
                        help="numbers of concurrent clients (default: 1,8,32)")
    parser.add_argument("--soak-seconds", type=float, default=60.0,
                        help="the run at the most clients with batching (0: none)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds, not counted")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load generator: a minimal HTTP/1.1 client (default; light on "
                             "the shared CPUs) or httpx")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--posts", type=Path, default=ROOT / "examples" / "posts.txt")
    parser.add_argument("--batch-max-posts", type=int, default=32)
    parser.add_argument("--batch-max-wait-ms", type=float, default=2.0)
    parser.add_argument("--queue-max-posts", type=int, default=256)
    parser.add_argument("--start-timeout", type=float, default=600.0,
                        help="seconds to wait for /readyz")
    parser.add_argument("--proxy", action="store_true",
                        help="replicas behind nginx, sharing PostgreSQL (see the protocol)")
    parser.add_argument("--replicas", default="1,2",
                        help="with --proxy: numbers of replicas (default: 1,2)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: benchmarks/results/load.md (load_proxy.md with --proxy)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = ROOT / "benchmarks" / "results" / ("load_proxy.md" if args.proxy
                                                      else "load.md")
    if args.proxy and args.clients == "1,8,32":
        args.clients = "32"
    args.clients = sorted({int(c) for c in args.clients.split(",")})
    args.replicas = sorted({int(c) for c in args.replicas.split(",")})
    args.model = args.model.resolve()
    posts = read_posts(args.posts)
    args.n_posts = len(posts)
    with contextlib.suppress(ValueError):
        args.posts = args.posts.resolve().relative_to(ROOT)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    load_start = os.getloadavg()
    if args.proxy:
        with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
            os.chmod(tmp, 0o755)
            results, model = run_proxy(args, posts, Path(tmp))
        text = report_proxy(args, results, model, load_start, os.getloadavg(), started)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(text)
        return 0
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        cells, soak, model = run_mode(True, args, posts, Path(tmp))
        single, _, _ = run_mode(False, args, posts, Path(tmp))
    load_end = os.getloadavg()
    text = report(args, cells + single, soak, model, load_start, load_end, started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
