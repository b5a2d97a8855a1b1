"""``warning alerts``: early warnings from a scored feed, by window x channel x target x label.

Works from the scan's output alone. Each scored post has a time (``posted_at``), perhaps a
channel, the target groups it mentions (``targets``), the labels it was flagged for
(``flagged``) and a probability per label (``score_<label>``). Posts are grouped into cells:

- **window**: a day or an ISO week (Monday to Sunday) in ``WARNING_TIMEZONE``;
- **channel**: each channel, and ``(all)`` channels together (only ``(all)`` when the file has
  no channel column or a single channel);
- **target**: each target group mentioned, and ``(all)`` posts whatever they mention;
- **label**: offensive, hate, threat (extremism when a model scores it).

In each cell the **volume** is the number of posts and the **count** the number flagged for
the label (``--measure expected``: the sum of the label's probabilities, which counts near-misses
in part and does not depend on a threshold). Every window is compared with the same cell's
previous ``WARNING_ALERT_BASELINE`` windows (default 4), once the data reaches back that far:
the test and the ranking score are those of :mod:`warning.alerts.stats` (a conditional test of two
rates with the volumes as offsets, so a rise in volume at an unchanged rate is not a surge).
Benjamini-Hochberg across every cell tested, in every window, channel, target group, label and
window length, holds false alerts to ``WARNING_ALERT_FDR`` (default 0.05) of all alerts.

**Which cells are tested, and the minimum count.** ``WARNING_ALERT_MIN_COUNT`` (default 5)
works in two places:

1. *Before* Benjamini-Hochberg, a cell is tested when its flagged count in the window **plus**
   its baseline's reaches the minimum (and it has posts in the window). The test conditions
   on exactly that total, so under "no change" the p-values of the cells kept are still
   uniform (or larger), whatever the total: choosing cells by it does not bias the test.
2. *After* it, an alert is reported only when the window itself holds at least the minimum
   (one or two posts are not a trend). Dropping discoveries never adds false ones.

The rule it replaces tested only cells whose window count reached the minimum: that chooses
cells by the test's own statistic (a cell with a high count by chance is kept, the same
cell with a low count is not), so the p-values entering Benjamini-Hochberg were too small and
false alarms far exceeded the promised rate (about one feed in five with no change at all
raised an alert in a simulation; ``tests/warning/test_alerts.py`` checks the rate).

**New cells.** A target group or channel with no posts in its baseline windows (a group first
mentioned, a channel just added) cannot be compared with its own past. It is compared with its
parent's baseline instead, with the same test (so the uncertainty of the parent's rate is
counted): the same target group over all channels; if that is new too, its channel over all
targets; else the whole feed. The null hypothesis is then "this cell's rate equals its
parent's recent rate", and the alert says so (``baseline: parent``, ``baseline_channel``,
``baseline_target``): it means "new, and flagged more often than its parent was", not "rose".
These cells enter Benjamini-Hochberg with the others.

Each alert carries its window, cell and label, the figures (count, volume, rate, the
baseline's count, volume and rate and whose baseline it was, the ACLED ratio and whether it
meets ACLED's rule, the rate ratio, p, q), the ranking score, the model version from the
scored file, and its evidence: the posts in the cell with the highest probability for the
label (flagged ones first), with their ids, lines and, when the scored file kept texts, the
texts.

The file is read twice in chunks (counts first, then the evidence of the cells that alerted),
so memory does not grow with the number of posts.

Example:
    >>> from warning.alerts import AlertConfig, find_alerts
    >>> report = find_alerts("scored.parquet", AlertConfig.from_settings())  # doctest: +SKIP
    >>> report.write("alerts.json")                                          # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from warning import settings
from warning.alerts.stats import (
    acled_ratio,
    benjamini_hochberg,
    rank_score,
    rate_ratio,
    surge_pvalue,
)
from warning.labels import LABELS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ALL", "Alert", "AlertConfig", "AlertError", "AlertReport", "find_alerts"]

#: The name of a cell that takes all channels, or all posts whatever their targets.
ALL = "(all)"
_CHUNK_ROWS = 50_000
_STEP_DAYS = {"day": 1, "week": 7}


class AlertError(ValueError):
    """The scored file cannot be used for alerts (missing, unreadable, no times)."""


@dataclass
class AlertConfig:
    """Windows and thresholds; :meth:`from_settings` reads the ``WARNING_ALERT_*`` settings.

    Attributes:
        windows: ``day`` and/or ``week``.
        baseline: Past windows each window is compared with.
        min_count: Fewest flagged posts (or expected count) in a cell's window and baseline
            together for it to be tested, and in its window for an alert to be reported.
        fdr: False discovery rate (Benjamini-Hochberg) across all cells tested.
        ratio: The ACLED multiple (reported as ``acled_rule``).
        evidence: Evidence posts per alert.
        measure: ``flagged`` or ``expected``.
        labels: Labels to test; None: every label the scored file has scores for.
        timezone: IANA zone of days and weeks.
    """

    windows: tuple[str, ...] = ("day", "week")
    baseline: int = 4
    min_count: int = 5
    fdr: float = 0.05
    ratio: float = 2.0
    evidence: int = 5
    measure: str = "flagged"
    labels: tuple[str, ...] | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        self.windows = tuple(self.windows)
        bad = [w for w in self.windows if w not in settings.ALERT_WINDOWS]
        if bad or not self.windows:
            raise ValueError(f"windows must be among {settings.ALERT_WINDOWS}, got "
                             f"{self.windows}")
        if self.measure not in settings.ALERT_MEASURES:
            raise ValueError(f"measure must be one of {settings.ALERT_MEASURES}, got "
                             f"{self.measure!r}")
        if self.baseline < 1 or self.min_count < 1 or self.evidence < 0:
            raise ValueError("baseline and min_count must be at least 1, evidence at least 0")
        if not 0 < self.fdr <= 1:
            raise ValueError(f"fdr must be in (0, 1], got {self.fdr}")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r} (use an IANA name such as "
                             f"Asia/Bishkek)") from None
        if self.labels is not None:
            unknown = set(self.labels) - set(LABELS)
            if unknown:
                raise ValueError(f"unknown label(s) {sorted(unknown)}; known: {list(LABELS)}")
            self.labels = tuple(self.labels)

    @classmethod
    def from_settings(cls, **overrides: Any) -> AlertConfig:
        """The settings' values, with ``overrides`` (those not None) on top."""
        base = cls(windows=settings.alert_windows(), baseline=settings.alert_baseline_windows(),
                   min_count=settings.alert_min_count(), fdr=settings.alert_fdr(),
                   ratio=settings.alert_ratio(), evidence=settings.alert_evidence(),
                   measure=settings.alert_measure(), timezone=settings.timezone_name())
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class Alert:
    """One cell whose flagged rate rose significantly in one window (see the module docstring).

    ``window_end`` is the first day after the window. ``count`` is in ``measure``'s unit.
    ``baseline`` is ``own`` (the cell's past windows) or ``parent`` (a new cell, compared with
    the past windows of the cell ``baseline_channel`` x ``baseline_target``).
    """

    window: str
    window_start: str
    window_end: str
    channel: str
    target: str
    label: str
    measure: str
    count: float
    volume: int
    rate: float
    baseline_count: float
    baseline_volume: int
    baseline_rate: float
    baseline: str
    baseline_channel: str
    baseline_target: str
    ratio: float
    acled_rule: bool
    rate_ratio: float
    p_value: float
    q_value: float
    score: float
    model: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """The alert in one plain sentence.

        Example:
            >>> Alert("week", "2025-10-13", "2025-10-20", "news", "tajik", "hate", "flagged",
            ...       25, 39, 0.641, 0, 40, 0.0, 25.0, True, 51.3, 1e-8, 2e-7, 76.0,
            ...       "m@1").describe()
            'hate in channel news, posts that mention tajik, the week of 2025-10-13: 25 of 39 \
flagged (64%) against 0.0% before'
        """
        channel = "all channels" if self.channel == ALL else f"channel {self.channel}"
        target = "all posts" if self.target == ALL else f"posts that mention {self.target}"
        return (f"{self.label} in {channel}, {target}, the {self.window} of "
                f"{self.window_start}: {self.count:g} of {self.volume:,} flagged "
                f"({self.rate:.0%}) against {self.baseline_rate:.1%} before")


