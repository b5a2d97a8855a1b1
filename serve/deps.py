"""What the routes need: the key schemes, the model and settings as dependencies, the text checks
and the scoring path through the micro-batcher.

Routes import this module, and the app factory (:mod:`serve.app`) imports the routes, never the
other way round (FastAPI full-stack template, ``api/deps.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPBearer

from warning.labels import ScoredPost
from warning.models.classifier import Classifier

from .batcher import BatcherClosed, MicroBatcher, ModelFailed, QueueFull
from .errors import ApiError
from .limits import RateLimiter, work_units
from .metrics import ApiMetrics
from .settings import ServeSettings

__all__ = ["ClassifierDep", "SettingsDep", "bearer", "check_texts", "encodes_to_utf8",
           "get_classifier", "get_settings_dep", "model_info", "query_key", "run_model",
           "score_texts"]

log = logging.getLogger("serve")
T = TypeVar("T")

# documents the bearer key in the OpenAPI schema; the middleware does the checking
bearer = HTTPBearer(auto_error=False, description="an API key from WARNING_API_KEYS")
query_key = APIKeyQuery(name="key", auto_error=False,
                        description="the key in the URL, as Perspective clients send it "
                                    "(the Perspective-compatible route only)")


def get_classifier(request: Request) -> Classifier:
    """The model loaded in ``lifespan`` (tests override this dependency)."""
    model = getattr(request.app.state, "classifier", None)
    if model is None:
        request.state.reject_reason = "not_ready"
        raise ApiError(503, "model-not-loaded", "the model is not loaded yet; retry shortly",
                       headers={"Retry-After": "5"})
    return model


def get_settings_dep(request: Request) -> ServeSettings:
    return request.app.state.settings


ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
SettingsDep = Annotated[ServeSettings, Depends(get_settings_dep)]


def encodes_to_utf8(text: str) -> bool:
    """False for a text with a lone UTF-16 surrogate (JSON allows ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_texts(texts: Sequence[str], settings: ServeSettings, *, what: str = "texts") -> None:
    """Refuse too many texts (422), texts that are not valid Unicode (422), empty texts (422)
    and too long texts (422), clearly, naming the text by its place, never quoting it."""
    if not texts:
        raise ApiError(422, "no-texts", f"{what} is empty: send at least one text",
                       param=what)
    if len(texts) > settings.max_texts:
        raise ApiError(422, "too-many-texts", f"{len(texts)} texts in one request; the limit is "
                       f"{settings.max_texts} (WARNING_MAX_TEXTS): split the request", param=what)
    for i, text in enumerate(texts):
        where = f"{what}[{i}]"
        if not encodes_to_utf8(text):
            raise ApiError(422, "not-utf8", f"{where} is not valid Unicode (it contains a lone "
                           "surrogate): send text that encodes to UTF-8", param=where)
        if not text.strip():
            raise ApiError(422, "empty-text", f"{where} is empty: send some text to score",
                           param=where)
        if len(text) > settings.max_text_chars:
            raise ApiError(422, "text-too-long", f"{where} is {len(text):,} characters; the "
                           f"limit is {settings.max_text_chars:,} (WARNING_MAX_TEXT_CHARS)",
                           param=where)


async def run_model(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run a model call in a worker thread, one at a time per process: the event loop stays
    free to answer other requests, and concurrent calls do not fight over the CPU cores."""
    limiter = request.app.state.model_limiter
    return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=limiter)


async def score_texts(request: Request, model: Classifier, texts: list[str],
                      explain: bool = False) -> list[ScoredPost]:
    """Score through the micro-batcher (or, with batching off or no batcher running, in one
    model call of its own in a worker thread); count the posts and flags in the metrics and
    the number of texts for the access log.

    Raises:
        ApiError: 503 when the queue is full (with ``Retry-After``) or the server is shutting
            down; 500 when the model fails on these texts.
    """
    request.state.n_texts = len(texts)
    state = request.app.state
    owner = str(request.scope.get("state", {}).get("bucket", "-"))
    units = work_units(texts, explain,
                       getattr(getattr(model, "config", None), "explain_max_words", None))
    wait = state.work_limiter.charge(owner, units)
    if wait > 0:
        request.state.reject_reason = "rate_limit"
        after = RateLimiter.retry_after(wait)
        raise ApiError(429, "work-limit", f"this key has asked the model for more work than "
                       f"its allowance (WARNING_WORK_PER_MINUTE units a minute; this request: "
                       f"{units:g} units); retry in {after} s", headers={"Retry-After": after})
    batcher: MicroBatcher | None = state.batcher
    metrics: ApiMetrics = state.metrics
    try:
        if batcher is not None and (batcher.running or batcher.closed):
            posts = await batcher.submit(model, texts, explain, owner=owner)
        else:
            posts = await _score_alone(request, model, texts, explain)
    except QueueFull as exc:
        request.state.reject_reason = "overloaded"
        raise ApiError(503, "overloaded", f"the server is busy: {exc.waiting} posts are waiting "
                       f"to be scored; retry in {exc.retry_after} s",
                       headers={"Retry-After": str(exc.retry_after)}) from None
    except BatcherClosed:
        request.state.reject_reason = "shutting_down"
        raise ApiError(503, "shutting-down", "the server is shutting down; retry shortly "
                       "(another worker or replica may answer)",
                       headers={"Retry-After": "5"}) from None
    except ModelFailed as exc:
        # the type only: the model's message could quote a text
        metrics.model_failures.inc()
        log.error("request_id=%s model failed on this request's texts: %s",
                  request.scope.get("state", {}).get("request_id"),
                  type(exc.__cause__).__name__)
        raise ApiError(500, "model-failed", "the model failed on the texts of this request "
                       "(other requests were not affected); the request id in the X-Request-ID "
                       "header identifies it in the server's log") from None
    metrics.observe_posts(posts)
    return posts


async def _score_alone(request: Request, model: Classifier, texts: list[str],
                       explain: bool) -> list[ScoredPost]:
    """One model call for one request (batching off)."""
    metrics: ApiMetrics = request.app.state.metrics
    start = anyio.current_time()
    try:
        posts = await run_model(request, model.score, texts, explain)
    except Exception as exc:
        raise ModelFailed(type(exc).__name__) from exc
    finally:
        seconds = anyio.current_time() - start
        metrics.batch_size.observe(len(texts))
        metrics.batch_requests.observe(1)
        metrics.model_seconds.observe(seconds)
    return posts


def model_info(model: Classifier) -> dict[str, str]:
    return {"id": model.name, "name": model.config.name, "version": model.config.version}

