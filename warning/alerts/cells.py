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
previous ``WARNING_ALERT_BASELINE`` windows (default 4), once the data reaches back that far,
with the test and the ranking score of :mod:`warning.alerts.stats` (a conditional test of two rates
with the volumes as offsets). Each cell is asked two questions (``WARNING_ALERT_QUESTIONS``;
each alert says which in ``question``):

- ``share``: **is a larger share of this cell's posts flagged?** The cell's flagged count
  against its own volume. A rise in volume at an unchanged rate is not a surge, so a busy news
  day raises nothing. But a group that was always spoken of with hate cannot alert this way:
  when every mention was hateful before, eighteen hateful mentions instead of one are "no
  change" in the share.
- ``count`` (target-group cells only): **are there many more flagged posts about this group
  than usual?** The group's flagged count against the volume of its parent, the posts of its
  channel (or of the whole feed, for all channels), before and now. Eighteen hateful posts
  about a group where there was one, in a channel whose volume did not grow, alert; a rise
  in the whole channel's volume at an unchanged rate still does not (the group's count grows
  with the channel's posts). Channel cells are not asked it: a channel growing within the feed
  is not a warning sign by itself.

Benjamini-Hochberg across every test, of both questions, in every window, channel, target
group, label and window length, holds false alerts to ``WARNING_ALERT_FDR`` (default 0.05) of
all alerts (``tests/warning/alerts/test_alerts.py`` simulates feeds where nothing changes, with both
questions and with each alone).