@dataclass
class AlertReport:
    """All alerts of a scored file, ranked by score, and how they were found."""

    scored_file: str
    model: str
    config: AlertConfig
    posts: int
    posts_without_time: int
    cells_tested: int
    alerts: list[Alert]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scored_file": self.scored_file, "model": self.model,
                "settings": asdict(self.config), "posts": self.posts,
                "posts_without_time": self.posts_without_time,
                "cells_tested": self.cells_tested, "alerts": [a.to_dict() for a in self.alerts],
                "notes": self.notes}

    def write(self, path: Path | str, format: str | None = None) -> Path:
        """Write the report as JSON (everything) or CSV (one alert per line, evidence ids and
        lines joined with ``;``); the format follows ``path``'s suffix unless given."""
        path = Path(path)
        format = format or ("csv" if path.suffix.lower() == ".csv" else "json")
        if format == "json":
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
            return path
        if format != "csv":
            raise ValueError(f"format must be json or csv, got {format!r}")
        names = [f for f in Alert.__dataclass_fields__ if f != "evidence"]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([*names, "evidence_ids", "evidence_lines"])
            for alert in self.alerts:
                row = alert.to_dict()
                ids = ";".join("" if e.get("id") is None else str(e["id"])
                               for e in alert.evidence)
                lines = ";".join(str(e["line"]) for e in alert.evidence)
                writer.writerow([_cell(row[n]) for n in names] + [ids, lines])
        return path

    def lines(self, top: int = 10) -> list[str]:
        """The report in plain words: totals and the top alerts."""
        out = [f"{len(self.alerts)} alert(s) among {self.cells_tested:,} cells tested "
               f"({self.posts:,} posts; model {self.model})"]
        for a in self.alerts[:top]:
            before = "before" if a.baseline == "own" else \
                (f"before in channel {a.baseline_channel}, target {a.baseline_target} (a new "
                 f"cell: no posts in its own past {a.window}s)")
            out.append(f"  {a.window} {a.window_start}  channel {a.channel}  target {a.target}  "
                       f"{a.label}: {_num(a.count)} of {a.volume:,} ({a.rate:.1%}) vs "
                       f"{a.baseline_rate:.1%} {before}; ACLED ratio {a.ratio:.1f}; "
                       f"q={a.q_value:.2g}; score {a.score:.1f}")
        return out


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


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
        return list(pd.read_csv(path, nrows=0, dtype=str).columns)
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
        yield from pd.read_csv(path, chunksize=_CHUNK_ROWS, dtype=str, keep_default_na=False,
                               usecols=columns)
    else:
        # times stay text: pandas 3 converts no dates with dtype=False (and deprecates
        # convert_dates, a warning that fails the tests); pandas 2 needs it said
        dates = {} if int(pd.__version__.split(".")[0]) >= 3 else {"convert_dates": False}
        for frame in pd.read_json(path, lines=True, chunksize=_CHUNK_ROWS, dtype=False,
                                  **dates):
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
        from warning.scanning.scanner import read_scan_metadata

        if not path.is_file():
            raise AlertError(f"scored file {path} not found")
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
        meta = read_scan_metadata(path) or {}
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
                self.notes.append(f"{role} column: {found[0]} (detected; pass {flag} to "
                                  f"choose)")
            return found[0] if found else None

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
        channels.append(frame[channel].fillna("(none)").astype(str).replace("", "(none)")
                        .to_numpy())
    parts = []
    for value in channels:
        part = base.assign(channel=value)
        part["target"] = part["targets"].map(lambda ts: [*dict.fromkeys(ts), ALL])
        parts.append(part.explode("target").drop(columns="targets"))
    return pd.concat(parts, ignore_index=True)


