"""What a hostile client found (issue 19): log injection through the path, slow headers and
bodies, bodies not sent as JSON, JSON nested too deep, loose booleans, echoed fields, invisible
feedback texts, key roles, and one key's work starving another's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from fixtures.services import uvicorn_thread

from serve.auth import KeyStore, key_id, split_role
from serve.batcher import MicroBatcher
from serve.limits import WorkLimiter, text_units, work_units
from serve.settings import ServeSettings

KEY = "test-key-5f0c1d2e3a4b"  # the key of tests/serve/conftest.py
REVIEWER = "reviewer-key-0a1b2c3d4e5f"
ADMIN = "admin-key-0a1b2c3d4e5f6a7b"
SECRET = "SECRET-TEXT-91ab"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def roles_app(make_app, tmp_path):
    return make_app(api_keys=f"{KEY},review:{REVIEWER},admin:{ADMIN}",
                    feedback_db=str(tmp_path / "f.db"))


# ---- 4: the access log --------------------------------------------------------------------


def test_hardening_access_log_names_the_route_template_never_the_path(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="serve.access"):
        client.get(f"/no/such/{SECRET}%0Arequest_id=forged status=200")
        client.get("/v1/feedback/fb-123%0Aforged")
        client.post("/v1/score", json={"texts": [SECRET]})
    lines = [r.getMessage() for r in caplog.records if r.name == "serve.access"]
    assert len(lines) == 3
    assert all(SECRET not in line and "forged" not in line and "\n" not in line
               for line in lines)
    assert "route=other " in lines[0] and "route=/v1/feedback/{item_id} " in lines[1]
    assert "route=/v1/score " in lines[2]


def test_hardening_answers_are_not_kept_by_caches(roles_app) -> None:
    """Answers hold posts, scores and one key's feedback: a shared proxy or the browser's
    cache must not keep them (a route that sets its own Cache-Control keeps it)."""
    client = TestClient(roles_app)
    answers = [client.post("/v1/score", json={"texts": [SECRET]}, headers=auth(KEY)),
               client.get("/v1/review/queue", headers=auth(REVIEWER)),
               client.get("/v1/whoami", headers=auth(KEY)),
               client.get("/v1/review/queue")]  # refused (401): no-store as well
    assert [a.status_code for a in answers] == [200, 200, 200, 401]
    assert all(a.headers["cache-control"] == "no-store" for a in answers)
    assert client.get("/v1/review/queue", headers=auth(REVIEWER)).headers.get_list(
        "cache-control") == ["no-store"]


# ---- 5: slow clients ----------------------------------------------------------------------


@contextlib.contextmanager
def _live(app, header_timeout: float) -> Iterator[int]:
    """The app behind uvicorn with the guarded protocol, in a thread; yields its port."""
    from serve.protocol import GuardedH11Protocol

    class Protocol(GuardedH11Protocol):
        pass

    Protocol.header_timeout = header_timeout
    with uvicorn_thread(app, http=Protocol) as port:
        yield port


def _read_all(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed."""
    sock.settimeout(limit)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data, time.monotonic()
        data += chunk


def test_hardening_slow_headers_are_cut_off(app) -> None:
    with _live(app, header_timeout=0.5) as port:
        # one header line at a time, slower than the deadline allows
        with socket.create_connection(("127.0.0.1", port)) as sock:
            start = time.monotonic()
            sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.3)
            sock.sendall(b"X-Slow: 1\r\n")
            data, closed = _read_all(sock, 5)
        assert data.startswith(b"HTTP/1.1 408") and closed - start < 2
        # a connection that never sends a byte is closed too, without an answer
        with socket.create_connection(("127.0.0.1", port)) as sock:
            start = time.monotonic()
            data, closed = _read_all(sock, 5)
        assert data == b"" and closed - start < 2
        # a normal request on a keep-alive connection is not cut off
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for _ in range(2):
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.settimeout(5)
                answer = b""
                while not answer.endswith(b'"ok"}'):
                    chunk = sock.recv(4096)
                    assert chunk, f"the keep-alive connection was closed after {answer!r}"
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200")
                time.sleep(0.3)


