"""``POST /v1/score``: the native API, one scored-post record per text."""

from __future__ import annotations

from fastapi import APIRouter, Request, Security

from ..deps import ClassifierDep, SettingsDep, bearer, check_texts, model_info, score_texts
from ..schemas import ScoreRequest, ScoreResponse
from . import COMMON_ERRORS, problem_responses
from .feedback import remember_responses

router = APIRouter(tags=["native"], dependencies=[Security(bearer)])


@router.post("/v1/score", response_model=ScoreResponse, response_model_exclude_unset=True,
             responses=problem_responses(*COMMON_ERRORS))
async def score(body: ScoreRequest, request: Request, model: ClassifierDep,
                settings: SettingsDep) -> ScoreResponse:
    """Score one text or many: per text, the scores per label, flags, language, identity
    groups, risk, review and (with ``explain``) the words behind each flag."""
    texts = [body.texts] if isinstance(body.texts, str) else list(body.texts)
    check_texts(texts, settings)
    posts = await score_texts(request, model, texts, body.explain)
    results = [post.to_dict() for post in posts]
    await remember_responses(request, texts, results)
    return ScoreResponse.model_validate({"model": model_info(model), "results": results})
