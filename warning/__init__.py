"""Early-warning classifier for hate speech, threats and extremist content in Central Asia.

The public face is small; heavy libraries load only when a model is used, and the scanner,
feed readers, alerts and report (``scan``, ``open_feed``, ``find_alerts``, ``write_report``)
load when first asked for.

The package, by concern:

- :mod:`warning.text`: normalisation, language identification, identity-group tagging;
- :mod:`warning.models`: the :class:`Classifier` contract, baseline, transformer, ensemble,
  base-encoder conversion, calibration, explanations;
- :mod:`warning.scanning`: feed readers, the chunked scanner, the Ray engine, progress;
- :mod:`warning.alerts`: cells, their tests and ranking;
- :mod:`warning.report`: the HTML report;
- :mod:`warning.feedback`: the reviewed-feedback store and its command;
- :mod:`warning.labels`, :mod:`warning.settings`, :mod:`warning.cli`: the taxonomy, the
  ``WARNING_*`` settings and the ``warning`` command.

Module paths from before this layout (``warning.lang``, ``warning.scanner``, ...) still import,
as aliases of their new modules (:mod:`warning._aliases`).

Example:
    >>> from warning import LABELS, detect_language, find_targets
    >>> LABELS
    ('offensive', 'hate', 'threat', 'extremism')
"""

from __future__ import annotations

from typing import Any

from warning import _aliases
from warning.labels import LABELS, TARGET_GROUPS, Risk, ScoredPost
from warning.models.classifier import Classifier
from warning.text.lang import detect_language
from warning.text.normalize import normalize
from warning.text.targets import find_targets

_aliases.install()

__version__ = "0.1.0"

_LAZY = {"scan": "scanning", "ScanOptions": "scanning", "open_feed": "scanning.feeds",
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
