"""Error answers: RFC 9457 ``application/problem+json`` on the native and OpenAI-compatible
routes, Google's error envelope on the Perspective-compatible route (as Perspective answers).

An OpenAI-compatible problem also carries OpenAI's ``error`` member (``message``, ``type``,
``code``), so OpenAI clients show its message. No error message ever quotes a submitted text;
a name the client sent (a field, a label) is quoted shortened, with any lone surrogate replaced.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from warning.safe_io import json_problem, shown_name, without_surrogates

__all__ = [
    "PERSPECTIVE_PREFIX",
    "ApiError",
    "error_response",
    "install_error_handlers",
]

PERSPECTIVE_PREFIX = "/v1alpha1/"
OPENAI_PATHS = ("/v1/moderations",)
PROBLEM_TYPE = "urn:early-warning:problem:"

# Google's canonical status names, as Perspective writes them in ``error.status``
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                  404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 408: "DEADLINE_EXCEEDED",
                  413: "INVALID_ARGUMENT",
                  415: "INVALID_ARGUMENT",
                  422: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  503: "UNAVAILABLE"}
_OPENAI_TYPE = {401: "invalid_request_error", 429: "rate_limit_exceeded"}
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           409: "Conflict",
           405: "Method not allowed", 408: "Request timeout", 413: "Request body too large",
           415: "Unsupported media type",
           422: "Invalid request", 429: "Too many requests", 500: "Internal error",
           503: "Service unavailable"}

log = logging.getLogger("serve")


class ApiError(Exception):
    """An error answer, written in the format of the route it happened on.

    Args:
        status: HTTP status.
        code: Short machine-readable name (``text-too-long``), the end of the problem ``type``.
        detail: A clear sentence for the person who sent the request.
        perspective_error: Perspective's ``errorType`` (``COMMENT_EMPTY``, ...), when one fits.
        headers: Extra response headers (``Retry-After``, ``WWW-Authenticate``).
        errors: Per-field problems (``loc``, ``msg``), for validation errors.
        param: The request field at fault (``input[1]``), for OpenAI's ``error.param``.
    """

    def __init__(self, status: int, code: str, detail: str, *,
                 perspective_error: str | None = None, headers: dict[str, str] | None = None,
                 errors: list[dict[str, str]] | None = None,
                 param: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.perspective_error = perspective_error
        self.headers = headers or {}
        self.errors = errors
        self.param = param


def error_response(path: str, error: ApiError, request_id: str | None = None) -> JSONResponse:
    """The answer to ``error`` on the route at ``path``. A lone surrogate in what it says (a
    name the client sent, ``"\\ud800"`` in JSON) becomes U+FFFD: the answer is UTF-8, and one
    that cannot be encoded would be a 500 instead of the error."""
    detail = without_surrogates(error.detail)
    if path.startswith(PERSPECTIVE_PREFIX):
        body: dict[str, Any] = {"code": error.status, "message": detail,
                                "status": _GOOGLE_STATUS.get(error.status, "UNKNOWN")}
        if error.perspective_error:
            body["details"] = [{"@type": "type.googleapis.com/google.commentanalyzer."
                                         "v1alpha1.Error",
                                "errorType": error.perspective_error}]
        return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)
    problem: dict[str, Any] = {
        "type": PROBLEM_TYPE + error.code,
        "title": _TITLES.get(error.status, "Error"),
        "status": error.status,
        "detail": detail,
        "instance": without_surrogates(path),
    }
    if request_id:
        problem["request_id"] = request_id
    if error.errors:
        problem["errors"] = [{k: without_surrogates(v) for k, v in e.items()}
                             for e in error.errors]
    if path in OPENAI_PATHS:
        problem["error"] = {"message": detail,
                            "type": _OPENAI_TYPE.get(error.status, "invalid_request_error"),
                            "param": without_surrogates(error.param) if error.param else None,
                            "code": error.code}
    return JSONResponse(problem, status_code=error.status, headers=error.headers,
                        media_type="application/problem+json")


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    # a part can be a name the client sent (an unknown field, a key of labels), of any length
    return ".".join(shown_name(part) for part in loc)


def _validation_error(exc: RequestValidationError, content_type: str) -> ApiError:
    """A validation error, with messages and locations but never the submitted values."""
    errors = list(exc.errors())
    if "json" not in content_type.lower() and any(tuple(e.get("loc", ())) == ("body",)
                                                  for e in errors):
        return ApiError(415, "not-json",
                        "send the body as JSON, with the header 'Content-Type: "
                        f"application/json' (got {content_type or 'no Content-Type'})")
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        where = str(first.get("ctx", {}).get("error", ""))
        loc = tuple(first.get("loc", ()))
        if where and len(loc) == 2 and isinstance(loc[1], int):  # ("body", position)
            where = json_problem(where, f"position {loc[1]:,}")
        return ApiError(400, "malformed-json",
                        f"the request body is not valid JSON ({where})" if where else
                        "the request body is not valid JSON")
    items = [{"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]
    summary = "; ".join(f"{i['loc']}: {i['msg']}" for i in items[:5])
    if len(items) > 5:
        summary += f"; and {len(items) - 5} more"
    return ApiError(422, "invalid-request", f"the request does not match the schema: {summary}",
                    errors=items)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the format of its route."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request.url.path, exc, _request_id(request))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = _validation_error(exc, request.headers.get("content-type", ""))
        if request.url.path.startswith(PERSPECTIVE_PREFIX):
            error.status = 400  # Perspective answers every malformed request with 400
        return error_response(request.url.path, error, _request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = (f"no route {request.method} {request.url.path}; see /docs"
                  if exc.status_code in (404, 405) else str(exc.detail))
        return error_response(request.url.path, ApiError(exc.status_code, code, detail,
                                                         headers=dict(exc.headers or {})),
                              _request_id(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the type only: an exception's message could quote a text
        log.error("request_id=%s unexpected %s", _request_id(request), type(exc).__name__)
        return error_response(request.url.path, ApiError(
            500, "internal-error", "the server failed to answer; the request id in the "
                                   "X-Request-ID header identifies it in the server's log"),
            _request_id(request))
