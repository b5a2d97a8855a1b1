"""``warning scan --engine ray``: the scan's scoring inside Ray Data, on one machine or a cluster.

What runs where:

- The process that runs ``warning scan`` (the *driver*) reads the feed with the same readers as
  the local engine (the same column detection, line numbers and unreadable rows), in chunks of
  ``WARNING_SCAN_CHUNK_ROWS``, and puts each chunk into Ray's object store (which spills to
  disk when it fills, so the driver's own memory holds one chunk). It reads the whole feed
  first (reading is fast next to scoring), then the scoring starts.
- ``Dataset.map_batches`` sends the chunks to a pool of actors. Each actor loads the model
  once, from a copy of the model folder the driver sends with it (so the workers need the
  package installed, not the model), and scores each chunk with
  :class:`warning.scanning.scoring.ChunkScorer`, the very code the local engine runs: the
  same scores, the same rejects.
- The driver receives the scored chunks in input order and writes them with the same writer,
  resume state and summary as the local engine: the output does not depend on the engine.

Settings are resolved once, by the driver, and sent with the work (a worker never reads its own
``WARNING_TIMEZONE``, ``WARNING_SCAN_MAX_CHARS`` or key); ``WARNING_PRECISION`` is passed on as
set (``auto`` picks per worker CPU: set ``float32`` for the same scores on every machine).

Example:
    >>> from warning.scanning.scanner import ScanOptions, scan
    >>> scan("feed.csv", "scored.parquet",
    ...      ScanOptions(engine="ray", authors="drop"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warning.scanning.scoring import ChunkScorer, ScanError, ScanOptions, _Chunk, _Engine

if TYPE_CHECKING:
    from warning.models.classifier import Classifier
    from warning.scanning.feeds import Feed

__all__ = ["RayEngine"]

# Model folders hold evaluation plots and cards that scoring never reads.
_SKIP_DIRS = {"eval"}
# Settings that change the scores and are not resolved into the scorer's arguments.
_PASSED_ENV = ("WARNING_PRECISION",)


def _model_source(classifier: Classifier | None, model_path: Path | str | None,
                  ) -> tuple[dict[str, Any], str]:
    """What the actors load the model from, and the model's name (without loading it here).

    A model folder travels as its files (``{"files": {relative path: bytes}}``); an already
    loaded classifier (from Python) travels as the object (``{"object": classifier}``).
    """
    if classifier is not None:
        return {"object": classifier}, classifier.name
    from warning.models.classifier import ModelConfig, ModelLoadError, default_model_path

    folder = Path(model_path) if model_path is not None else default_model_path()
    if not folder.is_dir():
        raise ModelLoadError(f"model folder {folder} not found")
    name = ModelConfig.read(folder).model_id
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _SKIP_DIRS & set(relative.parts[:-1]):
            files[relative.as_posix()] = path.read_bytes()
    return {"files": files}, name


@contextlib.contextmanager
def _model_lock() -> Iterator[None]:
    """One model load at a time per machine: the first load of the transformer converts the base
    encoder into ``WARNING_CACHE_DIR``, and two actors must not convert it at once."""
    import fcntl

    from warning.settings import cache_dir

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".model-load.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _data_context() -> Any:
    """Ray Data's context for this process (made on first use)."""
    import ray.data

    with warnings.catch_warnings():
        # Ray warns about its own deprecated field (use_push_based_shuffle) each time it builds
        # the context, whatever the user set: nothing to act on
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                module=r"ray\.data\.context")
        return ray.data.DataContext.get_current()


