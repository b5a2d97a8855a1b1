import time

import pytest

from warning.text.normalize import fold, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # ru: Latin look-alikes and digits used to dodge filters
        ("yeбaнoв", "уебанов"),
        ("c0ка", "сока"),
        ("ты пидoр", "ты пидор"),
        ("п0шел нахyй", "пошел нахуй"),
        ("х\u200bу\u200bй", "хуй"),
        ("сууууука", "суука"),
        ("Кыргызcтан", "Кыргызстан"),  # Latin c inside a Cyrillic word
        # ky: Kyrgyz letters and long vowels survive
        ("Өзбектерге көчөдө жол жок", "Өзбектерге көчөдө жол жок"),
        ("Саат канча? ңөү ҢӨҮ", "Саат канча? ңөү ҢӨҮ"),
        ("саааат", "саат"),
        # kk: Kazakh letters survive
        ("Қазақстан әйелдері үшін ұлт һәм і", "Қазақстан әйелдері үшін ұлт һәм і"),
        # uz: Latin-script Uzbek with its apostrophe variants unified
        ("O‘zbekiston gʻalaba qozondi", "O'zbekiston g'alaba qozondi"),
        ("oʼzbek", "o'zbek"),
        # tr: Turkish letters and proper-noun apostrophes survive
        ("İstanbul'a gidiyorum, kadın ışık çiçek", "İstanbul'a gidiyorum, kadın ışık çiçek"),
        ("Erdoğan’ın açıklaması", "Erdoğan'ın açıklaması"),
        # en: tweets
        ("RT @user123: you idiot &amp;amp; https://t.co/abc", "you idiot & http"),
        ("@bob hellо wоrld", "@user hello world"),  # Cyrillic о inside English words
        ("so goooood!!!!!!", "so good!!!"),
        ("line one<br/>line two\n\tend", "line one line two end"),
        ("ｆｕｌｌ－ｗｉｄｔｈ", "full-width"),  # NFKC
        ("price 1000 сом, 5кг, 2024г", "price 1000 сом, 5кг, 2024г"),  # digits untouched
        ("iPhoneы", "iPhoneы"),  # genuinely mixed word left alone
        ("😂😂😂😂😂", "😂😂😂"),
        ("", ""),
        ("   \u200b  ", ""),
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    samples = ["yeбaнoв c0ка", "RT @a: x &amp; y http://x.y", "O‘zbekiston", "Өзбектер"]
    for text in samples:
        once = normalize(text)
        assert normalize(once) == once


def test_normalize_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="takes a str"):
        normalize(None)  # type: ignore[arg-type]


def test_normalize_handles_a_huge_text() -> None:
    text = "очень длинный текст " * 50_000  # 1 MB
    start = time.perf_counter()
    out = normalize(text)
    assert out.startswith("очень длинный текст")
    assert time.perf_counter() - start < 30  # guard against catastrophic regex behaviour only


def test_fold_lowercases_and_maps_yo_and_dotted_i() -> None:
    assert fold("ЁЛКИ İstanbul ÖZBEK") == "елки istanbul özbek"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Өзбектер, дуңгандар, күн", "ky", "Озбектер, дунгандар, кун"),
        ("Қазақтар әлі ұйықтап жатыр, Һ і ғ", "kk", "Казактар али уйыктап жатыр, Х и г"),
        ("ўзбек қишлоғи ҳам", "uz", "узбек кишлоги хам"),
        ("Бүгүн қазақ", None, "Бугун казак"),
        ("plain text, без букв", "ky", "plain text, без букв"),
    ],
)
def test_keyboard_fold(text: str, lang: str | None, expected: str) -> None:
    from warning.text.normalize import keyboard_fold

    assert keyboard_fold(text, lang) == expected


def test_keyboard_fold_rejects_an_unknown_language() -> None:
    from warning.text.normalize import keyboard_fold

    with pytest.raises(ValueError, match="no keyboard folding for 'ru'"):
        keyboard_fold("текст", "ru")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Өзбектер — біздің көршілеріміз!", "өзбектер біздің көршілеріміз"),
        ("O'zbeklar, Suriyeli'ler: кое-кто «пришёл»...", "o'zbeklar suriyeli'ler кое-кто пришёл"),
        ("ИДИ ОТСЮДА!!! 😡", "иди отсюда 😡"),
        ("- список - 'в кавычках' -", "список в кавычках"),
        ("уже просто так", "уже просто так"),
        ("?!...", ""),
    ],
)
def test_plain_fold_lowers_and_drops_punctuation_but_not_words(text: str, expected: str) -> None:
    from warning.text.normalize import plain_fold

    assert plain_fold(text) == expected


def test_lone_surrogates_become_replacement_characters() -> None:
    from warning.text.normalize import replace_surrogates

    assert normalize("ok \ud83d x") == "ok \ufffd x"
    assert normalize("a\udc80b") == "a\ufffdb"
    text = "no surrogate here 🙂"
    assert replace_surrogates(text) is text
