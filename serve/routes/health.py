"""Operations: ``GET /health`` (model status), ``/healthz`` (liveness), ``/readyz``
(readiness), no key needed; ``GET /metrics`` (Prometheus; a key unless
``WARNING_METRICS_PUBLIC=1``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from ..auth import has_role
from ..deps import bearer
from ..errors import ApiError
from ..metrics import CONTENT_TYPE_LATEST
from . import problem_responses

router = APIRouter(tags=["health"])


class HealthResponse(BaseModel):
    status: str
    model: str | None


class LiveResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    """``ready``, or ``not-ready`` with the reason."""

    status: str
    model: str | None = None
    batching: bool
    reason: str | None = None


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> HealthResponse:
    """``ok`` with the model's ``name@version`` once it is loaded, ``loading`` before."""
    model = getattr(request.app.state, "classifier", None)
    return HealthResponse(status="ok" if model is not None else "loading",
                          model=model.name if model is not None else None)


@router.get("/healthz", response_model=LiveResponse)
async def healthz() -> LiveResponse:
    """Liveness: the process answers (the model need not be loaded)."""
    return LiveResponse(status="ok")


def not_ready_reason(request: Request) -> str | None:
    """Why the server cannot score now, or None when it can."""
    state = request.app.state
    if state.stopping:
        return "the server is shutting down"
    if state.classifier is None:
        if state.load_error:
            return f"the model failed to load ({state.load_error.split(':')[0]}); see the log"
        return "the model is loading"
    if state.batcher is not None and not state.batcher.running:
        return "the micro-batcher is not running"
    return None


@router.get("/readyz", response_model=ReadyResponse, response_model_exclude_none=True,
            responses={503: {"model": ReadyResponse,
                             "description": "not ready: the model is loading or failed to "
                                            "load, or the server is shutting down"}})
async def readyz(request: Request) -> ReadyResponse | JSONResponse:
    """Readiness: 200 once the model is loaded and the micro-batcher runs, else 503 with the
    reason (send no traffic until it answers 200)."""
    state = request.app.state
    model = state.classifier
    reason = not_ready_reason(request)
    answer = ReadyResponse(status="ready" if reason is None else "not-ready",
                           model=model.name if model is not None else None,
                           batching=state.batcher is not None, reason=reason)
    if reason is None:
        return answer
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=503,
                        headers={"Retry-After": "5"})


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Security(bearer)],
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
                             "description": "the metrics in Prometheus' text format"},
                       **problem_responses(401, 403)})
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics of this worker process: requests by route and status, latency,
    batch sizes, queue depth, posts scored and flagged per label, refused requests by reason.
    Never a text or a key. Needs an ``admin`` key unless ``WARNING_METRICS_PUBLIC=1``."""
    role = request.scope.get("state", {}).get("role")
    if not request.app.state.settings.metrics_public and not has_role(role, "admin"):
        raise ApiError(403, "role-required", f"/metrics needs a key with the role 'admin'; this "
                       f"key's role is '{role}' (give the scraper's key the role as admin:KEY, "
                       "or set WARNING_METRICS_PUBLIC=1 on a private network)")
    return PlainTextResponse(request.app.state.metrics.render(),
                             media_type=CONTENT_TYPE_LATEST)
