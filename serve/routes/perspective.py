"""``POST /v1alpha1/comments:analyze``: compatible with Google's Perspective API, so that a
moderation tool written for Perspective switches by changing its base URL (and key).

Attributes map to our labels (README, "HTTP API"): TOXICITY and INSULT to ``offensive``,
IDENTITY_ATTACK to ``hate``, THREAT to ``threat``. Any other attribute, Perspective's own
(SEVERE_TOXICITY, PROFANITY, SEXUALLY_EXPLICIT, FLIRTATION, ...) or unknown, is answered with an
error, never with a made-up score.

``POST /v1alpha1/comments:suggestscore`` is Perspective's SuggestCommentScore: a person's
correction of a comment's scores. Each attribute's ``summaryScore.value`` says what the person
thinks right (0.5 or more: the attribute applies); mapped through the same table, two
attributes of one label (TOXICITY and INSULT) give it true when either applies. The suggestion
is stored as *pending* feedback, with the scores the model gives the comment now, and reaches
the review queue like any other correction (it reaches training only once another key confirms
it). It needs feedback on (``WARNING_FEEDBACK_DB``); any key may send one.
"""

from __future__ import annotations

import logging
import re

import anyio
from fastapi import APIRouter, Request, Security

from warning.feedback.store import InvalidFeedback
from warning.labels import LANGUAGES, ScoredPost
from warning.safe_io import shown_name

from ..deps import ClassifierDep, SettingsDep, bearer, encodes_to_utf8, query_key, score_texts
from ..errors import ApiError
from ..schemas import (
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    SuggestCommentScoreRequest,
    SuggestCommentScoreResponse,
)
from . import perspective_responses
from .feedback import _identity, get_store

log = logging.getLogger("serve")
router = APIRouter(tags=["perspective"], dependencies=[Security(bearer), Security(query_key)])

#: Perspective attribute -> our label.
ATTRIBUTE_LABELS = {
    "TOXICITY": "offensive",
    "INSULT": "offensive",
    "IDENTITY_ATTACK": "hate",
    "THREAT": "threat",
}
#: Languages the model is trained for (Kyrgyz, Kazakh and Uzbek weakly: see the model card).
SUPPORTED_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != "other")


_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w]+$")


def _language(code: str) -> str:
    """``en-US`` -> ``en``; ``KY`` -> ``ky``."""
    return code.strip().replace("_", "-").split("-")[0].lower()


def _occurrences(text: str, word: str, flags: int = 0) -> list[int]:
    """Where ``word`` occurs in ``text`` as a whole word (not inside another word)."""
    pattern = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", flags)
    return [m.start() for m in pattern.finditer(text)]


def span_scores(text: str, summary: float,
                words: list[tuple[str, float]]) -> list[dict[str, object]]:
    """Spans for the words of an explanation: offsets ``[begin, end)`` into the original text,
    in Unicode code points (Python ``str`` indices), and as score the attribute's summary score
    times the word's log-odds drop relative to the strongest word's (so the strongest word
    scores as the whole comment).

    A word is matched as a whole word (so "ты" is not found inside "идиоты"), with its case
    first and then case-insensitively; a word the explanation gives twice maps to successive
    occurrences, never twice to the same span. Approximate: the explanation's words come from
    the normalised text, and one the normalisation changed beyond recognition is left out.

    Example:
        >>> [s["begin"] for s in span_scores("идиоты, ты идиот идиот", 0.9,
        ...                                  [("идиот", 2.0), ("ты", 1.0), ("идиот", 1.5)])]
        [8, 11, 17]
    """
    strongest = max((drop for _, drop in words), default=0.0)
    if strongest <= 0:
        return []
    used: set[int] = set()
    spans = []
    for raw, drop in words:
        word = _EDGE_PUNCTUATION.sub("", raw) or raw  # "IDIOT," -> "IDIOT"
        if not word:
            continue
        begin = next((at for at in _occurrences(text, word) if at not in used), None)
        if begin is None:
            begin = next((at for at in _occurrences(text, word, re.IGNORECASE)
                          if at not in used), None)
        if begin is None:
            continue
        used.add(begin)
        spans.append({"begin": begin, "end": begin + len(word),
                      "score": {"value": round(summary * drop / strongest, 4),
                                "type": "PROBABILITY"}})
    return sorted(spans, key=lambda s: s["begin"])  # type: ignore[arg-type,return-value]


