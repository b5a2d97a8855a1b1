"""Feed readers: CSV, JSONL, Parquet, Telegram Desktop exports and CrowdTangle-style CSV.

Every reader streams its file (memory holds one chunk of rows, whatever the file's size), gives
each record its line number, and returns a record it cannot read with the reason instead of
failing; a file that cannot be read at all raises :class:`FeedError` naming the file and what
to pass. Column flags win over detection; detection says what it picked in ``feed.notes``.

Example:
    >>> from warning.scanning.feeds import ColumnOverrides, open_feed
    >>> feed = open_feed("posts.csv", columns=ColumnOverrides(text="message"))  # doctest: +SKIP
    >>> for chunk in feed.chunks(1000):                                          # doctest: +SKIP
    ...     good = [row.values for row in chunk if row.error is None]
"""

from __future__ import annotations

from warning.scanning.feeds.base import ColumnMap, Feed, FeedError, FeedRow
from warning.scanning.feeds.columns import ColumnOverrides, pick_columns
from warning.scanning.feeds.dates import format_utc, parse_time
from warning.scanning.feeds.formats import FORMATS, detect_format, open_feed

__all__ = [
    "FORMATS",
    "ColumnMap",
    "ColumnOverrides",
    "Feed",
    "FeedError",
    "FeedRow",
    "detect_format",
    "format_utc",
    "open_feed",
    "parse_time",
    "pick_columns",
]
