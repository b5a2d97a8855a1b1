"""Text normalisation shared by training and scoring.

``normalize`` is applied to every text before a model sees it, at training and at scoring time,
so the two can never drift. It

- replaces lone UTF-16 surrogates (half an emoji from a JSON escape such as ``"\\ud83d"``)
  with U+FFFD, so that every later step, and the models, get text UTF-8 can encode;
- applies Unicode NFKC (full-width letters, ligatures, compatibility forms);
- decodes HTML entities (twice: scraped tweets are often escaped twice) and drops common tags;
- removes zero-width and control characters that split words to dodge filters;
- replaces URLs with ``http`` and user mentions with ``@user`` and drops ``RT @name:`` retweet
  headers (the TweetEval convention, which several of the training sets already use);
- unifies apostrophe variants (Uzbek ``oʻ``/``o‘``/``o'`` become one form);
- repairs Latin/Cyrillic look-alikes inside a word (``yeбaнoв`` -> ``уебанов``, ``c0ка`` ->
  ``сока``, ``pаypal`` with a Cyrillic ``а`` -> ``paypal``) without touching words that are
  legitimately of one script (Kyrgyz ``ң ө ү``, Kazakh ``ә ғ қ ұ һ і``, Turkish ``ı ş ğ``);
- shortens runs of three or more identical letters to two (``сууууука`` -> ``суука``; Kyrgyz
  long vowels ``аа``, ``уу`` are pairs and survive) and of punctuation or emoji to three;
- collapses whitespace.

It does not lowercase: the transformer is cased. ``fold`` adds case folding for lexicon matching.
"""

from __future__ import annotations

import html
import unicodedata

import regex

__all__ = ["KEYBOARD_FOLDS", "fold", "keyboard_fold", "normalize", "plain_fold",
           "replace_surrogates"]

# Latin letters (and digits) that stand in for Cyrillic ones, and the reverse. Only shapes that
# are the same glyph in common fonts; Kyrgyz/Kazakh letters (ң ө ү ұ һ і ә) are deliberately
# absent so they are never rewritten.
_LAT_TO_CYR = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к", "m": "м",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У",
}
_DIGIT_TO_CYR = {"0": "о", "3": "з", "4": "ч", "6": "б", "@": "а"}
_CYR_TO_LAT = {
    "а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x", "у": "y", "к": "k",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "O", "Р": "P",
    "Т": "T", "Х": "X", "У": "Y", "ј": "j", "ѕ": "s",
}

_URL = regex.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|ru|kg|kz|uz|tr|org|net|me|io|ly|be)/\S*",
    regex.IGNORECASE,
)
_RT = regex.compile(r"(?:^|(?<=\s))RT\s+@\w+\s*:?\s*")
_MENTION = regex.compile(r"(?<![\w@])@\w{1,40}")
_TAG = regex.compile(r"</?(?:br|p|div|span|a|b|i|u|em|strong|img)\b[^<>]{0,200}>", regex.IGNORECASE)
# Zero-width characters, soft hyphen, BOM, bidi controls: invisible, used to split words.
_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_INVISIBLE = regex.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u180e]")
_CONTROL = regex.compile(r"[\p{Cc}--[\t\n\r]]", flags=regex.V1)
_APOSTROPHES = regex.compile(r"[‘’`´ʻʼ′ʹ]")
_REPEATED_LETTER = regex.compile(r"(\p{L})\1{2,}")
# Punctuation and emoji keep three ("...", "!!!"); digits are never touched ("1000").
_REPEATED_OTHER = regex.compile(r"([^\p{L}\p{N}\s])\1{3,}")
_SPACE = regex.compile(r"\s+")
# Any of the characters _INVISIBLE and _CONTROL remove or replace (\p{Cc} holds \t \n \r too,
# which then cost the full path): one search for a text that needs neither.
_HIDDEN = regex.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u180e\p{Cc}]")
# A run of three or more of one character: where the two shortening patterns can apply.
_RUN = regex.compile(r"(.)\1{2,}", flags=regex.DOTALL)
# A "word" for look-alike repair: letters, digits and @ glued together.
_WORD = regex.compile(r"[\p{L}\p{M}0-9@]+")
# Repair can only change a word holding a Cyrillic letter and a Latin letter or a glyph digit;
# a text without both kinds of character is left alone without looking at each word.
_CYRILLIC = regex.compile(r"[\u0400-\u052f]")
_LATIN_OR_GLYPH = regex.compile(r"[A-Za-z\u00c0-\u024f0346@]")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff" or "\u0500" <= ch <= "\u052f"