def _aggregate(source: _Source, config: AlertConfig,
               ) -> tuple[dict[str, pd.DataFrame], int, int, set[str], set[str]]:
    """Per window kind: volume, counts and probability sums per (window, channel, target)."""

    totals: dict[str, pd.DataFrame] = {}
    posts = without_time = 0
    models: set[str] = set()
    channels: set[str] = set()
    for frame in source.chunks():
        posts += len(frame)
        if "model" in frame:
            models.update(str(m) for m in frame["model"].dropna().unique())
        timed, starts = _windows(frame, config.windows, config.timezone)
        without_time += len(frame) - len(timed)
        if timed.empty:
            continue
        if source.channel:
            channels.update(timed[source.channel].fillna("(none)").astype(str).unique())
        for kind, start in starts.items():
            long = _long(timed, start, source.channel, source.labels)
            sums = long.groupby(["window", "channel", "target"]).agg(
                volume=("window", "size"),
                **{c: (c, "sum") for c in long.columns if c[:2] in ("k_", "e_")})
            totals[kind] = sums if kind not in totals else totals[kind].add(sums,
                                                                            fill_value=0)
    return totals, posts, without_time, models, channels


def _tests(kind: str, sums: pd.DataFrame, config: AlertConfig, labels: list[str],
           single_channel: bool) -> pd.DataFrame:
    """One row per testable (window, channel, target, label) with its figures and p-value.

    A cell is tested when the data reach ``config.baseline`` windows back, it has posts in the
    window, and its flagged count in the window and its baseline together reach
    ``config.min_count`` (a selection on the total the test conditions on, so it does not bias
    the p-values; see the module docstring). A cell without posts in its baseline windows (a
    new target group or channel) is compared with its parent's baseline: the same target over
    all channels, else its channel over all targets, else the whole feed.
    """
    import pandas as pd

    step = pd.Timedelta(days=_STEP_DAYS[kind])
    windows = sums.index.get_level_values("window")
    calendar = pd.date_range(windows.min(), windows.max(), freq=step)
    if single_channel:
        sums = sums[sums.index.get_level_values("channel") == ALL]
    k = config.baseline
    prefix = "k_" if config.measure == "flagged" else "e_"
    cells: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (channel, target), cell in sums.groupby(level=["channel", "target"]):
        series = cell.droplevel(["channel", "target"]).reindex(calendar, fill_value=0.0)
        volume = series["volume"].to_numpy(dtype=float)
        figures = {"volume": volume, "base_volume": _past_sums(volume, k)}
        for label in labels:
            count = series[prefix + label].to_numpy(dtype=float)
            figures[label] = count
            figures["base_" + label] = _past_sums(count, k)
        cells[(channel, target)] = figures
    late_enough = np.arange(len(calendar)) >= k
    rows = []
    for (channel, target), figures in cells.items():
        volume, own_volume = figures["volume"], figures["base_volume"]
        parents = [p for p in dict.fromkeys([(ALL, target), (channel, ALL), (ALL, ALL)])
                   if p != (channel, target) and p in cells]
        for label in labels:
            count = figures[label]
            base_count, base_volume = figures["base_" + label].copy(), own_volume.copy()
            origin = np.full(len(calendar), -1)  # -1: own baseline; else index in parents
            for j, parent in enumerate(parents):
                fill = (base_volume <= 0) & (cells[parent]["base_volume"] > 0)
                base_count[fill] = cells[parent]["base_" + label][fill]
                base_volume[fill] = cells[parent]["base_volume"][fill]
                origin[fill] = j
            testable = late_enough & (volume > 0) & (base_volume > 0) & \
                (count + base_count >= config.min_count)
            for i in np.flatnonzero(testable):
                of = (channel, target) if origin[i] < 0 else parents[origin[i]]
                rows.append((kind, calendar[i], channel, target, label, count[i], volume[i],
                             base_count[i], base_volume[i],
                             "own" if origin[i] < 0 else "parent", of[0], of[1]))
    columns = ["window", "start", "channel", "target", "label", "count", "volume",
               "base_count", "base_volume", "baseline", "baseline_channel", "baseline_target"]
    tests = pd.DataFrame(rows, columns=columns)
    if not tests.empty:
        tests["p"] = surge_pvalue(tests["count"].to_numpy(), tests["volume"].to_numpy(),
                                  tests["base_count"].to_numpy(),
                                  tests["base_volume"].to_numpy())
    return tests


