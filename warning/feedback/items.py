"""Feedback items and their checks: the labels a correction may carry, ids, the item and
stored-response records, names and identities (four eyes), and the errors of the store.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from warning.labels import LABELS
from warning.safe_io import shown_name

__all__ = ["EXPORT_COLUMNS", "MAX_NAME_CHARS", "MAX_NOTE_CHARS", "SCHEMA_VERSION", "STATUSES",
           "AlreadyReviewed", "FeedbackError", "FeedbackItem", "FeedbackNotFound",
           "InvalidFeedback", "SamePerson", "StoredResponse", "check_labels",
           "looks_like_identity", "new_id"]


#: The newest revision of the database schema (its Alembic migrations); older databases are
#: upgraded by ``warning feedback migrate``, newer ones refused.
SCHEMA_VERSION = "0002"
STATUSES = ("pending", "confirmed", "rejected")
#: Columns of an export, in order: what ``warning train corpus --feedback`` reads.
EXPORT_COLUMNS = ("id", "text", "lang", *LABELS, "created", "reviewed", "model")
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_REVIEW_FIELDS = frozenset({"reviewer", "reviewed", "review_note"})


class FeedbackError(ValueError):
    """A feedback operation that cannot be done; the message says why, never quoting a text."""


class FeedbackNotFound(FeedbackError):
    """No item with that id (never stored, deleted, or past the retention period)."""


class InvalidFeedback(FeedbackError):
    """A correction that cannot be stored.

    Attributes:
        field: The field at fault (``text``, ``labels``, ``labels.hate``, ``note``, ...).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SamePerson(FeedbackError):
    """The reviewer is the person who submitted the item (four eyes)."""


class AlreadyReviewed(FeedbackError):
    """The item was already confirmed or rejected."""


def new_id(prefix: str) -> str:
    """A random, unguessable id (128 bits), e.g. ``fb-3f9c...``."""
    return f"{prefix}-{secrets.token_hex(16)}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def check_labels(labels: Mapping[str, Any], *, allow_extremism: bool = False) -> dict[str, bool]:
    """The corrected labels, validated: our label names, each ``True``/``False``; ``None`` or
    omitted is unknown and dropped. At least one label must be given.

    ``extremism`` is refused unless ``allow_extremism`` (``WARNING_FEEDBACK_EXTREMISM=1``): the
    label is experimental and off, and a list of posts marked for it is dangerous to keep.

    Raises:
        InvalidFeedback: Unknown label, a value that is not true/false/null, extremism while it
            is off, or no label given.

    Example:
        >>> check_labels({"hate": True, "threat": None})
        {'hate': True}
    """
    if not isinstance(labels, Mapping):
        raise InvalidFeedback("labels", "labels must be an object of label: true/false")
    out: dict[str, bool] = {}
    for name, value in labels.items():
        if name not in LABELS:
            shown = shown_name(name)
            raise InvalidFeedback(f"labels.{shown}", f"unknown label {shown!r}; the labels "
                                  f"are {', '.join(LABELS)}")
        if value is None:
            continue
        if not isinstance(value, bool):
            raise InvalidFeedback(f"labels.{name}", f"label {name!r} must be true, false or "
                                  "null (unknown)")
        if name == "extremism" and not allow_extremism:
            raise InvalidFeedback(
                "labels.extremism", "the extremism label is experimental and off: corrections "
                "for it are not collected unless WARNING_FEEDBACK_EXTREMISM=1 is set (read "
                "'The dual use of extremism' in the README first)")
        out[name] = value
    if not out:
        raise InvalidFeedback("labels", "give at least one label as true or false (e.g. "
                              '{"hate": false}); leave out the labels you do not know')
    return out


