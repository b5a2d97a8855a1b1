import pytest


def test_score_one_text_gives_a_list_of_one_with_every_field(client) -> None:
    response = client.post("/v1/score", json={"texts": "You stupid idiot"})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == {"id": "fake@0.0.1", "name": "fake", "version": "0.0.1"}
    (result,) = body["results"]
    assert set(result) == {"scores", "flagged", "lang", "targets", "risk", "review", "model"}
    assert result["scores"]["extremism"] is None  # JSON null, never NaN
    assert result["scores"]["offensive"] > 0.9 and result["flagged"] == ["offensive"]
    assert result["lang"] == "en" and result["risk"] == "low"
    assert result["model"] == "fake@0.0.1"
    assert response.headers["x-request-id"]


def test_score_many_texts_keeps_their_order(client) -> None:
    texts = ["Я тебя убью", "Бүгүн Ошко барам", "Uzbeks are vermin"]
    response = client.post("/v1/score", json={"texts": texts})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["flagged"] for r in results] == [["threat"], [], ["hate"]]
    assert [r["risk"] for r in results] == ["high", "none", "high"]
    assert results[1]["lang"] == "ky" and results[1]["review"] is True  # a weak language
    assert results[2]["targets"] == ["uzbek"]


def test_score_explain_gives_the_words_behind_each_flag(client) -> None:
    response = client.post("/v1/score", json={"texts": ["the idiot again"], "explain": True})
    (result,) = response.json()["results"]
    words = result["explanation"]["offensive"]
    assert words[0][0] == "idiot" and words[0][1] > 0


@pytest.mark.parametrize("text", ["<b></b>", "\u200b\u200b"])
def test_score_a_text_that_normalises_to_nothing_gets_an_error_record(client, text) -> None:
    results = client.post("/v1/score", json={"texts": [text, "ok"]}).json()["results"]
    assert results[0]["error"] == "empty text" and results[0]["review"] is True
    assert results[0]["scores"]["offensive"] is None and "error" not in results[1]


def test_health_needs_no_key(app) -> None:
    from fastapi.testclient import TestClient

    response = TestClient(app).get("/health")
    assert response.status_code == 200 and response.json()["status"] == "loading"


def test_scoring_runs_off_the_event_loop(make_app, fake_classifier, key) -> None:
    """While a slow model call runs, the server still answers other requests."""
    import threading
    import time

    import httpx
    import uvicorn

    from serve.app import get_classifier

    class Slow:
        def __getattr__(self, name):
            return getattr(fake_classifier, name)

        def score(self, texts, explain=False):
            time.sleep(1.5)
            return fake_classifier.score(texts, explain)

    app = make_app()
    app.dependency_overrides[get_classifier] = Slow
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        slow = threading.Thread(target=httpx.post, args=(f"{base}/v1/score",), kwargs={
            "json": {"texts": "hi"}, "headers": {"Authorization": f"Bearer {key}"},
            "timeout": 10})
        slow.start()
        time.sleep(0.3)
        began = time.monotonic()
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
        assert time.monotonic() - began < 0.5
        slow.join()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
