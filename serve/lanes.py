"""Where the micro-batcher's model calls run: *lanes*.

A :class:`ThreadLane` scores in a worker thread of the server process (one call at a time,
through the app's model limiter). A :class:`ProcessLane` scores in a separate process that
holds its own copy of the model, loaded from the same folder: its calls share neither the
server's GIL nor its event loop, so a long call there does not slow the server's handling of
other requests. The batcher (:mod:`serve.batcher`) sends heavy work (a key with a backlog, or a
piece larger than ``max_units``) to the process lanes once one is ready, and keeps the thread
lane for light work: a one-text request from one key is scored at once while another key's
flood of long texts is scored in the process.

A process lane starts its process on first need (the first heavy piece of its model), so a
server that never gets heavy work never pays for a second copy of the model; until the process
has loaded the model (seconds), heavy work is scored in the thread lane, as without processes.
If the process cannot load the model, the lane stays off (logged) and the thread lane takes all
the work. If the process dies during a call, that call's requests fail (500, logged by exception
type) and the lane starts a new process on the next need. Texts and results travel over a pipe;
nothing is logged but exception types.

Example:
    >>> lane = ProcessLane(None, mirrors=lambda: None)  # the shipped default model
    >>> lane.ready_for(object())  # not started, and not the model it mirrors
    False
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import anyio

__all__ = ["Lane", "ProcessLane", "ThreadLane", "WorkerDied"]

log = logging.getLogger("serve")


class WorkerDied(Exception):
    """The model process ended during a call (killed, out of memory, crashed)."""


class Scorer(Protocol):
    def score(self, texts: Sequence[str], explain: bool = False) -> Sequence[Any]: ...


class Lane(Protocol):
    """A place where model calls run, one at a time."""

    #: a lane for heavy work (a separate process); the others take only light work while a
    #: bulk lane is ready for the model
    bulk: bool

    def ready_for(self, model: Scorer) -> bool:
        """True when this lane can score ``model``'s texts now."""
        ...

    def wants(self, model: Scorer, notify: Callable[[], None]) -> None:
        """Heavy work for ``model`` is waiting: a lane that could score it once started starts
        (``notify`` is called when it is ready)."""
        ...

    async def score(self, model: Scorer, texts: list[str], explain: bool) -> list[Any]:
        """The model's results for ``texts``."""
        ...

    async def close(self, timeout: float) -> None:
        """Stop (a lane's process ends)."""
        ...


class ThreadLane:
    """Scores in a worker thread of this process, through ``limiter`` (shared with the app,
    so that this lane's calls and the app's other model calls run one at a time)."""

    bulk = False

    def __init__(self, limiter: anyio.CapacityLimiter | None = None) -> None:
        self.limiter = limiter

    def ready_for(self, model: Scorer) -> bool:
        return True

    def wants(self, model: Scorer, notify: Callable[[], None]) -> None:
        return None

    async def score(self, model: Scorer, texts: list[str], explain: bool) -> list[Any]:
        return list(await anyio.to_thread.run_sync(model.score, texts, explain,
                                                   limiter=self.limiter))

    async def close(self, timeout: float) -> None:
        return None


