"""The scoring path every scan engine shares: options, the chunk scorer, pseudonyms.

The local engine (:mod:`warning.scanning.scanner`) and the Ray engine
(:mod:`warning.scanning.ray_engine`) both score a chunk of feed rows with :class:`ChunkScorer`,
so they write the same output. Both import this module; neither imports the other at module
level (the scanner loads the Ray engine only when asked for it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from warning.labels import LABELS
from warning.models.batch import ScoredColumns, score_columns
from warning.scanning.feeds import ColumnMap, ColumnOverrides, Feed, FeedRow
from warning.scanning.feeds.columns import show_names
from warning.scanning.feeds.dates import format_utc, parse_time
from warning.text.normalize import normalize

if TYPE_CHECKING:

    from warning.models.classifier import Classifier


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
        input_format: One of ``warning.scanning.feeds.FORMATS``; None: detect.
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
        engine: ``local`` (this machine) or ``ray`` (Ray Data actors, each loading the model
            once; see :mod:`warning.scanning.ray_engine`). Both write the same output.
        workers: With ``engine="local"``: processes that score chunks (see
            :mod:`warning.scanning.pool_engine`); None: ``WARNING_SCAN_WORKERS`` (``auto``: one
            per core for a baseline, one for a model with a transformer).
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
    workers: int | None = None
    ray_address: str | None = None
    ray_actors: int | None = None
    ray_cpus_per_actor: float = 1.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
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
    """The scored rows of one chunk as output columns, its rejects, and its counters."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.n_rows = 0
        self.rejects: list[tuple[int, str, str, str]] = []
        self.counts: Counter[str] = Counter()

    def records(self) -> Iterator[dict[str, Any]]:
        """The scored rows one by one, as ``{column: value}`` in output order."""
        names = list(self.columns)
        for values in zip(*self.columns.values(), strict=True):
            yield dict(zip(names, values, strict=True))


class ChunkScorer:
    """Scores one chunk of feed rows into output columns and rejects: the one scoring path of
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
        from warning.models.classifier import Classifier

        # a Classifier takes the texts normalised (they are, by the empty-text check) and
        # scores them as columns; any other object with a ``score(texts)`` (a wrapper, a test
        # double) gets them as read
        self._takes_normalized = isinstance(model, Classifier)

    def _reject(self, chunk: _Chunk, row: FeedRow, reason: str, details: str) -> None:
        id_col = self.mapping.id
        ident = row.values.get(id_col) if (row.values and id_col) else row.id
        chunk.rejects.append((row.line, _safe(_as_text(ident)), reason, _safe(details)))
        chunk.counts[f"rejected:{reason}"] += row.count
        chunk.counts["read"] += row.count
        chunk.counts["lines_unreadable"] += row.lost_lines

    def process(self, rows: list[FeedRow]) -> _Chunk:
        """The chunk's scored records (as columns), rejects and counters, in input order."""
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
            elif not (clean := normalize(text)):
                self._reject(chunk, row, "empty text", "nothing left to score after "
                                                       "normalisation" if text.strip() else
                             "the text is empty")
            else:
                # the normalised text goes on: the model, language ID and the target tagger
                # never normalise it again
                good.append((row, clean if self._takes_normalized else text))
        scored_rows: list[FeedRow] = []
        parts: list[ScoredColumns] = []
        for start in range(0, len(good), self.batch):
            part = good[start : start + self.batch]
            scored = self._score(part)
            keep = []
            for i, ((row, _), error) in enumerate(zip(part, scored.error, strict=True)):
                if error is not None:
                    self._reject(chunk, row, "not scored", error)
                else:
                    keep.append(i)
                    scored_rows.append(row)
            parts.append(scored if len(keep) == len(part) else scored.take(keep))
        self._records(chunk, scored_rows, sum(parts[1:], parts[0]) if parts else None)
        return chunk

    def _score(self, part: list[tuple[FeedRow, str]]) -> ScoredColumns:
        """The batch's scores (of normalised texts); if the model fails on the batch, each half
        again, down to single posts, so one text it cannot take costs that post (an error
        message instead), not the scan, and a whole batch is not rescored one post at a time."""
        name = getattr(self.model, "name", "")
        try:
            if self._takes_normalized:
                return score_columns(self.model, [t for _, t in part], normalized=True)
            return ScoredColumns.from_posts(self.model.score([t for _, t in part]), name)
        except Exception as exc:  # the model's own failure, whatever it is
            if len(part) == 1:
                # the type only: a library's message may quote the text, and rejects hold none
                return ScoredColumns.failed(
                    [f"the model failed on this text ({type(exc).__name__})"], name)
        half = len(part) // 2
        return self._score(part[:half]) + self._score(part[half:])

    def _records(self, chunk: _Chunk, rows: list[FeedRow], scored: ScoredColumns | None
                 ) -> None:
        """The output columns of the scored ``rows`` (input columns, then the added ones) and
        their counters."""
        layout, policy, key = self.layout, self.options.authors, self.key
        values = [row.values or {} for row in rows]
        private = [i for i, row in enumerate(rows) if row.private]  # Telegram personal chats
        columns: dict[str, list[Any]] = {}
        for name in layout.input_fields:
            column = [v.get(name) for v in values]
            if name in layout.authors and policy == "pseudonymise":
                column = [pseudonymise(v, key or b"") for v in column]
            elif name in layout.string_fields and not all(
                    v is None or type(v) is str for v in column):
                column = [_as_text(v) for v in column]
            if name not in layout.authors and policy != "keep":
                for i in private:
                    if name in rows[i].private:
                        # a person's name in a column that is not an author column (the chat of
                        # a Telegram personal chat): pseudonymised, or left out, like an author
                        column[i] = pseudonymise(values[i].get(name), key) if key and \
                            policy == "pseudonymise" else None
            columns[layout.rename[name]] = column
        time_col, fmt, tz = self.mapping.time, self.options.time_format, self.tz
        moments = ([parse_time(v.get(time_col), tz, fmt) for v in values] if time_col
                   else [None] * len(rows))
        columns["line"] = [row.line for row in rows]
        columns["posted_at"] = [format_utc(m) for m in moments]
        n = len(rows)
        if scored is None:
            scored = ScoredColumns.failed([], "")
        for name in LABELS:
            columns[f"score_{name}"] = scored.scores[name]
        columns.update(flagged=scored.flagged, lang=scored.lang, targets=scored.targets,
                       risk=scored.risk, review=scored.review, model=[scored.model] * n)
        chunk.columns, chunk.n_rows = columns, n
        counts = chunk.counts
        counts["times_missing"] += sum(m is None for m in moments)
        counts["read"] += n
        counts["scored"] += n
        counts.update(f"flagged:{label}" for flags in scored.flagged for label in flags)
        counts.update(f"risk:{risk}" for risk in scored.risk)
        counts["review"] += sum(scored.review)


# ---- writing ------------------------------------------------------------------------------------



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
