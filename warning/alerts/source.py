"""Reading a scored file for the alerts: its format and columns, in chunks, and the counts per
window x channel x target x label."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warning.alerts.config import _CHUNK_ROWS, ALL, AlertConfig, AlertError, _channel_cells
from warning.i18n import N_, Message
from warning.labels import LABELS
from warning.safe_io import csv_unescape, input_file_problem

if TYPE_CHECKING:
    import pandas as pd


# ---- reading the scored file --------------------------------------------------------------


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    with open(path, "rb") as handle:
        head = handle.read(4)
    return "parquet" if head == b"PAR1" else "jsonl" if head.lstrip()[:1] == b"{" else "csv"


def _columns(path: Path, fmt: str) -> list[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pandas as pd

    if fmt == "csv":
        return [csv_unescape(c) for c in pd.read_csv(path, nrows=0, dtype=str).columns]
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return list(json.loads(line))
    return []


def _chunks(path: Path, fmt: str, columns: list[str]) -> Iterator[pd.DataFrame]:
    import pandas as pd

    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=_CHUNK_ROWS, columns=columns):
            yield batch.to_pandas()
    elif fmt == "csv":
        # cells were written through warning.safe_io.csv_escape: read them back exactly
        raw = {csv_unescape(c): c for c in pd.read_csv(path, nrows=0, dtype=str).columns}
        for frame in pd.read_csv(path, chunksize=_CHUNK_ROWS, dtype=str, keep_default_na=False,
                                 usecols=[raw.get(c, c) for c in columns]):
            frame.columns = [csv_unescape(c) for c in frame.columns]
            for name in frame.columns:
                guarded = frame[name].str.startswith("'")
                if guarded.any():
                    frame.loc[guarded, name] = frame.loc[guarded, name].str[1:]
            yield frame[columns]
    else:
        # times stay text: pandas 3 converts no dates with dtype=False (and deprecates
        # convert_dates, a warning that fails the tests); pandas 2 needs it said
        dates = {} if int(pd.__version__.split(".")[0]) >= 3 else {"convert_dates": False}
        for frame in pd.read_json(path, lines=True, chunksize=_CHUNK_ROWS, dtype=False,
                                  precise_float=True, **dates):  # the scores as written
            yield frame.reindex(columns=columns)


def _as_lists(values: pd.Series) -> pd.Series:
    """``flagged``/``targets`` as lists, from lists (Parquet, JSONL) or ``a;b`` (CSV)."""

    def one(value: Any) -> list[str]:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return []
        if isinstance(value, str):
            return [v for v in value.split(";") if v]
        return [str(v) for v in value]

    return values.map(one)


class _Source:
    """The scored file and the columns alerts need."""

    def __init__(self, path: Path, channel_col: str | None, id_col: str | None,
                 text_col: str | None, config: AlertConfig) -> None:
        from warning.scanning.feeds.columns import CANDIDATES, normalise_name, show_names
        from warning.scanning.metadata import ScanMetadataError, read_scan_metadata

        problem = input_file_problem(path, "scored file")
        if problem:
            raise AlertError(problem)
        self.path, self.format = path, _format(path)
        try:
            self.all_columns = _columns(path, self.format)
        except Exception as exc:  # any reader error: the message names the file
            raise AlertError(f"{path}: cannot read the scored file ({exc})") from None
        missing = [c for c in ("posted_at", "flagged", "targets") if c not in self.all_columns]
        if missing:
            raise AlertError(f"{path}: not a scanned file (no {', '.join(missing)} column); "
                             f"make one with `warning scan`")
        self.notes: list[str] = []
        try:
            meta = read_scan_metadata(path) or {}
        except ScanMetadataError as exc:  # as without a summary: the columns found by name
            meta = {}
            self.notes.append(Message(N_("warning: {problem}; it is ignored and the columns "
                                         "are found by their names"), problem=str(exc)))
        mapping = meta.get("mapping") or {}

        def pick(given: str | None, role: str, flag: str) -> str | None:
            if given is not None:
                if given not in self.all_columns:
                    raise AlertError(f"{path}: {flag} {given!r} is not a column; its columns "
                                     f"are: {show_names(self.all_columns)}")
                return given
            if role in mapping:
                name = mapping.get(role)
                return name if name in self.all_columns else None
            found = [c for cand in CANDIDATES[role] for c in self.all_columns
                     if normalise_name(c) == cand]
            if found:
                self.notes.append(Message(N_("{role} column: {name} (detected; pass {flag} "
                                             "to choose)"), role=role, name=found[0],
                                          flag=flag))
            return found[0] if found else None

        if "authors" in mapping:
            authors = [a for a in mapping.get("authors") or [] if a in self.all_columns]
        else:
            authors = [c for c in self.all_columns if normalise_name(c) in CANDIDATES["authors"]]
        #: the (pseudonymised) author columns: who posted what, for campaigns
        self.authors = authors
        self.channel = pick(channel_col, "channel", "--channel-col")
        self.id = pick(id_col, "id", "--id-col")
        self.text = pick(text_col, "text", "--text-col")
        scored = [n for n in LABELS if f"score_{n}" in self.all_columns]
        self.labels = [n for n in (config.labels or scored) if n in scored]
        self.needed = ["posted_at", "flagged", "targets", "line",
                       *(f"score_{n}" for n in self.labels)]
        self.needed += [c for c in ("model", self.channel, self.id)
                        if c and c not in self.needed]
        self.needed = [c for c in self.needed if c in self.all_columns]

    def chunks(self, extra: list[str] | None = None) -> Iterator[pd.DataFrame]:
        columns = self.needed + [c for c in extra or [] if c not in self.needed]
        yield from _chunks(self.path, self.format, columns)


def _windows(frame: pd.DataFrame, kinds: tuple[str, ...], tz: str,
             ) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Rows with a time, and each row's window start (local midnight, naive) per kind."""
    import pandas as pd

    moments = pd.to_datetime(frame["posted_at"], utc=True, errors="coerce", format="ISO8601")
    keep = moments.notna()
    frame = frame.loc[keep]
    local = moments[keep].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    starts = {}
    for kind in kinds:
        if kind == "day":
            starts[kind] = local
        else:
            starts[kind] = local - pd.to_timedelta(local.dt.day_of_week, unit="D")
    return frame, starts