**Ranking.** The score of :func:`warning.alerts.stats.rank_score`, then two adjustments, in this
order: an alert whose cell holds posts of a *campaign* (near-identical flagged posts from
several accounts or channels, :mod:`warning.alerts.campaigns`) is multiplied by ``1 + s``, ``s`` the
share of its count that campaign posts make (at most 1: all copies count double); an alert
that a more specific alert mostly explains (same window and label, a cell inside it, at least
half its count) is halved, so the channel and group where it happens come before "all
channels" and "all posts".

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
raised an alert in a simulation; ``tests/warning/alerts/test_alerts.py`` checks the rate).

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

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from warning import settings
from warning.alerts.campaigns import Campaign, CampaignConfig, FlaggedPost, find_campaigns
from warning.alerts.stats import (
    acled_ratio,
    benjamini_hochberg,
    rank_score,
    rate_ratio,
    surge_pvalue,
)
from warning.i18n import N_, Lang, Message
from warning.labels import LABELS
from warning.safe_io import csv_unescape, csv_writer, input_file_problem, private_open

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
        questions: ``share`` and/or ``count`` (see the module docstring).
        campaigns: When near-identical flagged posts are a campaign.
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
    questions: tuple[str, ...] = ("share", "count")
    campaigns: CampaignConfig = field(default_factory=CampaignConfig)

    def __post_init__(self) -> None:
        self.windows = tuple(self.windows)
        self.questions = tuple(self.questions)
        if not self.questions or set(self.questions) - set(settings.ALERT_QUESTIONS):
            raise ValueError(f"questions must be among {settings.ALERT_QUESTIONS}, got "
                             f"{self.questions}")
        if isinstance(self.campaigns, dict):  # from to_dict / alerts.json
            self.campaigns = CampaignConfig(**self.campaigns)
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
                   measure=settings.alert_measure(), timezone=settings.timezone_name(),
                   questions=settings.alert_questions(),
                   campaigns=CampaignConfig.from_settings())
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class Alert:
    """One cell whose flagged posts rose significantly in one window (see the module docstring).

    ``window_end`` is the first day after the window. ``count`` is in ``measure``'s unit.
    ``question`` is ``share`` (the cell's flagged count against its own volume) or ``count``
    (a target group's flagged count against its channel's or the feed's volume: then
    ``volume`` and ``baseline_volume`` are that parent's posts). ``baseline`` is ``own`` (the
    cell's past windows) or ``parent`` (a new cell, compared with the past windows of the cell
    ``baseline_channel`` x ``baseline_target``). ``campaigns`` names the campaigns with posts
    in the cell, ``campaign_posts`` counts those posts. ``baseline_windows`` is the number of
    windows the baseline spans.
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
    question: str = "share"
    baseline_windows: int = 4
    campaign_posts: int = 0
    campaigns: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self, lang: str | Lang | None = None) -> str:
        """The alert in one plain sentence, in ``lang`` (None: ``WARNING_REPORT_LANG``).

        Example:
            >>> alert = Alert("week", "2025-10-13", "2025-10-20", "news", "tajik", "hate",
            ...               "flagged", 25, 39, 0.641, 0, 40, 0.0, "own", "news", "tajik",
            ...               25.0, True, 51.3, 1e-8, 2e-7, 76.0, "m@1")
            >>> alert.describe("en")
            'hate in channel news, posts that mention tajik, the week of 2025-10-13: 25 of 39 \
flagged (64%) against 0.0% before'
            >>> alert.describe("ru")
            'ненависть в канале news, посты с упоминанием: таджики, неделя с 13.10.2025: \
отмечено 25 из 39 (64%), прежде 0,0%'
        """
        tr = lang if isinstance(lang, Lang) else Lang(lang)
        _ = tr.gettext
        channel = _("in all channels") if self.channel == ALL else \
            _("in channel {name}").format(name=self.channel)
        when = (_("the week of {date}") if self.window == "week" else
                _("the day {date}")).format(date=tr.date(self.window_start))
        if self.question == "count":
            before = (tr.ngettext("{count} in the {n} week before", "{count} in the {n} weeks "
                                  "before", self.baseline_windows) if self.window == "week"
                      else tr.ngettext("{count} in the {n} day before", "{count} in the {n} "
                                       "days before", self.baseline_windows))
            return _("{label} {channel}, {when}: {count} flagged posts that mention {group} "
                     "({rate} of the {volume} posts) against {before} ({base_rate})"
                     ).format(label=tr.label(self.label), channel=channel, when=when,
                              count=tr.number(self.count, 1), group=tr.group(self.target),
                              rate=tr.percent(self.rate, 1), volume=tr.number(self.volume),
                              before=before.format(count=tr.number(self.baseline_count, 1),
                                                   n=self.baseline_windows),
                              base_rate=tr.percent(self.baseline_rate, 1))
        target = _("all posts") if self.target == ALL else \
            _("posts that mention {group}").format(group=tr.group(self.target))
        return _("{label} {channel}, {target}, {when}: {count} of {volume} flagged ({rate}) "
                 "against {base_rate} before").format(
            label=tr.label(self.label), channel=channel, target=target, when=when,
            count=tr.number(self.count, 1), volume=tr.number(self.volume),
            rate=tr.percent(self.rate), base_rate=tr.percent(self.baseline_rate, 1))


@dataclass
class AlertReport:
    """All alerts of a scored file, ranked by score, the campaigns, and how they were found."""

    scored_file: str
    model: str
    config: AlertConfig
    posts: int
    posts_without_time: int
    cells_tested: int
    alerts: list[Alert]
    notes: list[str] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scored_file": self.scored_file, "model": self.model,
                "settings": asdict(self.config), "posts": self.posts,
                "posts_without_time": self.posts_without_time,
                "cells_tested": self.cells_tested, "alerts": [a.to_dict() for a in self.alerts],
                "campaigns": [c.to_dict() for c in self.campaigns], "notes": self.notes}

    def write(self, path: Path | str, format: str | None = None) -> Path:
        """Write the report as JSON (everything, campaigns included) or CSV (one alert per
        line, evidence ids and lines joined with ``;``); the format follows ``path``'s suffix
        unless given. See :meth:`write_campaigns` for the campaigns' CSV."""
        path = Path(path)
        format = format or ("csv" if path.suffix.lower() == ".csv" else "json")
        if format == "json":
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
            with private_open(path, "w", encoding="utf-8") as handle:  # evidence holds posts
                handle.write(text + "\n")
            return path
        if format != "csv":
            raise ValueError(f"format must be json or csv, got {format!r}")
        names = [f for f in Alert.__dataclass_fields__ if f != "evidence"]
        rows = []
        for alert in self.alerts:
            row = alert.to_dict()
            ids = ";".join("" if e.get("id") is None else str(e["id"]) for e in alert.evidence)
            lines = ";".join(str(e["line"]) for e in alert.evidence)
            rows.append([_cell(row[n]) for n in names] + [ids, lines])
        _write_csv(path, [*names, "evidence_ids", "evidence_lines"], rows)
        return path

    def write_campaigns(self, path: Path | str) -> Path:
        """The campaigns as CSV, one per line (lists joined with ``;``)."""
        path = Path(path)
        names = [f for f in Campaign.__dataclass_fields__ if f != "members"]
        _write_csv(path, names, [[_cell(c.to_dict()[n]) for n in names]
                                 for c in self.campaigns])
        return path

    def lines(self, top: int = 10) -> list[str]:
        """The report in plain words: totals and the top alerts and campaigns."""
        out = [f"{len(self.alerts)} alert(s) among {self.cells_tested:,} cells tested "
               f"({self.posts:,} posts; model {self.model})"]
        for a in self.alerts[:top]:
            before = "before" if a.baseline == "own" else \
                (f"before in channel {a.baseline_channel}, target {a.baseline_target} (a new "
                 f"cell: no posts in its own past {a.window}s)")
            of = "" if a.question == "share" else \
                (" of all posts in the channel" if a.channel != ALL else " of all posts")
            out.append(f"  {a.window} {a.window_start}  channel {a.channel}  target {a.target}  "
                       f"{a.label} [{a.question}]: {_num(a.count)} of {a.volume:,}{of} "
                       f"({a.rate:.1%}) vs {a.baseline_rate:.1%} {before}; ACLED ratio "
                       f"{a.ratio:.1f}; q={a.q_value:.2g}; score {a.score:.1f}"
                       + (f"; campaign(s) {', '.join(a.campaigns)}" if a.campaigns else ""))
        out.append(f"{len(self.campaigns)} campaign(s): near-identical flagged posts from "
                   f"{self.config.campaigns.authors}+ authors or "
                   f"{self.config.campaigns.channels}+ channels in one window")
        for c in self.campaigns[:top]:
            out.append(f"  {c.id} {c.window} {c.window_start}: {c.posts} posts, {c.authors} "
                       f"author(s), {c.channels} channel(s), {', '.join(c.labels)}; "
                       f"{c.first_at} to {c.last_at}")
        return out


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Every CSV ``warning alerts`` writes goes through here (one place for the cells'
    escaping)."""
    with private_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)  # formulas from the feed guarded, CR/LF quoted
        writer.writerow(header)
        writer.writerows(rows)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join("" if v is None else str(v) for v in value)
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
        from warning.scanning.scanner import read_scan_metadata

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
            if "share" in config.questions:
                testable = late_enough & (volume > 0) & (base_volume > 0) & \
                    (count + base_count >= config.min_count)
                for i in np.flatnonzero(testable):
                    of = (channel, target) if origin[i] < 0 else parents[origin[i]]
                    rows.append((kind, calendar[i], channel, target, label, "share", count[i],
                                 volume[i], base_count[i], base_volume[i],
                                 "own" if origin[i] < 0 else "parent", of[0], of[1]))
            if "count" in config.questions and target != ALL:
                # the group's flagged posts against the volume of the channel (or feed) they
                # were posted in: the cell's own count history, its parent's posts
                parent = cells[(channel, ALL)]
                own_base = figures["base_" + label]
                testable = late_enough & (volume > 0) & (parent["base_volume"] > 0) & \
                    (count + own_base >= config.min_count)
                for i in np.flatnonzero(testable):
                    rows.append((kind, calendar[i], channel, target, label, "count", count[i],
                                 parent["volume"][i], own_base[i], parent["base_volume"][i],
                                 "own", channel, target))
    columns = ["window", "start", "channel", "target", "label", "question", "count", "volume",
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
        raise AlertError(Message(N_("{file}: no post has a time (posted_at is empty), so there "
                                    "are no windows; scan again with --time-col (and "
                                    "--time-format)"), file=str(scored)))
    model = ";".join(sorted(models)) or "unknown"
    notes = list(source.notes)
    if len(models) > 1:
        notes.append(Message(N_("the file mixes posts scored by several models ({models}); "
                                "their rates may not be comparable"), models=model))
    if without_time:
        notes.append(Message(N_("{n} post(s) without a time were left out"), n=without_time))
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
                score=round(rank_score(row.label, ratio_rates, row.q), 3), model=model,
                question=row.question, baseline_windows=config.baseline))
    if tests.empty:
        windows = Message(N_("days or weeks")) if len(config.windows) > 1 else \
            Message(N_("days")) if config.windows == ("day",) else Message(N_("weeks"))
        notes.append(Message(N_("no cell could be tested: a cell needs {n} earlier {windows} "
                                "of posts and at least {min} flagged in its window and those "
                                "before together"), n=config.baseline, windows=windows,
                             min=config.min_count))
    campaigns = _campaigns(source, config, notes)
    _link_campaigns(alerts, campaigns)
    _demote_nested(alerts)
    alerts.sort(key=lambda a: (-a.score, a.q_value, a.window_start, a.channel, a.target,
                               a.label, a.question))
    _evidence(source, alerts, config)
    return AlertReport(scored_file=str(scored), model=model, config=config, posts=posts,
                       posts_without_time=without_time, cells_tested=len(tests),
                       alerts=alerts, notes=notes, campaigns=campaigns)


def _campaigns(source: _Source, config: AlertConfig, notes: list[str]) -> list[Campaign]:
    """Coordinated posting among the flagged posts (:mod:`warning.alerts.campaigns`), in weeks (days
    when only days are tested); a third pass over the file, holding flagged posts only."""
    import pandas as pd

    if not source.text:
        notes.append(Message(N_("the scan kept no texts (--no-text), so copies of a post from "
                                "several accounts (campaigns) could not be looked for")))
        return []
    if not source.authors and not source.channel:
        notes.append(Message(N_("the file has neither author nor channel columns, so no "
                                "campaign can be told from one account repeating itself")))
        return []
    window = "week" if "week" in config.windows else "day"
    posts: list[FlaggedPost] = []
    for frame in source.chunks([source.text, *source.authors]):
        timed, starts = _windows(frame, ("day", "week"), config.timezone)
        if timed.empty:
            continue
        flagged = _as_lists(timed["flagged"]).map(
            lambda f: tuple(n for n in f if n in source.labels))
        keep = flagged.map(bool) & timed[source.text].map(lambda t: isinstance(t, str) and
                                                          bool(t.strip()))
        if not keep.any():
            continue
        rows = timed.loc[keep]
        targets = _as_lists(rows["targets"])
        lines = pd.to_numeric(rows["line"], errors="coerce").fillna(0).astype(int) \
            if "line" in rows else pd.Series(0, index=rows.index)
        for idx in rows.index:
            channel = None
            if source.channel:
                value = _plain(rows.at[idx, source.channel])
                channel = "(none)" if value in (None, "") else str(value)
            posts.append(FlaggedPost(
                id=_plain(rows.at[idx, source.id]) if source.id else None,
                line=int(lines.at[idx]), posted_at=str(rows.at[idx, "posted_at"]),
                day=starts["day"].at[idx].date().isoformat(),
                week=starts["week"].at[idx].date().isoformat(), channel=channel,
                authors=tuple("" if _plain(rows.at[idx, a]) is None else
                              str(_plain(rows.at[idx, a])) for a in source.authors),
                text=str(rows.at[idx, source.text]), targets=tuple(targets.at[idx]),
                flagged=flagged.at[idx]))
    step = pd.Timedelta(days=_STEP_DAYS[window])
    return find_campaigns(
        posts, window, lambda start: (pd.Timestamp(start) + step).date().isoformat(),
        config.campaigns)


def _demote_nested(alerts: list[Alert]) -> None:
    """Halve the score of an alert that a more specific alert mostly explains: one of the same
    window and label in a cell inside it (a channel inside all channels, a group inside all
    posts) holding at least half its count. The posts behind "all channels" are then mostly
    those of one channel's alert, which says more (where, and about whom)."""
    by_window: dict[tuple[str, str, str], list[Alert]] = {}
    for alert in alerts:
        by_window.setdefault((alert.window, alert.window_start, alert.label), []).append(alert)
    halve = []
    for group in by_window.values():
        for alert in group:
            for other in group:
                inside = (alert.channel in (ALL, other.channel) and
                          alert.target in (ALL, other.target) and
                          (alert.channel, alert.target) != (other.channel, other.target))
                if inside and other.count >= alert.count / 2:
                    halve.append(alert)
                    break
    for alert in halve:
        alert.score = round(alert.score / 2, 3)


def _link_campaigns(alerts: list[Alert], campaigns: list[Campaign]) -> None:
    """Name each alert's campaigns and raise its score: ``score x (1 + s)``, where ``s`` is
    the share of the alert's count that campaign posts make (at most 1), so an alert made
    wholly of coordinated copies counts double (see the module docstring)."""
    if not campaigns:
        return
    for alert in alerts:
        posts: set[tuple[Any, int]] = set()
        for campaign in campaigns:
            inside = campaign.posts_in(alert.window, alert.window_start, alert.channel,
                                       alert.target, alert.label, ALL)
            if inside:
                alert.campaigns.append(campaign.id)
                posts |= inside
        alert.campaign_posts = len(posts)
        if posts and alert.count > 0:
            alert.score = round(alert.score * (1 + min(len(posts) / alert.count, 1.0)), 3)
