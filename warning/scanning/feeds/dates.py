"""Post times in the formats exports use, read into UTC.

Understood without help: ISO 8601 (``2024-05-01``, ``2024-05-01 14:30``,
``2024-05-01T14:30:00+06:00``, ``...Z``), ``yyyy/mm/dd``, the day-first dotted form common in the
region (``01.05.2024 14:30``, seconds optional), Unix seconds or milliseconds (``1714552200``),
CrowdTangle's ``2024-05-01 14:30:00 EST`` and Twitter's ``Wed May 01 14:30:00 +0000 2024``.
Slashed day/month orders (``05/01/2024``) are ambiguous between countries and need
``--time-format`` (a ``strptime`` format). A time written without a zone is taken to be in
``WARNING_TIMEZONE`` (default UTC).

Example:
    >>> from zoneinfo import ZoneInfo
    >>> parse_time("01.05.2024 14:30", ZoneInfo("Asia/Bishkek")).isoformat()
    '2024-05-01T08:30:00+00:00'
    >>> parse_time("1714552200", ZoneInfo("UTC")).isoformat()
    '2024-05-01T08:30:00+00:00'
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import regex

__all__ = ["format_utc", "parse_time"]

_UNIX = regex.compile(r"[+-]?\d{9,14}(?:\.\d+)?")
_DOTTED = regex.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED_YMD = regex.compile(r"\d{4}/\d{1,2}/\d{1,2}(?:[ T].*)?")
_ABBREVIATION = regex.compile(r"(.*\d)\s+([A-Z]{2,5})")
# US zone abbreviations CrowdTangle writes, and the unambiguous universal ones.
_ZONE_HOURS = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
               "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}
_TWITTER = "%a %b %d %H:%M:%S %z %Y"


def _from_unix(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    if abs(number) >= 1e11:  # milliseconds (13 digits today)
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _aware(moment: datetime, tz: tzinfo) -> datetime | None:
    """``moment`` in UTC (read in ``tz`` when it has no zone); None when that falls outside
    the years 1-9999 (``0001-01-01 00:00``, a placeholder for no date, east of UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _parse_text(text: str, tz: tzinfo, fmt: str | None) -> datetime | None:
    if fmt:
        try:
            return _aware(datetime.strptime(text, fmt), tz)
        except ValueError:
            return None
    if _UNIX.fullmatch(text):
        return _from_unix(float(text))
    match = _DOTTED.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            return _aware(datetime(year, month, day, hour, minute, second), tz)
        except ValueError:
            return None
    if _SLASHED_YMD.fullmatch(text):
        text = text.replace("/", "-")
    zone = None
    match = _ABBREVIATION.fullmatch(text)
    if match and match.group(2) in _ZONE_HOURS:
        text, zone = match.group(1), timezone(timedelta(hours=_ZONE_HOURS[match.group(2)]))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return _aware(datetime.strptime(text, _TWITTER), UTC)
        except ValueError:
            return None
    return _aware(moment, zone or tz)


def parse_time(value: Any, tz: tzinfo, fmt: str | None = None) -> datetime | None:
    """``value`` as an aware UTC datetime, or None when it is empty or not understood.

    Args:
        value: A string, a number (Unix seconds or milliseconds), a ``datetime`` or a ``date``.
        tz: The zone of times written without one.
        fmt: A ``strptime`` format to use instead of detection, for strings.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return _aware(datetime(value.year, value.month, value.day), tz)
    if isinstance(value, int | float):
        return _from_unix(float(value))
    text = str(value).strip()
    if not text:
        return None
    return _parse_text(text, tz, fmt)


def format_utc(moment: datetime | None) -> str | None:
    """``2024-05-01T08:30:00Z`` (whole seconds), the form every scan output uses."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