class _ScoreActor:
    """A Ray Data actor: loads the model once, then scores whole chunks.

    Each input row is one chunk: ``index`` and ``rows`` (the chunk's ``FeedRow`` list, pickled
    by the driver); each output row is ``index`` and ``chunk`` (the scored ``_Chunk``, pickled).
    Pickle only carries objects between the driver and its own workers here, as Ray itself
    does; no file is ever unpickled.
    """

    def __init__(self, model: dict[str, Any], scorer_args: dict[str, Any],
                 env: dict[str, str]) -> None:
        os.environ.update(env)
        if "object" in model:
            classifier = model["object"]
        else:
            from warning.models.classifier import Classifier

            self._folder = tempfile.TemporaryDirectory(prefix="warning-model-")
            root = Path(self._folder.name)
            for relative, data in model["files"].items():
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            with _model_lock():
                classifier = Classifier.load(root)
        self.scorer = ChunkScorer(model=classifier, **scorer_args)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        indexes, chunks = [], []
        for index, rows in zip(batch["index"], batch["rows"], strict=True):
            chunk = self.scorer.process(pickle.loads(rows))
            indexes.append(int(index))
            chunks.append(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        out = np.empty(len(chunks), dtype=object)
        out[:] = chunks
        return {"index": np.asarray(indexes, dtype=np.int64), "chunk": out}


class RayEngine(_Engine):
    """Scores a feed's chunks on Ray Data actors; yields them in input order.

    Args:
        feed: The opened feed (read here, by the driver).
        chunk_rows: Records per chunk.
        scorer_args: :class:`ChunkScorer`'s arguments other than the model.
        classifier: A loaded model to send as it is; None: send ``model_path``'s files.
        model_path: A model folder; None: the shipped default.
        options: The scan's options (``ray_address``, ``ray_actors``, ``ray_cpus_per_actor``).
        say: Where notes go.

    Raises:
        ScanError: Ray is not installed (the message names the extra) or cannot start.
    """

    progress_unit = "rows"

    def __init__(self, feed: Feed, chunk_rows: int, scorer_args: dict[str, Any],
                 classifier: Classifier | None, model_path: Path | str | None,
                 options: ScanOptions, say: Callable[[str], None]) -> None:
        try:
            import ray
            import ray.data  # noqa: F401
        except ImportError as exc:
            raise ScanError(f"--engine ray needs the 'scale' extra ({exc}); install it with: "
                            f"pip install -e '.[scale]'") from None
        self.feed, self.chunk_rows, self.scorer_args = feed, chunk_rows, scorer_args
        self.options, self.say = options, say
        self.model, self.model_name = _model_source(classifier, model_path)
        self._refs: list[Any] = []
        self._started_ray = False
        self._rows_total = 0
        self._rows_done = 0
        self._skipped = 0

    def _connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        address = self.options.ray_address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                     configure_logging=False)
        except Exception as exc:  # Ray's own errors: connection refused, bad address, ...
            where = address or "a local Ray"
            raise ScanError(f"cannot start or join Ray ({where}): {type(exc).__name__}: "
                            f"{exc}") from None
        self._started_ray = True
        resources = ray.cluster_resources()
        self.say(f"ray: {'joined ' + address if address else 'started a local Ray'} with "
                 f"{resources.get('CPU', 0):g} CPU(s)")

    def start(self, done: int) -> None:
        import pyarrow as pa
        import ray

        self._connect()
        for index, rows in enumerate(self.feed.chunks(self.chunk_rows)):
            if index < done:
                self._skipped = index + 1
                continue
            table = pa.table({"index": pa.array([index], pa.int64()),
                              "rows": pa.array([pickle.dumps(rows)], pa.binary())})
            self._refs.append(ray.put(table))
            self._rows_total += len(rows)

    def _actors(self) -> int:
        import ray

        if self.options.ray_actors:
            wanted = self.options.ray_actors
        else:
            cpus = ray.cluster_resources().get("CPU", 1.0)
            wanted = max(1, int(cpus // self.options.ray_cpus_per_actor))
        return max(1, min(wanted, len(self._refs)))

    def chunks(self, done: int) -> Iterator[tuple[int, _Chunk | None]]:
        import ray.data

        for index in range(self._skipped):
            yield index, None
        if not self._refs:
            return
        context = _data_context()
        saved = (context.execution_options.preserve_order, context.enable_progress_bars)
        # chunks come back in input order, so the part files and the resume state stay those
        # of the local engine; Ray's own bars would fight ours on the terminal
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        data_log = logging.getLogger("ray.data")
        level = data_log.level
        data_log.setLevel(logging.WARNING)  # one line per execution start and end otherwise
        env = {name: os.environ[name] for name in _PASSED_ENV if os.environ.get(name)}
        actors = self._actors()
        self.say(f"ray: scoring {len(self._refs):,} chunk(s) on {actors} actor(s) of "
                 f"{self.options.ray_cpus_per_actor:g} CPU each")
        try:
            dataset = ray.data.from_arrow_refs(self._refs).map_batches(
                _ScoreActor, batch_size=1, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=self.options.ray_cpus_per_actor,
                fn_constructor_kwargs={"model": self.model, "scorer_args": self.scorer_args,
                                       "env": env})
            for row in dataset.iter_rows():
                chunk: _Chunk = pickle.loads(row["chunk"])
                self._rows_done += chunk.counts["read"]
                yield int(row["index"]), chunk
        except ScanError:
            raise
        except Exception as exc:  # a worker died, an actor failed to load the model, ...
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ScanError(f"the Ray engine failed: {type(exc).__name__}: {first}; rerun with "
                            f"--resume to continue from the last finished chunk") from exc
        finally:
            context.execution_options.preserve_order, context.enable_progress_bars = saved
            data_log.setLevel(level)

    def position(self) -> tuple[int, int | None]:
        return self._rows_done, self._rows_total

    def close(self) -> None:
        import ray

        self._refs.clear()
        if self._started_ray and ray.is_initialized():
            ray.shutdown()
            self._started_ray = False
