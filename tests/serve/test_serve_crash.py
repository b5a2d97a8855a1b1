"""A text that is not valid Unicode is refused by its place, and any crash of a route is
answered with a 500 that carries X-Request-ID, logged by type and request id only: no text ever
reaches a log record."""

import logging

import pytest
from fastapi.testclient import TestClient

from serve.app import get_classifier

SCORE, ANALYZE, MODERATE = "/v1/score", "/v1alpha1/comments:analyze", "/v1/moderations"
SECRET = "SECRET-TEXT-7f3a"
#: a JSON body with a lone surrogate, as a client can send it
SURROGATE = '"x\\ud800y ' + SECRET + '"'


def raw_body(route: str, text_json: str) -> str:
    if route == SCORE:
        return '{"texts": ["fine", ' + text_json + "]}"
    if route == ANALYZE:
        return '{"comment": {"text": ' + text_json + '}, "requestedAttributes": {"TOXICITY": {}}}'
    return '{"input": ["fine", ' + text_json + "]}"


def no_text_logged(caplog) -> None:
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args) and record.exc_info is None


@pytest.mark.parametrize("route", [SCORE, ANALYZE, MODERATE])
def test_lone_surrogate_is_refused_by_place_never_quoted(client, route, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        response = client.post(route, content=raw_body(route, SURROGATE),
                               headers={"Content-Type": "application/json"})
    assert SECRET not in response.text
    if route == ANALYZE:
        assert response.status_code == 400
        assert "comment.text" in response.json()["error"]["message"]
    else:
        assert response.status_code == 422
        where = "texts[1]" if route == SCORE else "input[1]"
        assert where in response.json()["detail"]
    assert response.headers["x-request-id"]
    no_text_logged(caplog)


class Crashing:
    """A model whose scoring fails with the text in the exception's message."""

    name = "crashing"

    def score(self, texts, explain=False):
        raise RuntimeError(f"failed on {texts!r}")


@pytest.mark.parametrize("route", [SCORE, ANALYZE, MODERATE])
def test_a_crash_is_a_500_with_request_id_and_no_text_in_logs(make_app, key, route,
                                                              caplog) -> None:
    app = make_app()
    app.dependency_overrides[get_classifier] = lambda: Crashing()
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    with caplog.at_level(logging.DEBUG):
        response = client.post(route, content=raw_body(route, '"' + SECRET + '"'),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert request_id and SECRET not in response.text
    if route == ANALYZE:
        assert response.json()["error"]["code"] == 500
    else:
        assert response.json()["status"] == 500
    no_text_logged(caplog)
    assert any(request_id in r.getMessage() and "RuntimeError" in r.getMessage()
               for r in caplog.records)


def test_a_crash_behind_uvicorn_logs_no_text(app, live_server, key, caplog) -> None:
    import httpx

    app.dependency_overrides[get_classifier] = lambda: Crashing()
    with caplog.at_level(logging.DEBUG):
        response = httpx.post(f"{live_server}{SCORE}",
                              content=raw_body(SCORE, SURROGATE.replace("\\ud800", "")),
                              headers={"Authorization": f"Bearer {key}",
                                       "Content-Type": "application/json"})
    assert response.status_code == 500 and response.headers["x-request-id"]
    no_text_logged(caplog)