def _check(body: AnalyzeCommentRequest | SuggestCommentScoreRequest, max_chars: int) -> list[str]:
    """The request's languages, after refusing what Perspective refuses."""
    text = body.comment.text
    attributes, field = ((body.requestedAttributes, "requestedAttributes")
                         if isinstance(body, AnalyzeCommentRequest)
                         else (body.attributeScores, "attributeScores"))
    if not encodes_to_utf8(text):
        raise ApiError(400, "comment-not-utf8", "comment.text is not valid Unicode (it "
                       "contains a lone surrogate): send text that encodes to UTF-8.")
    if body.clientToken is not None and not encodes_to_utf8(body.clientToken):
        # the answer echoes it: refused here, not a 500 when the answer is encoded
        raise ApiError(400, "client-token-not-utf8", "clientToken is not valid Unicode (it "
                       "contains a lone surrogate): send text that encodes to UTF-8.")
    if not text.strip():
        raise ApiError(400, "comment-empty", "Comment must be non-empty.",
                       perspective_error="COMMENT_EMPTY")
    if len(text) > max_chars:
        raise ApiError(400, "comment-too-long", f"Comment text too long: {len(text):,} "
                       f"characters; the limit is {max_chars:,}.",
                       perspective_error="COMMENT_TOO_LONG")
    if not attributes:
        raise ApiError(400, "no-attributes", f"{field} must name at least one "
                       f"attribute; this server models {', '.join(ATTRIBUTE_LABELS)}.")
    for name in attributes:
        if name not in ATTRIBUTE_LABELS:
            raise ApiError(400, "attribute-not-supported",
                           f"Requested attribute {shown_name(name)} is not supported by this "
                           f"server; it models {', '.join(ATTRIBUTE_LABELS)} only (see the "
                           f"README's mapping).", perspective_error="ATTRIBUTE_NOT_SUPPORTED")
    languages = [_language(code) for code in body.languages or ()]
    unsupported = [code for code, lang in zip(body.languages or (), languages, strict=True)
                   if lang not in SUPPORTED_LANGUAGES]
    if unsupported:
        first = next(iter(attributes))
        raise ApiError(400, "language-not-supported",
                       f"Attribute {first} does not support request languages: "
                       f"{', '.join(map(shown_name, unsupported[:5]))}"
                       f"{' ...' if len(unsupported) > 5 else ''}. Supported: "
                       f"{', '.join(SUPPORTED_LANGUAGES)}.",
                       perspective_error="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    return list(dict.fromkeys(languages))


@router.post("/v1alpha1/comments:analyze", response_model=AnalyzeCommentResponse,
             response_model_exclude_none=True,
             responses=perspective_responses(400, 401, 413, 429, 503))
async def analyze(body: AnalyzeCommentRequest, request: Request, model: ClassifierDep,
                  settings: SettingsDep) -> AnalyzeCommentResponse:
    """Perspective's AnalyzeComment. ``doNotStore`` is accepted and always true here: this
    server stores nothing."""
    languages = _check(body, settings.max_text_chars)
    text = body.comment.text
    (post,) = await score_texts(request, model, [text], body.spanAnnotations)
    if post.error:
        raise ApiError(400, "comment-empty", f"Comment cannot be scored: {post.error}.",
                       perspective_error="COMMENT_EMPTY")
    return AnalyzeCommentResponse.model_validate(_answer(body, post, languages, text))


def _answer(body: AnalyzeCommentRequest, post: ScoredPost, languages: list[str],
            text: str) -> dict[str, object]:
    scores: dict[str, object] = {}
    for name, params in body.requestedAttributes.items():
        label = ATTRIBUTE_LABELS[name]
        value = post.scores.get(label)
        if value is None:
            raise ApiError(400, "attribute-not-supported", f"Requested attribute {name} is not "
                           f"scored by the model {post.model} (its label {label} is null).",
                           perspective_error="ATTRIBUTE_NOT_SUPPORTED")
        if params.scoreThreshold is not None and value < params.scoreThreshold:
            continue
        entry: dict[str, object] = {"summaryScore": {"value": value, "type": "PROBABILITY"}}
        if body.spanAnnotations:
            words = (post.explanation or {}).get(label, [])
            entry["spanScores"] = span_scores(text, value, words)
        scores[name] = entry
    detected = [post.lang] if post.lang in SUPPORTED_LANGUAGES else []
    return {"attributeScores": scores, "languages": languages or detected,
            "detectedLanguages": detected, "clientToken": body.clientToken}


#: A suggested score at or above this means the attribute applies.
SUGGESTION_APPLIES = 0.5


@router.post("/v1alpha1/comments:suggestscore", response_model=SuggestCommentScoreResponse,
             response_model_exclude_none=True,
             responses=perspective_responses(400, 401, 404, 413, 429, 503))
async def suggest_score(body: SuggestCommentScoreRequest, request: Request, model: ClassifierDep,
                        settings: SettingsDep) -> SuggestCommentScoreResponse:
    """Perspective's SuggestCommentScore: store the scores a person thinks right as a pending
    correction (feedback), for another key to confirm or reject."""
    languages = _check(body, settings.max_text_chars)
    store = get_store(request)
    labels: dict[str, bool] = {}
    for name, suggested in body.attributeScores.items():
        label = ATTRIBUTE_LABELS[name]
        labels[label] = labels.get(label, False) or suggested.summaryScore.value >= \
            SUGGESTION_APPLIES
    text = body.comment.text
    (post,) = await score_texts(request, model, [text])
    if post.error:
        raise ApiError(400, "comment-empty", f"Comment cannot be scored: {post.error}.",
                       perspective_error="COMMENT_EMPTY")
    note = (f"suggested with comments:suggestscore, communityId {body.communityId}"
            if body.communityId else "suggested with comments:suggestscore")
    submitter = _identity(request)
    try:
        item = await anyio.to_thread.run_sync(lambda: store.submit(
            text, labels, submitter=submitter, note=note,
            lang=languages[0] if languages else post.lang, model=post.model,
            scores=post.scores, max_text_chars=settings.max_text_chars))
    except InvalidFeedback as exc:
        raise ApiError(400, "invalid-suggestion", str(exc)) from None
    log.info("feedback %s submitted by %s (suggestscore)", item.id, item.submitter)
    detected = [post.lang] if post.lang in SUPPORTED_LANGUAGES else []
    return SuggestCommentScoreResponse(detectedLanguages=detected,
                                       requestedLanguages=languages,
                                       clientToken=body.clientToken)
