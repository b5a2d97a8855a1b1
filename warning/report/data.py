"""The report's figures, gathered from a scanned file in one pass over its chunks (and a
second over its texts, flags and places only, to count the copies of the texts shown).

Memory holds counts per day, target group and language, and the few most severe posts, never
the whole file, so a report of a million posts needs no more memory than one of a thousand.

Example:
    >>> from warning.alerts import AlertConfig
    >>> data = collect("scored.parquet", AlertConfig.from_settings())  # doctest: +SKIP
    >>> data.posts, data.flagged["hate"]                                # doctest: +SKIP
    (600, 50)
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from warning.alerts.config import ALL, AlertConfig, AlertError, _channel_cell
from warning.alerts.source import _as_lists, _chunks, _Source
from warning.alerts.stats import LABEL_WEIGHTS
from warning.labels import LABELS

__all__ = ["ReportData", "ReportError", "SeverePost", "collect"]

_RISK_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}


class ReportError(ValueError):
    """The report cannot be made from this file (missing, not a scan output)."""


@dataclass
class SeverePost:
    """One of the most severe posts: its place in the file, figures and (when kept) text."""

    line: int
    id: Any
    posted_at: str
    channel: str | None
    lang: str
    risk: str
    flagged: list[str]
    targets: list[str]
    scores: dict[str, float | None]
    review: bool
    text: str | None
    explanation: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    #: other flagged posts of the file with the same text
    copies: int = 0
    #: per channel, the flagged posts with this text (this one included), in the order the
    #: channels first have it; empty when the file has no channel column
    channels: dict[str, int] = field(default_factory=dict)

    def severity(self) -> tuple[int, float]:
        """Risk level first, then the highest weighted score among the flagged labels."""
        weighted = max((LABEL_WEIGHTS.get(n, 1.0) * (self.scores.get(n) or 0.0)
                        for n in self.flagged), default=0.0)
        return _RISK_RANK.get(self.risk, 0), weighted


@dataclass
class ReportData:
    """Counts of a scanned file.

    Attributes:
        posts: Scored posts in the file.
        without_time: Of them, posts with no time (left out of the time series).
        labels: Labels the file has scores for.
        flagged: Posts flagged per label.
        risk: Posts per risk level.
        review: Posts marked for review.
        days: Per local day: ``volume`` and ``flagged:<label>``.
        targets: Per target group: the same per day.
        target_flagged: Per target group: posts flagged for any label.
        languages: Per language: ``posts``, ``flagged:<label>``, ``review``.
        channels: Posts per channel (empty when the file has no channel column).
        cells: Per (channel, target group), ``(all)`` for all of either: the same per day, for
            the page's filters.
        models: The models that scored the file.
        severe: The most severe posts, most severe first: the ``top`` of the whole file and
            the ``top`` of each channel, group and label (so that a filter still shows some);
            a text posted again is shown once, as the copy the pass kept (its place, channel
            and scores are that copy's own), with the number of ``copies`` in the file and the
            ``channels`` it was posted in (kept for each of them).
        has_text: Whether the scan kept the texts.
    """

    posts: int = 0
    without_time: int = 0
    labels: list[str] = field(default_factory=list)
    flagged: Counter[str] = field(default_factory=Counter)
    risk: Counter[str] = field(default_factory=Counter)
    review: int = 0
    days: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    targets: dict[str, dict[date, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    target_flagged: Counter[str] = field(default_factory=Counter)
    languages: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    channels: Counter[str] = field(default_factory=Counter)
    cells: dict[tuple[str, str], dict[date, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    models: set[str] = field(default_factory=set)
    severe: list[SeverePost] = field(default_factory=list)
    has_text: bool = False

    @property
    def first_day(self) -> date | None:
        return min(self.days) if self.days else None

    @property
    def last_day(self) -> date | None:
        return max(self.days) if self.days else None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _score(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def collect(scored: Path | str, config: AlertConfig, top: int = 20) -> tuple[ReportData,
                                                                              _Source]:
    """Read a scanned file once and count what the report shows.

    Args:
        scored: The output of ``warning scan`` (Parquet, CSV or JSONL).
        config: Time zone and labels (as the alerts use them).
        top: Most severe posts to keep.

    Returns:
        The counts, and the file's resolved columns (channel, id, text).

    Raises:
        ReportError: The file is missing or not a scan output.
    """
    import pandas as pd

    try:
        source = _Source(Path(scored), None, None, None, config)
    except AlertError as exc:
        raise ReportError(str(exc)) from None
    extra = [c for c in ("lang", "risk", "review") if c in source.all_columns]
    if source.text:
        extra.append(source.text)
    data = ReportData(has_text=source.text is not None)
    scored_labels: set[str] = set()
    best = _Best(top)
    for frame in source.chunks(extra):
        if frame.empty:
            continue
        data.posts += len(frame)
        # a label the model cannot score (extremism today) is empty throughout: not shown
        scored_labels.update(n for n in source.labels
                             if pd.to_numeric(frame[f"score_{n}"], errors="coerce").notna().any())
        flagged = _as_lists(frame["flagged"])
        targets = _as_lists(frame["targets"])
        langs = frame["lang"].fillna("").astype(str) if "lang" in frame else \
            pd.Series("", index=frame.index)
        risks = frame["risk"].fillna("none").astype(str) if "risk" in frame else \
            pd.Series("none", index=frame.index)
        reviews = frame["review"].map(_flag) if "review" in frame else \
            pd.Series(False, index=frame.index)
        if "model" in frame:
            data.models.update(str(m) for m in frame["model"].dropna().unique() if str(m))
        if source.channel:
            channel_values = frame[source.channel].map(_plain).map(_channel_cell)
            data.channels.update(channel_values)
        else:
            channel_values = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        moments = pd.to_datetime(frame["posted_at"], utc=True, errors="coerce",
                                 format="ISO8601")
        local_days = moments.dt.tz_convert(config.timezone).dt.date
        data.without_time += int(moments.isna().sum())
        data.risk.update(risks)
        data.review += int(reviews.sum())
        for idx in frame.index:
            flags = flagged.at[idx]
            lang = langs.at[idx] or "(unknown)"
            data.flagged.update(flags)
            language = data.languages[lang]
            language["posts"] += 1
            language.update(f"flagged:{name}" for name in flags)
            language["review"] += bool(reviews.at[idx])
            day = local_days.at[idx]
            if isinstance(day, date) and day is not pd.NaT:  # NaT (no time) is a date too
                cell = data.days[day]
                cell["volume"] += 1
                cell.update(f"flagged:{name}" for name in flags)
                for target in targets.at[idx]:
                    tcell = data.targets[target][day]
                    tcell["volume"] += 1
                    tcell.update(f"flagged:{name}" for name in flags)
                channel = channel_values.at[idx]
                for c in (ALL,) if channel is None else (ALL, channel):
                    for t in (ALL, *dict.fromkeys(targets.at[idx])):
                        ccell = data.cells[(c, t)][day]
                        ccell["volume"] += 1
                        ccell.update(f"flagged:{name}" for name in flags)
            for target in targets.at[idx]:
                data.target_flagged[target] += bool(flags)
            if not flags or top <= 0:
                continue
            channel = channel_values.at[idx]
            post = SeverePost(
                **_place(frame, idx, source), channel=channel, lang=lang, risk=risks.at[idx],
                flagged=list(flags), targets=list(targets.at[idx]),
                scores={name: _score(frame.at[idx, f"score_{name}"]) for name in source.labels},
                review=bool(reviews.at[idx]),
                text=_plain(frame.at[idx, source.text]) if source.text else None,
                channels={} if channel is None else {channel: 1})
            best.offer(post)
    data.labels = [n for n in source.labels if n in scored_labels]
    data.severe = best.posts()
    _count_copies(source, data.severe)
    return data, source


def _place(frame: Any, idx: Any, source: _Source) -> dict[str, Any]:
    """Where a post is in the file: its ``line``, ``id`` and ``posted_at``."""
    return {"line": int(_score(frame.at[idx, "line"]) or 0) if "line" in frame else 0,
            "id": _plain(frame.at[idx, source.id]) if source.id else None,
            "posted_at": str(_plain(frame.at[idx, "posted_at"]) or "")}


def _count_copies(source: _Source, posts: list[SeverePost]) -> None:
    """Count, over the whole file again, the flagged posts with each text shown: its
    ``copies`` and ``channels``. The post shown keeps its own place, channel and scores
    (copies of one text may have been scored differently: merged scans, another language).

    The pass that picks the posts keeps only a few, so it forgets a text it drops: a later
    copy of it, kept for another channel, would count only the posts after it. This pass
    reads the texts, flags and channels only, and holds no more than the posts shown.
    """
    by_text = {p.text: p for p in posts if p.text}
    if source.text is None or not by_text:
        return
    columns = list(dict.fromkeys(c for c in ("flagged", source.text, source.channel)
                                 if c and c in source.all_columns))
    for post in by_text.values():
        post.copies, post.channels = -1, {}
    for frame in _chunks(source.path, source.format, columns):
        hits = frame.index[frame[source.text].isin(list(by_text))]
        if not len(hits):
            continue
        flagged = _as_lists(frame.loc[hits, "flagged"])
        for idx in hits:
            if not flagged.at[idx]:
                continue
            post = by_text[frame.at[idx, source.text]]
            channel = _channel_cell(_plain(frame.at[idx, source.channel])) \
                if source.channel else None
            post.copies += 1
            if channel is not None:
                post.channels[channel] = post.channels.get(channel, 0) + 1
    for post in by_text.values():
        post.copies = max(post.copies, 0)


class _Best:
    """The ``top`` most severe posts of the file and of each channel, target group and label;
    a text already kept is counted as a copy instead of kept again, and the kept post is
    offered to the heap of the copy's channel too (so that the channel's filter finds it)."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.heaps: dict[tuple[str, str], list[tuple[tuple[int, float, int], int,
                                                     SeverePost]]] = defaultdict(list)
        self.kept: dict[str, SeverePost] = {}  # texts in some heap
        self.holders: Counter[int] = Counter()  # heaps holding each post (by id())
        self.keys: dict[int, tuple[tuple[int, float, int], int]] = {}  # by id() too
        self.order = itertools.count()

    def offer(self, post: SeverePost) -> None:
        same = self.kept.get(post.text) if post.text else None
        if same is not None:  # a copy of a post already kept: counted, not repeated
            same.copies += 1
            if post.channel is not None:
                new = post.channel not in same.channels
                same.channels[post.channel] = same.channels.get(post.channel, 0) + 1
                if new:  # the text in one more channel: a post of that channel too
                    self._push(("channel", post.channel), same)
            return
        self.keys[id(post)] = ((*post.severity(), -post.line), next(self.order))
        names = [("all", ""), *(("label", n) for n in post.flagged),
                 *(("target", t) for t in dict.fromkeys(post.targets))]
        if post.channel is not None:
            names.append(("channel", post.channel))
        for name in names:
            self._push(name, post)
        if id(post) not in self.holders:  # among no heap's top: forgotten
            del self.keys[id(post)]

    def _push(self, name: tuple[str, str], post: SeverePost) -> None:
        """Put ``post`` in the heap ``name`` if it is among its ``top``."""
        key, number = self.keys[id(post)]
        heap = self.heaps[name]
        if len(heap) < self.top:
            heapq.heappush(heap, (key, number, post))
        elif key > heap[0][0]:
            _, _, dropped = heapq.heapreplace(heap, (key, number, post))
            self.holders[id(dropped)] -= 1
            if self.holders[id(dropped)] <= 0:
                del self.holders[id(dropped)], self.keys[id(dropped)]
                self.kept.pop(dropped.text or "", None)
        else:
            return
        self.holders[id(post)] += 1
        if post.text:
            self.kept[post.text] = post

    def posts(self) -> list[SeverePost]:
        """Every post kept, most severe first (the file's top ``top`` are the first)."""
        entries = {e[1]: e for heap in self.heaps.values() for e in heap}
        return [post for _, _, post in sorted(entries.values(), key=lambda e: (e[0], -e[1]),
                                              reverse=True)]


def labels_in_order(names: list[str]) -> list[str]:
    """``names`` in the taxonomy's order."""
    return [n for n in LABELS if n in names]
