"""Early-warning alerts: scored posts counted per window x channel x target group x label
(:mod:`warning.alerts.cells`), each cell tested against its recent past
(:mod:`warning.alerts.stats`: the rate test, Benjamini-Hochberg, the ACLED ratio, the rank).

Example:
    >>> from warning.alerts import AlertConfig
    >>> AlertConfig().window
    'week'
"""

from __future__ import annotations

from warning.alerts.cells import ALL, Alert, AlertConfig, AlertError, AlertReport, find_alerts

__all__ = ["ALL", "Alert", "AlertConfig", "AlertError", "AlertReport", "find_alerts"]
