"""The app factory: settings, keys, limits and error handlers; the model loads in ``lifespan``.

Example:
    >>> from serve.app import create_app
    >>> from serve.settings import ServeSettings
    >>> app = create_app(ServeSettings(api_keys="a-long-secret-key"))   # doctest: +SKIP
    >>> # uvicorn.run(app)  -- or `warning serve`
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from pydantic import SecretStr

from warning import __version__
from warning.models.classifier import Classifier

from .auth import MIN_KEY_CHARS, KeyStore
from .batcher import MicroBatcher
from .deps import (  # re-exported: these names were defined here before serve/deps.py
    ClassifierDep,
    SettingsDep,
    check_texts,
    encodes_to_utf8,
    get_classifier,
    get_settings_dep,
    model_info,
    run_model,
    score_texts,
)
from .errors import PERSPECTIVE_PREFIX, install_error_handlers
from .lanes import Lane, ProcessLane, ThreadLane
from .limits import RateLimiter, WorkLimiter, text_units
from .metrics import ApiMetrics
from .middleware import PUBLIC_PATHS, ApiMiddleware, InFlight
from .settings import ServeSettings, SettingsError, get_settings

__all__ = ["ClassifierDep", "SettingsDep", "create_app", "get_classifier", "get_settings_dep",
           "score_texts"]

log = logging.getLogger("serve")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

def create_app(settings: ServeSettings | None = None,
               classifier: Classifier | None = None) -> FastAPI:
    """Build the API.

    Args:
        settings: The settings (default: read from the environment by :func:`get_settings`).
        classifier: A loaded model; when None, ``lifespan`` loads ``settings.model`` (or the
            shipped default) once, at start-up.

    Raises:
        SettingsError: No API key is set and ``WARNING_OPEN_ACCESS=1`` is not either, or a
            key is shorter than 16 characters.
    """
    settings = settings if settings is not None else get_settings()
    keys = settings.keys()
    if not keys and not settings.open_access:
        raise SettingsError(
            "no API key is set: set WARNING_API_KEYS (comma-separated) or WARNING_API_KEYS_FILE "
            "(one key per line), or WARNING_OPEN_ACCESS=1 for a server anyone who can reach it "
            "may use")
    short = [i for i, k in enumerate(keys, 1) if len(k) < MIN_KEY_CHARS]
    if short and not settings.open_access:
        raise SettingsError(
            f"API keys must be at least {MIN_KEY_CHARS} characters long; "
            f"{len(short)} of the {len(keys)} keys from WARNING_API_KEYS and "
            f"WARNING_API_KEYS_FILE (key number {', '.join(map(str, short))}, counting "
            "WARNING_API_KEYS first) are shorter: make long random ones, e.g. with "
            "python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    if keys and settings.open_access:
        log.warning("WARNING_OPEN_ACCESS=1 and keys are set: the keys are ignored")
    entries = settings.key_entries()
    roleless = sum(role is None for _key, role in entries)
    if roleless and not settings.open_access:
        log.info("%d of %d API keys have no role and act as %r "
                 "(WARNING_DEFAULT_KEY_ROLE); give a key its role as ROLE:KEY", roleless,
                 len(entries), settings.default_key_role)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading: asyncio.Task[None] | None = None
        if app.state.classifier is None:
            if settings.load_in_background:
                loading = asyncio.create_task(_load_model(app, settings.model))
            else:
                await _load_model(app, settings.model, background=False)
        batcher: MicroBatcher | None = app.state.batcher
        if batcher is not None:
            await batcher.start()
        try:
            yield
        finally:
            app.state.stopping = True
            if loading is not None and not loading.done():
                loading.cancel()
            if batcher is not None:
                await batcher.stop()

    app = FastAPI(
        title="early-warning API",
        version=__version__,
        description="Scores posts for offensive language, hate speech and threats (ru, ky, "
                    "kk, uz, tr, en). Native `/v1/score`, a Perspective-compatible "
                    "`/v1alpha1/comments:analyze` (and `comments:suggestscore`) and an "
                    "OpenAI-compatible `/v1/moderations`. The moderators' console is at "
                    "`/console`. "
                    "No text is logged; none is stored unless feedback (`/v1/feedback`, "
                    "reviewed corrections) is switched on.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by .docs (no CDN: air-gapped machines)
        redoc_url=None,
    )
    # from here on the keys live only as hashes in the KeyStore
    app.state.settings = settings.model_copy(update={"api_keys": SecretStr(""),
                                                     "api_keys_file": None})
    app.state.classifier = classifier
    app.state.model_limiter = anyio.CapacityLimiter(1)
    app.state.work_limiter = WorkLimiter(settings.work_per_minute, settings.work_burst)
    _install_ops(app, settings, own_model=classifier is None)
    app.add_middleware(ApiMiddleware,
                       keys=None if settings.open_access else KeyStore(
                           entries, settings.default_key_role),
                       limiter=RateLimiter(settings.rate_per_minute, settings.rate_burst),
                       max_body_bytes=settings.max_body_bytes,
                       metrics=app.state.metrics,
                       public_paths=PUBLIC_PATHS | ({"/metrics"} if settings.metrics_public
                                                    else set()),
                       in_flight=app.state.in_flight,
                       body_timeout=settings.body_timeout_seconds)
    install_error_handlers(app)

    from .docs import install_docs
    from .routes import feedback, health, native, openai_compat, perspective, review

    feedback.setup_feedback(app, settings, keys)
    for module in (native, perspective, openai_compat, health, review, feedback):
        app.include_router(module.router)
    install_docs(app)
    if settings.console:
        from .console import install_console

        install_console(app)
    _drop_422_on_perspective(app)
    return app


def _install_ops(app: FastAPI, settings: ServeSettings, own_model: bool) -> None:
    """The metrics, the micro-batcher (started in ``lifespan``) and the readiness state.
    ``own_model``: the app loads its model itself (from ``settings.model``), so model
    processes can load the same one."""
    metrics = ApiMetrics()
    app.state.metrics = metrics
    in_flight = app.state.in_flight = InFlight()
    metrics.requests_in_flight.set_function(in_flight)
    app.state.stopping = False
    app.state.load_error = None
    app.state.batcher = None
    if settings.batching:
        def on_batch(posts: int, requests: int, seconds: float) -> None:
            metrics.batch_size.observe(posts)
            metrics.batch_requests.observe(requests)
            metrics.model_seconds.observe(seconds)

        lanes: list[Lane] = [ThreadLane(app.state.model_limiter)]
        if own_model:
            lanes += [ProcessLane(settings.model, mirrors=lambda: app.state.classifier,
                                  nice=settings.model_process_nice)
                      for _ in range(settings.model_processes)]
        batcher = MicroBatcher(settings.batch_max_posts, settings.batch_max_wait_ms,
                               settings.queue_max_posts, limiter=app.state.model_limiter,
                               on_batch=on_batch, in_flight=in_flight,
                               max_units=settings.batch_max_units, cost=text_units,
                               lanes=lanes, bulk_max_units=settings.model_process_max_units)
        app.state.batcher = batcher
        metrics.track_queue(lambda: batcher.depth)


async def _load_model(app: FastAPI, path: Any, background: bool = True) -> None:
    """Load the model in a worker thread; in the background, a failure is kept for
    ``/readyz`` (the server stays up to say why) instead of stopping the server."""
    try:
        model = await anyio.to_thread.run_sync(Classifier.load, path,
                                               abandon_on_cancel=background)
    except Exception as exc:
        if not background:
            raise
        app.state.load_error = f"{type(exc).__name__}: {exc}"
        log.error("the model failed to load: %s", app.state.load_error)
        return
    app.state.classifier = model
    log.info("model %s loaded", model.name)


def _drop_422_on_perspective(app: FastAPI) -> None:
    """The Perspective route answers invalid requests with 400, as Perspective does; FastAPI
    documents a 422 for every route with a body, so take it out of that route's schema."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        for path, item in schema.get("paths", {}).items():
            if path.startswith(PERSPECTIVE_PREFIX):
                for operation in item.values():
                    operation.get("responses", {}).pop("422", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``, one per
    worker). A worker process logs like ``warning serve`` does (no-op where logging is set)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app()


__all__ += ["SettingsError", "app_from_env", "check_texts", "encodes_to_utf8", "model_info",
            "run_model"]