def _long(frame: pd.DataFrame, start: pd.Series, channel: str | None,
          labels: list[str]) -> pd.DataFrame:
    """One row per post x channel cell x target cell, with flags and probabilities."""
    import pandas as pd

    flagged = _as_lists(frame["flagged"])
    data = {"window": start.to_numpy(), "targets": _as_lists(frame["targets"]).to_numpy()}
    for n in labels:
        data[f"k_{n}"] = flagged.map(lambda f, n=n: n in f).to_numpy(dtype=float)
        data[f"e_{n}"] = pd.to_numeric(frame[f"score_{n}"], errors="coerce").fillna(0.0) \
            .to_numpy(dtype=float)
    base = pd.DataFrame(data)
    channels = [ALL]
    if channel is not None:
        channels.append(_channel_cells(frame[channel]).to_numpy())
    parts = []
    for value in channels:
        part = base.assign(channel=value)
        part["target"] = part["targets"].map(lambda ts: [*dict.fromkeys(ts), ALL])
        parts.append(part.explode("target").drop(columns="targets"))
    return pd.concat(parts, ignore_index=True)


def _aggregate(source: _Source, config: AlertConfig,
               ) -> tuple[dict[str, pd.DataFrame], int, int, set[str], set[str], set[str]]:
    """Per window kind: volume, counts and probability sums per (window, channel, target);
    and the labels some post has a score for (a label the model does not score is empty)."""
    import pandas as pd

    totals: dict[str, pd.DataFrame] = {}
    posts = without_time = 0
    models: set[str] = set()
    channels: set[str] = set()
    scored: set[str] = set()
    for frame in source.chunks():
        posts += len(frame)
        scored.update(n for n in source.labels if n not in scored
                      and pd.to_numeric(frame[f"score_{n}"], errors="coerce").notna().any())
        if "model" in frame:
            models.update(str(m) for m in frame["model"].dropna().unique())
        timed, starts = _windows(frame, config.windows, config.timezone)
        without_time += len(frame) - len(timed)
        if timed.empty:
            continue
        if source.channel:
            channels.update(_channel_cells(timed[source.channel]).unique())
        for kind, start in starts.items():
            long = _long(timed, start, source.channel, source.labels)
            sums = long.groupby(["window", "channel", "target"]).agg(
                volume=("window", "size"),
                **{c: (c, "sum") for c in long.columns if c[:2] in ("k_", "e_")})
            totals[kind] = sums if kind not in totals else totals[kind].add(sums,
                                                                            fill_value=0)
    return totals, posts, without_time, models, channels, scored
