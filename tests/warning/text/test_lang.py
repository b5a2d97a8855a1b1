import pytest

from warning.text.lang import LANGS, detect_language, language_evidence


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Подскажите, где в Бишкеке можно отремонтировать телефон?", "ru"),
        ("ну и погода сегодня, опять снег", "ru"),
        ("privet, kak dela? chto novogo", "ru"),  # Russian in Latin letters
        ("Бүгүн Ошко барам, ким барат?", "ky"),
        ("Бул кайсы жерде болду? Эмне болуп жатат", "ky"),
        ("salam kandaysyn, jakshy jurosunbu", "ky"),  # Kyrgyz in Latin letters
        ("короче, бардыгы жакшы болот, не переживайте балдар", "ky"),  # mixed, Kyrgyz matrix
        ("Сәлеметсіз бе, бүгін жиналыс бола ма?", "kk"),
        ("Қазақстанның болашағы жастардың қолында", "kk"),
        ("Assalomu alaykum, bugun yig'ilish bo'ladimi?", "uz"),
        ("Qishloqda suv yo'q, yordam beringlar", "uz"),
        ("Қишлоқда сув йўқ, ёрдам беринглар", "uz"),  # Uzbek Cyrillic
        ("Yarın İstanbul'a gidiyorum, hava çok güzel", "tr"),
        ("Teşekkürler, çok güzel bir uygulama", "tr"),
        ("Does anyone know a good dentist in Osh?", "en"),
        ("my order still hasn't arrived", "en"),
        ("Сьогодні знову вимкнули світло", "other"),  # Ukrainian
        ("Bonjour à tous, la réunion est-elle aujourd'hui ?", "other"),
        ("مرحبا بالجميع، هل هناك اجتماع اليوم؟", "other"),
    ],
)
def test_detect_language_cases(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "12345", "😂😂😂", "!!!", "\u200b"])
def test_detect_language_without_letters_is_other(text: str) -> None:
    assert detect_language(text) == "other"


def test_detect_language_only_returns_known_codes() -> None:
    for text in ["a", "ы", "ң", "ğ", "x y z", "Жок", "hello мир", "oʻ"]:
        assert detect_language(text) in LANGS


def test_detect_language_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="takes a str"):
        detect_language(42)  # type: ignore[arg-type]


def test_kazakh_letters_outvote_kyrgyz_and_uzbek_letters_outvote_kazakh() -> None:
    assert language_evidence("Бұл жаңалық")["kk"] > language_evidence("Бұл жаңалық")["ky"]
    assert detect_language("Ўзбекистон ғалаба") == "uz"
    assert detect_language("Эртага ёмғир ёғаркан") == "uz"  # ғ without Kazakh ы/і/ә


def test_detect_language_handles_long_text() -> None:
    assert detect_language("Бүгүн жакшы күн. " * 5000) == "ky"
