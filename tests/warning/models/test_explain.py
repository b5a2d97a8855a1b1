from warning.models.explain import occlusion


def test_occlusion_finds_the_trigger_word(tiny_model) -> None:
    explanation = occlusion(tiny_model, "the market opens at nine you idiot", ["offensive"])
    words = [w for w, _ in explanation["offensive"]]
    assert words[0] == "idiot"
    assert all(weight > 0 for _, weight in explanation["offensive"])


def test_occlusion_skips_null_labels_and_caps_words(tiny_model) -> None:
    assert occlusion(tiny_model, "you idiot", ["extremism"]) == {}
    long_text = " ".join(["market"] * 500) + " idiot"
    result = occlusion(tiny_model, long_text, ["offensive"])
    # the trigger lies past the cap: the explanation only looks at the first words
    assert "idiot" not in [w for w, _ in result["offensive"]]


def test_score_with_explain_attaches_words_for_flagged_labels(tiny_model) -> None:
    post = tiny_model.score(["they are vermin you idiot"], explain=True)[0]
    assert set(post.explanation) == set(post.flagged)
    assert post.to_dict()["explanation"]
