"""Text processing: normalisation, language identification and identity-group tagging.

Every stage of the project reads text through these three modules, at training and at scoring
time alike, so a post is seen the same way everywhere.

Example:
    >>> from warning.text import detect_language, find_targets, normalize
    >>> normalize("Привет,   МИР!!!")
    'Привет, МИР!!!'
"""

from __future__ import annotations

from warning.text.lang import detect_language
from warning.text.normalize import fold, keyboard_fold, normalize
from warning.text.targets import find_targets

__all__ = ["detect_language", "find_targets", "fold", "keyboard_fold", "normalize"]
