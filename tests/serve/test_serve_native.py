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


def test_scoring_runs_off_the_event_loop(app, live_server, fake_classifier, key) -> None:
    """While a model call runs, the server still answers other requests.

    The model call is held until /health has answered: were scoring on the event loop, the
    loop would be blocked and /health would time out (no wall-clock bound on the answer, so a
    slow machine cannot fail it, and the call is known to be running when /health is asked).
    """
    import threading

    import httpx

    from serve.app import get_classifier

    entered, release = threading.Event(), threading.Event()
    answers: list[httpx.Response] = []

    class Held:
        def __getattr__(self, name):
            return getattr(fake_classifier, name)

        def score(self, texts, explain=False):
            entered.set()
            assert release.wait(60), "the test never released the model"
            return fake_classifier.score(texts, explain)

    app.dependency_overrides[get_classifier] = Held
    slow = threading.Thread(target=lambda: answers.append(httpx.post(
        f"{live_server}/v1/score", json={"texts": "hi"},
        headers={"Authorization": f"Bearer {key}"}, timeout=60)))
    slow.start()
    try:
        assert entered.wait(30), "the model call did not start"
        assert httpx.get(f"{live_server}/health", timeout=20).status_code == 200
        assert not release.is_set() and slow.is_alive()  # answered during the model call
    finally:
        release.set()
        slow.join(timeout=60)
    assert [a.status_code for a in answers] == [200]
