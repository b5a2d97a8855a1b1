"""Coordinated posting: near-identical flagged posts from several accounts or channels.

A surge test counts posts; it cannot see that eighteen of them are one text pasted by six
accounts. This module finds such *campaigns*, a separate signal beside the surge alerts
(DESIGN.md, "Early warning"):

- only **flagged** posts take part (a harmless greeting pasted by a hundred accounts is not a
  campaign);
- within one **window** (a calendar week in ``WARNING_TIMEZONE``, or a day when only days are
  tested), posts whose texts are the same after normalisation, or the same with small edits
  (character 5-gram Jaccard similarity at least ``WARNING_CAMPAIGN_SIMILARITY``, 0.6 by
  default; :mod:`warning.text.near_duplicates`, datasketch's MinHash LSH), form one cluster;
- a cluster is a campaign when its posts come from at least ``WARNING_CAMPAIGN_AUTHORS``
  (3) distinct authors (pseudonyms: the keyed hash links one account's posts without naming
  it) **or** appear in at least ``WARNING_CAMPAIGN_CHANNELS`` (2) channels. One account
  repeating itself in one channel is not coordination.

Each campaign carries its text (the first post's), the number of posts, authors and channels,
the channels, target groups and labels, the first and last time, and the posts' ids and lines.
:mod:`warning.alerts` writes them (``"campaigns"`` in ``alerts.json``, and a CSV) and raises
the rank of an alert whose cell holds a campaign's posts.

Example:
    >>> posts = [FlaggedPost(i, i + 2, f"2025-10-1{i}T10:00:00Z", "2025-10-13", "2025-10-13",
    ...                      "news", (f"a{i}",), "вон из города, таджики!", ("tajik",),
    ...                      ("hate",)) for i in range(3)]
    >>> found = find_campaigns(posts, "week", "2025-10-20")[0]
    >>> found.posts, found.authors, found.channels
    (3, 3, 1)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import regex

from warning.labels import LABELS
from warning.text.near_duplicates import near_duplicate_groups
from warning.text.normalize import fold, normalize

__all__ = ["Campaign", "CampaignConfig", "FlaggedPost", "find_campaigns", "text_key"]

_NON_WORD = regex.compile(r"[^\p{L}\p{N}]+")
# more bands than the corpus's 16: pairs down to the 0.6 default are found almost surely
# (a pair at 0.6 shares a band with probability 1 - (1 - 0.6**4)**32 = 0.99)
_NUM_PERM, _BANDS = 128, 32


def text_key(text: str) -> str:
    """What two posts must share to be "the same text": normalised, case-folded, with every
    run of non-letters and non-digits made one space (as the training corpus's dedup key).

    Example:
        >>> text_key("Вон из города,  ТАДЖИКИ!!!") == text_key("вон из города таджики")
        True
    """
    return _NON_WORD.sub(" ", fold(normalize(text))).strip()


@dataclass
class CampaignConfig:
    """When near-identical flagged posts are a campaign (see the module docstring).

    Attributes:
        authors: Fewest distinct authors.
        channels: Fewest channels (a campaign needs ``authors`` or ``channels``).
        similarity: Jaccard similarity of 5-gram sets that joins two texts.
    """

    authors: int = 3
    channels: int = 2
    similarity: float = 0.6

    def __post_init__(self) -> None:
        if self.authors < 2 or self.channels < 2:
            raise ValueError("a campaign needs at least 2 authors and 2 channels to be told "
                             f"from one account repeating itself, got authors={self.authors}, "
                             f"channels={self.channels}")
        if not 0.0 < self.similarity <= 1.0:
            raise ValueError(f"similarity must be in (0, 1], got {self.similarity}")

    @classmethod
    def from_settings(cls) -> CampaignConfig:
        """``WARNING_CAMPAIGN_AUTHORS``, ``_CHANNELS`` and ``_SIMILARITY``."""
        from warning import settings

        return cls(authors=settings.campaign_authors(), channels=settings.campaign_channels(),
                   similarity=settings.campaign_similarity())


@dataclass(frozen=True)
class FlaggedPost:
    """A flagged post as the campaign search needs it.

    ``day`` and ``week`` are the local starts (ISO dates) of its day and week; ``authors`` the
    values of its author columns (pseudonyms), empty when the scan dropped them.
    """

    id: Any
    line: int
    posted_at: str
    day: str
    week: str
    channel: str | None
    authors: tuple[str, ...]
    text: str
    targets: tuple[str, ...]
    flagged: tuple[str, ...]


@dataclass
class Campaign:
    """Near-identical flagged posts from several authors or channels in one window."""

    id: str
    window: str
    window_start: str
    window_end: str
    text: str
    posts: int
    authors: int
    channels: int
    channel_names: list[str]
    targets: list[str]
    labels: list[str]
    first_at: str
    last_at: str
    post_ids: list[Any]
    lines: list[int]
    members: list[FlaggedPost] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("members")
        return out

    def posts_in(self, window: str, start: str, channel: str, target: str, label: str,
                 all_name: str) -> set[tuple[Any, int]]:
        """(id, line) of this campaign's posts inside an alert's cell: its window, its channel
        (or all), its target group (or all posts) and flagged for its label."""
        return {(p.id, p.line) for p in self.members
                if (p.day if window == "day" else p.week) == start
                and (channel == all_name or p.channel == channel)
                and (target == all_name or target in p.targets) and label in p.flagged}


def find_campaigns(posts: list[FlaggedPost], window: str, window_end_of: Any,
                   config: CampaignConfig | None = None) -> list[Campaign]:
    """The campaigns among flagged posts, most posts first.

    Args:
        posts: Flagged posts with their texts (posts without text cannot be compared).
        window: ``week`` or ``day``: posts are compared within one such window.
        window_end_of: The window's end (the first day after it) as an ISO date: a string
            (every window the same, for tests) or a function of the window's start.
        config: Thresholds; None: the settings.
    """
    config = config or CampaignConfig.from_settings()
    by_window: dict[str, list[FlaggedPost]] = defaultdict(list)
    for post in posts:
        by_window[post.day if window == "day" else post.week].append(post)
    found: list[Campaign] = []
    for start in sorted(by_window):
        members = by_window[start]
        keys = [text_key(p.text) for p in members]
        groups = near_duplicate_groups(keys, threshold=config.similarity, num_perm=_NUM_PERM,
                                       bands=_BANDS)
        clusters: dict[int, list[int]] = defaultdict(list)
        for i, group in enumerate(groups):
            if keys[i]:
                clusters[group].append(i)
        for indexes in clusters.values():
            if len(indexes) < 2:
                continue
            cluster = sorted((members[i] for i in indexes),
                             key=lambda p: (p.posted_at, p.line))
            authors = {p.authors for p in cluster if any(p.authors)}
            channels = sorted({p.channel for p in cluster if p.channel is not None})
            if len(authors) < config.authors and len(channels) < config.channels:
                continue
            end = window_end_of(start) if callable(window_end_of) else window_end_of
            found.append(Campaign(
                id="", window=window, window_start=start, window_end=end,
                text=cluster[0].text, posts=len(cluster), authors=len(authors),
                channels=len(channels), channel_names=channels,
                targets=sorted({t for p in cluster for t in p.targets}),
                labels=[n for n in LABELS if any(n in p.flagged for p in cluster)],
                first_at=cluster[0].posted_at, last_at=cluster[-1].posted_at,
                post_ids=[p.id for p in cluster], lines=[p.line for p in cluster],
                members=cluster))
    found.sort(key=lambda c: (-c.posts, -c.authors, -c.channels, c.window_start, c.first_at))
    for number, campaign in enumerate(found, start=1):
        campaign.id = f"c{number}"
    return found