def _is_latin(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or ("\u00c0" <= ch <= "\u024f")


def _repair_word(word: str) -> str:
    """Rewrite look-alikes of the minority script in a word written mostly in the other."""
    cyr = [ch for ch in word if _is_cyrillic(ch)]
    lat = [ch for ch in word if _is_latin(ch)]
    if not cyr and not lat:
        return word
    if cyr and not lat:
        # Digits standing for letters inside a Cyrillic word: "с0ка", "п0шел". Only when the
        # word is mostly letters and the digit touches a letter, so "5кг" or "2024г" survive.
        if any(ch in _DIGIT_TO_CYR for ch in word) and len(cyr) >= 2:
            return _replace_glyph_digits(word)
        return word
    if not cyr:
        return word
    # Letters that only one script has decide which script the word is written in.
    cyr_only = [ch for ch in cyr if ch not in _CYR_TO_LAT]
    lat_only = [ch for ch in lat if ch not in _LAT_TO_CYR]
    if cyr_only and lat_only:
        return word  # genuinely mixed ("iPhoneы"): leave it
    if cyr_only or (not lat_only and len(cyr) > len(lat)):
        out = "".join(_LAT_TO_CYR.get(ch, ch) for ch in word)
        return _replace_glyph_digits(out) if any(c in _DIGIT_TO_CYR for c in out) else out
    if lat_only or len(lat) > len(cyr):
        return "".join(_CYR_TO_LAT.get(ch, ch) for ch in word)
    return word


def _repair_match(match: regex.Match[str]) -> str:
    word = match.group(0)
    # an ASCII word has no Cyrillic letter, and a word without a Latin letter or a glyph digit
    # has nothing to repair: both are returned as they are, without a look at each letter
    if word.isascii() or not _LATIN_OR_GLYPH.search(word):
        return word
    return _repair_word(word)


def _replace_glyph_digits(word: str) -> str:
    letters = sum(ch.isalpha() for ch in word)
    if letters < 2 or letters < len(word) / 2:
        return word
    chars = list(word)
    for i, ch in enumerate(chars):
        if ch not in _DIGIT_TO_CYR:
            continue
        left = chars[i - 1] if i > 0 else ""
        right = chars[i + 1] if i + 1 < len(chars) else ""
        if (left.isalpha() or right.isalpha()) and not (left.isdigit() or right.isdigit()):
            chars[i] = _DIGIT_TO_CYR[ch]
    return "".join(chars)


def replace_surrogates(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate replaced by U+FFFD (the text unchanged, not
    copied, when it has none)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def normalize(text: str) -> str:
    """Normalise one post for a model (see the module docstring for every step).

    Args:
        text: The raw post.

    Returns:
        The normalised text; empty when nothing readable remains.

    Example:
        >>> normalize("RT @bob: Смoтри &amp; https://t.co/x сууууука")
        'Смотри & http суука'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() takes a str, got {type(text).__name__}")
    text = replace_surrogates(text)
    text = unicodedata.normalize("NFKC", text)
    if "&" in text:
        for _ in range(2):
            if "&" not in text:
                break
            text = html.unescape(text)
        # an entity may decode to a compatibility form (``&hellip;`` is ``…``): NFKC again, so
        # that normalising a normalised text changes nothing (the baseline's features were fitted
        # on text normalised twice)
        text = unicodedata.normalize("NFKC", text)
    # each pattern below runs only when the characters it needs are present (a post is
    # normalised once per scan, but a scan is millions of posts)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if _HIDDEN.search(text):
        text = _INVISIBLE.sub("", text)
        text = _CONTROL.sub(" ", text)
    if "RT" in text:
        text = _RT.sub("", text)
    if "/" in text or "www." in text.lower():
        text = _URL.sub("http", text)
    if "@" in text:
        text = _MENTION.sub("@user", text)
    text = _APOSTROPHES.sub("'", text)  # after the mentions: ʹ is a letter of a user name
    if _CYRILLIC.search(text) and _LATIN_OR_GLYPH.search(text):
        text = _WORD.sub(_repair_match, text)
    if _RUN.search(text):
        text = _REPEATED_LETTER.sub(r"\1\1", text)
        text = _REPEATED_OTHER.sub(r"\1\1\1", text)
    # whitespace runs to one space (``\s`` and ``str.split`` agree once control characters
    # are gone, which the step above made sure of)
    return " ".join(text.split())


def fold(text: str, *, normalized: bool = False) -> str:
    """``normalize`` plus case folding for lexicon matching (``ё`` -> ``е``, ``İ`` -> ``i``).

    Args:
        text: A post.
        normalized: True when ``text`` is already the output of :func:`normalize` (a scan
            normalises each post once and hands the result on): only the case folding is done.

    Example:
        >>> fold("ЁЛКИ İstanbul")
        'елки istanbul'
    """
    text = (text if normalized else normalize(text)).replace("İ", "i")
    return text.lower().replace("ё", "е")


#: Letters a Russian keyboard lacks and the Russian letter typed instead, per language. Real
#: Kyrgyz and Kazakh posts are mostly typed this way (``озбектер`` for ``өзбектер``); Uzbek
#: Cyrillic too (``узбек`` for ``ўзбек``).
KEYBOARD_FOLDS: dict[str, dict[str, str]] = {
    "ky": dict(zip("үөңҮӨҢ", "уонУОН", strict=True)),
    "kk": dict(zip("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ", strict=True)),
    "uz": dict(zip("ўқғҳЎҚҒҲ", "укгхУКГХ", strict=True)),
}
_ALL_FOLDS = {k: v for table in KEYBOARD_FOLDS.values() for k, v in table.items()}
_FOLD_TABLES = {lang: str.maketrans(table) for lang, table in KEYBOARD_FOLDS.items()}
_FOLD_ALL = str.maketrans(_ALL_FOLDS)


def keyboard_fold(text: str, lang: str | None = None) -> str:
    """The text as typed on a Russian keyboard: a language's own letters replaced by the
    Russian letters people type instead (see :data:`KEYBOARD_FOLDS`).

    Args:
        text: Any text; letters outside the table are left as they are.
        lang: ``ky``, ``kk`` or ``uz`` folds that language's letters; None folds all of them.

    Example:
        >>> keyboard_fold("Өзбектер менен дуңгандар", "ky")
        'Озбектер менен дунгандар'
    """
    if lang is None:
        return text.translate(_FOLD_ALL)
    if lang not in _FOLD_TABLES:
        raise ValueError(f"no keyboard folding for {lang!r}; known: {sorted(_FOLD_TABLES)}")
    return text.translate(_FOLD_TABLES[lang])


# Punctuation, except an apostrophe or hyphen between two letters (o'zbek, Suriyeli'ler, кое-кто).
_PUNCT = regex.compile(r"(?<=\p{L})['-](?=\p{L})|(\p{P}+)")


def plain_fold(text: str) -> str:
    """The text as typed in a hurry: lower case, no punctuation, whitespace collapsed.

    Many real posts look like this, and so does a whole labelled source (the Kazakh hate set
    is lower-cased without punctuation), so a model must not read the style as a label. Emoji
    and other symbols stay; an apostrophe or hyphen inside a word stays.

    Example:
        >>> plain_fold("Өзбектер — біздің көршілеріміз, o'zbeklar ham!")
        "өзбектер біздің көршілеріміз o'zbeklar ham"
    """
    out = _PUNCT.sub(lambda m: " " if m.group(1) else m.group(0), text.lower())
    return _SPACE.sub(" ", out).strip()
