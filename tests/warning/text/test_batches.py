"""The batch entry points and the ``normalized`` seams give what the one-post functions give."""

import pytest

from warning.text.lang import detect_language, detect_languages, language_evidence
from warning.text.normalize import fold, normalize
from warning.text.targets import find_targets, find_targets_batch

POSTS = [
    "Подскажите, где в Бишкеке можно отремонтировать телефон?",
    "privet, kak dela? chto novogo",
    "Бүгүн Ошко барам, ким барат? Өзбектерге жана мигранттарга",
    "salam kandaysyn, jakshy jurosunbu",
    "Сәлеметсіз бе, бүгін жиналыс бола ма? қазақтар",
    "Qishloqda suv yo'q, yordam beringlar, o'zbeklar",
    "Қишлоқда сув йўқ, ёрдам беринглар",
    "Yarın İstanbul'a gidiyorum, Suriyeliler ve kadınlar",
    "Does anyone know a good dentist in Osh? Russian soldiers and the Chinese",
    "Сьогодні знову вимкнули світло",
    "مرحبا بالجميع، هل هناك اجتماع اليوم؟",
    "RT @bob: Смoтри &amp; https://t.co/x сууууука жиды и таджики",
    "yeбaнoв c0ка pаypal", "", "   ", "12345 !!!", "🙂",
    "Бүгүн Ошко барам, ким барат? Өзбектерге жана мигранттарга",  # a repost
]


def test_detect_languages_equals_detect_language_one_by_one() -> None:
    assert detect_languages(POSTS) == [detect_language(p) for p in POSTS]
    clean = [normalize(p) for p in POSTS]
    assert detect_languages(clean, normalized=True) == [detect_language(p) for p in POSTS]
    assert detect_languages([]) == []


def test_language_evidence_of_normalised_text_is_the_same() -> None:
    for post in POSTS:
        assert language_evidence(normalize(post), normalized=True) == language_evidence(post)


def test_find_targets_batch_equals_find_targets_one_by_one() -> None:
    expected = [find_targets(p) for p in POSTS]
    assert any(expected)
    assert find_targets_batch(POSTS) == expected
    clean = [normalize(p) for p in POSTS]
    assert find_targets_batch(clean, normalized=True) == expected
    assert [find_targets(c, normalized=True) for c in clean] == expected


def test_find_targets_batch_keeps_matches_inside_their_post() -> None:
    # a post ending in "russian" and the next starting with "people" are not "russian people"
    assert find_targets_batch(["i like russian", "people here are kind"]) == [[], []]
    assert find_targets_batch(["russian people here"]) == [["russian"]]


@pytest.mark.parametrize("bad", [None, 5, b"bytes"])
def test_batches_refuse_values_that_are_not_text(bad) -> None:
    with pytest.raises(TypeError):
        detect_languages(["ok", bad])
    with pytest.raises(TypeError):
        find_targets_batch(["ok", bad])


def test_fold_of_normalised_text_skips_only_the_normalisation() -> None:
    for post in POSTS:
        assert fold(normalize(post), normalized=True) == fold(post)


@pytest.mark.parametrize("text", [
    "wait&hellip; what", "&amp;hellip;&amp;hellip;", "ﬁne ＡＢＣ", "&lt;br&gt;тест",
    "RT @a: &amp;amp; x", "Смoтри сууууука!!!!!!", "c0ка п0шел 2024г",
])
def test_normalize_of_normalised_text_changes_nothing(text: str) -> None:
    # the baseline's features were fitted on text normalised twice, and scoring now
    # normalises once: the two must agree
    once = normalize(text)
    assert normalize(once) == once


def test_detect_languages_asks_fasttext_only_when_the_words_leave_it_open(monkeypatch) -> None:
    from warning.text import lang

    decided = ["что это как нет все уже еще только когда где кто почему",  # many ru markers
               "the and is are to of in it you this that what was were for with"]
    posts = [*decided, "Бүгүн жыйын болобу?", "ok"]
    asked: list[str] = []
    real = lang._fasttext_probs_batch

    def counting(lines: list[str]) -> list[dict[str, float]]:
        asked.extend(lines)
        return real(lines)

    monkeypatch.setattr(lang, "_fasttext_probs_batch", counting)
    lang._SEEN.clear()
    assert lang.detect_languages(posts) == [detect_language(p) for p in posts]
    assert not {lang._fasttext_line(lang.fold(p)) for p in decided} & set(asked)
    assert lang._fasttext_line(lang.fold("ok")) in asked
