"""``/v1/feedback``: submit (by text or by a /v1/score result's id), review by another key only,
read, list, delete; validation errors naming the field; feedback switched off."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from serve.recent import RecentResponses, ResponseExpired, ResponseUnknown
from warning.feedback import FeedbackStore

KEY = "test-key-5f0c1d2e3a4b"  # the key of tests/serve/conftest.py
OTHER_KEY = "second-moderator-key-77aa"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "feedback.db"


@pytest.fixture
def fb_app(make_app, db):
    return make_app(api_keys=f"review:{KEY},review:{OTHER_KEY}", feedback_db=str(db))


@pytest.fixture
def first(fb_app) -> TestClient:
    return TestClient(fb_app, headers={"Authorization": f"Bearer {KEY}"})


@pytest.fixture
def second(fb_app) -> TestClient:
    return TestClient(fb_app, headers={"Authorization": f"Bearer {OTHER_KEY}"})


def _submit(client: TestClient, **body: object):
    return client.post("/v1/feedback", json={"labels": {"hate": True}, **body})


def test_serve_feedback_life_cycle_by_text(first, second, db) -> None:
    response = _submit(first, text="Kyrgyz people are vermin", labels={"hate": True,
                       "threat": None}, note="missed")
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["status"] == "pending" and item["labels"] == {"hate": True}
    assert "text" not in item  # not echoed back
    assert item["submitter"].startswith("key:") and KEY not in response.text
    assert item["lang"] == "en" and item["response_id"] is None

    shown = first.get(f"/v1/feedback/{item['id']}").json()
    assert shown["text"] == "Kyrgyz people are vermin" and shown["note"] == "missed"
    queue = second.get("/v1/feedback", params={"status": "pending"}).json()
    assert [i["id"] for i in queue["items"]] == [item["id"]]
    assert queue["counts"] == {"pending": 1, "confirmed": 0, "rejected": 0}

    refused = first.post(f"/v1/feedback/{item['id']}/review", json={"decision": "confirm"})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith(":same-person")
    reviewed = second.post(f"/v1/feedback/{item['id']}/review",
                           json={"decision": "confirm", "note": "agreed"})
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert (body["status"], body["review_note"]) == ("confirmed", "agreed")
    assert body["reviewer"].startswith("key:") and body["reviewer"] != item["submitter"]
    again = second.post(f"/v1/feedback/{item['id']}/review", json={"decision": "reject"})
    assert again.status_code == 409 and again.json()["type"].endswith(":already-reviewed")
    assert first.get("/v1/feedback", params={"status": "pending"}).json()["items"] == []

    with FeedbackStore(db, create=False) as store:  # what the CLI's export reads
        assert [i.id for i in store.items("confirmed")] == [item["id"]]

    assert first.delete(f"/v1/feedback/{item['id']}").status_code == 204
    gone = first.get(f"/v1/feedback/{item['id']}")
    assert gone.status_code == 404 and gone.json()["type"].endswith(":feedback-not-found")
    assert first.delete(f"/v1/feedback/{item['id']}").status_code == 404


def test_serve_feedback_identity_survives_a_restart(make_app, db) -> None:
    """Four eyes across restarts: key ids of the access log change, feedback identities not."""
    app1 = make_app(api_keys=f"review:{KEY},review:{OTHER_KEY}", feedback_db=str(db))
    item = _submit(TestClient(app1, headers={"Authorization": f"Bearer {KEY}"}),
                   text="post", lang="en").json()
    app2 = make_app(api_keys=f"review:{KEY},review:{OTHER_KEY}", feedback_db=str(db))
    same = TestClient(app2, headers={"Authorization": f"Bearer {KEY}"})
    assert same.post(f"/v1/feedback/{item['id']}/review",
                     json={"decision": "reject"}).status_code == 403


def test_serve_feedback_by_response_id(first, second) -> None:
    scored = first.post("/v1/score", json={"texts": ["Ты тупой идиот", "Бүгүн Ошко барам"]})
    assert scored.status_code == 200
    results = scored.json()["results"]
    ids = [r["id"] for r in results]
    assert all(i.startswith("resp-") for i in ids) and len(set(ids)) == 2

    response = _submit(second, response_id=ids[0], labels={"offensive": False},
                       note="a quote")
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["response_id"] == ids[0] and item["model"] == "fake@0.0.1"
    assert item["scores"] == results[0]["scores"] and item["lang"] == "ru"
    assert first.get(f"/v1/feedback/{item['id']}").json()["text"] == "Ты тупой идиот"

    unknown = _submit(first, response_id="resp-" + "0" * 32)
    assert unknown.status_code == 422
    problem = unknown.json()
    assert problem["type"].endswith(":unknown-response-id")
    assert problem["errors"][0]["loc"] == "body.response_id"


def test_serve_feedback_expired_response_id(first, fb_app) -> None:
    now = [1000.0]
    fb_app.state.recent_responses = RecentResponses(fb_app.state.feedback, 10, 60,
                                                    clock=lambda: now[0])
    rid = first.post("/v1/score", json={"texts": "Ты тупой идиот"}).json()["results"][0]["id"]
    now[0] = 1061.0
    expired = _submit(first, response_id=rid)
    assert expired.status_code == 422
    assert expired.json()["type"].endswith(":response-id-expired")
    assert "WARNING_RESPONSE_MEMORY_SECONDS" in expired.json()["detail"]


def test_serve_recent_responses_are_bounded_and_expire(db) -> None:
    now = [0.0]
    with FeedbackStore(db) as store:
        memory = RecentResponses(store, max_items=2, max_age_s=10, clock=lambda: now[0])
        a = memory.add("a", "en", {"hate": 0.1}, "m@1")
        now[0] = 1.0
        b = memory.add("b", "en", {"hate": 0.2}, "m@1")
        c = memory.add("c", "en", {"hate": 0.3}, "m@1")
        assert len(memory) == 2
        with pytest.raises(ResponseUnknown):
            memory.get(a)  # dropped for room
        assert memory.get(b).text == "b"
        now[0] = 11.5
        with pytest.raises(ResponseExpired):
            memory.get(c)
        assert len(memory) == 0  # the expired ones are deleted, not only hidden
        memory.add("d", "en", {"hate": 0.4}, "m@1")
        assert len(memory) == 1


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_serve_response_id_from_one_replica_is_corrected_through_another(make_app, db, backend,
                                                                       request) -> None:
    """Replicas share nothing but the database: a response scored by one app is named by id
    in feedback sent to another, reviewed through a third, and the texts of expired responses
    leave the database."""
    location = request.getfixturevalue("postgres_url") if backend == "postgres" else str(db)
    # (default_key_role: both keys may review, where keys have roles)
    apps = [make_app(api_keys=f"{KEY},{OTHER_KEY}", feedback_db=location,
                     default_key_role="admin") for _ in range(3)]
    one, two, three = (TestClient(app, headers={"Authorization": f"Bearer {key}"})
                       for app, key in zip(apps, (KEY, KEY, OTHER_KEY), strict=True))
    scored = one.post("/v1/score", json={"texts": ["Ты тупой идиот"]}).json()["results"][0]
    item = _submit(two, response_id=scored["id"], labels={"offensive": False}).json()
    assert item["scores"] == scored["scores"] and item["model"] == "fake@0.0.1"
    assert two.post(f"/v1/feedback/{item['id']}/review",
                    json={"decision": "confirm"}).status_code == 403  # the same key
    reviewed = three.post(f"/v1/feedback/{item['id']}/review", json={"decision": "confirm"})
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "confirmed"
    assert one.get(f"/v1/feedback/{item['id']}").json()["text"] == "Ты тупой идиот"


def test_serve_feedback_database_down_answers_503_and_scoring_goes_on(make_app, db) -> None:
    """While the database cannot be reached, feedback says so (503, nothing stored) and
    scoring still answers, without response ids."""
    from sqlalchemy.exc import OperationalError

    app = make_app(api_keys=f"{KEY},{OTHER_KEY}", feedback_db=str(db))
    client = TestClient(app, headers={"Authorization": f"Bearer {KEY}"})
    store = app.state.feedback

    def down(*args: object, **kwargs: object):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    store.submit = down
    store.add_responses = down
    response = _submit(client, text="a post", lang="en")
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith(":feedback-db-unavailable")
    assert response.headers["Retry-After"] == "5"
    scored = client.post("/v1/score", json={"texts": ["a post"]})
    assert scored.status_code == 200 and "id" not in scored.json()["results"][0]


def test_serve_score_has_no_ids_while_feedback_is_off(client) -> None:
    result = client.post("/v1/score", json={"texts": "hello"}).json()["results"][0]
    assert "id" not in result


@pytest.mark.parametrize(
    ("body", "status", "code", "loc"),
    [
        ({"labels": {"hate": True}}, 422, "text-or-response-id", "body.text"),
        ({"text": "x", "response_id": "resp-1", "labels": {"hate": True}}, 422,
         "text-or-response-id", "body.text"),
        ({"text": "   ", "labels": {"hate": True}}, 422, "empty-text", "body.text"),
        ({"text": "x" * 101, "labels": {"hate": True}}, 422, "text-too-long", "body.text"),
        ({"text": "post", "labels": {}}, 422, "invalid-feedback", "body.labels"),
        ({"text": "post", "labels": {"hate": None}}, 422, "invalid-feedback", "body.labels"),
        ({"text": "post", "labels": {"toxicity": True}}, 422, "invalid-feedback",
         "body.labels.toxicity"),
        ({"text": "post", "labels": {"extremism": True}}, 422, "invalid-feedback",
         "body.labels.extremism"),
        ({"text": "post", "labels": {"hate": True}, "lang": "de"}, 422, "invalid-feedback",
         "body.lang"),
        ({"text": "post", "labels": {"hate": "maybe"}}, 422, "invalid-request",
         "body.labels.hate"),
        ({"text": "post"}, 422, "invalid-request", "body.labels"),
        ({"text": "post", "labels": {"hate": True}, "author": "x"}, 422, "invalid-request",
         "body.author"),
    ],
)
def test_serve_feedback_validation_names_the_field(make_app, db, body, status, code,
                                                   loc) -> None:
    app = make_app(feedback_db=str(db), max_text_chars=100)
    client = TestClient(app, headers={"Authorization": f"Bearer {KEY}"})
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"].endswith(f":{code}")
    assert any(e["loc"].startswith(loc) for e in problem["errors"]), problem
    assert response.headers["content-type"] == "application/problem+json"
    with FeedbackStore(db, create=False) as store:
        assert store.items() == []


def test_serve_feedback_review_decision_is_validated(first) -> None:
    item = _submit(first, text="post", lang="en").json()
    bad = first.post(f"/v1/feedback/{item['id']}/review", json={"decision": "maybe"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "body.decision"
    missing = first.post("/v1/feedback/fb-nope/review", json={"decision": "reject"})
    assert missing.status_code == 404


def test_serve_feedback_needs_a_key(fb_app) -> None:
    anonymous = TestClient(fb_app)
    assert anonymous.post("/v1/feedback", json={"text": "x", "labels": {"hate": True}}
                          ).status_code == 401
    assert anonymous.get("/v1/feedback").status_code == 401
    assert anonymous.delete("/v1/feedback/fb-x").status_code == 401


def test_serve_feedback_off_says_which_setting_turns_it_on(client) -> None:
    for response in (client.post("/v1/feedback", json={"text": "x", "labels": {"hate": True}}),
                     client.get("/v1/feedback"), client.get("/v1/feedback/fb-x"),
                     client.delete("/v1/feedback/fb-x")):
        assert response.status_code == 404
        problem = response.json()
        assert problem["type"].endswith(":feedback-disabled")
        assert "WARNING_FEEDBACK_DB" in problem["detail"]


def test_serve_feedback_open_server_cannot_review_itself(make_app, db) -> None:
    app = make_app(api_keys="", open_access=True, feedback_db=str(db))
    client = TestClient(app)
    item = _submit(client, text="post", lang="en").json()
    assert item["submitter"] == "open"
    refused = client.post(f"/v1/feedback/{item['id']}/review", json={"decision": "confirm"})
    assert refused.status_code == 403 and "warning feedback review" in refused.json()["detail"]


def test_serve_feedback_never_logs_texts_or_notes(first, second, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    secret, note = "a post nobody may log 5d1e", "a note nobody may log 9a0b"
    rid = first.post("/v1/score", json={"texts": secret}).json()["results"][0]["id"]
    item = _submit(first, response_id=rid, note=note).json()
    second.post(f"/v1/feedback/{item['id']}/review", json={"decision": "confirm", "note": note})
    first.get(f"/v1/feedback/{item['id']}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert item["id"] in logged  # the log is there, and names the item
    assert secret not in logged and note not in logged and KEY not in logged


def test_serve_feedback_bad_database_stops_start_up(make_app, tmp_path) -> None:
    from serve.settings import SettingsError

    path = tmp_path / "not.db"
    path.write_text("this is not an SQLite database, it is text" * 5)
    with pytest.raises(SettingsError, match="WARNING_FEEDBACK_DB"):
        make_app(feedback_db=str(path))


def test_serve_feedback_routes_are_in_the_schema(fb_app) -> None:
    paths = TestClient(fb_app).get("/openapi.json").json()["paths"]
    assert set(paths["/v1/feedback"]) == {"post", "get"}
    assert set(paths["/v1/feedback/{item_id}"]) == {"get", "delete"}
    assert "403" in paths["/v1/feedback/{item_id}/review"]["post"]["responses"]


def test_serve_feedback_with_the_batcher_and_metrics(fake_classifier, db) -> None:
    """The two merged branches together: with the batcher running (lifespan entered), scored
    results get response ids that feedback accepts; feedback requests, answered or refused
    before routing, are counted under route templates, never raw item ids."""
    from prometheus_client.parser import text_string_to_metric_families

    from serve.app import create_app
    from serve.settings import ServeSettings

    app = create_app(ServeSettings(api_keys=f"admin:{KEY},review:{OTHER_KEY}",
                                   rate_burst=10_000, feedback_db=str(db)),
                     classifier=fake_classifier)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as first:
        assert app.state.batcher is not None and app.state.batcher.running
        rid = first.post("/v1/score", json={"texts": ["Ты тупой идиот"]}
                         ).json()["results"][0]["id"]
        item = _submit(first, response_id=rid).json()
        assert item["response_id"] == rid and item["model"] == "fake@0.0.1"
        second = TestClient(app, headers={"Authorization": f"Bearer {OTHER_KEY}"})
        assert second.post(f"/v1/feedback/{item['id']}/review",
                           json={"decision": "confirm"}).status_code == 200
        assert first.get(f"/v1/feedback/{item['id']}").status_code == 200
        assert first.get("/v1/feedback/fb-unknown-1").status_code == 404
        assert TestClient(app).get("/v1/feedback/fb-unknown-2").status_code == 401
        assert TestClient(app).post("/v1/feedback/fb-unknown-3/review",
                                    json={"decision": "reject"}).status_code == 401
        text = first.get("/metrics").text
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for family in text_string_to_metric_families(text) for s in family.samples}
    routes = {dict(s[1])["route"] for s in got if s[0] == "warning_http_requests_total"}
    assert "fb-" not in text and item["id"] not in text and rid not in text
    assert routes <= {"/v1/score", "/v1/feedback", "/v1/feedback/{item_id}",
                      "/v1/feedback/{item_id}/review", "/metrics"}, routes
    key = "warning_http_requests_total"
    assert got[(key, (("method", "GET"), ("route", "/v1/feedback/{item_id}"),
                      ("status", "401")))] == 1
    assert got[(key, (("method", "POST"), ("route", "/v1/feedback/{item_id}/review"),
                      ("status", "401")))] == 1
    assert got[(key, (("method", "GET"), ("route", "/v1/feedback/{item_id}"),
                      ("status", "404")))] == 1
    assert got[("warning_requests_rejected_total", (("reason", "auth"),))] == 2
