"""``GET /health``: liveness and whether the model is loaded (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class HealthResponse(BaseModel):
    status: str
    model: str | None


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> HealthResponse:
    """``ok`` with the model's ``name@version`` once it is loaded, ``loading`` before."""
    model = getattr(request.app.state, "classifier", None)
    return HealthResponse(status="ok" if model is not None else "loading",
                          model=model.name if model is not None else None)
