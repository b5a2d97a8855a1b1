"""``warning scan``: score a whole feed in chunks, with rejects, resume and pseudonymised authors.

The input is read in chunks of ``WARNING_SCAN_CHUNK_ROWS`` records (memory holds one chunk,
whatever the file's size; with ``--workers N`` above 1, up to ``2N`` chunks in flight, see
:mod:`warning.scanning.pool_engine`). Each chunk is scored with ``Classifier.score`` in batches and
written to a part file next to the output (``OUT.partial/part-00000.parquet``) before a small
state file records it as done; both are written to a temporary name and renamed, so a scan
killed at any moment leaves only finished chunks behind. ``--resume`` checks that the input
file, the options and the model are the ones the state file recorded, skips the finished
chunks and goes on; the parts are finally merged, in order, into the output, so a resumed scan
writes exactly what an uninterrupted one would.

Every record that cannot be scored goes to ``OUT.rejects.csv`` with its line number, the id
when known, a reason (``unreadable``, ``repeated header``, ``not a post``, ``no text``,
``empty text``, ``text too long``, ``not scored``) and the details; the rejects are counted
in the summary (``OUT.summary.json``, also printed) and never stop the scan.

The output keeps the input's columns and adds :data:`ADDED_COLUMNS`. Author columns are
replaced by ``HMAC-SHA256(WARNING_PSEUDONYM_KEY, author)`` (16 hex characters), kept as they are
(``authors="keep"``) or dropped (``authors="drop"``); without a key the scan refuses to read a
file that has author columns rather than use a made-up one. ``keep_text=False`` drops the text.
An input column whose name the scan adds is kept as ``input_<name>``.

Example:
    >>> from warning.scanning.scanner import ScanOptions, scan
    >>> summary = scan("posts.csv", "scored.parquet", ScanOptions(authors="drop"))  # doctest: +SKIP
    >>> summary.rows_scored, summary.rejected                                     # doctest: +SKIP
    (9812, {'empty text': 171, 'unreadable': 17})
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warning import settings
from warning.labels import LABELS
from warning.scanning.feeds import Feed, open_feed
from warning.scanning.feeds.columns import show_names

if TYPE_CHECKING:

    from warning.models.classifier import Classifier
    from warning.scanning.progress import Progress

from warning.safe_io import private_dir
from warning.scanning.metadata import ScanMetadataError, read_scan_metadata, scan_paths
from warning.scanning.output import (
    _atomic_write_bytes,
    _differences,
    _merge,
    _read_state,
    _write_part,
    _write_state,
)
from warning.scanning.scoring import (
    _STATE_VERSION,
    _SUFFIXES,
    ADDED_COLUMNS,
    AUTHOR_POLICIES,
    ENGINES,
    METADATA_KEY,
    OUTPUT_FORMATS,
    REJECT_COLUMNS,
    ChunkScorer,
    ScanError,
    ScanOptions,
    _Chunk,
    _Engine,
    _key_check,
    _Layout,
    pseudonymise,
)

__all__ = [
    "ADDED_COLUMNS",
    "AUTHOR_POLICIES",
    "ENGINES",
    "METADATA_KEY",
    "OUTPUT_FORMATS",
    "REJECT_COLUMNS",
    "ChunkScorer",
    "ScanError",
    "ScanMetadataError",
    "ScanOptions",
    "ScanSummary",
    "pseudonymise",
    "read_scan_metadata",
    "scan",
    "scan_paths",
]


@dataclass
class ScanSummary:
    """What a scan did; written to ``OUT.summary.json`` and printed.

    Attributes:
        rows_read: Input records (scored + rejected).
        rejected: Rejected records per reason.
        times_missing: Scored posts whose time is empty or not understood (alerts skip them).
        lines_unreadable: Lines of the input that could not be read into any record (a file
            broken beyond repair from some point on; the rejects file says where).
        flagged: Scored posts flagged per label.
        risk: Scored posts per risk level.
        resumed_at_chunk: The chunk a resumed scan started from (None: not resumed).
    """

    input: str
    input_format: str
    output: str
    output_format: str
    rejects: str
    model: str
    columns: dict[str, Any]
    authors: str
    text_kept: bool
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_scored: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    times_missing: int = 0
    lines_unreadable: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    risk: dict[str, int] = field(default_factory=dict)
    review: int = 0
    chunks: int = 0
    resumed_at_chunk: int | None = None
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_rejected": self.rows_rejected}

    def lines(self) -> list[str]:
        """The summary in plain words, one line each."""
        reasons = ", ".join(f"{n:,} {r}" for r, n in sorted(self.rejected.items())) or "none"
        flagged = ", ".join(f"{k} {v:,}" for k, v in self.flagged.items()) or "none"
        out = [
            f"input:    {self.input} ({self.input_format}), {self.rows_read:,} records",
            f"scored:   {self.rows_scored:,} posts with {self.model} -> {self.output} "
            f"({self.output_format})",
            f"rejected: {self.rows_rejected:,} ({reasons}) -> {self.rejects}",
            f"flagged:  {flagged}; {self.review:,} for review",
            f"authors:  {self.authors}"
            + (f" ({show_names(self.columns['authors'], 30)})" if self.columns.get("authors")
               else "") + f"; text {'kept' if self.text_kept else 'dropped'}",
        ]
        if self.lines_unreadable:
            out.append(f"lost:     {self.lines_unreadable:,} lines unreadable (no record could "
                       f"be read from them; see {self.rejects})")
        if self.times_missing:
            out.append(f"time:     {self.times_missing:,} scored posts have no time the scan "
                       f"understood (alerts skip them; see --time-col, --time-format)")
        if self.resumed_at_chunk is not None:
            out.append(f"resumed:  from chunk {self.resumed_at_chunk + 1} of {self.chunks}")
        out.append(f"took:     {self.seconds:.1f} s")
        return out


def _output_format(output: Path, given: str | None) -> str:
    return given or _SUFFIXES.get(output.suffix.lower(), "parquet")




class _LocalEngine(_Engine):
    """One chunk after another in this process: memory holds one chunk."""

    def __init__(self, feed: Feed, chunk_rows: int, scorer: ChunkScorer) -> None:
        self.feed, self.chunk_rows, self.scorer = feed, chunk_rows, scorer
        self.model_name = scorer.model.name
        self.progress_unit = feed.progress_unit

    def chunks(self, done: int) -> Iterator[tuple[int, _Chunk | None]]:
        for index, rows in enumerate(self.feed.chunks(self.chunk_rows)):
            yield index, (None if index < done else self.scorer.process(rows))

    def position(self) -> tuple[int, int | None]:
        return self.feed.position()


def _cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---- the scan -----------------------------------------------------------------------------------


def scan(input_path: Path | str, output_path: Path | str, options: ScanOptions | None = None,
         classifier: Classifier | None = None, model_path: Path | str | None = None,
         progress: Callable[[int | None, str], Progress] | None = None,
         log: Callable[[str], None] | None = None) -> ScanSummary:
    """Score every post of a feed into ``output_path`` (see the module docstring).

    Args:
        input_path: A CSV, JSONL, Parquet, Telegram JSON or CrowdTangle CSV file.
        output_path: The scored file; rejects and the summary are written beside it.
        options: How to read and write; defaults to :class:`ScanOptions()`.
        classifier: A loaded model; None loads ``model_path`` (None: the shipped default).
        model_path: A model folder, when ``classifier`` is None.
        progress: Makes the progress reporter from the input's size and its unit (see
            :class:`warning.scanning.progress.Progress`); None: no progress.
        log: A function called with each note in plain words (e.g. ``print``); None: silent.

    Returns:
        The :class:`ScanSummary`, also written to ``OUT.summary.json``.

    Raises:
        FeedError: The input cannot be read at all.
        ScanError: The scan cannot start or resume (the message says what to pass).
        ModelLoadError: The model folder cannot be loaded.
    """
    started = time.monotonic()
    options = options or ScanOptions()
    say = log or (lambda _message: None)
    input_path, paths = Path(input_path), scan_paths(output_path)
    output = paths["output"]
    if output.resolve() == input_path.resolve():
        raise ScanError(f"the output {output} is the input; choose another -o")
    if output.is_dir():
        raise ScanError(f"the output {output} is a folder; -o names the scored file to write "
                        f"(e.g. {output / 'scored.parquet'})")
    feed = open_feed(input_path, options.input_format, options.columns, options.encoding,
                     options.delimiter)
    fmt = _output_format(output, options.output_format)
    key = None
    if feed.mapping.authors and options.authors == "pseudonymise":
        key = settings.pseudonym_key()
        if key is None:
            raise ScanError(
                f"{input_path} has author column(s) {show_names(feed.mapping.authors)}, and "
                f"WARNING_PSEUDONYM_KEY is not set, so they cannot be pseudonymised. Set a "
                f"secret key (keep it, and use the same one for scans you compare): "
                f"export WARNING_PSEUDONYM_KEY=$(python -c \"import secrets; "
                f"print(secrets.token_hex(32))\"); or pass --drop-authors (or --keep-authors "
                f"to keep real names)")
    layout = _Layout(feed, options)
    notes = [*feed.notes, *layout.notes]
    for note in notes:
        say(note)
    stat = input_path.stat()
    chunk_rows = options.chunk_rows or settings.scan_chunk_rows()
    fingerprint = {
        "input": str(input_path.resolve()), "input_size": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns, "input_format": feed.format,
        "output_format": fmt, "columns": feed.mapping.to_dict(),
        "encoding": options.encoding, "delimiter": options.delimiter,
        "time_format": options.time_format, "authors": options.authors,
        "key": _key_check(key) if key else None, "keep_text": options.keep_text,
        "chunk_rows": chunk_rows, "max_chars": options.max_chars or settings.scan_max_chars(),
        "timezone": settings.timezone_name(), "precision": settings.precision(),
        "batch_size": options.batch_size or settings.scan_batch_size(),
    }
    folder = paths["partial"]
    state = _read_state(folder) if folder.is_dir() else None
    if options.force:
        shutil.rmtree(folder, ignore_errors=True)
        state = None
    elif options.resume:
        if state is None:
            if output.exists():
                raise ScanError(f"nothing to resume: {output} is complete (pass --force to "
                                f"scan again)")
            raise ScanError(f"nothing to resume: no interrupted scan of {output} found "
                            f"({folder} is missing); run without --resume")
        old = {k: v for k, v in state["fingerprint"].items() if k != "model"}
        problems = _differences(old, fingerprint)
        if problems:
            raise ScanError("cannot resume: " + "; ".join(problems) + ". Rerun with the same "
                            "input and options, or pass --force instead of --resume to start "
                            "again")
    elif folder.exists():
        raise ScanError(f"an interrupted scan of {output} exists ({folder}); pass --resume to "
                        f"continue it or --force to start again")
    elif output.exists():
        raise ScanError(f"{output} exists; pass --force to overwrite it")

    scorer_args = {"mapping": feed.mapping, "layout": layout, "options": options, "key": key,
                   "timezone": settings.timezone_name(),
                   "max_chars": options.max_chars or settings.scan_max_chars(),
                   "batch": options.batch_size or settings.scan_batch_size()}
    engine: _Engine
    if options.engine == "ray":
        from warning.scanning.ray_engine import RayEngine

        engine = RayEngine(feed, chunk_rows, scorer_args, classifier, model_path, options, say)
    else:
        if classifier is None:
            from warning.models.classifier import Classifier

            classifier = Classifier.load(model_path)
        from warning.scanning.pool_engine import PoolEngine, workers_for

        scorer = ChunkScorer(model=classifier, **scorer_args)
        asked = options.workers if options.workers is not None else settings.scan_workers()
        workers = workers_for(classifier, asked, _cores())
        if workers > 1:
            engine = PoolEngine(feed, chunk_rows, scorer, workers)
            how = {"fork": "forked", "forkserver": "started by a fork server"}.get(
                engine.start_method, "spawned")
            say(f"scoring with {workers} worker processes ({how})")
        else:
            engine = _LocalEngine(feed, chunk_rows, scorer)
    model_name = engine.model_name
    fingerprint["model"] = model_name
    if state is not None and state["fingerprint"].get("model") != model_name:
        raise ScanError(f"cannot resume: the interrupted scan used the model "
                        f"{state['fingerprint'].get('model')}, this one is {model_name}; "
                        f"pass the same --model, or --force to start again")
    if state is None:
        private_dir(folder)  # owner-only: its parts hold posts
        state = {"version": _STATE_VERSION, "fingerprint": fingerprint, "chunks_done": 0,
                 "counts": {}}
        _write_state(folder, state)
    done = int(state["chunks_done"])
    counts: Counter[str] = Counter(state["counts"])
    read_before = counts["read"]
    if done:
        say(f"resuming after {done} finished chunk(s) ({counts['read']:,} records)")

    def write(index: int, chunk: _Chunk, counted: dict[str, int]) -> None:
        """A chunk's part, then the state that records it as done (in the writer thread)."""
        _write_part(folder, index, chunk, layout.schema, fmt)
        state.update(chunks_done=index + 1, counts=counted)
        _write_state(folder, state)

    delay = settings.scan_chunk_delay()
    bar = None
    index = -1
    # Chunks are written (encoded, written, synced to disk) by one thread while the next chunk
    # is scored; one at a time and in order, so the state never records a chunk whose part is
    # not on disk, and a failed write stops the scan before the next chunk is handed over.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-writer")
    pending: Future[None] | None = None
    try:
        engine.start(done)
        bar = progress(engine.position()[1], engine.progress_unit) if progress else None
        for index, chunk in engine.chunks(done):
            if chunk is None:  # finished before an interruption
                continue
            counts.update(chunk.counts)
            if pending is not None:
                pending.result()
            pending = writer.submit(write, index, chunk, dict(counts))
            if bar is not None:
                bar.update(engine.position()[0], counts["read"] - read_before)
            if delay:
                time.sleep(delay)
        if pending is not None:
            pending.result()
    finally:
        writer.shutdown(wait=True)  # a chunk being written is finished, never left half done
        if bar is not None:
            bar.close()
        engine.close()
    chunks = index + 1
    if chunks < done:
        raise ScanError(f"cannot resume: the input has {chunks} chunk(s), the interrupted scan "
                        f"finished {done}")
    metadata = {"mapping": layout.mapping, "model": model_name, "input": str(input_path),
                "input_format": feed.format}
    schema = layout.schema.with_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    _merge(folder, chunks, paths, fmt, schema)
    summary = ScanSummary(
        input=str(input_path), input_format=feed.format, output=str(output), output_format=fmt,
        rejects=str(paths["rejects"]), model=model_name, columns=layout.mapping,
        authors=options.authors if feed.mapping.authors else "none found",
        text_kept=options.keep_text, notes=notes, rows_read=counts["read"],
        rows_scored=counts["scored"],
        rejected={k.split(":", 1)[1]: v for k, v in sorted(counts.items())
                  if k.startswith("rejected:") and v},
        times_missing=counts["times_missing"], lines_unreadable=counts["lines_unreadable"],
        flagged={n: counts[f"flagged:{n}"] for n in LABELS if counts[f"flagged:{n}"]},
        risk={k.split(":", 1)[1]: v for k, v in sorted(counts.items())
              if k.startswith("risk:") and v},
        review=counts["review"], chunks=chunks, resumed_at_chunk=done if done else None,
        seconds=round(time.monotonic() - started, 2),
    )
    _atomic_write_bytes(paths["summary"], json.dumps(summary.to_dict(), indent=2,
                                                     ensure_ascii=False).encode("utf-8"))
    shutil.rmtree(folder, ignore_errors=True)
    return summary
