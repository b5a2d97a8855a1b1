"""Reviewed feedback: moderators' corrections stored as pending, confirmed or rejected by a
second person (four eyes), kept for a set retention, and exported for training
(:mod:`warning.feedback.store`); the database, SQLite or PostgreSQL, through SQLAlchemy with
Alembic migrations (:mod:`warning.feedback.db`, ``migrations/``); the ``warning feedback``
command (:mod:`warning.feedback.cli`).

Example:
    >>> from warning.feedback import STATUSES
    >>> STATUSES
    ('pending', 'confirmed', 'rejected')
"""

from __future__ import annotations

from warning.feedback.store import (
    CSV_ESCAPED_STARTS,
    EXPORT_COLUMNS,
    SCHEMA_VERSION,
    STATUSES,
    AlreadyReviewed,
    FeedbackError,
    FeedbackItem,
    FeedbackNotFound,
    FeedbackStore,
    InvalidFeedback,
    SamePerson,
    StoredResponse,
    check_labels,
    csv_escape,
    new_id,
)

__all__ = [
    "CSV_ESCAPED_STARTS",
    "EXPORT_COLUMNS",
    "SCHEMA_VERSION",
    "STATUSES",
    "AlreadyReviewed",
    "FeedbackError",
    "FeedbackItem",
    "FeedbackNotFound",
    "FeedbackStore",
    "InvalidFeedback",
    "SamePerson",
    "StoredResponse",
    "check_labels",
    "csv_escape",
    "new_id",
]
