"""Early-warning classifier for hate speech, threats and extremist content in Central Asia.

The public face is small; heavy libraries load only when a model is used, and the scanner,
feed readers, alerts and report (``scan``, ``open_feed``, ``find_alerts``, ``write_report``)
load when first asked for.

Example:
    >>> from warning import LABELS, detect_language, find_targets
    >>> LABELS
    ('offensive', 'hate', 'threat', 'extremism')
"""

from __future__ import annotations

from typing import Any

from .classifier import Classifier
from .labels import LABELS, TARGET_GROUPS, Risk, ScoredPost
from .lang import detect_language
from .normalize import normalize
from .targets import find_targets

__version__ = "0.1.0"

_LAZY = {"scan": "scanner", "ScanOptions": "scanner", "open_feed": "feeds",
         "find_alerts": "alerts", "AlertConfig": "alerts", "write_report": "report"}


def __getattr__(name: str) -> Any:
    # The batch tools pull in pyarrow, pandas and scipy; `import warning` should not.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LABELS",
    "TARGET_GROUPS",
    "AlertConfig",
    "Classifier",
    "Risk",
    "ScanOptions",
    "ScoredPost",
    "__version__",
    "detect_language",
    "find_alerts",
    "find_targets",
    "normalize",
    "open_feed",
    "scan",
    "write_report",
]