def _past_sums(values: np.ndarray, k: int) -> np.ndarray:
    """Sum of the ``k`` values before each position (NaN-free; partial at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(len(values))
    return cumulative[idx] - cumulative[np.maximum(idx - k, 0)]


def _evidence(source: _Source, alerts: list[Alert], config: AlertConfig) -> None:
    """Fill each alert's evidence: its cell's posts with the highest probability for the label,
    flagged ones first (second pass over the file)."""
    import pandas as pd

    if not alerts or config.evidence == 0:
        return
    extra = [source.text] if source.text else []
    best: dict[int, list[tuple[bool, float, int, dict[str, Any]]]] = {i: [] for i in
                                                                     range(len(alerts))}
    for frame in source.chunks(extra):
        timed, starts = _windows(frame, config.windows, config.timezone)
        if timed.empty:
            continue
        targets = _as_lists(timed["targets"])
        flagged = _as_lists(timed["flagged"])
        for i, alert in enumerate(alerts):
            start = pd.Timestamp(alert.window_start)
            mask = (starts[alert.window] == start).to_numpy()
            if alert.channel != ALL and source.channel:
                mask = mask & (timed[source.channel].fillna("(none)").astype(str)
                               .replace("", "(none)") == alert.channel).to_numpy()
            if alert.target != ALL:
                mask = mask & targets.map(lambda ts, t=alert.target: t in ts).to_numpy()
            if not mask.any():
                continue
            rows = timed.loc[mask]
            scores = pd.to_numeric(rows[f"score_{alert.label}"], errors="coerce").fillna(0.0)
            lines = pd.to_numeric(rows["line"], errors="coerce").fillna(0).astype(int) \
                if "line" in rows else pd.Series(0, index=rows.index)
            order = pd.DataFrame({
                "flagged": flagged.loc[mask].map(lambda f, n=alert.label: n in f),
                "score": scores, "line": -lines})
            top = order.sort_values(["flagged", "score", "line"], ascending=False,
                                    kind="stable").head(config.evidence)
            for idx, entry in top.iterrows():
                post = {"id": _plain(rows.at[idx, source.id]) if source.id else None,
                        "line": int(lines.at[idx]), "posted_at": str(rows.at[idx, "posted_at"]),
                        "score": round(float(entry["score"]), 4)}
                if source.text:
                    post["text"] = _plain(rows.at[idx, source.text])
                best[i].append((bool(entry["flagged"]), post["score"], -post["line"], post))
            best[i] = sorted(best[i], key=lambda x: x[:3], reverse=True)[:config.evidence]
    for i, alert in enumerate(alerts):
        alert.evidence = [entry[3] for entry in best[i]]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def find_alerts(scored: Path | str, config: AlertConfig | None = None,
                channel_col: str | None = None, id_col: str | None = None,
                text_col: str | None = None) -> AlertReport:
    """Test every cell of a scored file for a surge and return the alerts, ranked.

    Args:
        scored: The output of ``warning scan`` (Parquet, CSV or JSONL).
        config: Windows and thresholds; None: :meth:`AlertConfig.from_settings`.
        channel_col: The channel column; None: the scan's own record of it (Parquet metadata
            or ``.summary.json``), else detected by name.
        id_col: The post id column; None: as for ``channel_col``.
        text_col: The text column; None: as for ``channel_col``.

    Raises:
        AlertError: The file is missing, not a scan output, or has no post with a time.
    """
    import pandas as pd

    config = config or AlertConfig.from_settings()
    source = _Source(Path(scored), channel_col, id_col, text_col, config)
    totals, posts, without_time, models, channels = _aggregate(source, config)
    if not totals:
        raise AlertError(f"{scored}: no post has a time (posted_at is empty), so there are no "
                         f"windows; scan again with --time-col (and --time-format)")
    model = ";".join(sorted(models)) or "unknown"
    notes = list(source.notes)
    if len(models) > 1:
        notes.append(f"the file mixes posts scored by several models ({model}); their "
                     f"rates may not be comparable")
    if without_time:
        notes.append(f"{without_time:,} post(s) without a time were left out")
    single_channel = len(channels) <= 1
    tests = pd.concat([_tests(kind, totals[kind], config, source.labels, single_channel)
                       for kind in config.windows if kind in totals], ignore_index=True)
    alerts: list[Alert] = []
    if not tests.empty:
        tests["q"] = benjamini_hochberg(tests["p"].to_numpy())
        step = {k: pd.Timedelta(days=d) for k, d in _STEP_DAYS.items()}
        reported = (tests["q"] <= config.fdr) & (tests["count"] >= config.min_count)
        for row in tests[reported].itertuples(index=False):
            # a new cell had no posts in its own baseline windows: ACLED's mean is 0 there
            own_base = row.base_count if row.baseline == "own" else 0.0
            ratio_rates = rate_ratio(row.count, row.volume, row.base_count, row.base_volume)
            ratio = acled_ratio(row.count, [own_base / config.baseline] * config.baseline)
            alerts.append(Alert(
                window=row.window, window_start=row.start.date().isoformat(),
                window_end=(row.start + step[row.window]).date().isoformat(),
                channel=row.channel, target=row.target, label=row.label,
                measure=config.measure, count=round(float(row.count), 4),
                volume=int(row.volume), rate=round(row.count / row.volume, 6),
                baseline_count=round(float(row.base_count), 4),
                baseline_volume=int(row.base_volume),
                baseline_rate=round(row.base_count / row.base_volume, 6),
                baseline=row.baseline, baseline_channel=row.baseline_channel,
                baseline_target=row.baseline_target,
                ratio=round(ratio, 3),
                acled_rule=bool(row.count >= config.min_count and ratio >= config.ratio),
                rate_ratio=round(ratio_rates, 3), p_value=float(f"{row.p:.4g}"),
                q_value=float(f"{row.q:.4g}"),
                score=round(rank_score(row.label, ratio_rates, row.q), 3), model=model))
    if tests.empty:
        notes.append(f"no cell could be tested: a cell needs {config.baseline} earlier "
                     f"{' or '.join(config.windows)}s of posts and at least "
                     f"{config.min_count} flagged in its window and those before together")
    alerts.sort(key=lambda a: (-a.score, a.q_value, a.window_start, a.channel, a.target,
                               a.label))
    _evidence(source, alerts, config)
    return AlertReport(scored_file=str(scored), model=model, config=config, posts=posts,
                       posts_without_time=without_time, cells_tested=len(tests),
                       alerts=alerts, notes=notes)