def test_hardening_slow_body_is_a_408_and_the_connection_closes(make_app, key) -> None:
    app = make_app(body_timeout_seconds=0.5)
    with _live(app, header_timeout=5) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            start = time.monotonic()
            sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                         b"\r\nContent-Length: 100\r\nAuthorization: Bearer " + key.encode()
                         + b"\r\n\r\n{\"texts\": ")
            data, closed = _read_all(sock, 5)
        assert data.startswith(b"HTTP/1.1 408") and b"body-timeout" in data
        assert closed - start < 3


# ---- 7 and 2: bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "application/jsonx", "text/plain",
                                          "application/x-www-form-urlencoded"])
def test_hardening_a_body_not_sent_as_json_is_415(client, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/score", content=b'{"texts": ["hello"]}', headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["type"].endswith(":not-json")
    perspective = client.post("/v1alpha1/comments:analyze", content=b"{}", headers=headers)
    assert perspective.status_code == 400  # Perspective answers every malformed request so


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_hardening_json_content_types_are_accepted(client, content_type) -> None:
    response = client.post("/v1/score", content=b'{"texts": ["hello"]}',
                           headers={"Content-Type": content_type})
    assert response.status_code == 200


@pytest.mark.parametrize("route,body", [
    ("/v1/score", '{"texts": ["a"], "x": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    ("/v1alpha1/comments:analyze", '{"comment": {"text": "a"}, "requestedAttributes": '
     '{"TOXICITY": {}}, "context": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}"),
])
def test_hardening_json_nested_too_deep_is_a_400(client, route, body) -> None:
    response = client.post(route, content=body.encode(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "deeper than" in response.text


HUGE = "9" * 5000  # int() refuses over 4,300 digits with a ValueError, not a JSONDecodeError


@pytest.mark.parametrize("route,body", [
    ("/v1/score", '{"texts": ["a"], "x": ' + HUGE + "}"),
    ("/v1/score", '{"texts": [-' + HUGE + "]}"),
    ("/v1/moderations", '{"input": "a", "model": ' + HUGE + "}"),
    ("/v1/feedback", '{"text": "a", "labels": {"hate": ' + HUGE + "}}"),
    ("/v1alpha1/comments:analyze", '{"comment": {"text": "a"}, "requestedAttributes": '
     '{"TOXICITY": {"scoreThreshold": ' + HUGE + "}}}"),
])
def test_hardening_json_integer_too_long_is_a_clear_400(client, route, body) -> None:
    response = client.post(route, content=body.encode(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    if route.startswith("/v1alpha1/"):
        message = answer["error"]["message"]
    else:
        message = answer["detail"]
        assert answer["type"].endswith(":json-number-too-long")
    assert "a number of 5,000 digits (at character " in message
    assert "over 4,300 digits are refused" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le", "utf-32-be"])
def test_hardening_json_integer_too_long_is_found_in_utf16_and_never_in_a_text(
        client, encoding) -> None:
    """With a byte-order mark or without (JSON readers tell UTF-16/32 by the first bytes'
    zeros, and an ASCII text in them is all ASCII bytes)."""
    body = '{"texts": ["a"], "x": ' + HUGE + "}"
    response = client.post("/v1/score", content=body.encode(encoding),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"].endswith(":json-number-too-long")
    assert "(at character 23)" in response.json()["detail"]
    nested = client.post("/v1/score", content=("[" * 20_000).encode(encoding),
                         headers={"Content-Type": "application/json"})
    assert nested.status_code == 400
    assert nested.json()["type"].endswith(":json-too-deep")
    fine = client.post("/v1/score", content='{"texts": ["a"]}'.encode(encoding),
                       headers={"Content-Type": "application/json"})
    assert fine.status_code == 200, fine.text


def test_hardening_digits_in_a_text_are_text(client) -> None:
    digits = client.post("/v1/score", json={"texts": [HUGE, "1" * 4000 + ".5 " + HUGE]})
    assert digits.status_code == 200  # digits in a text are text


@pytest.mark.parametrize("route,body", [
    ("/v1alpha1/comments:analyze", {"comment": {"text": "a"},
                                    "requestedAttributes": {"\ud800X": {}}}),
    ("/v1alpha1/comments:analyze", {"comment": {"text": "a"}, "languages": ["\ud800"],
                                    "requestedAttributes": {"TOXICITY": {}}}),
    ("/v1alpha1/comments:analyze", {"comment": {"text": "a"}, "clientToken": "\ud800",
                                    "requestedAttributes": {"TOXICITY": {}}}),
    ("/v1alpha1/comments:suggestscore", {"comment": {"text": "a"}, "clientToken": "\ud800",
                                         "attributeScores": {"TOXICITY": {
                                             "summaryScore": {"value": 1}}}}),
    ("/v1alpha1/comments:suggestscore", {"comment": {"text": "a"}, "attributeScores": {
        "\ud800X": {"summaryScore": {"value": 1}}}}),
    ("/v1/feedback", {"text": "a post", "labels": {"\ud800X": True}}),
], ids=["attribute", "language", "client-token", "suggest-client-token", "suggest-attribute",
        "label"])
def test_hardening_a_lone_surrogate_in_a_name_is_an_error_not_a_500(make_app, tmp_path,
                                                                    route, body) -> None:
    """JSON's "\\ud800" decodes to a character no UTF-8 answer can hold: an error that quoted
    it (an attribute, a language, a label) or an answer that echoed it (clientToken) failed to
    encode. Now quoted as U+FFFD, or refused."""
    client = TestClient(make_app(feedback_db=str(tmp_path / "f.db")), headers=auth(KEY))
    response = client.post(route, content=json.dumps(body).encode(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert "\ufffd" in response.text or "clientToken is not valid Unicode" in response.text


def test_hardening_a_long_attribute_or_language_is_quoted_shortened(client) -> None:
    long_name = SECRET * 50
    for extra in ({"requestedAttributes": {long_name: {}}},
                  {"requestedAttributes": {"TOXICITY": {}}, "languages": [long_name] * 9}):
        response = client.post("/v1alpha1/comments:analyze",
                               json={"comment": {"text": "a"}, **extra})
        assert response.status_code == 400
        assert response.text.count(SECRET) <= 20 and len(response.text) < 1000


def test_hardening_booleans_are_json_booleans(client, make_app, tmp_path) -> None:
    for value in ("no", "false", 1, 0, "true"):
        response = client.post("/v1/score", json={"texts": ["hi"], "explain": value})
        assert response.status_code == 422, value
    fb = TestClient(make_app(feedback_db=str(tmp_path / "f.db")), headers=auth(KEY))
    for value in ("no", "false", 1, "yes"):
        response = fb.post("/v1/feedback", json={"text": "post", "labels": {"hate": value}})
        assert response.status_code == 422, value
    assert fb.post("/v1/feedback", json={"text": "post", "labels": {"hate": False}}
                   ).status_code == 201


def test_hardening_feedback_never_echoes_a_long_field(make_app, tmp_path) -> None:
    fb = TestClient(make_app(feedback_db=str(tmp_path / "f.db")), headers=auth(KEY))
    long = "Q" * 100_000
    for body in ({"text": "post", "lang": long, "labels": {"hate": True}},
                 {"text": "post", "lang": "qq", "labels": {"hate": True}},
                 {"response_id": long, "labels": {"hate": True}}):
        response = fb.post("/v1/feedback", json=body)
        assert response.status_code == 422
        assert "QQQQ" not in response.text and len(response.text) < 2000


def test_hardening_feedback_never_echoes_a_long_label_or_field_name(make_app,
                                                                    tmp_path) -> None:
    # a name the client sent (an unknown label, an unknown field) is named in the error, but
    # never more than 60 characters of it: it could be a post pasted in the wrong place
    fb = TestClient(make_app(api_keys=f"review:{KEY}", feedback_db=str(tmp_path / "f.db")),
                    headers=auth(KEY))
    long = "Q" * 100_000
    for path, body in (("/v1/feedback", {"text": "post", "labels": {long: True}}),
                       ("/v1/feedback", {"text": "post", "labels": {long: "yes"}}),
                       ("/v1/feedback", {"text": "post", "labels": {"hate": True}, long: 1}),
                       ("/v1/feedback/fb-1/review", {"decision": "confirm", long: 1})):
        response = fb.post(path, json=body)
        assert response.status_code == 422, path
        assert "Q" * 61 not in response.text and len(response.text) < 2000, path
        assert "Q" * 60 in response.text, path  # still named, shortened


@pytest.mark.parametrize("text", ["\u200b\u200c\u200d", "\ufeff\u2060", " \u00ad "])
def test_hardening_feedback_text_of_invisible_characters_is_empty(make_app, tmp_path,
                                                                  text) -> None:
    fb = TestClient(make_app(feedback_db=str(tmp_path / "f.db")), headers=auth(KEY))
    response = fb.post("/v1/feedback", json={"text": text, "labels": {"hate": True}})
    assert response.status_code == 422 and response.json()["type"].endswith(":empty-text")


# ---- 8: roles -----------------------------------------------------------------------------


def test_hardening_key_entries_carry_roles(tmp_path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# moderators\nreview:{REVIEWER}\n{ADMIN}\n", encoding="utf-8")
    settings = ServeSettings(api_keys=f"admin:{KEY}, plain-key-000000000",
                             api_keys_file=keys)
    assert settings.key_entries() == [(KEY, "admin"), ("plain-key-000000000", None),
                                      (REVIEWER, "review"), (ADMIN, None)]
    assert settings.keys() == [KEY, "plain-key-000000000", REVIEWER, ADMIN]
    store = KeyStore(settings.key_entries(), default_role="submit")
    assert store.role(key_id(KEY)) == "admin" and store.role(key_id(ADMIN)) == "submit"
    assert split_role("key:with:colons-000") == (None, "key:with:colons-000")
    assert KeyStore([(KEY, None)], default_role="admin").role(key_id(KEY)) == "admin"


def test_hardening_submit_keys_cannot_list_review_or_delete_others_items(roles_app) -> None:
    submitter = TestClient(roles_app, headers=auth(KEY))
    reviewer = TestClient(roles_app, headers=auth(REVIEWER))
    admin = TestClient(roles_app, headers=auth(ADMIN))
    mine = submitter.post("/v1/feedback", json={"text": SECRET, "labels": {"hate": True}}
                          ).json()
    theirs = reviewer.post("/v1/feedback", json={"text": "other", "labels": {"hate": True}}
                           ).json()
    for response in (submitter.get("/v1/feedback"),
                     submitter.get(f"/v1/feedback/{theirs['id']}"),
                     submitter.post(f"/v1/feedback/{theirs['id']}/review",
                                    json={"decision": "confirm"}),
                     submitter.delete(f"/v1/feedback/{theirs['id']}"),
                     submitter.get("/metrics"), reviewer.get("/metrics")):
        assert response.status_code == 403, response.request.url
        assert response.json()["type"].endswith(":role-required")
        assert SECRET not in response.text
    assert submitter.get(f"/v1/feedback/{mine['id']}").json()["text"] == SECRET
    assert reviewer.get("/v1/feedback").json()["counts"]["pending"] == 2
    assert admin.get("/metrics").status_code == 200
    # a confirmed item: only a review or admin key deletes it, not even its submitter
    assert reviewer.post(f"/v1/feedback/{mine['id']}/review",
                         json={"decision": "confirm"}).status_code == 200
    assert submitter.delete(f"/v1/feedback/{mine['id']}").status_code == 403
    assert admin.delete(f"/v1/feedback/{mine['id']}").status_code == 204
    # the submitter may withdraw its own pending item
    again = submitter.post("/v1/feedback", json={"text": "oops", "labels": {"hate": True}}
                           ).json()
    assert submitter.delete(f"/v1/feedback/{again['id']}").status_code == 204


def test_hardening_a_submitter_cannot_delete_an_item_confirmed_while_it_deletes(
        roles_app, monkeypatch) -> None:
    """The submitter's delete reads the item (pending), then deletes it: a review confirming
    it between the two must keep it, and the submitter is refused."""
    import dataclasses

    submitter = TestClient(roles_app, headers=auth(KEY))
    reviewer = TestClient(roles_app, headers=auth(REVIEWER))
    mine = submitter.post("/v1/feedback", json={"text": "post", "labels": {"hate": True}}
                          ).json()
    store = roles_app.state.feedback
    read = store.get

    def confirmed_right_after_the_read(item_id: str):
        item = read(item_id)
        reviewer.post(f"/v1/feedback/{item_id}/review", json={"decision": "confirm"})
        return dataclasses.replace(item, status="pending")

    monkeypatch.setattr(store, "get", confirmed_right_after_the_read)
    response = submitter.delete(f"/v1/feedback/{mine['id']}")
    assert response.status_code == 403 and response.json()["type"].endswith(":role-required")
    monkeypatch.undo()
    assert reviewer.get(f"/v1/feedback/{mine['id']}").json()["status"] == "confirmed"


def test_hardening_metrics_public_needs_no_role(make_app) -> None:
    client = TestClient(make_app(metrics_public=True))
    assert client.get("/metrics").status_code == 200


# ---- 6: work limits and fair scheduling ---------------------------------------------------


def test_hardening_work_units_charge_length_and_explanations() -> None:
    assert text_units("hi") == 0.1 and text_units("x" * 20_000) == 20.0
    assert work_units(["x" * 20_000] * 100) == 2000.0
    assert work_units(["one two three"], explain=True, explain_max_words=2) == 0.3
    clock = [0.0]
    limiter = WorkLimiter(per_minute=60, burst=10, clock=lambda: clock[0])
    assert limiter.charge("a", 2000) == 0.0  # larger than the burst: let in once, charged
    assert limiter.charge("a", 0.1) == pytest.approx(1990.0)
    assert limiter.charge("b", 0.1) == 0.0  # another key is not affected
    clock[0] = 1991.0
    assert limiter.charge("a", 0.1) == 0.0


def test_hardening_a_heavy_key_is_refused_by_work_not_by_requests(make_app, key) -> None:
    client = TestClient(make_app(work_per_minute=60, work_burst=5), headers=auth(key))
    assert client.post("/v1/score", json={"texts": ["x" * 6000]}).status_code == 200
    refused = client.post("/v1/score", json={"texts": ["short"]})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["type"].endswith(":work-limit")


class Timed:
    """Takes 1 ms per 100 characters; records each call's texts."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, texts, explain=False):
        self.calls.append(list(texts))
        time.sleep(sum(len(t) for t in texts) / 100_000)
        return list(texts)


def test_hardening_a_light_key_waits_for_one_call_not_for_a_heavy_backlog() -> None:
    model = Timed()

    async def main() -> tuple[float, list[str]]:
        batcher = MicroBatcher(max_posts=32, max_wait_ms=1, max_queue=100_000, max_units=2,
                               cost=text_units)
        await batcher.start()
        try:
            heavy = [asyncio.create_task(batcher.submit(model, ["h" * 5000] * 40, owner="A"))
                     for _ in range(3)]  # 600 units queued: 6 s of model time
            await asyncio.sleep(0.2)
            start = time.monotonic()
            result = await batcher.submit(model, ["light"], owner="B")
            waited = time.monotonic() - start
            for task in heavy:
                task.cancel()
            return waited, result
        finally:
            await batcher.stop()

    waited, result = asyncio.run(main())
    assert result == ["light"]
    assert waited < 0.5  # one call of A's (50 ms) at most, then its own, never the backlog
    light_call = next(i for i, call in enumerate(model.calls) if call == ["light"])
    assert all("light" not in call for call in model.calls if call != ["light"])
    assert light_call <= 6  # a few of A's calls ran before B arrived, then B's
    assert all(len(call) == 1 for call in model.calls)  # a 5-unit text is a call of its own


def test_hardening_pieces_of_one_request_come_back_in_order() -> None:
    model = Timed()

    async def main() -> list[list[str]]:
        batcher = MicroBatcher(max_posts=3, max_wait_ms=1, max_queue=1000, max_units=0.25,
                               cost=text_units)
        await batcher.start()
        try:
            return await asyncio.gather(
                batcher.submit(model, [f"a{i}" for i in range(7)], owner="A"),
                batcher.submit(model, [f"b{i}" for i in range(2)], owner="B"))
        finally:
            await batcher.stop()

    first, second = asyncio.run(main())
    assert first == [f"a{i}" for i in range(7)] and second == ["b0", "b1"]
    assert max(len(call) for call in model.calls) <= 2  # 0.25 units: two short texts a call
