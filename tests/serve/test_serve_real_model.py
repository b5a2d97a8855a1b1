import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from serve.settings import ServeSettings


@pytest.mark.slow
def test_real_default_model_scores_through_the_api(base_model_dir) -> None:
    """The shipped default model, loaded once by the lifespan, scores two texts."""
    key = "real-model-key-000000000"
    app = create_app(ServeSettings(api_keys=key))
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/health").json()["status"] == "ok"
        response = client.post("/v1/score", json={"texts": ["Ты тупой идиот",
                                                            "Бүгүн Ошко барам"]})
    assert response.status_code == 200
    body = response.json()
    assert body["model"]["name"] != "fake"
    insult, neutral = body["results"]
    assert "offensive" in insult["flagged"] and insult["lang"] == "ru"
    assert neutral["flagged"] == [] and neutral["lang"] == "ky"
    assert insult["scores"]["extremism"] is None
    assert insult["model"] == body["model"]["id"]
