"""The routes, one module per API, and the error answers each documents in the schema."""

from __future__ import annotations

from typing import Any

from ..schemas import PerspectiveError, Problem

_DESCRIPTIONS = {
    400: "malformed request (e.g. not JSON)",
    401: "missing or wrong API key",
    403: "not allowed: the key's role does not allow it (role-required), or the reviewer is "
         "the submitter (same-person)",
    404: "not found (feedback: unknown id, or feedback is off: WARNING_FEEDBACK_DB)",
    408: "the request body did not arrive within WARNING_BODY_TIMEOUT_SECONDS",
    409: "conflict (feedback: already reviewed)",
    413: "request body over WARNING_MAX_BODY_BYTES",
    415: "the body is not sent as JSON (Content-Type: application/json)",
    422: "valid JSON, but not a valid request (types, empty or too long texts, too many)",
    429: "rate limit of the key reached; see Retry-After",
    503: "the model is not loaded yet, the scoring queue is full or the server is shutting "
         "down; see Retry-After",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem+json error answers."""
    ref = {"$ref": "#/components/schemas/Problem"}
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code],
                   "content": {"application/problem+json": {"schema": ref}}}
            for code in codes}


def perspective_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for Perspective's error envelope."""
    return {code: {"model": PerspectiveError, "description": _DESCRIPTIONS[code]}
            for code in codes}


COMMON_ERRORS = (400, 401, 408, 413, 415, 422, 429, 503)
