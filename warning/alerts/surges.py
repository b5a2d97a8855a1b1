"""Each cell's tests against its recent past, the evidence posts of the cells that alerted,
the campaigns and the ranking adjustments (see :mod:`warning.alerts.cells`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from warning.alerts.campaigns import Campaign, FlaggedPost, find_campaigns
from warning.alerts.config import _STEP_DAYS, ALL, AlertConfig, _channel_cell, _channel_cells
from warning.alerts.records import Alert, _plain
from warning.alerts.source import _as_lists, _Source, _windows
from warning.alerts.stats import (
    surge_pvalue,
)
from warning.i18n import N_, Message

if TYPE_CHECKING:
    import pandas as pd


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
                mask = mask & (_channel_cells(timed[source.channel])
                               == alert.channel).to_numpy()
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
                channel = _channel_cell(_plain(rows.at[idx, source.channel]))
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
