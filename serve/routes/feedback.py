"""``/v1/feedback``: moderators' corrections, stored as pending until a second person reviews
them (the store is :class:`warning.feedback.FeedbackStore`).

On when ``WARNING_FEEDBACK_DB`` names a SQLite file or a PostgreSQL URL; otherwise every feedback
route answers 404 ``feedback-disabled`` naming that setting (the feature is absent on this
server, not briefly unavailable, so not 503). A submitter or reviewer is the identity of the API
key used (:meth:`FeedbackStore.identity`: stable across restarts, workers and replicas that
share the database, the key never stored); the reviewer must be another key than the submitter.
Recent scoring responses that feedback may name by id are kept in the same database
(:mod:`serve.recent`), so a response scored by one replica can be corrected through another;
while the database cannot be reached, feedback answers 503 ``feedback-db-unavailable`` and
scoring answers without ids.

Roles (:mod:`serve.auth`): any key may submit, read its own items, and withdraw (delete) them
while they are not confirmed; listing the queue, reading others' items with their texts, reviewing,
and deleting others' or confirmed items need ``review`` (or ``admin``): 403 ``role-required``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from warning.feedback.store import (
    AlreadyReviewed,
    FeedbackError,
    FeedbackItem,
    FeedbackNotFound,
    FeedbackStore,
    InvalidFeedback,
    SamePerson,
)
from warning.text.normalize import normalize

from ..auth import has_role, key_id
from ..deps import bearer, encodes_to_utf8
from ..errors import ApiError, error_response
from ..recent import RecentResponses, ResponseExpired, ResponseUnknown
from ..settings import ServeSettings, SettingsError
from . import problem_responses

__all__ = ["remember_responses", "router", "setup_feedback"]

log = logging.getLogger("serve")
router = APIRouter(tags=["feedback"], dependencies=[Security(bearer)])
_ERRORS = (400, 401, 404, 408, 413, 415, 422, 429)

# ---- wiring -----------------------------------------------------------------------------------


def setup_feedback(app: FastAPI, settings: ServeSettings, keys: list[str]) -> None:
    """Open the feedback store and the recent-response memory when ``feedback_db`` is set.

    The map from the process's key ids (which the middleware puts on each request) to the
    store's stable identities is made here, while the keys are still at hand.

    Raises:
        SettingsError: The database cannot be opened.
    """
    app.state.feedback = None
    app.state.feedback_identities = {}
    app.state.recent_responses = None
    if settings.feedback_db is None:
        return
    try:
        store = FeedbackStore(settings.feedback_db,
                              retention_days=settings.feedback_retention_days,
                              allow_extremism=settings.feedback_extremism)
    except FeedbackError as exc:
        raise SettingsError(f"WARNING_FEEDBACK_DB: {exc}") from None
    app.state.feedback = store
    app.state.feedback_identities = {key_id(k): store.identity(k) for k in keys}
    if settings.response_memory > 0:
        app.state.recent_responses = RecentResponses(store, settings.response_memory,
                                                     settings.response_memory_seconds)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)


_UNAVAILABLE = ApiError(503, "feedback-db-unavailable", "the feedback database cannot be "
                        "reached just now; retry shortly (nothing was stored by this request)",
                        headers={"Retry-After": "5"})


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # the type only: a driver's message could name the host or quote a statement's values
    log.error("request_id=%s feedback database unavailable: %s",
              request.scope.get("state", {}).get("request_id"), type(exc).__name__)
    return error_response(request.url.path, _UNAVAILABLE,
                          request.scope.get("state", {}).get("request_id"))


async def remember_responses(request: Request, texts: list[str],
                             results: list[dict[str, Any]]) -> None:
    """Give each scored result an ``id`` and keep it in the feedback database (in a worker
    thread, one transaction per request), while feedback is on. When the database cannot be
    reached the results go out without ids: scoring does not depend on feedback."""
    memory: RecentResponses | None = getattr(request.app.state, "recent_responses", None)
    if memory is None:
        return
    kept = [result for result in results if result.get("error") is None]
    entries = [(text, result.get("lang"), result["scores"], result["model"])
               for text, result in zip(texts, results, strict=True)
               if result.get("error") is None]
    try:
        ids = await anyio.to_thread.run_sync(memory.add_many, entries)
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        log.error("request_id=%s responses not kept for feedback (database unavailable: %s)",
                  request.scope.get("state", {}).get("request_id"), type(exc).__name__)
        return
    for result, rid in zip(kept, ids, strict=True):
        result["id"] = rid


def get_store(request: Request) -> FeedbackStore:
    store = getattr(request.app.state, "feedback", None)
    if store is None:
        raise ApiError(404, "feedback-disabled", "feedback is off on this server: set "
                       "WARNING_FEEDBACK_DB to a SQLite file (e.g. /var/lib/warning/feedback.db)"
                       " or a postgresql+psycopg:// URL and restart it")
    return store


StoreDep = Annotated[FeedbackStore, Depends(get_store)]


def _identity(request: Request) -> str:
    kid = request.scope.get("state", {}).get("key_id", "-")
    if kid == "open":
        return "open"
    identity = request.app.state.feedback_identities.get(kid)
    if identity is None:  # a key the app was not built with: cannot happen with the middleware
        raise ApiError(403, "unknown-identity", "this key has no feedback identity")
    return identity


def _role(request: Request) -> str | None:
    return request.scope.get("state", {}).get("role")


def _require(request: Request, needed: str, what: str) -> None:
    """Refuse (403 ``role-required``) a key whose role does not allow ``what``."""
    if not has_role(_role(request), needed):
        raise _role_error(request, needed, what)


def _role_error(request: Request, needed: str, what: str) -> ApiError:
    """403 ``role-required``: ``what`` needs the role ``needed``, which this key lacks."""
    return ApiError(403, "role-required", f"{what} needs a key with the role '{needed}' or "
                    f"'admin'; this key's role is '{_role(request)}' (give a key its role as "
                    "ROLE:KEY in WARNING_API_KEYS: see the README, 'Keys')")


def _own_or_review(request: Request, item: FeedbackItem, what: str) -> None:
    """Let a ``review`` key, or the item's own submitter, go on."""
    if not has_role(_role(request), "review") and item.submitter != _identity(request):
        _require(request, "review", what + " submitted by another key")