class ProcessLane:
    """Scores in a separate process holding its own copy of the model from ``path``.

    Args:
        path: The model folder (None: the shipped default), as the server loaded it.
        mirrors: Returns the server's own model (None until it is loaded): this lane takes
            only that model's work (a model swapped in by a test, or another object, stays in
            the thread lane), and only once its process has loaded a model of the same name.
        start_timeout: Seconds the process may take to load the model.
        nice: How much lower than the server's the process's CPU priority is (``nice``
            steps, 0-19): on a busy machine the server's handling of requests, light ones
            scored in its thread included, runs first, and the heavy work takes the CPU time
            left; on an otherwise idle machine it takes all of it.
    """

    bulk = True

    def __init__(self, path: str | Path | None, mirrors: Callable[[], object | None],
                 start_timeout: float = 600.0, nice: int = 0) -> None:
        self.path = str(path) if path is not None else None
        self.nice = nice
        self.mirrors = mirrors
        self.start_timeout = start_timeout
        #: idle (no process), starting, ready, off (could not load the model: not retried)
        self.state = "idle"
        self._process: Any = None
        self._conn: Connection | None = None
        self._starting: asyncio.Task[None] | None = None
        self._closed = False

    def ready_for(self, model: Scorer) -> bool:
        return self.state == "ready" and model is not None and model is self.mirrors()

    def wants(self, model: Scorer, notify: Callable[[], None]) -> None:
        if self.state != "idle" or self._closed or model is None or model is not self.mirrors():
            return
        self.state = "starting"
        self._starting = asyncio.create_task(self._start(notify), name="model-process-start")

    async def _start(self, notify: Callable[[], None]) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        parent, child = context.Pipe()
        process = context.Process(target=_serve_model, args=(child, self.path, self.nice),
                                  name="warning-model", daemon=True)
        try:
            await anyio.to_thread.run_sync(process.start)
            child.close()
            self._process, self._conn = process, parent
            with anyio.fail_after(self.start_timeout):
                reply = await self._receive()
        except (Exception, asyncio.CancelledError) as exc:
            self._end(kill=True)
            self.state = "off"
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.error("the model process did not start (%s); scoring stays in the server "
                      "process", type(exc).__name__)
            return
        expected = getattr(self.mirrors(), "name", None)
        if reply[0] != "ready" or reply[1] != expected:
            self._end(kill=True)
            self.state = "off"
            log.error("the model process could not load the model (%s); scoring stays in the "
                      "server process", reply[1] if reply[0] == "failed" else "another model")
            return
        self.state = "ready"
        log.info("model process %s ready (%s)", process.pid, reply[1])
        notify()

    async def _receive(self) -> Any:
        """The next message from the process, without blocking the event loop while it
        works. Raises WorkerDied when the process has ended."""
        assert self._conn is not None
        conn = self._conn
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = conn.fileno()
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            await readable
        finally:
            loop.remove_reader(fd)
        try:
            return conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied("the model process ended") from exc

    async def score(self, model: Scorer, texts: list[str], explain: bool) -> list[Any]:
        if not self.ready_for(model) or self._conn is None:
            raise WorkerDied("the model process is not running")
        try:
            self._conn.send((texts, explain))
            kind, value = await self._receive()
        except (WorkerDied, OSError, EOFError) as exc:
            log.error("the model process ended during a call (%s); a new one starts on the "
                      "next need", type(exc.__cause__ or exc).__name__)
            self._end(kill=True)
            self.state = "idle"
            raise WorkerDied("the model process ended during the call") from None
        except asyncio.CancelledError:
            # the call was abandoned (shutdown): the process may still be working on it
            self._end(kill=True)
            self.state = "idle"
            raise
        if kind == "error":
            raise value
        return list(value)

    def _end(self, kill: bool) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        if process is not None and kill and process.is_alive():
            process.kill()
            process.join(5)

    async def close(self, timeout: float) -> None:
        self._closed = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._starting
        process, conn = self._process, self._conn
        if process is None:
            return
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)  # the process ends after its current call
        # idle by now (the batcher's calls are answered or abandoned): it ends at once
        await anyio.to_thread.run_sync(process.join, min(timeout, 5.0))
        self._end(kill=True)
        self.state = "idle"


def _serve_model(conn: Connection, path: str | None, nice: int = 0) -> None:
    """The model process: load the model, then score each ``(texts, explain)`` received, until
    ``None`` or the end of the pipe. Replies ``("ready", model name)`` or ``("failed", exception
    type)`` once, then ``("ok", results)`` or ``("error", exception)`` per call. It logs nothing
    (an exception's message could quote a text: it goes back over the pipe only)."""
    # Ctrl-C in a terminal, and a service manager's SIGTERM, reach the whole process group:
    # the server ends this process itself once the calls in flight are answered (or the pipe
    # closes when the server is gone)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if nice > 0:
        os.nice(nice)  # heavy work yields the CPU to the server's handling of requests
    try:
        from warning.models.classifier import Classifier

        model = Classifier.load(path)
    except Exception as exc:
        conn.send(("failed", type(exc).__name__))
        return
    conn.send(("ready", model.name))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        texts, explain = message
        try:
            reply: tuple[str, Any] = ("ok", model.score(texts, explain))
        except Exception as exc:
            reply = ("error", _portable(exc))
        try:
            conn.send(reply)
        except (OSError, EOFError):
            return
        except Exception as exc:  # results that do not pickle: say so, by type only
            conn.send(("error", RuntimeError(type(exc).__name__)))


def _portable(exc: Exception) -> Exception:
    """``exc`` when it survives pickling, else a RuntimeError naming its type."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(type(exc).__name__)
    return exc
