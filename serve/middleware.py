"""The ASGI layer in front of every route: request id, access, rate and body-size limits, and
the access log.

In this order: each request gets an id (the ``X-Request-ID`` response header), and each answer
``Cache-Control: no-store`` unless its route set its own; a key is required
(401) unless the path is public or the server is open, and its role is put on the request; the
key's rate limit applies (429 with ``Retry-After``); a body that is not sent as JSON is refused
(415), one over the size limit (413) before anything parses it, one that takes longer than the
body timeout to arrive (408), a body that is not UTF-8 (400), JSON nested deeper than
:data:`warning.safe_io.MAX_JSON_DEPTH` (400), and a JSON integer of more digits than Python
converts from text, 4,300 (400). The log line of a request carries its id, method,
route template, status, duration, key id and number of texts: never a text, never a key, never
the raw path or the query string (a path can hold anything a client types, and Perspective
clients put their key in the query). The same pass counts the request in the Prometheus
metrics, by route template and status, and a refused one by its reason.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

import anyio
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warning.safe_io import MAX_JSON_DEPTH, JsonNumberTooLong, JsonTooDeep, json_loads

from .auth import KeyStore
from .errors import PERSPECTIVE_PREFIX, ApiError, error_response
from .limits import RateLimiter
from .metrics import REJECT_REASONS, ApiMetrics

__all__ = ["PUBLIC_PATHS", "PUBLIC_PREFIXES", "ApiMiddleware", "InFlight", "route_template"]

PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
                          "/health", "/healthz", "/readyz", "/console"})
#: the documentation page's local scripts and styles; the console's pages, scripts and styles
#: (they hold no data: the page asks for a key, and its scripts send it to the API)
PUBLIC_PREFIXES = ("/docs/static/", "/console/")

access_log = logging.getLogger("serve.access")
log = logging.getLogger("serve")

#: HTTP methods counted by name in the metrics; any other is counted as ``other``
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: An incoming ``X-Request-ID`` is kept when it matches this; otherwise a new id is made.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/v1/score``), or of the documented route
    the path matches when the request was refused before routing, or ``other``: metrics are
    labelled by it, never by a raw path, which a client could vary without bound."""
    route = scope.get("route")
    if isinstance(getattr(route, "path", None), str):
        return str(route.path)  # type: ignore[union-attr]
    app = scope.get("app")
    templates = getattr(getattr(app, "state", None), "route_templates", None)
    if templates is None and app is not None:
        templates = [(compile_path(path)[0], path) for path in app.openapi().get("paths", {})]
        app.state.route_templates = templates
    path = scope.get("path", "")
    for regex, template in templates or ():
        if regex.match(path):
            return str(template)
    if path.startswith("/console/"):
        return "/console"
    return "/docs/static" if path.startswith(PUBLIC_PREFIXES) else "other"


def _is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/SOMETHING+json``, with any parameters."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _shown(value: str) -> str:
    """A header value as quoted in an error: printable, at most 60 characters."""
    value = "".join(c if c.isprintable() else "?" for c in value)
    return repr(value[:60] + ("..." if len(value) > 60 else ""))


#: Bytes to ``0`` (a digit) or a space (anything else), to find long runs of digits with C
#: speed (a regular expression took 0.1 s over a 2 MB body).
_DIGIT_MARKS = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord(" ") for b in range(256))


def _long_digits(body: bytes) -> bool:
    """True when ``body`` has a run of more digits than ``int()`` converts from text (4,300):
    the only bodies that can hold a JSON integer Python refuses (a few ms for 2 MB)."""
    limit = sys.get_int_max_str_digits()
    if not limit or len(body) <= limit:
        return False
    marks = body.translate(_DIGIT_MARKS)
    return marks.count(b"0") > limit and b"0" * (limit + 1) in marks


def _query_key(scope: Scope) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("key")
    return values[0] if values else None


