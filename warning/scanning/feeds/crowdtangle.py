"""CSV exports of Facebook monitoring tools in CrowdTangle's layout.

CrowdTangle (and tools that copied its export) write one post per row with columns such as
``Page Name`` or ``Group Name``, ``User Name``, ``Facebook Id``, ``Post Created``
(``2024-05-01 14:30:00 EST``), ``Type``, ``Message``, ``Link``, ``URL`` and interaction counts.
The text is ``Message`` (posts with only a photo or a link have none and are rejected as
empty; ``Description``, ``Link Text`` and ``Image Text`` describe the linked page or picture,
not what the page wrote, so they are not scored), the time ``Post Created``, the id the post's
``URL``, the channel the page or group, and ``User Name`` and ``Facebook Id`` are author
columns. Other Facebook tools' CSVs (``Comment``, ``Name``, ``Date``...) are read by the plain
CSV reader's column detection.

Example:
    >>> is_crowdtangle(["Page Name", "Post Created", "Message", "URL"])
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from warning.scanning.feeds.base import ColumnMap
from warning.scanning.feeds.columns import normalise_name

__all__ = ["crowdtangle_mapping", "is_crowdtangle"]


def _find(columns: Sequence[str], *names: str) -> str | None:
    norm = {normalise_name(c): c for c in reversed(columns)}
    return next((norm[n] for n in names if n in norm), None)


def is_crowdtangle(columns: Sequence[str]) -> bool:
    """True for a header in CrowdTangle's layout."""
    return (_find(columns, "post_created") is not None
            and _find(columns, "message") is not None
            and _find(columns, "page_name", "group_name") is not None)


def crowdtangle_mapping(columns: Sequence[str]) -> ColumnMap:
    """The columns of a CrowdTangle-style export (see the module docstring)."""
    return ColumnMap(
        text=_find(columns, "message") or "",
        time=_find(columns, "post_created"),
        id=_find(columns, "url"),
        channel=_find(columns, "page_name", "group_name"),
        authors=[c for c in (_find(columns, "user_name"), _find(columns, "facebook_id"))
                 if c is not None],
    )
