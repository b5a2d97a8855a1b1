import json
import math

import pytest

from warning.labels import (
    DESCRIPTIONS,
    LABEL_DEFS,
    LABELS,
    Risk,
    ScoredPost,
    in_review_band,
    needs_review,
    risk_level,
)


def test_labels_are_the_four_of_the_design_in_order() -> None:
    assert LABELS == ("offensive", "hate", "threat", "extremism")
    assert set(DESCRIPTIONS) == set(LABELS)
    assert [label.experimental for label in LABEL_DEFS] == [False, False, False, True]


@pytest.mark.parametrize(
    ("flagged", "scores", "targets", "expected"),
    [
        ([], {}, [], Risk.NONE),
        (["offensive"], {"offensive": 0.9}, [], Risk.LOW),
        (["offensive", "hate"], {"hate": 0.7}, [], Risk.MEDIUM),
        (["hate"], {"hate": 0.7}, ["uzbek"], Risk.MEDIUM),
        (["hate"], {"hate": 0.95}, ["uzbek"], Risk.HIGH),
        (["hate"], {"hate": 0.95}, [], Risk.MEDIUM),
        (["threat"], {"threat": 0.6}, [], Risk.HIGH),
        (["extremism"], {"extremism": 0.6}, [], Risk.HIGH),
        (["hate"], {"hate": None}, ["uzbek"], Risk.MEDIUM),
    ],
)
def test_risk_level_rules(flagged, scores, targets, expected) -> None:
    assert risk_level(flagged, scores, targets) is expected


def test_risk_level_rejects_unknown_label() -> None:
    with pytest.raises(ValueError, match="unknown label"):
        risk_level(["toxicity"], {}, [])


def test_review_band_edges_and_null() -> None:
    assert in_review_band(0.45, (0.45, 0.55))
    assert in_review_band(0.549, (0.45, 0.55))
    assert not in_review_band(0.55, (0.45, 0.55))
    assert not in_review_band(0.44, (0.45, 0.55))
    assert not in_review_band(None, (0.45, 0.55))
    assert not in_review_band(math.nan, (0.45, 0.55))


def test_needs_review_for_band_or_weak_language() -> None:
    bands = {"offensive": (0.4, 0.6), "hate": (0.4, 0.6)}
    assert needs_review({"offensive": 0.55, "hate": 0.0}, bands, "ru")
    assert not needs_review({"offensive": 0.9, "hate": 0.0}, bands, "ru")
    assert not needs_review({"offensive": 0.9, "hate": None}, bands, "ru")
    assert needs_review({"offensive": 0.9, "hate": 0.0}, bands, "ky", ["ky"])


def test_failed_record_is_all_null_and_asks_for_review() -> None:
    record = ScoredPost.failed("empty text", "baseline@1").to_dict()
    assert record["error"] == "empty text" and record["review"] is True
    assert set(record["scores"].values()) == {None} and record["flagged"] == []


def test_scored_post_serialises_null_not_nan() -> None:
    post = ScoredPost(
        scores={"offensive": 0.93, "hate": 0.12, "threat": 0.02, "extremism": None},
        flagged=["offensive"], lang="ru", targets=[], risk="low", review=False,
        model="baseline@0.1.0",
    )
    text = json.dumps(post.to_dict())
    assert '"extremism": null' in text
    assert "explanation" not in post.to_dict() and "error" not in post.to_dict()


@pytest.mark.parametrize(
    ("scores", "risk", "match"),
    [
        ({"offensive": 0.1, "hate": 0.1, "threat": 0.1}, "low", "lack label"),
        ({"offensive": math.nan, "hate": 0.1, "threat": 0.1, "extremism": None}, "low", "number"),
        ({"offensive": 0.1, "hate": 0.1, "threat": 0.1, "extremism": None}, "severe", "risk"),
    ],
)
def test_scored_post_validates(scores, risk, match) -> None:
    with pytest.raises(ValueError, match=match):
        ScoredPost(scores=scores, flagged=[], lang="ru", targets=[], risk=risk, review=False,
                   model="m@1")