class InFlight:
    """The number of HTTP requests being handled now (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        return self.count


class ApiMiddleware:
    """Request ids, keys, rate limits, the body-size limit and the access log.

    Args:
        app: The wrapped ASGI app.
        keys: Accepted keys (hashed); None for an open server.
        limiter: The per-key rate limiter.
        max_body_bytes: Largest request body accepted.
        body_timeout: Seconds a client may take to send a request's body.
        metrics: Where requests, latencies and refusals are counted (None: nowhere).
        public_paths: Paths that need no key.
        in_flight: Counts the requests being handled (the micro-batcher reads it).
    """

    def __init__(self, app: ASGIApp, keys: KeyStore | None, limiter: RateLimiter,
                 max_body_bytes: int, metrics: ApiMetrics | None = None,
                 public_paths: frozenset[str] = PUBLIC_PATHS,
                 in_flight: InFlight | None = None, body_timeout: float = 30.0) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.keys = keys
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.public_paths = public_paths
        self.in_flight = in_flight if in_flight is not None else InFlight()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        request_id = (incoming if incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming)
                      else uuid.uuid4().hex)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder = {"status": 500}
        started = {"started": False}
        self.in_flight.count += 1

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                started["started"] = True
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    # answers hold posts, scores and one key's items: no cache may keep them
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            error, receive = await self._check(scope, receive, state)
            if error is not None and error.status == 415 and \
                    scope["path"].startswith(PERSPECTIVE_PREFIX):
                error.status = 400  # Perspective answers every malformed request with 400
            if error is not None:
                response = error_response(scope["path"], error, request_id)
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Never re-raise: the server would log a traceback, whose frames and message could
            # quote a submitted text. Log the type and the request id only.
            log.error("request_id=%s unexpected %s", request_id, type(exc).__name__)
            status_holder["status"] = 500
            if not started["started"]:
                response = error_response(scope["path"], ApiError(
                    500, "internal-error", "the server failed to answer; the request id in the "
                    "X-Request-ID header identifies it in the server's log"), request_id)
                await response(scope, receive, send_with_id)
        finally:
            self.in_flight.count -= 1
            if self.metrics is not None:
                self._count(scope, state, status_holder["status"], time.perf_counter() - start)
            method = str(scope.get("method"))
            access_log.info(
                "request_id=%s method=%s route=%s status=%s duration_ms=%.1f key=%s texts=%s",
                request_id, method if method in _METHODS else "other", route_template(scope),
                status_holder["status"],
                (time.perf_counter() - start) * 1000, state.get("key_id", "-"),
                state.get("n_texts", "-"))

    def _count(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        assert self.metrics is not None
        route = route_template(scope)
        method = str(scope.get("method"))
        # any token is a valid method on the wire: count the standard ones, the rest as other
        method = method if method in _METHODS else "other"
        self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
        self.metrics.latency.labels(route=route).observe(seconds)
        # a 503 is a refusal only where a route said why (not a /readyz probe's answer)
        reason = state.get("reject_reason") or REJECT_REASONS.get(status)
        if reason is not None and status >= 400:
            self.metrics.rejected.labels(reason=reason).inc()

    async def _check(self, scope: Scope, receive: Receive,
                     state: dict[str, Any]) -> tuple[ApiError | None, Receive]:
        path = scope["path"]
        if path in self.public_paths or path.startswith(PUBLIC_PREFIXES):
            return None, receive
        if self.keys is None:
            client = scope.get("client") or ("local", 0)
            state["key_id"] = "open"
            state["role"] = "admin"  # an open server: anyone who reaches it may do anything
            bucket = f"open:{client[0]}"
        else:
            auth = _header(scope, b"authorization") or ""
            scheme, _, token = auth.partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else None
            if key is None and path.startswith(PERSPECTIVE_PREFIX):
                key = _query_key(scope)
            if not key:
                return ApiError(401, "missing-key", "this server needs an API key: send it as "
                                "'Authorization: Bearer KEY'" + (" or as ?key=KEY"
                                if path.startswith(PERSPECTIVE_PREFIX) else ""),
                                headers={"WWW-Authenticate": "Bearer"}), receive
            kid = self.keys.check(key)
            if kid is None:
                return ApiError(401, "wrong-key", "the API key is not valid",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                                ), receive
            state["key_id"] = kid
            state["role"] = self.keys.role(kid)
            bucket = kid
        state["bucket"] = bucket  # whose work this is (limits, fair share of the model)
        wait = self.limiter.acquire(bucket)
        if wait > 0:
            after = RateLimiter.retry_after(wait)
            return ApiError(429, "rate-limited", f"too many requests for this key; retry in "
                            f"{after} s", headers={"Retry-After": after}), receive
        return await self._read_body(scope, receive)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[ApiError | None, Receive]:
        """Read the whole body, refusing it once it passes the limit (413), when it is not
        JSON (415), when it arrives too slowly (408), is not UTF-8 or nests too deep (400), and
        hand it on."""
        too_large = ApiError(413, "body-too-large", f"the request body is larger than "
                             f"{self.max_body_bytes:,} bytes")
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return too_large, receive
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return None, receive
        content_type = _header(scope, b"content-type")
        if not _is_json(content_type):
            return ApiError(415, "not-json", "send the body as JSON, with the header "
                            "'Content-Type: application/json' (got "
                            f"{_shown(content_type) if content_type else 'no Content-Type'})"
                            ), receive
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return ApiError(400, "client-disconnected", "the client went away "
                                        "before sending the whole body"), receive
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        return too_large, receive
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return ApiError(408, "body-timeout", f"the request body did not arrive within "
                            f"{self.body_timeout:g} seconds", headers={"Connection": "close"}
                            ), receive
        body = b"".join(chunks)
        utf8 = body  # what the checks below read
        # UTF-16/32 without a byte-order mark is told by the zeros in its first bytes: an
        # ASCII text in it is all ASCII bytes
        if not body.isascii() or b"\x00" in body[:4]:
            encoding = json.detect_encoding(body)
            try:  # as JSON readers decode it: UTF-8, or UTF-16/32 told by its first bytes
                text = body.decode(encoding)
            except UnicodeDecodeError as exc:
                return ApiError(400, "body-not-utf8", f"the request body is not UTF-8 (an "
                                f"invalid byte at position {exc.start:,}; saved as "
                                f"Windows-1251?): send the JSON encoded as UTF-8"), receive
            if not encoding.startswith("utf-8"):
                utf8 = text.encode("utf-8", errors="surrogatepass")
        if utf8.count(b"[") + utf8.count(b"{") > MAX_JSON_DEPTH or _long_digits(utf8):
            try:  # only a body with that many brackets can nest too deep, and only one with
                json_loads(utf8)  # that many digits in a row hold too long a number
            except JsonTooDeep:
                return ApiError(400, "json-too-deep", f"the request body nests JSON deeper "
                                f"than {MAX_JSON_DEPTH} levels"), receive
            except JsonNumberTooLong as exc:
                return ApiError(400, "json-number-too-long", f"the request body holds a "
                                f"number of {exc.digits:,} digits (at character "
                                f"{exc.pos + 1:,}); numbers of over {exc.limit:,} digits are "
                                f"refused"), receive
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass  # the route answers invalid JSON as it always does
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay
