"""Each misuse is answered with the right status and a clear message, in the format of its
route: problem+json on /v1/score and /v1/moderations, Google's envelope on the Perspective
route."""

import json
import logging

import pytest
from fastapi.testclient import TestClient

SCORE, ANALYZE, MODERATE = "/v1/score", "/v1alpha1/comments:analyze", "/v1/moderations"


def body(route: str, text: object) -> dict:
    if route == SCORE:
        return {"texts": text}
    if route == ANALYZE:
        return {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
    return {"input": text}


def message(response) -> str:
    """The clear message of an error, in either format."""
    data = response.json()
    if response.request.url.path == ANALYZE:
        assert response.headers["content-type"].startswith("application/json")
        assert data["error"]["code"] == response.status_code
        return data["error"]["message"]
    assert response.headers["content-type"] == "application/problem+json"
    assert data["status"] == response.status_code and data["type"].startswith("urn:")
    if response.request.url.path == MODERATE:
        assert data["error"]["message"] == data["detail"]  # OpenAI's error member
    return data["detail"]


def perspective_error_type(response) -> str | None:
    details = response.json()["error"].get("details") or [{}]
    return details[0].get("errorType")


ROUTES = [SCORE, ANALYZE, MODERATE]


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_no_key_is_401(app, route) -> None:
    response = TestClient(app).post(route, json=body(route, "hello"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in message(response) and "Bearer" in message(response)


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_wrong_key_is_401(app, route) -> None:
    client = TestClient(app, headers={"Authorization": "Bearer not-the-key"})
    response = client.post(route, json=body(route, "hello"))
    assert response.status_code == 401 and "not valid" in message(response)


def test_misuse_perspective_takes_the_key_in_the_query(app, key) -> None:
    client = TestClient(app)
    assert client.post(f"{ANALYZE}?key={key}", json=body(ANALYZE, "hi")).status_code == 200
    assert client.post(f"{ANALYZE}?key=wrong", json=body(ANALYZE, "hi")).status_code == 401
    # only there: the native route does not read keys from URLs (they end up in logs)
    assert client.post(f"{SCORE}?key={key}", json=body(SCORE, "hi")).status_code == 401


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_malformed_json_is_400(client, route) -> None:
    response = client.post(route, content=b'{"texts": ["a",', headers={
        "Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in message(response)


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_malformed_json_names_the_problem_and_where(client, route) -> None:
    response = client.post(route, content=b'{"texts": ["a\tb"]}', headers={
        "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "(Invalid control character at position 13)" in message(response)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("encoding", ["cp1251", "latin-1"])
def test_misuse_a_body_not_in_utf8_says_so(client, route, encoding) -> None:
    # a body saved as Windows-1251 ("ANSI" in Notepad) or Latin-1 is not JSON's UTF-8
    raw = json.dumps(body(route, "Привет, café"), ensure_ascii=False)
    response = client.post(route, content=raw.encode(encoding, errors="replace"), headers={
        "Content-Type": "application/json; charset=windows-1251"})
    assert response.status_code == 400
    assert "not UTF-8" in message(response) and "Привет" not in message(response)
    # UTF-8 with a byte-order mark, and UTF-16, which JSON readers detect, are still read
    for data in (b"\xef\xbb\xbf" + raw.encode(), raw.encode("utf-16")):
        response = client.post(route, content=data, headers={
            "Content-Type": "application/json"})
        assert response.status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_a_body_not_sent_as_json_says_so(client, route) -> None:
    response = client.post(route, content=b"texts=hello", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == (400 if route == ANALYZE else 415)
    assert "Content-Type: application/json" in message(response)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("value", [42, [1, 2], None, {"a": "b"}])
def test_misuse_wrong_types_are_refused_with_the_field(client, route, value) -> None:
    response = client.post(route, json=body(route, value))
    assert response.status_code == (400 if route == ANALYZE else 422)
    text = message(response)
    assert "does not match the schema" in text
    field = {SCORE: "texts", ANALYZE: "comment.text", MODERATE: "input"}[route]
    assert field in text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("text", ["", "   \n"])
def test_misuse_empty_text(client, route, text) -> None:
    response = client.post(route, json=body(route, text))
    if route == ANALYZE:
        assert response.status_code == 400 and perspective_error_type(response) == "COMMENT_EMPTY"
        assert "non-empty" in message(response)
    else:
        assert response.status_code == 422 and "is empty" in message(response)


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_a_100_kb_text(client, route) -> None:
    response = client.post(route, json=body(route, "слово " * 17_000))  # 102,000 characters
    if route == ANALYZE:
        assert response.status_code == 400
        assert perspective_error_type(response) == "COMMENT_TOO_LONG"
    else:
        assert response.status_code == 422
        assert "102,000 characters; the limit is 20,000" in message(response)


@pytest.mark.parametrize("route", [SCORE, MODERATE])
def test_misuse_too_many_texts(client, route) -> None:
    response = client.post(route, json=body(route, ["hi"] * 101))
    assert response.status_code == 422
    assert "101 texts in one request; the limit is 100" in message(response)


@pytest.mark.parametrize("route", [SCORE, MODERATE])
def test_misuse_no_texts(client, route) -> None:
    response = client.post(route, json=body(route, []))
    assert response.status_code == 422 and "at least one text" in message(response)


@pytest.mark.parametrize("attribute", ["SEVERE_TOXICITY", "PROFANITY", "SEXUALLY_EXPLICIT",
                                       "FLIRTATION", "NO_SUCH_THING"])
def test_misuse_an_attribute_we_do_not_model_gets_an_error_never_a_score(client,
                                                                          attribute) -> None:
    response = client.post(ANALYZE, json={"comment": {"text": "you idiot"},
                                          "requestedAttributes": {"TOXICITY": {},
                                                                  attribute: {}}})
    assert response.status_code == 400
    assert perspective_error_type(response) == "ATTRIBUTE_NOT_SUPPORTED"
    assert attribute in message(response) and "attributeScores" not in response.json()


def test_misuse_unknown_field_is_refused(client) -> None:
    response = client.post(SCORE, json={"texts": ["hi"], "explian": True})
    assert response.status_code == 422 and "explian" in message(response)


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_body_over_the_limit_is_413_before_parsing(make_app, key, route) -> None:
    client = TestClient(make_app(max_body_bytes=2048),
                        headers={"Authorization": f"Bearer {key}"})
    response = client.post(route, content=b"{" + b" " * 4096 + b"}",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "2,048 bytes" in message(response)


@pytest.mark.parametrize("route", ROUTES)
def test_misuse_rate_limit_is_429_with_retry_after(make_app, key, route) -> None:
    client = TestClient(make_app(rate_burst=2, rate_per_minute=6),
                        headers={"Authorization": f"Bearer {key}"})
    statuses = [client.post(route, json=body(route, "hi")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.post(route, json=body(route, "hi"))
    assert response.status_code == 429 and 1 <= int(response.headers["retry-after"]) <= 10
    assert "too many requests" in message(response)


def test_misuse_rate_limits_are_per_key(make_app) -> None:
    app = make_app(api_keys="first-key-0000000000,second-key-000000000", rate_burst=1,
                   rate_per_minute=1)
    first = TestClient(app, headers={"Authorization": "Bearer first-key-0000000000"})
    second = TestClient(app, headers={"Authorization": "Bearer second-key-000000000"})
    assert first.post(SCORE, json={"texts": "a"}).status_code == 200
    assert first.post(SCORE, json={"texts": "a"}).status_code == 429
    assert second.post(SCORE, json={"texts": "a"}).status_code == 200


def test_misuse_unknown_route_is_a_problem(client) -> None:
    response = client.get("/v1/nothing")
    assert response.status_code == 404 and "no route GET /v1/nothing" in message(response)


def test_logs_carry_ids_and_timings_never_texts_or_keys(client, key, caplog) -> None:
    secret = "Секретный текст модератора idiot"
    with caplog.at_level(logging.DEBUG):
        client.post(SCORE, json={"texts": [secret, "b"]})
        client.post(f"{ANALYZE}?key={key}", json=body(ANALYZE, secret))
        client.post(SCORE, json={"texts": secret + " " * 30_000})
    # the server's records (the test's HTTP client logs its own URLs)
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "asyncio"))]
    assert server and all("Секретный" not in r.getMessage() and key not in r.getMessage()
                          for r in server)
    access = [r.getMessage() for r in server if r.name == "serve.access"]
    assert len(access) == 3
    assert "route=/v1/score status=200" in access[0] and "texts=2" in access[0]
    assert "duration_ms=" in access[0] and "request_id=" in access[0] and "key=" in access[0]
    assert "?key" not in access[1]
