"""The alerts' settings (:class:`AlertConfig`), the error they raise, the name of an
``(all)`` cell, and the name of a post's channel cell (``(none)`` without a channel)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from warning import settings
from warning.alerts.campaigns import CampaignConfig
from warning.labels import LABELS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ALL", "AlertConfig", "AlertError"]


#: The name of a cell that takes all channels, or all posts whatever their targets.
ALL = "(all)"
#: The name of the cell of posts without a channel (a missing or empty value).
NONE = "(none)"
_CHUNK_ROWS = 50_000
_STEP_DAYS = {"day": 1, "week": 7}


def _channel_cell(value: Any) -> str:
    """A post's channel cell: :data:`NONE` for a missing or empty value, else the value as
    text; a real channel named like a reserved cell (``(all)``, ``(none)``, or one already
    wrapped such as ``((all))``) gets one more pair of parentheses, so it stays a cell of its
    own instead of merging with all channels or the posts without one."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return NONE
    name = inner = str(value)
    while inner[:1] == "(" and inner[-1:] == ")":
        inner = inner[1:-1]
        if inner in ("all", "none"):
            return f"({name})"
    return name


def _channel_cells(values: pd.Series) -> pd.Series:
    """:func:`_channel_cell` of each value of a channel column, worked out once per distinct
    channel (a feed has few channels and many posts)."""
    names = values.where(values.notna(), "").astype(str)
    return names.map({name: _channel_cell(name) for name in names.unique()})


class AlertError(ValueError):
    """The scored file cannot be used for alerts (missing, unreadable, no times)."""


@dataclass
class AlertConfig:
    """Windows and thresholds; :meth:`from_settings` reads the ``WARNING_ALERT_*`` settings.

    Attributes:
        windows: ``day`` and/or ``week``.
        baseline: Past windows each window is compared with (at most
            ``settings.ALERT_BASELINE_MAX``).
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
        if self.baseline > settings.ALERT_BASELINE_MAX:  # 2**63 and more overflowed numpy
            raise ValueError(f"baseline (--baseline) must be at most "
                             f"{settings.ALERT_BASELINE_MAX} past windows, got {self.baseline}")
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
