"""``warning scan``: score a whole feed in chunks, with rejects, resume and pseudonymised authors.

The input is read in chunks of ``WARNING_SCAN_CHUNK_ROWS`` records (memory holds one chunk,
whatever the file's size). Each chunk is scored with ``Classifier.score`` in batches and
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
    >>> from warning.scanner import ScanOptions, scan
    >>> summary = scan("posts.csv", "scored.parquet", ScanOptions(authors="drop"))  # doctest: +SKIP
    >>> summary.rows_scored, summary.rejected                                     # doctest: +SKIP
    (9812, {'empty text': 171, 'unreadable': 17})
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import settings
from .feeds import ColumnMap, ColumnOverrides, Feed, FeedRow, open_feed
from .feeds.columns import show_names
from .feeds.dates import format_utc, parse_time
from .labels import LABELS
from .normalize import normalize
from .safe_io import csv_writer, json_line, private_dir, private_open

if TYPE_CHECKING:
    import pyarrow as pa

    from .classifier import Classifier
    from .progress import Progress

__all__ = [
    "ADDED_COLUMNS",
    "AUTHOR_POLICIES",
    "ENGINES",
    "METADATA_KEY",
    "OUTPUT_FORMATS",
    "REJECT_COLUMNS",
    "ChunkScorer",
    "ScanError",
    "ScanOptions",
    "ScanSummary",
    "pseudonymise",
    "read_scan_metadata",
    "scan",
    "scan_paths",
]

OUTPUT_FORMATS = ("parquet", "csv", "jsonl")
AUTHOR_POLICIES = ("pseudonymise", "keep", "drop")
ENGINES = ("local", "ray")
#: Columns the scan adds to the input's, in order (``score_<label>`` per label).
ADDED_COLUMNS = ("line", "posted_at", *(f"score_{n}" for n in LABELS), "flagged", "lang",
                 "targets", "risk", "review", "model")
REJECT_COLUMNS = ("line", "id", "reason", "details")
#: Key of the scan's description in the output's Parquet metadata (read by ``warning alerts``).
METADATA_KEY = b"warning.scan"
_STATE = "state.json"
_STATE_VERSION = 1
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
             ".ndjson": "jsonl"}


class ScanError(RuntimeError):
    """A scan cannot start or resume; the message says what to change."""


@dataclass
class ScanOptions:
    """How to read the input and what to write.

    Attributes:
        output_format: ``parquet``, ``csv`` or ``jsonl``; None: from the output's suffix
            (Parquet when it has none of theirs).
        input_format: One of ``warning.feeds.FORMATS``; None: detect.
        columns: Input columns named by the user (the others are detected).
        encoding: For CSV and JSONL input: a codec name; None: detect.
        delimiter: For CSV input; None: detect.
        time_format: A ``strptime`` format for the time column; None: detect per value.
        authors: ``pseudonymise`` (default; needs ``WARNING_PSEUDONYM_KEY``), ``keep`` or
            ``drop``.
        keep_text: False drops the text column from the output.
        chunk_rows: Records per chunk; None: ``WARNING_SCAN_CHUNK_ROWS``.
        batch_size: Texts per call to the model; None: ``WARNING_SCAN_BATCH``.
        max_chars: Longest text scored; None: ``WARNING_SCAN_MAX_CHARS``.
        resume: Continue an interrupted scan of the same input with the same options.
        force: Overwrite an existing output and discard an interrupted scan.
        engine: ``local`` (this process) or ``ray`` (Ray Data actors, each loading the model
            once; see :mod:`warning.scan_ray`). Both write the same output.
        ray_address: With ``engine="ray"``: the cluster to join (``auto``, ``ray://host:10001``);
            None: ``RAY_ADDRESS`` when set, else a Ray started on this machine.
        ray_actors: With ``engine="ray"``: scoring actors; None: one per CPU of the cluster.
        ray_cpus_per_actor: With ``engine="ray"``: CPUs (and torch threads) per actor.
    """

    output_format: str | None = None
    input_format: str | None = None
    columns: ColumnOverrides = field(default_factory=ColumnOverrides)
    encoding: str | None = None
    delimiter: str | None = None
    time_format: str | None = None
    authors: str = "pseudonymise"
    keep_text: bool = True
    chunk_rows: int | None = None
    batch_size: int | None = None
    max_chars: int | None = None
    resume: bool = False
    force: bool = False
    engine: str = "local"
    ray_address: str | None = None
    ray_actors: int | None = None
    ray_cpus_per_actor: float = 1.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.ray_actors is not None and self.ray_actors < 1:
            raise ValueError(f"ray_actors must be at least 1, got {self.ray_actors}")
        if self.ray_cpus_per_actor <= 0:
            raise ValueError(f"ray_cpus_per_actor must be positive, got "
                             f"{self.ray_cpus_per_actor}")
        if self.output_format is not None and self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {OUTPUT_FORMATS}, got "
                             f"{self.output_format!r}")
        if self.authors not in AUTHOR_POLICIES:
            raise ValueError(f"authors must be one of {AUTHOR_POLICIES}, got {self.authors!r}")
        for name in ("chunk_rows", "batch_size", "max_chars"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.resume and self.force:
            raise ValueError("resume and force exclude each other")


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


def scan_paths(output: Path | str) -> dict[str, Path]:
    """The files a scan writes beside ``output``: ``rejects``, ``summary`` and the ``partial``
    folder of an unfinished scan.

    Example:
        >>> scan_paths("out/scored.parquet")["rejects"].as_posix()
        'out/scored.rejects.csv'
    """
    output = Path(output)
    stem = output.stem if output.suffix.lower() in _SUFFIXES else output.name
    return {"output": output, "rejects": output.with_name(f"{stem}.rejects.csv"),
            "summary": output.with_name(f"{stem}.summary.json"),
            "partial": output.with_name(f"{stem}.partial")}


def pseudonymise(value: Any, key: bytes) -> str | None:
    """``HMAC-SHA256(key, value)`` as 16 hex characters; empty values stay empty.

    The same key always gives the same pseudonym, so one author's posts stay linked across
    scans; another key gives unrelated pseudonyms, and without the key they cannot be reversed
    by trying names.

    Example:
        >>> pseudonymise("@aibek", b"0123456789abcdef") == pseudonymise("@aibek",
        ...     b"0123456789abcdef")
        True
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None if value is None else ""
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _key_check(key: bytes) -> str:
    """A fingerprint of the key, stored in the state file so a resume with another key is
    refused (the key itself is never written anywhere)."""
    return hmac.new(key, b"warning-scan-key-check", hashlib.sha256).hexdigest()[:12]


def _output_format(output: Path, given: str | None) -> str:
    return given or _SUFFIXES.get(output.suffix.lower(), "parquet")


class _Layout:
    """The output's columns: input columns (renamed, dropped, typed) and the added ones."""

    def __init__(self, feed: Feed, options: ScanOptions) -> None:
        import pyarrow as pa

        mapping = feed.mapping
        self.authors = set(mapping.authors)
        self.rename: dict[str, str] = {}
        fields = []
        taken = set(ADDED_COLUMNS)
        for f in feed.schema():
            if f.name == mapping.text and not options.keep_text:
                continue
            if f.name in self.authors and options.authors == "drop":
                continue
            name = f.name
            if name in taken:
                name = f"input_{name}"
                while name in taken:
                    name = f"input_{name}"
            taken.add(name)
            self.rename[f.name] = name
            typ = pa.string() if (f.name in self.authors and options.authors ==
                                  "pseudonymise") else f.type
            fields.append(pa.field(name, typ))
        self.input_fields = list(self.rename)
        strings = pa.list_(pa.string())
        fields += [pa.field("line", pa.int64()), pa.field("posted_at", pa.string())]
        fields += [pa.field(f"score_{n}", pa.float64()) for n in LABELS]
        fields += [pa.field("flagged", strings), pa.field("lang", pa.string()),
                   pa.field("targets", strings), pa.field("risk", pa.string()),
                   pa.field("review", pa.bool_()), pa.field("model", pa.string())]
        self.schema = pa.schema(fields)
        self.string_fields = {f.name for f in feed.schema() if pa.types.is_string(f.type)
                              or pa.types.is_large_string(f.type)}

        def out(name: str | None) -> str | None:
            return self.rename.get(name) if name else None

        self.mapping = {"text": out(mapping.text), "time": out(mapping.time),
                        "id": out(mapping.id), "channel": out(mapping.channel),
                        "authors": [out(a) for a in mapping.authors if out(a)]}
        renamed = {k: v for k, v in self.rename.items() if k != v}
        self.notes = (["input columns kept under new names (the scan adds these): "
                       + ", ".join(f"{k} -> {v}" for k, v in renamed.items())]
                      if renamed else [])
        if mapping.authors:
            how = {"pseudonymise": "author columns pseudonymised (keyed hash)",
                   "drop": "author columns left out of the output (--drop-authors)",
                   "keep": "warning: author columns kept in clear (--keep-authors)"}
            self.notes.append(f"{how[options.authors]}: {show_names(mapping.authors, 30)}")


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _safe(text: Any) -> str:
    """A value for the rejects file: marked bad bytes become U+FFFD, never an encoding error."""
    if text is None:
        return ""
    return str(text).encode("utf-8", errors="replace").decode("utf-8")


class _Chunk:
    """The scored rows and rejects of one chunk, and its counters."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[tuple[int, str, str, str]] = []
        self.counts: Counter[str] = Counter()


class ChunkScorer:
    """Scores one chunk of feed rows into output records and rejects: the one scoring path of
    every engine (the local loop calls it in this process, the Ray engine inside each actor).

    Everything it needs is given here, resolved by the process that started the scan, so a
    worker on another machine scores exactly as the local engine would: settings are read
    once, where ``scan`` runs, never again in the worker.

    Args:
        mapping: The feed's columns (text, time, id, authors, channel).
        layout: The output's columns.
        model: The loaded classifier.
        options: The scan's options (authors policy, time format).
        key: The pseudonymisation key, when authors are pseudonymised.
        timezone: IANA name of the zone of times written without one.
        max_chars: Longest text scored.
        batch: Texts per call to the model.
    """

    def __init__(self, mapping: ColumnMap, layout: _Layout, model: Classifier,
                 options: ScanOptions, key: bytes | None, timezone: str, max_chars: int,
                 batch: int) -> None:
        self.mapping, self.layout, self.model, self.options, self.key = (mapping, layout, model,
                                                                         options, key)
        self.tz = ZoneInfo(timezone)
        self.max_chars = max_chars
        self.batch = batch

    def _reject(self, chunk: _Chunk, row: FeedRow, reason: str, details: str) -> None:
        id_col = self.mapping.id
        ident = row.values.get(id_col) if (row.values and id_col) else row.id
        chunk.rejects.append((row.line, _safe(_as_text(ident)), reason, _safe(details)))
        chunk.counts[f"rejected:{reason}"] += row.count
        chunk.counts["read"] += row.count
        chunk.counts["lines_unreadable"] += row.lost_lines

    def process(self, rows: list[FeedRow]) -> _Chunk:
        """The chunk's scored records, rejects and counters, in input order."""
        chunk = _Chunk()
        text_col = self.mapping.text
        good: list[tuple[FeedRow, str]] = []
        for row in rows:
            if row.error is not None or row.values is None:
                self._reject(chunk, row, row.reason, row.error or "unreadable")
                continue
            text = row.values.get(text_col)
            if text is None:
                self._reject(chunk, row, "no text", f"the {text_col!r} field is missing or null")
            elif not isinstance(text, str):
                self._reject(chunk, row, "no text", f"the {text_col!r} field is a "
                                                    f"{type(text).__name__}, not text")
            elif len(text) > self.max_chars:
                self._reject(chunk, row, "text too long", f"{len(text):,} characters; the "
                             f"limit is {self.max_chars:,} (WARNING_SCAN_MAX_CHARS)")
            elif not normalize(text):
                self._reject(chunk, row, "empty text", "nothing left to score after "
                                                       "normalisation" if text.strip() else
                             "the text is empty")
            else:
                good.append((row, text))
        for start in range(0, len(good), self.batch):
            part = good[start : start + self.batch]
            for (row, _), post in zip(part, self._score(part), strict=True):
                if isinstance(post, str) or post.error:
                    self._reject(chunk, row, "not scored", post if isinstance(post, str)
                                 else post.error)
                    continue
                chunk.rows.append(self._record(row, post, chunk))
        return chunk

    def _score(self, part: list[tuple[FeedRow, str]]) -> list[Any]:
        """The batch's ScoredPosts; if the model fails on the batch, each post alone, so one
        text it cannot take costs that post (an error message instead), not the scan."""
        try:
            return self.model.score([t for _, t in part])
        except Exception as exc:  # the model's own failure, whatever it is
            if len(part) == 1:
                # the type only: a library's message may quote the text, and rejects hold none
                return [f"the model failed on this text ({type(exc).__name__})"]
        return [self._score([item])[0] for item in part]

    def _record(self, row: FeedRow, post: Any, chunk: _Chunk) -> dict[str, Any]:
        values = row.values or {}
        layout, policy = self.layout, self.options.authors
        record: dict[str, Any] = {}
        for name in layout.input_fields:
            value = values.get(name)
            if name in row.private and name not in layout.authors and policy != "keep":
                # a person's name in a column that is not an author column (the chat of a
                # Telegram personal chat): pseudonymised, or left out, like an author
                value = pseudonymise(value, self.key) if self.key and policy == \
                    "pseudonymise" else None
            elif name in layout.authors and policy == "pseudonymise":
                value = pseudonymise(value, self.key or b"")
            elif name in layout.string_fields:
                value = _as_text(value)
            record[layout.rename[name]] = value
        time_col = self.mapping.time
        moment = parse_time(values.get(time_col), self.tz, self.options.time_format) \
            if time_col else None
        if moment is None:
            chunk.counts["times_missing"] += 1
        record["line"] = row.line
        record["posted_at"] = format_utc(moment)
        for name in LABELS:
            record[f"score_{name}"] = post.scores[name]
        record.update(flagged=list(post.flagged), lang=post.lang, targets=list(post.targets),
                      risk=post.risk, review=bool(post.review), model=post.model)
        chunk.counts["read"] += 1
        chunk.counts["scored"] += 1
        chunk.counts.update(f"flagged:{n}" for n in post.flagged)
        chunk.counts[f"risk:{post.risk}"] += 1
        chunk.counts["review"] += bool(post.review)
        return record


# ---- writing ------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name, then rename: owner-only (outputs hold posts)."""
    tmp = path.with_name(path.name + ".tmp")
    with private_open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _write_part(folder: Path, index: int, chunk: _Chunk, schema: pa.Schema, fmt: str) -> None:
    """The chunk's output and rejects, each written whole under a temporary name first."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(chunk.rows, schema=schema), sink)
        data = sink.getvalue().to_pybytes()
    elif fmt == "csv":
        text = io.StringIO()
        writer = csv_writer(text)  # formulas guarded, a CR or LF in a cell quoted
        for row in chunk.rows:
            writer.writerow([_csv_cell(row[name]) for name in schema.names])
        data = text.getvalue().encode("utf-8")
    else:
        data = "".join(json_line({k: _json_value(v) for k, v in row.items()}) + "\n"
                       for row in chunk.rows).encode("utf-8")
    _atomic_write_bytes(folder / f"part-{index:05d}.{fmt}", data)
    text = io.StringIO()
    csv_writer(text).writerows(chunk.rejects)
    _atomic_write_bytes(folder / f"rejects-{index:05d}.csv", text.getvalue().encode("utf-8"))


def _merge(folder: Path, chunks: int, paths: dict[str, Path], fmt: str, schema: pa.Schema,
           ) -> None:
    """The parts, in order, into the output and the rejects file (one part in memory)."""
    output = paths["output"]
    tmp = output.with_name(output.name + ".tmp")
    try:
        with private_open(tmp, "wb") as out:  # owner-only: the output holds posts
            if fmt == "parquet":
                import pyarrow.parquet as pq

                with pq.ParquetWriter(out, schema) as writer:
                    for i in range(chunks):
                        table = pq.read_table(folder / f"part-{i:05d}.parquet", schema=schema)
                        if table.num_rows:
                            writer.write_table(table)
            else:
                if fmt == "csv":
                    out.write(_csv_line(schema.names))
                for i in range(chunks):
                    with open(folder / f"part-{i:05d}.{fmt}", "rb") as part:
                        shutil.copyfileobj(part, out)
        os.replace(tmp, output)
        rejects = paths["rejects"]
        tmp = rejects.with_name(rejects.name + ".tmp")
        with private_open(tmp, "wb") as out:
            out.write(_csv_line(REJECT_COLUMNS))
            for i in range(chunks):
                with open(folder / f"rejects-{i:05d}.csv", "rb") as part:
                    shutil.copyfileobj(part, out)
        os.replace(tmp, rejects)
    finally:
        tmp.unlink(missing_ok=True)  # never leave a copy of the posts behind a failure


def _csv_line(cells: Any) -> bytes:
    text = io.StringIO()
    csv_writer(text).writerow(list(cells))
    return text.getvalue().encode("utf-8")


# ---- state and resume -----------------------------------------------------------------------


def _read_state(folder: Path) -> dict[str, Any] | None:
    path = folder / _STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return state if state.get("version") == _STATE_VERSION else None


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    _atomic_write_bytes(folder / _STATE, json.dumps(state, indent=1).encode("utf-8"))


_WHAT = {"input": "the input file", "input_size": "the input's size",
         "input_mtime_ns": "the input's modification time", "key": "WARNING_PSEUDONYM_KEY",
         "model": "the model", "chunk_rows": "WARNING_SCAN_CHUNK_ROWS",
         "max_chars": "WARNING_SCAN_MAX_CHARS", "timezone": "WARNING_TIMEZONE",
         "precision": "WARNING_PRECISION (as resolved)", "batch_size": "WARNING_SCAN_BATCH"}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            what = _WHAT.get(name, f"the option {name}")
            if name == "key":
                out.append(f"{what} is not the one the interrupted scan used")
            else:
                out.append(f"{what} was {old.get(name)!r}, now {new.get(name)!r}")
    return out


# ---- engines: where the chunks are scored ------------------------------------------------


class _Engine:
    """Scores the feed's chunks in order; ``chunks(done)`` yields ``(index, chunk)``, with
    ``None`` for the first ``done`` chunks (finished before an interruption)."""

    model_name: str
    progress_unit: str

    def start(self, done: int) -> None:
        """Prepare to score the chunks after the first ``done`` (before the progress bar)."""

    def chunks(self, done: int) -> Iterator[tuple[int, _Chunk | None]]:
        raise NotImplementedError

    def position(self) -> tuple[int, int | None]:
        """(done, total) in :attr:`progress_unit`, for the progress bar."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the engine holds (processes, a cluster connection)."""


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
            :class:`warning.progress.Progress`); None: no progress.
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
        from .scan_ray import RayEngine

        engine = RayEngine(feed, chunk_rows, scorer_args, classifier, model_path, options, say)
    else:
        if classifier is None:
            from .classifier import Classifier

            classifier = Classifier.load(model_path)
        engine = _LocalEngine(feed, chunk_rows, ChunkScorer(model=classifier, **scorer_args))
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

    delay = settings.scan_chunk_delay()
    bar = None
    index = -1
    try:
        engine.start(done)
        bar = progress(engine.position()[1], engine.progress_unit) if progress else None
        for index, chunk in engine.chunks(done):
            if chunk is None:  # finished before an interruption
                continue
            _write_part(folder, index, chunk, layout.schema, fmt)
            counts.update(chunk.counts)
            state.update(chunks_done=index + 1, counts=dict(counts))
            _write_state(folder, state)
            if bar is not None:
                bar.update(engine.position()[0], counts["read"] - read_before)
            if delay:
                time.sleep(delay)
    finally:
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


def read_scan_metadata(path: Path | str) -> dict[str, Any] | None:
    """The scan's description (column mapping, model) stored with a scored file: in its
    Parquet metadata, else in the ``.summary.json`` beside it; None when neither is there."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            if METADATA_KEY in meta:
                return json.loads(meta[METADATA_KEY])
        except (OSError, ValueError):
            pass
    summary = scan_paths(path)["summary"]
    if summary.is_file():
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
            return {"mapping": data.get("columns", {}), "model": data.get("model")}
        except (OSError, json.JSONDecodeError):
            return None
    return None

