"""What a key may do and see (``GET /v1/whoami``), the review queue of others' corrections
(``GET /v1/review/queue``) and the training export (``GET /v1/review/export``): the routes the
moderators' console (:mod:`serve.console`) reads, open to any client.

The queue is the pending items *of other keys*, oldest first (four eyes: a key never sees its
own corrections there, since it may not review them), filtered by language and by label (an
item corrects a label when its correction gives that label a value), with counts of what
waits. The export is what ``warning feedback export`` writes: the confirmed items only, as JSON
lines or CSV (:meth:`warning.feedback.FeedbackStore.export`). Both need a ``review`` or
``admin`` key; ``whoami`` answers any key.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, Security
from pydantic import BaseModel, Field

from warning.labels import LABELS, LANGUAGES

from ..auth import ROLES
from ..deps import bearer
from . import problem_responses
from .feedback import FeedbackItemResponse, StoreDep, _identity, _require, _role, _view

__all__ = ["router"]

router = APIRouter(tags=["feedback"], dependencies=[Security(bearer)])
_ERRORS = (401, 403, 404, 422, 429)
_MEDIA = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


class WhoAmIResponse(BaseModel):
    """The calling key: its role, and whether this server takes feedback."""

    role: Literal["submit", "review", "admin"] = Field(description="what the key may do "
                                                       "(serve.auth: submit < review < admin)")
    feedback: bool = Field(description="feedback is on (WARNING_FEEDBACK_DB is set)")
    identity: str | None = Field(description="the key's feedback identity (key:...), the "
                                 "submitter or reviewer name of its feedback; null when "
                                 "feedback is off")
    labels: list[str] = Field(description="the labels a correction may give")


class ReviewQueueResponse(BaseModel):
    """Others' pending corrections, oldest first, and counts of what waits."""

    waiting: int = Field(description="pending items of other keys (before the filters)")
    by_lang: dict[str, int] = Field(description="of those, per language")
    by_label: dict[str, int] = Field(description="of those, per corrected label")
    own_pending: int = Field(description="this key's own pending items (others review them)")
    matching: int = Field(description="items that pass the filters")
    items: list[FeedbackItemResponse] = Field(description="those items, oldest first, at "
                                              "most 'limit'")


@router.get("/v1/whoami", response_model=WhoAmIResponse,
            responses=problem_responses(401, 429))
def whoami(request: Request) -> WhoAmIResponse:
    """The calling key's role, and its feedback identity (the console shows each key what its
    role allows)."""
    role = _role(request)
    feedback = getattr(request.app.state, "feedback", None) is not None
    labels = [label for label in LABELS
              if label != "extremism" or request.app.state.settings.feedback_extremism]
    return WhoAmIResponse(role=role if role in ROLES else "submit", feedback=feedback,
                          identity=_identity(request) if feedback else None, labels=labels)


@router.get("/v1/review/queue", response_model=ReviewQueueResponse,
            responses=problem_responses(*_ERRORS))
def review_queue(store: StoreDep, request: Request,
                 lang: Annotated[Literal[LANGUAGES] | None,  # type: ignore[valid-type]
                                 Query(description="only posts in this language")] = None,
                 label: Annotated[Literal[LABELS] | None,  # type: ignore[valid-type]
                                  Query(description="only corrections of this label")] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> ReviewQueueResponse:
    """The pending corrections of other keys, oldest first, with counts (a ``review`` or
    ``admin`` key)."""
    _require(request, "review", "reading the review queue")
    me = _identity(request)
    pending = store.items("pending")
    others = [item for item in pending if item.submitter != me]
    by_lang = Counter(item.lang or "other" for item in others)
    by_label = Counter(name for item in others for name in item.labels)
    matching = [item for item in others
                if (lang is None or (item.lang or "other") == lang)
                and (label is None or label in item.labels)]
    return ReviewQueueResponse(
        waiting=len(others), by_lang=dict(sorted(by_lang.items())),
        by_label={name: by_label[name] for name in LABELS if by_label[name]},
        own_pending=len(pending) - len(others), matching=len(matching),
        items=[_view(item) for item in matching[:limit]])


@router.get("/v1/review/export", response_class=Response,
            responses={200: {"description": "the confirmed items (JSON lines or CSV), as "
                                            "'warning feedback export' writes them",
                             "content": {"application/x-ndjson": {}, "text/csv": {}}},
                       **problem_responses(*_ERRORS)})
def review_export(store: StoreDep, request: Request,
                  format: Annotated[Literal["jsonl", "csv"],
                                    Query(description="jsonl (labels true/false/null) or csv "
                                                      "(1/0/empty)")] = "jsonl") -> Response:
    """The confirmed items, oldest first, for training (``warning train corpus --feedback``
    reads the file): a ``review`` or ``admin`` key. The ``X-Items`` header holds their
    number."""
    _require(request, "review", "exporting confirmed feedback")
    # through the store's own export, so the file is exactly what the CLI writes
    with tempfile.TemporaryDirectory(prefix="warning-export-") as folder:
        path = Path(folder) / f"feedback-confirmed.{format}"
        count = store.export(path)
        data = path.read_bytes()
    return Response(data, media_type=_MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="feedback-confirmed.{format}"',
        "X-Items": str(count), "Cache-Control": "no-store"})
