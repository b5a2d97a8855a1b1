"""``POST /v1/moderations``: compatible with OpenAI's moderation endpoint, so that the official
``openai`` client (``client.moderations.create(input=...)``) works against this server.

Categories we assess, from our labels (README, "HTTP API"):

- ``hate`` <- hate;
- ``hate/threatening`` <- hate and threat both flagged; score min(hate, threat);
- ``harassment`` <- offensive;
- ``harassment/threatening`` <- offensive and threat both flagged; score min(offensive, threat);
- ``violence`` <- threat.

Every other OpenAI category (illicit, self-harm, sexual, violence/graphic, ...) is not assessed:
OpenAI's client requires the fields, so they are ``false`` and ``0.0``, listed in
``not_assessed`` and with no input type in ``category_applied_input_types``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Security

from warning.labels import ScoredPost

from ..deps import ClassifierDep, SettingsDep, bearer, check_texts, score_texts
from ..errors import ApiError
from ..schemas import OPENAI_CATEGORIES, ModerationRequest, ModerationResponse
from . import COMMON_ERRORS, problem_responses

router = APIRouter(tags=["openai"], dependencies=[Security(bearer)])

#: OpenAI category -> the labels it is made of (flagged when all are; score: their minimum).
CATEGORY_LABELS: dict[str, tuple[str, ...]] = {
    "hate": ("hate",),
    "hate/threatening": ("hate", "threat"),
    "harassment": ("offensive",),
    "harassment/threatening": ("offensive", "threat"),
    "violence": ("threat",),
}
NOT_ASSESSED = tuple(c for c in OPENAI_CATEGORIES if c not in CATEGORY_LABELS)


def moderation_result(post: ScoredPost) -> dict[str, object]:
    """OpenAI's moderation object for one scored post."""
    categories: dict[str, bool] = {}
    scores: dict[str, float] = {}
    applied: dict[str, list[str]] = {}
    not_assessed = list(NOT_ASSESSED)
    for name in OPENAI_CATEGORIES:
        labels = CATEGORY_LABELS.get(name)
        values = [post.scores.get(label) for label in labels or ()]
        if not labels or any(v is None for v in values):
            if labels:
                not_assessed.append(name)  # the model cannot score one of its labels
            categories[name], scores[name], applied[name] = False, 0.0, []
            continue
        categories[name] = all(label in post.flagged for label in labels)
        scores[name] = float(min(v for v in values if v is not None))
        applied[name] = ["text"]
    return {"flagged": any(categories.values()), "categories": categories,
            "category_scores": scores, "category_applied_input_types": applied,
            "not_assessed": [c for c in OPENAI_CATEGORIES if c in not_assessed]}


@router.post("/v1/moderations", response_model=ModerationResponse,
             responses=problem_responses(*COMMON_ERRORS))
async def moderations(body: ModerationRequest, request: Request, model: ClassifierDep,
                      settings: SettingsDep) -> ModerationResponse:
    """Classify one text or a list of texts, as OpenAI's moderation endpoint does."""
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    check_texts(texts, settings, what="input")
    posts = await score_texts(request, model, texts)
    failed = [i for i, post in enumerate(posts) if post.error]
    if failed:
        # OpenAI's answer has no per-input error, so one unscorable input (nothing readable
        # left once invisible characters are removed) refuses the request, naming its place
        where = "input" if isinstance(body.input, str) else f"input[{failed[0]}]"
        raise ApiError(422, "unscorable-text", f"{where} cannot be scored: "
                       f"{posts[failed[0]].error}; remove it or send it on its own",
                       param=where)
    return ModerationResponse.model_validate({
        "id": f"modr-{uuid.uuid4().hex}", "model": model.name,
        "results": [moderation_result(post) for post in posts]})
