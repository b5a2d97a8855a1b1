import pytest

from serve.routes.openai_compat import CATEGORY_LABELS, NOT_ASSESSED, moderation_result
from serve.schemas import OPENAI_CATEGORIES
from warning.labels import ScoredPost


def _post(offensive, hate, threat, flagged) -> ScoredPost:
    return ScoredPost(scores={"offensive": offensive, "hate": hate, "threat": threat,
                              "extremism": None}, flagged=flagged, lang="ru", targets=[],
                      risk="none", review=False, model="m@1")


def test_openai_mapping_of_our_labels() -> None:
    result = moderation_result(_post(0.9, 0.8, 0.7, ["offensive", "hate", "threat"]))
    assert result["flagged"] is True
    assert {c for c, v in result["categories"].items() if v} == set(CATEGORY_LABELS)
    assert result["category_scores"]["hate/threatening"] == 0.7  # min(hate, threat)
    assert result["category_scores"]["harassment"] == 0.9
    assert result["category_scores"]["violence"] == 0.7
    assert result["not_assessed"] == list(NOT_ASSESSED)
    for name in NOT_ASSESSED:
        assert result["categories"][name] is False and result["category_scores"][name] == 0.0
        assert result["category_applied_input_types"][name] == []
    assert set(result["categories"]) == set(OPENAI_CATEGORIES)


def test_openai_threatening_needs_both_labels_flagged() -> None:
    result = moderation_result(_post(0.2, 0.9, 0.6, ["hate"]))
    assert result["categories"]["hate"] is True
    assert result["categories"]["hate/threatening"] is False
    assert result["categories"]["violence"] is False


def test_openai_a_label_the_model_cannot_score_is_not_assessed() -> None:
    result = moderation_result(_post(0.9, None, 0.1, ["offensive"]))
    assert "hate" in result["not_assessed"] and "hate/threatening" in result["not_assessed"]
    assert result["categories"]["hate"] is False and result["category_scores"]["hate"] == 0.0


def test_openai_route_one_string_or_a_list(client) -> None:
    one = client.post("/v1/moderations", json={"input": "I will kill you"}).json()
    assert one["id"].startswith("modr-") and one["model"] == "fake@0.0.1"
    assert len(one["results"]) == 1 and one["results"][0]["categories"]["violence"] is True
    many = client.post("/v1/moderations", json={"input": ["a", "b", "you idiot"],
                                                 "model": "omni-moderation-latest"}).json()
    assert [r["flagged"] for r in many["results"]] == [False, False, True]


def test_openai_official_client_parses_the_answer(live_server, key) -> None:
    import openai

    client = openai.OpenAI(api_key=key, base_url=f"{live_server}/v1", max_retries=0)
    response = client.moderations.create(input=["Я тебя убью", "Бүгүн Ошко барам"])
    assert response.model == "fake@0.0.1" and len(response.results) == 2
    first, second = response.results
    assert first.flagged and first.categories.violence and not second.flagged
    assert first.category_scores.violence > 0.9
    assert first.categories.self_harm is False  # not assessed, as documented
    assert "self-harm" in first.model_extra["not_assessed"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="wrong", base_url=f"{live_server}/v1",
                      max_retries=0).moderations.create(input="hi")
    with pytest.raises(openai.UnprocessableEntityError, match="is empty"):
        client.moderations.create(input="")


def test_moderations_invisible_only_input_is_refused_naming_its_index(client) -> None:
    response = client.post("/v1/moderations", json={"input": ["hello", "\u200b", "idiot"]})
    assert response.status_code == 422
    data = response.json()
    assert data["error"]["param"] == "input[1]" and data["error"]["code"] == "unscorable-text"
    assert data["detail"].startswith("input[1] cannot be scored")


def test_moderations_text_errors_name_their_param(client) -> None:
    response = client.post("/v1/moderations", json={"input": ["hello", " "]})
    assert response.status_code == 422 and response.json()["error"]["param"] == "input[1]"
