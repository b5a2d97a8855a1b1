"""Property-based tests of the API against hostile requests (issue 19): every route, with
generated paths, methods, keys, content types and bodies (hostile strings and names, wrong
types, deep nesting, integers of over 4,300 digits, huge fields). Invariants: no 5xx; no
submitted text, key or path in any log record."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

KEY = "test-key-5f0c1d2e3a4b"  # the key of tests/serve/conftest.py
REVIEWER = "reviewer-key-0a1b2c3d4e5f"
MARK = "zqsecret"
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))

ROUTES = [("POST", "/v1/score"), ("POST", "/v1/moderations"),
          ("POST", "/v1alpha1/comments:analyze"), ("POST", "/v1/feedback"),
          ("GET", "/v1/feedback"), ("GET", "/v1/feedback/{id}"),
          ("POST", "/v1/feedback/{id}/review"), ("DELETE", "/v1/feedback/{id}"),
          ("GET", "/health"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
          ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/{id}"),
          # the moderators' console and the routes it reads
          ("GET", "/v1/whoami"), ("GET", "/v1/review/queue"), ("GET", "/v1/review/export"),
          ("POST", "/v1alpha1/comments:suggestscore"), ("GET", "/console"),
          ("GET", "/console/{id}"), ("GET", "/console/en/{id}"), ("GET", "/console/static/{id}")]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["\r", "\n", "\x00", "\u2028", "\u200b", '"', "=", "%0A",
                              "\ud800", "ж", "😀", " ", MARK]), max_size=12).map("".join),
    st.integers(20_001, 25_000).map(lambda n: "x" * n),  # over WARNING_MAX_TEXT_CHARS
).map(lambda t: t + MARK)


def deep_body(depth: int) -> bytes:
    """A body nesting ``depth`` lists (built as text: json.dumps itself would recurse)."""
    return ('{"texts": ["a"], "x": ' + "[" * depth + json.dumps(MARK) + "]" * depth + "}"
            ).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["texts", "text", "input", "labels", "lang", "note",
                                        "decision", "explain", "comment",
                                        "requestedAttributes", "hate", "TOXICITY",
                                        "response_id", "model", "languages", MARK]),
                      children, max_size=5),
    max_leaves=12,
)

bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda text, labels: json.dumps({"text": text, "labels": labels}).encode(),
              hostile_text, st.dictionaries(st.sampled_from(["hate", "threat", "x"]),
                                            st.one_of(st.booleans(), st.none(),
                                                      st.just("no"), st.just(1)))),
    st.builds(lambda texts, explain: json.dumps({"texts": texts, "explain": explain}
                                                ).encode(),
              st.lists(hostile_text, max_size=4), st.booleans()),
    st.builds(lambda text: json.dumps({"comment": {"text": text},
                                       "requestedAttributes": {"TOXICITY": {}}}).encode(),
              hostile_text),
    st.builds(lambda text, value: json.dumps({
        "comment": {"text": text}, "communityId": text,
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}}}).encode(),
        hostile_text, st.one_of(st.floats(allow_nan=False), st.integers(), hostile_text)),
    st.integers(1, 3000).map(deep_body),
    # hostile names an error quotes or an answer echoes (attributes, languages, labels, tokens)
    st.builds(lambda name, text: json.dumps({
        "comment": {"text": "a"}, "requestedAttributes": {name: {}}, "languages": [text],
        "clientToken": text}).encode(), hostile_text, hostile_text),
    st.builds(lambda name: json.dumps({"text": "a post", "labels": {name: True}}).encode(),
              hostile_text),
    # integers longer than int() converts from text
    st.integers(4_301, 6_000).map(lambda n: b'{"texts": ["a"], "x": ' + b"9" * n + b"}"),
    st.binary(max_size=64),
)


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory, fake_classifier):
    """The app with the micro-batcher running (its lifespan entered once)."""
    from serve.app import create_app
    from serve.settings import ServeSettings

    db = tmp_path_factory.mktemp("fb") / "f.db"
    app = create_app(ServeSettings(api_keys=f"{KEY},review:{REVIEWER}", rate_burst=10**9,
                                   work_per_minute=1e12, work_burst=1e12,
                                   feedback_db=str(db)), classifier=fake_classifier)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.batcher.running
        yield client


@SETTINGS
@given(route=st.sampled_from(ROUTES), method=st.sampled_from(["GET", "POST", "DELETE", "PUT",
                                                               None]),
       item=st.one_of(st.just("fb-" + "0" * 32), hostile_text),
       key=st.sampled_from([KEY, REVIEWER, "wrong-key-0000000000", None]),
       content_type=st.sampled_from(["application/json", None, "application/jsonx",
                                     "text/plain", "application/x+json; charset=utf-8"]),
       body=bodies, query=st.sampled_from(["", f"?key={KEY}", f"?{MARK}=%0A"]))
def test_serve_hostile_requests_never_fail_the_server_or_reach_the_log(
        hostile_client, route, method, item, key, content_type, body, query) -> None:
    verb, template = route
    from urllib.parse import quote

    path = template.replace("{id}", quote(item.encode("utf-8", "surrogatepass"), safe="")) + query
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if content_type is not None:
        headers["Content-Type"] = content_type
    handler = _Capture()
    for name in ("serve", "serve.access", "uvicorn", "fastapi"):
        logging.getLogger(name).addHandler(handler)
    try:
        response = hostile_client.request(method or verb, path, content=body, headers=headers)
    finally:
        for name in ("serve", "serve.access", "uvicorn", "fastapi"):
            logging.getLogger(name).removeHandler(handler)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    for line in handler.lines:
        assert MARK not in line and KEY not in line and REVIEWER not in line, line
        assert "\n" not in line


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