def _invalid(exc: InvalidFeedback) -> ApiError:
    return ApiError(422, "invalid-feedback", str(exc), param=exc.field,
                    errors=[{"loc": f"body.{exc.field}", "msg": str(exc)}])


def _not_found(exc: FeedbackNotFound) -> ApiError:
    return ApiError(404, "feedback-not-found", f"{exc} (it may have been deleted or passed the "
                    "retention period)")


def _field_error(field: str, code: str, message: str) -> ApiError:
    return ApiError(422, code, message, param=field,
                    errors=[{"loc": f"body.{field}", "msg": message}])


# ---- schemas ----------------------------------------------------------------------------------


class FeedbackRequest(BaseModel):
    """A correction: the post (``text``) or a scoring response's ``id`` (``response_id``),
    never both; the correct labels (true/false; leave out or null the ones you do not know)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"response_id": "resp-0f3c9a1b2d4e5f60718293a4b5c6d7e8", "labels": {"hate": False},
         "note": "a news report quoting the slur"},
        {"text": "Ты тупой идиот", "lang": "ru", "labels": {"offensive": True, "threat": False}},
    ]})

    text: str | None = Field(None, description="the post (or send response_id)")
    response_id: str | None = Field(None, max_length=64, description="the 'id' of a /v1/score "
                                    "result (kept for WARNING_RESPONSE_MEMORY_SECONDS)")
    # strict: "no", "false" or 1 is not a label value (JSON true/false only)
    labels: dict[str, StrictBool | None] = Field(description="label: true/false (null = "
                                                 "unknown); at least one of offensive, hate, "
                                                 "threat")
    lang: str | None = Field(None, max_length=16, description="ru, ky, kk, uz, tr, en or other "
                             "(default: detected)")
    note: str | None = Field(None, description="why: what the model got wrong")


class FeedbackReviewRequest(BaseModel):
    """A second person's decision on a pending correction."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "confirm", "note": "agreed"}]})

    decision: Literal["confirm", "reject"]
    note: str | None = None


