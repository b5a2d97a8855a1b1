"""``warning alerts``: early warnings from a scored feed, by window x channel x target x label.

Works from the scan's output alone. Each scored post has a time (``posted_at``), perhaps a
channel, the target groups it mentions (``targets``), the labels it was flagged for
(``flagged``) and a probability per label (``score_<label>``). Posts are grouped into cells:

- **window**: a day or an ISO week (Monday to Sunday) in ``WARNING_TIMEZONE``;
- **channel**: each channel (``(none)``: posts without one; a channel really named ``(all)``
  or ``(none)`` is written ``((all))`` or ``((none))``), and ``(all)`` channels together (only
  ``(all)`` when the file has no channel column or a single channel);
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

from pathlib import Path

from warning.alerts.config import _STEP_DAYS, ALL, AlertConfig, AlertError
from warning.alerts.records import Alert, AlertReport
from warning.alerts.source import _aggregate, _Source
from warning.alerts.stats import (
    acled_ratio,
    benjamini_hochberg,
    rank_score,
    rate_ratio,
)
from warning.alerts.surges import _campaigns, _demote_nested, _evidence, _link_campaigns, _tests
from warning.i18n import N_, Message

__all__ = ["ALL", "Alert", "AlertConfig", "AlertError", "AlertReport", "find_alerts"]



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
        AlertError: The file is missing, not a scan output, holds no posts, has no post with a
            time, or no post with a score for a label of ``config.labels``.
    """
    import pandas as pd

    config = config or AlertConfig.from_settings()
    source = _Source(Path(scored), channel_col, id_col, text_col, config)
    totals, posts, without_time, models, channels, labels = _aggregate(source, config)
    if not posts:  # not a missing time: there is no post at all (the scan rejected them all?)
        raise AlertError(Message(N_("{file}: the file holds no posts, so there is nothing to "
                                    "test (did the scan reject every record? see its "
                                    ".rejects.csv)"), file=str(scored)))
    if not totals:
        raise AlertError(Message(N_("{file}: no post has a time (posted_at is empty), so there "
                                    "are no windows; scan again with --time-col (and "
                                    "--time-format)"), file=str(scored)))
    unscored = [n for n in config.labels or () if n not in labels]
    if unscored:  # asked for, but the model did not score it: no alert would mean nothing
        raise AlertError(f"{scored}: no post has a score for {', '.join(unscored)} (the model "
                         f"that scored the file does not score it), so no alert could be "
                         f"found for it; leave out --label {' --label '.join(unscored)}")
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