@dataclass(frozen=True)
class FeedbackItem:
    """One correction and its review.

    Attributes:
        id: Random id (``fb-`` and 32 hex digits).
        created: Submission time, UTC (``2026-11-27T08:00:00Z``).
        text: The post.
        lang: Its language (given, or detected when submitted).
        labels: Corrected labels, only those given (others unknown).
        note: The moderator's note.
        submitter: Identity of who submitted it (``key:...`` or a name).
        status: ``pending``, ``confirmed`` or ``rejected``.
        response_id: The scoring response it corrects, when it came from one.
        model: ``name@version`` of the model whose scores it corrects, when known.
        scores: Those scores, when known.
        reviewer: Who reviewed it.
        reviewed: When, UTC.
        review_note: The reviewer's note.
    """

    id: str
    created: str
    text: str
    lang: str | None
    labels: dict[str, bool]
    note: str | None
    submitter: str
    status: str
    response_id: str | None = None
    model: str | None = None
    scores: dict[str, float | None] | None = None
    reviewer: str | None = None
    reviewed: str | None = None
    review_note: str | None = None

    def to_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; without ``text`` when ``with_text`` is false."""
        out = asdict(self)
        if not with_text:
            out.pop("text")
        return out



_ITEM_FIELDS = tuple(FeedbackItem.__dataclass_fields__)


def _item(row: Any) -> FeedbackItem:
    """The item of a database row."""
    values = {name: getattr(row, name) for name in _ITEM_FIELDS}
    values["labels"] = dict(values["labels"])
    values["scores"] = dict(values["scores"]) if values["scores"] is not None else None
    return FeedbackItem(**values)


@dataclass(frozen=True)
class StoredResponse:
    """A recent scoring response kept for feedback (see :meth:`FeedbackStore.add_responses`).

    Attributes:
        id: ``resp-`` and 32 hex digits.
        created: Seconds since the epoch when it was kept.
        expires: Seconds since the epoch when it is deleted.
        text: The scored post.
        lang: Its detected language.
        scores: The model's scores.
        model: ``name@version`` of the model.
    """

    id: str
    created: float
    expires: float
    text: str
    lang: str | None
    scores: dict[str, float | None]
    model: str


#: Letters and digits that look alike, mapped to one of them (after case folding): Cyrillic
#: and Greek letters that look Latin, and 0/o, 1/l/i, as in Unicode's confusable skeletons.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "0",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "1", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ӏ": "1", "ү": "y", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b",
    "ε": "e", "η": "n", "ι": "1", "κ": "k", "ν": "v", "ο": "0", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "o": "0", "l": "1", "i": "1", "з": "3",
})
_IDENTITY = re.compile(r"(?:key)?([0-9a-f]{16})")


def _person(name: str) -> str:
    """A name or identity as compared for four eyes: its skeleton, in which width, case,
    accents, spaces, punctuation, invisible characters and look-alike letters do not make
    another person (``ＫＥＹ:a``, ``key a``, ``кеу:а`` and ``key:a`` with a zero-width space
    are all ``key:a``), and a ``key:`` identity is the same with or without its prefix.

    Example:
        >>> _person("key:3fa85f6457b1c2d4") == _person("КЕУ-3FA85F6457B1C2D4.")
        True
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    skeleton = "".join(c for c in folded if c.isalnum()).translate(_CONFUSABLES)
    identity = _IDENTITY.fullmatch(skeleton)
    return "key:" + identity.group(1) if identity else skeleton


def looks_like_identity(name: str) -> bool:
    """True when ``name`` is, in any spelling, an API key's feedback identity (``key:`` and
    16 hex digits): a person reviewing at the command line gives a name, never one of those.

    Example:
        >>> looks_like_identity("KEY 3fa8 5f64 57b1 c2d4"), looks_like_identity("Aida")
        (True, False)
    """
    return _person(name).startswith("key:")


def _check_text(field: str, value: str | None, limit: int, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidFeedback(field, f"{field} is empty")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFeedback(field, f"{field} is not valid Unicode") from None
    if len(value) > limit:
        raise InvalidFeedback(field, f"{field} is {len(value):,} characters; the limit is "
                              f"{limit:,}")
    return value


_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def _export_row(item: FeedbackItem) -> dict[str, Any]:
    row: dict[str, Any] = {"id": item.id, "text": item.text, "lang": item.lang or "other"}
    row.update({label: item.labels.get(label) for label in LABELS})
    row.update({"created": item.created, "reviewed": item.reviewed, "model": item.model})
    return row