class FeedbackItemResponse(BaseModel):
    """A stored correction and its review."""

    id: str
    status: Literal["pending", "confirmed", "rejected"]
    created: str = Field(description="UTC, e.g. 2026-11-27T08:00:00Z")
    text: str | None = Field(None, description="the post (not echoed by POST)")
    lang: str | None
    labels: dict[str, bool]
    note: str | None
    submitter: str = Field(description="the submitting key's identity (key:...)")
    response_id: str | None
    model: str | None = Field(description="the model whose scores it corrects, when known")
    scores: dict[str, float | None] | None
    reviewer: str | None
    reviewed: str | None
    review_note: str | None


class FeedbackListResponse(BaseModel):
    counts: dict[str, int] = Field(description="items per status")
    items: list[FeedbackItemResponse] = Field(description="oldest first")


def _view(item: FeedbackItem, *, with_text: bool = True) -> FeedbackItemResponse:
    return FeedbackItemResponse.model_validate(item.to_dict(with_text=with_text))


# ---- routes -----------------------------------------------------------------------------------
# Plain ``def``: FastAPI runs them in its thread pool, so the database never blocks the event
# loop.


@router.post("/v1/feedback", status_code=201, response_model=FeedbackItemResponse,
             response_model_exclude={"text"}, responses=problem_responses(*_ERRORS))
def submit_feedback(body: FeedbackRequest, request: Request,
                    store: StoreDep) -> FeedbackItemResponse:
    """Store a correction as pending; answers the stored item (without the text)."""
    settings: ServeSettings = request.app.state.settings
    if (body.text is None) == (body.response_id is None):
        raise _field_error("text", "text-or-response-id",
                           "send either text (the post) or response_id (the id of a /v1/score "
                           "result), not both" if body.text is not None else
                           "send either text (the post) or response_id (the id of a /v1/score "
                           "result)")
    model = scores = None
    lang = body.lang
    if body.response_id is not None:
        memory: RecentResponses | None = request.app.state.recent_responses
        if memory is None:
            raise _field_error("response_id", "response-ids-off", "this server keeps no "
                               "responses (WARNING_RESPONSE_MEMORY=0): send the text instead")
        try:
            recent = memory.get(body.response_id)
        except ResponseExpired:
            raise _field_error("response_id", "response-id-expired", "that response is older "
                               f"than {memory.max_age_s:g} seconds "
                               "(WARNING_RESPONSE_MEMORY_SECONDS) and is no longer kept: send "
                               "the text instead") from None
        except ResponseUnknown:
            raise _field_error("response_id", "unknown-response-id", "no recent response has "
                               "that id (it may have expired or been dropped for room): send "
                               "the text instead") from None
        text, model, scores = recent.text, recent.model, recent.scores
        lang = lang or recent.lang
    else:
        text = body.text or ""
        if not encodes_to_utf8(text):
            raise _field_error("text", "not-utf8", "text is not valid Unicode (it contains a "
                               "lone surrogate)")
        if not normalize(text):  # as /v1/score reads it: invisible characters are nothing
            raise _field_error("text", "empty-text", "text is empty (or only invisible "
                               "characters and markup): send the post")
        if len(text) > settings.max_text_chars:
            raise _field_error("text", "text-too-long", f"text is {len(text):,} characters; the "
                               f"limit is {settings.max_text_chars:,} (WARNING_MAX_TEXT_CHARS)")
    try:
        item = store.submit(text, body.labels, submitter=_identity(request), note=body.note,
                            lang=lang, response_id=body.response_id, model=model,
                            scores=scores, max_text_chars=settings.max_text_chars)
    except InvalidFeedback as exc:
        raise _invalid(exc) from None
    log.info("feedback %s submitted by %s", item.id, item.submitter)
    return _view(item, with_text=False)


