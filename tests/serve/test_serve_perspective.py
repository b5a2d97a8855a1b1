import pytest

from serve.routes.perspective import ATTRIBUTE_LABELS, span_scores

ANALYZE = "/v1alpha1/comments:analyze"


def analyze(client, text: str, **extra):
    request = {"comment": {"text": text},
               "requestedAttributes": {"TOXICITY": {}, "INSULT": {}, "IDENTITY_ATTACK": {},
                                       "THREAT": {}}, **extra}
    return client.post(ANALYZE, json=request)


def test_perspective_maps_attributes_to_our_labels(client) -> None:
    response = analyze(client, "I will kill you, stupid idiot", clientToken="t-1",
                       doNotStore=True)
    assert response.status_code == 200
    body = response.json()
    scores = {name: a["summaryScore"] for name, a in body["attributeScores"].items()}
    assert set(scores) == set(ATTRIBUTE_LABELS)
    assert all(s["type"] == "PROBABILITY" for s in scores.values())
    assert scores["TOXICITY"]["value"] == scores["INSULT"]["value"] > 0.9  # both offensive
    assert scores["THREAT"]["value"] > 0.9 and scores["IDENTITY_ATTACK"]["value"] < 0.1
    assert body["clientToken"] == "t-1"
    assert body["languages"] == ["en"] and body["detectedLanguages"] == ["en"]
    assert "spanScores" not in body["attributeScores"]["TOXICITY"]


def test_perspective_span_scores_point_into_the_original_text(client) -> None:
    text = "Well, you are  an IDIOT, really"
    body = analyze(client, text, spanAnnotations=True).json()
    spans = body["attributeScores"]["TOXICITY"]["spanScores"]
    assert spans, "the flagged attribute has spans"
    top = max(spans, key=lambda s: s["score"]["value"])
    assert text[top["begin"]:top["end"]] == "IDIOT"
    assert top["score"]["value"] == body["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert body["attributeScores"]["THREAT"]["spanScores"] == []  # not flagged: no spans


def test_perspective_span_scores_skip_words_not_found() -> None:
    spans = span_scores("abc def", 0.8, [("def", 2.0), ("zzz", 1.0), ("abc", 1.0)])
    assert [(s["begin"], s["end"], s["score"]["value"]) for s in spans] == [
        (0, 3, 0.4), (4, 7, 0.8)]


def test_perspective_score_threshold_leaves_low_attributes_out(client) -> None:
    response = client.post(ANALYZE, json={
        "comment": {"text": "stupid idiot"},
        "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.5},
                                "THREAT": {"scoreThreshold": 0.5}}})
    assert list(response.json()["attributeScores"]) == ["TOXICITY"]


@pytest.mark.parametrize("languages", [["ru"], ["en-US"], ["KY", "ru"]])
def test_perspective_accepts_the_model_languages(client, languages) -> None:
    body = analyze(client, "Ты тупой идиот", languages=languages).json()
    assert body["languages"] == list(dict.fromkeys(x[:2].lower() for x in languages))
    assert body["detectedLanguages"] == ["ru"]


def test_perspective_refuses_other_languages_as_perspective_does(client) -> None:
    response = analyze(client, "Du Idiot", languages=["de"])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert error["details"][0]["@type"].endswith("commentanalyzer.v1alpha1.Error")
    assert "does not support request languages: de" in error["message"]


def test_perspective_needs_some_attribute(client) -> None:
    response = client.post(ANALYZE, json={"comment": {"text": "hi"},
                                          "requestedAttributes": {}})
    assert response.status_code == 400 and "TOXICITY" in response.json()["error"]["message"]


def _spans(text: str, words: list[tuple[str, float]]) -> list[tuple[int, int]]:
    return [(s["begin"], s["end"]) for s in span_scores(text, 0.9, words)]


def test_perspective_spans_match_whole_words_and_successive_occurrences() -> None:
    text = "идиоты, ты идиот идиот"
    got = _spans(text, [("идиот", 2.0), ("ты", 1.0), ("идиот", 1.5)])
    assert got == [(8, 10), (11, 16), (17, 22)]  # "ты" is not the end of "идиоты"
    assert [text[b:e] for b, e in got] == ["ты", "идиот", "идиот"]


def test_perspective_spans_repeated_words_in_any_case() -> None:
    text = "SALAK, salak salak"
    got = _spans(text, [("salak", 2.0), ("SALAK,", 1.9), ("salak", 1.0)])
    assert got == [(0, 5), (7, 12), (13, 18)]
    # lower-cased words (as a normalising explanation could give) still find each occurrence
    assert _spans(text, [("salak", 2.0)] * 4) == [(0, 5), (7, 12), (13, 18)]


def test_perspective_span_offsets_are_code_points() -> None:
    text = "😀😀 ты идиот"
    ((begin, end),) = _spans(text, [("идиот", 1.0)])
    assert (begin, end) == (6, 11) and text[begin:end] == "идиот"  # UTF-16 would be (8, 13)


def test_perspective_spans_in_a_real_request_point_at_whole_words(client) -> None:
    text = "идиоты, ты идиот идиот"
    body = analyze(client, text, spanAnnotations=True).json()
    for span in body["attributeScores"]["TOXICITY"]["spanScores"]:
        begin, end = span["begin"], span["end"]
        assert text[begin:end].strip() and (begin == 0 or not text[begin - 1].isalnum())
        assert end == len(text) or not text[end].isalnum()
