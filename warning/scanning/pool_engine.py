"""``warning scan --workers N``: the local engine on N processes of this machine.

The baseline scores on one core (its arithmetic is single-threaded), and a scan spends as much
again on language ID, target tagging and the output: one process leaves the second core of a
2-core machine idle. This engine keeps the local engine's order of work and output, and hands
each chunk to a pool of worker processes, each running the same
:class:`~warning.scanning.scoring.ChunkScorer` on its copy of the model:

- this process reads the feed, sends each chunk to the pool and writes the scored chunks in
  input order (so the output, the rejects and ``--resume`` are those of the local engine);
- at most ``2 * workers`` chunks are in flight, so memory holds that many chunks, not the feed;
- on Linux the workers are forked from this process after the model is loaded, so they share
  its pages and start at once; from a process that already runs other threads (a notebook, a
  server), where a fork may copy a held lock, and on other systems, they are started by a fork
  server (or spawned, on Windows) and receive the model by pickle;
- a worker that dies (killed, out of memory) stops the scan with :class:`ScanError`; the chunks
  written before it stay, and ``--resume`` continues after them;
- on Linux each worker asks the kernel to end it when this process ends, so a scan that is
  killed (``kill -9``, the out-of-memory killer) leaves no orphaned workers behind.

A model with a transformer already runs torch on every core: it gets one worker (this process)
under ``auto``, and an explicit ``--workers`` above 1 is refused with the reason.

Example:
    >>> from warning.scanning.scanner import ScanOptions, scan
    >>> scan("feed.csv", "scored.parquet", ScanOptions(workers=2, authors="drop"),
    ...      model_path="models/baseline")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from warning.scanning.scoring import ChunkScorer, ScanError, _Chunk, _Engine

if TYPE_CHECKING:
    from warning.models.classifier import Classifier
    from warning.scanning.feeds import Feed, FeedRow

__all__ = ["PoolEngine", "single_core_model", "workers_for"]

# The scorer of a worker process (set once by the pool's initializer).
_SCORER: ChunkScorer | None = None


def _end_with_parent(parent: int | None) -> None:
    """Have the kernel send this process SIGTERM when its parent ends (Linux's
    ``PR_SET_PDEATHSIG``); elsewhere nothing (the pool's own shutdown still ends the workers).
    ``parent``: the scan's process id when it forked this one (checked, in case it ended
    before the request); None when a fork server did (which ends with the scan)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # it ended before the request
        os.kill(os.getpid(), signal.SIGTERM)


def _init_worker(scorer: ChunkScorer, parent: int | None) -> None:
    global _SCORER
    _end_with_parent(parent)
    _SCORER = scorer


def _score(rows: list[FeedRow]) -> _Chunk:
    assert _SCORER is not None, "the worker was not initialised"
    return _SCORER.process(rows)


def single_core_model(model: Any) -> bool:
    """Whether the model scores on one core (a baseline, or an ensemble of baselines): only
    such a model gains from more scan workers."""
    kind = getattr(getattr(model, "config", None), "kind", None)
    if kind == "ensemble":
        members = getattr(model, "members", None) or []
        return bool(members) and all(single_core_model(m) for m in members)
    return kind == "baseline"


def workers_for(model: Classifier, asked: int | None, cores: int) -> int:
    """The scan's worker processes for ``model``: ``asked`` (None: ``auto``, one per core for a
    single-core model, else 1).

    Raises:
        ScanError: More than one worker asked for a model that already uses every core.
    """
    if asked is None:
        return max(1, min(cores, 8)) if single_core_model(model) else 1
    if asked > 1 and not single_core_model(model):
        raise ScanError(f"--workers {asked}: the model {model.name} runs a transformer, which "
                        f"already uses every core (torch threads), so more processes would "
                        f"only share them; use --workers 1 (or leave it to auto), or "
                        f"--engine ray to use other machines")
    return asked


def _start_method() -> str:
    """``fork`` on Linux from a process without other threads; else a fork server where there
    is one (Unix), else ``spawn`` (Windows). Fork is not used on macOS, where system libraries
    are not safe to fork."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and threading.active_count() == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


@contextlib.contextmanager
def _worker_failure() -> Iterator[None]:
    """A broken pool (a worker died) as the :class:`ScanError` that says what to do."""
    try:
        yield
    except BrokenProcessPool as exc:
        raise ScanError(f"a scan worker process stopped unexpectedly (killed, or out of "
                        f"memory?): {str(exc).rstrip('.')}. The chunks written so far are "
                        f"kept: rerun with --resume, with fewer --workers or a smaller "
                        f"WARNING_SCAN_CHUNK_ROWS if memory is short") from exc


class PoolEngine(_Engine):
    """Chunks scored by ``workers`` processes, yielded in input order (see the module
    docstring)."""

    def __init__(self, feed: Feed, chunk_rows: int, scorer: ChunkScorer, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a pool needs at least 2 workers, got {workers}")
        self.feed, self.chunk_rows, self.scorer, self.workers = feed, chunk_rows, scorer, workers
        self.model_name = scorer.model.name
        self.progress_unit = feed.progress_unit
        self.start_method = _start_method()
        self._pool: ProcessPoolExecutor | None = None

    def start(self, done: int) -> None:
        context = multiprocessing.get_context(self.start_method)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                         initializer=_init_worker,
                                         initargs=(self.scorer, os.getpid() if
                                                   self.start_method == "fork" else None))
        # start the processes now, while this process has no writer thread yet
        with _worker_failure():
            for future in [self._pool.submit(int, 0) for _ in range(self.workers)]:
                future.result()

    def chunks(self, done: int) -> Iterator[tuple[int, _Chunk | None]]:
        if self._pool is None:
            self.start(done)
        assert self._pool is not None
        pending: deque[tuple[int, Future]] = deque()
        # a dead worker breaks the pool: it shows in a result, or in the next submission
        with _worker_failure():
            for index, rows in enumerate(self.feed.chunks(self.chunk_rows)):
                if index < done:
                    yield index, None
                    continue
                pending.append((index, self._pool.submit(_score, rows)))
                if len(pending) >= 2 * self.workers:
                    first, future = pending.popleft()
                    yield first, future.result()
            while pending:
                first, future = pending.popleft()
                yield first, future.result()

    def position(self) -> tuple[int, int | None]:
        return self.feed.position()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
