"""Early-warning classifier for hate speech, threats and extremist content in Central Asia.

The public face is small; heavy libraries load only when a model is used.

Example:
    >>> from warning import LABELS, detect_language, find_targets
    >>> LABELS
    ('offensive', 'hate', 'threat', 'extremism')
"""

from __future__ import annotations

from .classifier import Classifier
from .labels import LABELS, TARGET_GROUPS, Risk, ScoredPost
from .lang import detect_language
from .normalize import normalize
from .targets import find_targets

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "TARGET_GROUPS",
    "Classifier",
    "Risk",
    "ScoredPost",
    "__version__",
    "detect_language",
    "find_targets",
    "normalize",
]
