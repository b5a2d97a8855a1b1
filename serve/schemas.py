"""Request and response schemas of the three APIs (names say their role: STYLE.md item 13)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

# ---- errors ---------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    loc: str = Field(description="where in the request, e.g. body.texts.0")
    msg: str


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem (``application/problem+json``)."""

    type: str = Field(description="urn:early-warning:problem:<code>")
    title: str
    status: int
    detail: str = Field(description="what went wrong, in a sentence")
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None
    error: OpenAIErrorBody | None = Field(None, description="on /v1/moderations only: the "
                                          "same error in OpenAI's format")


class PerspectiveErrorDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type_: str = Field(alias="@type")
    errorType: str


class PerspectiveErrorBody(BaseModel):
    code: int
    message: str
    status: str
    details: list[PerspectiveErrorDetail] | None = None


class PerspectiveError(BaseModel):
    """Google's error envelope, as the Perspective API answers errors."""

    error: PerspectiveErrorBody


# ---- native: /v1/score ----------------------------------------------------------------------


class ScoreRequest(BaseModel):
    """Texts to score: one string or a list of strings."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["Ты тупой идиот", "Бүгүн Ошко барам"], "explain": False}]})

    texts: list[str] | str = Field(description="a text or a list of texts (at most "
                                   "WARNING_MAX_TEXTS, default 100)")
    explain: StrictBool = Field(False, description="add, per flagged label, the words that "
                                "drove it (slower: one extra model call per word)")


class LabelScores(BaseModel):
    """Calibrated probability per label; null for a label the model cannot score."""

    offensive: float | None
    hate: float | None
    threat: float | None
    extremism: float | None


class ScoreResult(BaseModel):
    """One scored text: the scored-post fields of DESIGN.md."""

    scores: LabelScores
    flagged: list[Literal["offensive", "hate", "threat", "extremism"]]
    lang: str | None = Field(description="ru, ky, kk, uz, tr, en or other")
    targets: list[str] = Field(description="identity groups the text mentions")
    risk: Literal["none", "low", "medium", "high"] | None
    review: bool = Field(description="true when a person should look")
    model: str = Field(description="name@version")
    explanation: dict[str, list[tuple[str, float]]] | None = Field(
        None, description="with explain: per flagged label, [word, log-odds drop] pairs")
    error: str | None = Field(None, description="only when the text could not be scored")
    id: str | None = Field(None, description="while feedback is on: the id to quote in "
                           "POST /v1/feedback as response_id (kept for "
                           "WARNING_RESPONSE_MEMORY_SECONDS)")


class ModelInfo(BaseModel):
    id: str = Field(description="name@version")
    name: str
    version: str


class ScoreResponse(BaseModel):
    model: ModelInfo
    results: list[ScoreResult] = Field(description="one per text, in order")


# ---- Perspective-compatible: /v1alpha1/comments:analyze ----------------------------------------


class PerspectiveComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    type: Literal["PLAIN_TEXT"] = "PLAIN_TEXT"


class AttributeParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scoreType: Literal["PROBABILITY"] = "PROBABILITY"
    scoreThreshold: float | None = Field(None, ge=0.0, le=1.0)


class AnalyzeCommentRequest(BaseModel):
    """Perspective's AnalyzeComment request (the fields this server reads)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "comment": {"text": "Ты тупой идиот"},
        "requestedAttributes": {"TOXICITY": {}, "THREAT": {}},
        "languages": ["ru"], "doNotStore": True}]})

    comment: PerspectiveComment
    requestedAttributes: dict[str, AttributeParameters]
    languages: list[str] | None = None
    doNotStore: StrictBool = False
    spanAnnotations: StrictBool = False
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = None
    context: dict[str, Any] | None = None


class PerspectiveScore(BaseModel):
    value: float
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SpanScore(BaseModel):
    begin: int
    end: int
    score: PerspectiveScore


class AttributeScores(BaseModel):
    summaryScore: PerspectiveScore
    spanScores: list[SpanScore] | None = None


class AnalyzeCommentResponse(BaseModel):
    attributeScores: dict[str, AttributeScores]
    languages: list[str]
    detectedLanguages: list[str]
    clientToken: str | None = None


class SuggestedScore(BaseModel):
    """The score a person thinks right: ``value`` 0-1 (0.5 or more: the attribute applies)."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SuggestedAttribute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summaryScore: SuggestedScore
    spanScores: list[SpanScore] | None = Field(None, description="accepted, not stored: a "
                                               "correction is kept per post, not per span")


class SuggestCommentScoreRequest(BaseModel):
    """Perspective's SuggestCommentScore request: a correction of a comment's scores."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "comment": {"text": "Ты тупой идиот"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1.0}},
                            "THREAT": {"summaryScore": {"value": 0.0}}},
        "languages": ["ru"], "communityId": "oblast-news", "clientToken": "c-17"}]})

    comment: PerspectiveComment
    attributeScores: dict[str, SuggestedAttribute]
    languages: list[str] | None = None
    communityId: str | None = Field(None, max_length=200)
    clientToken: str | None = None
    sessionId: str | None = None
    context: dict[str, Any] | None = None


class SuggestCommentScoreResponse(BaseModel):
    detectedLanguages: list[str]
    requestedLanguages: list[str]
    clientToken: str | None = None


# ---- OpenAI-compatible: /v1/moderations ---------------------------------------------------------

#: Every category of OpenAI's moderation result, in its order.
OPENAI_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)


def _category_model(name: str, kind: Any) -> type[BaseModel]:
    fields: dict[str, Any] = {c.replace("/", "_").replace("-", "_"): (kind, Field(alias=c))
                              for c in OPENAI_CATEGORIES}
    return create_model(name, __config__=ConfigDict(populate_by_name=True), **fields)


ModerationCategories = _category_model("ModerationCategories", bool)
ModerationCategoryScores = _category_model("ModerationCategoryScores", float)
ModerationAppliedInputTypes = _category_model("ModerationAppliedInputTypes", list[Literal["text"]])


class ModerationRequest(BaseModel):
    """OpenAI's moderation request; text inputs only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"input": ["Ты тупой идиот", "Бүгүн Ошко барам"]}]})

    input: str | list[str]
    model: str | None = Field(None, description="ignored: this server has one model")


class ModerationResult(BaseModel):
    flagged: bool
    categories: ModerationCategories  # type: ignore[valid-type]
    category_scores: ModerationCategoryScores  # type: ignore[valid-type]
    category_applied_input_types: ModerationAppliedInputTypes  # type: ignore[valid-type]
    not_assessed: list[str] = Field(description="categories this model does not assess: their "
                                    "false and 0.0 mean 'not assessed', not 'absent'")


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]
