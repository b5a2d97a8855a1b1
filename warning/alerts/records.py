"""What ``warning alerts`` finds: :class:`Alert` and :class:`AlertReport`, with their JSON and
CSV forms and their descriptions in plain words."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from warning.alerts.campaigns import Campaign
from warning.alerts.config import ALL, AlertConfig
from warning.i18n import Lang
from warning.safe_io import csv_writer, private_open

__all__ = ["Alert", "AlertReport"]

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

    def describe(self, lang: str | Lang | None = None, isolate: bool = False) -> str:
        """The alert in one plain sentence, in ``lang`` (None: ``WARNING_REPORT_LANG``);
        ``isolate``: the channel's name between U+2068 and U+2069 (first strong isolate, pop
        directional isolate), so a right-to-left name or a bidi control in it cannot reorder
        the rest of the sentence where it is shown (the report's summary and tooltips).

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
            _("in channel {name}").format(
                name=f"\u2068{self.channel}\u2069" if isolate else self.channel)
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


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