@router.get("/v1/feedback", response_model=FeedbackListResponse,
            responses=problem_responses(403, *_ERRORS))
def list_feedback(store: StoreDep, request: Request,
                  status: Annotated[Literal["pending", "confirmed", "rejected"] | None,
                                    Query(description="only this status (pending: the review "
                                                      "queue)")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> FeedbackListResponse:
    """The review queue and the rest: items oldest first, with counts per status (a
    ``review`` or ``admin`` key)."""
    _require(request, "review", "listing feedback (with its texts)")
    items = store.items(status, limit=limit)
    return FeedbackListResponse(counts=store.counts(), items=[_view(i) for i in items])


@router.get("/v1/feedback/{item_id}", response_model=FeedbackItemResponse,
            responses=problem_responses(403, *_ERRORS))
def get_feedback(item_id: str, store: StoreDep, request: Request) -> FeedbackItemResponse:
    """One item, with its text (for the person reviewing it, or the key that sent it)."""
    try:
        item = store.get(item_id)
    except FeedbackNotFound as exc:
        raise _not_found(exc) from None
    _own_or_review(request, item, "reading an item")
    return _view(item)


@router.post("/v1/feedback/{item_id}/review", response_model=FeedbackItemResponse,
             response_model_exclude={"text"}, responses=problem_responses(403, 409, *_ERRORS))
def review_feedback(item_id: str, body: FeedbackReviewRequest, request: Request,
                    store: StoreDep) -> FeedbackItemResponse:
    """Confirm or reject a pending item (a ``review`` or ``admin`` key). The reviewing key must
    not be the submitting one."""
    _require(request, "review", "reviewing feedback")
    reviewer = _identity(request)
    try:
        item = store.review(item_id, reviewer=reviewer, confirm=body.decision == "confirm",
                            note=body.note)
    except FeedbackNotFound as exc:
        raise _not_found(exc) from None
    except SamePerson:
        extra = (" On a server without keys everyone is 'open': review with "
                 "'warning feedback review ID --reviewer NAME'." if reviewer == "open" else "")
        raise ApiError(403, "same-person", "this key submitted the item: another person, with "
                       "another key, must review it." + extra) from None
    except AlreadyReviewed as exc:
        raise ApiError(409, "already-reviewed", str(exc)) from None
    except InvalidFeedback as exc:
        raise _invalid(exc) from None
    log.info("feedback %s %s by %s", item.id, item.status, item.reviewer)
    return _view(item, with_text=False)


@router.delete("/v1/feedback/{item_id}", status_code=204, response_class=Response,
               responses=problem_responses(403, *_ERRORS))
def delete_feedback(item_id: str, store: StoreDep, request: Request) -> Response:
    """Delete an item for good (e.g. when the author asks): a ``review`` or ``admin`` key, or
    the key that sent it while it is not confirmed."""
    try:
        if has_role(_role(request), "review"):
            store.delete(item_id)
        else:
            item = store.get(item_id)
            _own_or_review(request, item, "deleting an item")
            if item.status == "confirmed":
                _require(request, "review", "deleting a confirmed item")
            # confirmed since it was read (a reviewer between the two): kept, and refused
            store.delete(item_id, unless_confirmed=True)
    except FeedbackNotFound as exc:
        raise _not_found(exc) from None
    except AlreadyReviewed:
        raise _role_error(request, "review", "deleting a confirmed item") from None
    log.info("feedback %s deleted", item_id)
    return Response(status_code=204)
