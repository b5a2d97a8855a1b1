"""Identity-group tagging: which of the 15 groups a post mentions, in ru, ky, kk, uz, en and tr.

A lexicon of stems per group, matched on the folded text (see
:func:`warning.text.normalize.fold`) at word starts, with the inflections of each language
allowed as endings (``өзбектерге``, ``узбеков``, ``дуңгандарды``, ``kadınlara``). Common slurs
map to the group they target. Stems that collide with unrelated words carry an exclusion:
``кыргыз`` does not match ``Кыргызстан`` (the country is not the people), ``жид`` does not match
``жидкий`` (liquid), ``jew`` does not match ``jewel``, ``гей`` does not match ``гейзер``.

Kyrgyz, Kazakh and Uzbek posts are mostly typed on a Russian keyboard (``озбектер`` for
``өзбектер``, ``казактар`` for ``қазақтар``): every stem is also matched in that spelling
(:func:`warning.text.normalize.keyboard_fold`), except where the folded stem is a Russian word of
its own (``қазақ`` folds to ``казак``, a Cossack in Russian).

The tagger says *who is mentioned*, not whether the post is hostile: the classifier decides
that. A mention of the country or the language alone is not tagged.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import regex

from warning.labels import TARGET_GROUPS
from warning.text.normalize import fold, keyboard_fold

__all__ = ["TARGET_LEXICON", "find_targets", "find_targets_batch"]

# Word characters that may continue a stem: letters, marks and the Uzbek/Turkish apostrophe.
_TAIL = r"[\p{L}\p{M}']*"
# English nationality adjectives count only for people ("Russian soldiers", not "Russian salad").
_PEOPLE = r"(?:people|men|women|workers|migrants|soldiers|citizens|speakers|guys)\b"

#: Patterns per group. Each is a regex fragment matched at a word start on folded text; ``~``
#: stands for "any inflectional ending". Write exclusions as negative lookaheads.
TARGET_LEXICON: dict[str, tuple[str, ...]] = {
    "kyrgyz": (
        # ru/ky; not Кыргызстан/Киргизия (country)
        r"к[иы]ргиз(?!стан|и[яию])~", r"кыргыз(?!стан)~",
        r"қырғыз(?!стан)~",  # kk
        r"qirg'iz(?!iston)~", r"қирғиз(?!истон)~",  # uz
        r"k[iy]rg[hy]?[iy]z(?!stan|ia)~", r"kirghiz~",  # en, ru/ky translit
        r"kırgız(?!istan)~",  # tr
    ),
    "uzbek": (
        r"узбек(?!истан)~", r"uzbek(?!istan)~",
        r"сарт(?:ы|ов|ам|ами|ах|тар|тарды|тарга|тардын)?\b",  # ru, ky: a slur for Uzbeks
        r"өзбек(?!стан)~",  # ky, kk
        r"o'zbek(?!iston)~", r"ўзбек(?!истон)~",  # uz
        r"özbek(?!istan)~",  # tr
    ),
    "tajik": (
        r"таджик(?!истан)~", r"тажик(?!стан)~", r"тәжік(?!стан)~", r"tojik(?!iston)~",
        r"тожик(?!истон)~", r"tajik(?!istan)~", r"tacik(?!istan)~",
    ),
    "russian": (
        # ru: the people, not the language ("на русском"): plural and person nouns only
        r"русск(?:ие|их|ими|им)\b", r"россиян~", r"русн[яиюе]\b", r"рашист~",
        r"кацап~", r"москал(?!ев)~",  # slurs
        r"орус(?:тар|тарга|тарды|тардын|тардан|ка|ту|тун)?\b",  # ky
        r"орыс(?:тар|тарға|тарды|тардың|тан|қа|ты|тың)?\b",  # kk
        r"ruslar~", r"руслар~", r"ruskies?\b", r"rusk[iy]\b",
        r"rus(?:'~)?\b",  # tr: "Rus", "Rus'lar" (not Rusya, the country)
        # en: the adjective alone ("Russian salad") is not the people
        r"russians\b", r"the russian\b", r"russian " + _PEOPLE,
    ),
    "dungan": (
        r"дунган~", r"дуңган~", r"дүңген~", r"дүнген~", r"dungan~", r"hui people",
    ),
    "uyghur": (
        r"уйгур~", r"ұйғыр~", r"уйғур~", r"uyg'ur~", r"u[iy]gh?urs?~",
    ),
    "chinese": (
        # the people and the slurs; "Китай" the country is not the people in ru
        r"китайц~", r"китаец\b", r"китаянк~", r"китаез~",
        r"кытай(?:лар|ларга|ларды|лардын|лык|лыктар)~",
        r"қытай(?:лар|ларға|ларды|лық)~", r"xitoyl(?:ar|ik)~", r"хитойл(?:ар|ик)~",
        r"the chinese\b", r"chinese " + _PEOPLE,
        r"chinks?\b",
        r"chinaman\b", r"çinli~",
    ),
    "kazakh": (
        r"казах(?!стан)~", r"казак(?:тар|тарга|тарды|тардын)~",  # ky plural; ru "казак" is Cossack
        r"қазақ(?!стан)~", r"qozoq(?!iston)~", r"қозоқ(?!истон)~", r"kazakhs?\b",
        r"kazaklar~",
        # kk cases typed without қ (казакка, казактын): the bare stem is a Cossack in Russian
        r"казак(?:ка|тын|тан|ты|пен)\b",
    ),
    "muslim": (
        r"мусульман~", r"мусулман~", r"мұсылман~", r"musulmon~", r"мусулмон~",
        r"muslims?\b", r"moslems?\b", r"müslüman~", r"исламист~",
        r"ragheads?\b", r"towelheads?\b", r"муслик~",
        # their places of worship stand for the group ("burn their mosque")
        r"мечет[ьиейям]~", r"мечит~", r"mosques?\b", r"masjid~", r"cami(?:ler|leri|yi|ye)?\b",
    ),
    "christian": (
        r"христиан~", r"xristian~", r"christians?\b", r"hristiyan~",
        r"h[ıi]?r[ıi]st[iı]yan~", r"церкв~", r"церковь~", r"churche?s?\b", r"kilise~",
    ),
    "jewish": (
        r"еврей~", r"евре(?:и|я|ю|ев|ям|ями|ях|е)\b", r"жид(?!к)~", r"zhid(?:y|ov)?\b",
        r"жөөт~", r"жөйт~", r"yahudiy~", r"яҳудий~",
        r"jew(?:s|ish|ess)?\b", r"kikes?\b", r"yahudi~", r"синагог~", r"synagogues?\b",
    ),
    "women": (
        r"женщин~", r"баб(?:а|ы|ам|ами|ах|е|у|ой)\b", r"телк[иа]\b", r"шлюх~", r"феминистк~",
        r"аял(?:дар|дарга|дарды|дардын|дын|га|ды|зат)?\b", r"кыз(?:дар|дарга|дарды|дардын)?\b",
        r"катын(?:дар|дарга|дарды)?\b",  # ky
        r"әйел~", r"қыздар~",  # kk
        r"ayol~", r"xotin(?:lar)?~", r"аел~",  # uz ("аёл": folding makes ``ё`` an ``е``)
        r"wom[ae]n\b", r"girls\b", r"feminazis?\b",
        r"kadın~", r"karı(?:lar|ları|lara)?\b",  # tr
    ),
    "lgbt": (
        r"гей(?!зер|ш)~", r"лгбт~", r"пид[оа]р~", r"педик~", r"гомик~", r"гомосексуал~",
        r"лесби~", r"трансгендер~", r"педераст~",
        r"gays?\b", r"lgbt~", r"lesbians?\b", r"faggots?\b", r"fags?\b", r"dykes?\b",
        r"trann(?:y|ies)\b", r"homos?\b", r"queers?\b", r"transgender~",
        r"eşcinsel~", r"ibne~", r"lezbiyen~", r"gomoseksual~", r"pidor~", r"pidar~",
    ),
    "migrant": (
        r"мигрант~", r"гастарбайтер~", r"понаехавш~", r"чурк(?:а|и|ам|ами|ах|у|ой)\b", r"чурок\b",
        r"чучмек~", r"churk(?:a|i)\b", r"муҳожир~", r"muhojir~", r"migrant~",
        r"immigrants?\b", r"refugees?\b", r"illegals\b", r"göçmen~", r"mülteci~",
        r"sığınmacı~", r"suriyeli~",  # tr: Syrians in Turkey are spoken of as the refugees
        r"босқын~",
    ),
    "disabled": (
        r"инвалид~", r"калек~", r"даун(?:ы|ов|ам|ами|ах)?\b", r"аутист~",
        r"майып~", r"мүгедек~", r"nogiron~", r"ногирон~",
        r"disabled\b", r"retard~", r"crippl~", r"handicapped\b",
        r"engelli~", r"sakat~", r"özürlü~",
    ),
}


#: Stems not matched in their keyboard-folded spelling: the folded form is another word
#: (``казак``, a Cossack), or its exclusion no longer keeps out the country's Russian name
#: (``узбек(?!истон)`` would match ``Узбекистан``; the Russian stems already cover them).
_NOT_FOLDED = {r"қазақ(?!стан)~", r"қирғиз(?!истон)~", r"ўзбек(?!истон)~"}


def _keyboard_variants(patterns: tuple[str, ...]) -> list[str]:
    """Each pattern plus its keyboard-folded spelling, where that differs."""
    out = list(patterns)
    for pattern in patterns:
        folded = keyboard_fold(pattern)
        if folded != pattern and pattern not in _NOT_FOLDED and folded not in out:
            out.append(folded)
    return out


@functools.cache
def _compiled() -> dict[str, regex.Pattern[str]]:
    missing = set(TARGET_GROUPS) ^ set(TARGET_LEXICON)
    if missing:
        raise RuntimeError(f"target lexicon and TARGET_GROUPS disagree on {sorted(missing)}")
    out = {}
    for group, patterns in TARGET_LEXICON.items():
        body = "|".join(f"(?:{p.replace('~', _TAIL)})" for p in _keyboard_variants(patterns))
        out[group] = regex.compile(rf"(?<![\p{{L}}\p{{M}}'])(?:{body})")
    return out


def find_targets(text: str, *, normalized: bool = False) -> list[str]:
    """The identity groups a post mentions, in the fixed order of ``TARGET_GROUPS``.

    Args:
        text: A post in any of the six languages (raw; it is folded here).
        normalized: True when ``text`` is already
            :func:`~warning.text.normalize.normalize`'s output: it is only case-folded.

    Returns:
        Group ids such as ``["uzbek", "migrant"]``; empty when none is mentioned.

    Example:
        >>> find_targets("Өзбектерге жана мигранттарга")
        ['uzbek', 'migrant']
    """
    if not isinstance(text, str):
        raise TypeError(f"find_targets() takes a str, got {type(text).__name__}")
    folded = fold(text, normalized=normalized)
    if not folded:
        return []
    patterns = _compiled()
    return [group for group in TARGET_GROUPS if patterns[group].search(folded)]


def find_targets_batch(texts: Sequence[str], *, normalized: bool = False) -> list[list[str]]:
    """:func:`find_targets` of many posts: the same answers, each distinct post tagged once.

    Each group's pattern runs once over the batch's distinct folded posts joined by a line
    break; a match is given to the post it starts in. A match that runs over a line break
    (a pattern that crosses lines) would hide what follows it, so such a batch is tagged one
    post at a time instead.

    Args:
        texts: The posts.
        normalized: True when every text is already
            :func:`~warning.text.normalize.normalize`'s output: they are only case-folded.

    Returns:
        One list of group ids per post, in order.

    Example:
        >>> find_targets_batch(["Өзбектерге жана мигранттарга", "Бүгүн күн ачык"])
        [['uzbek', 'migrant'], []]
    """
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"find_targets_batch() takes strs, got {type(text).__name__}")
    folded = {text: fold(text, normalized=normalized) for text in texts}
    distinct = [f for f in dict.fromkeys(folded.values()) if f]
    found = _tag_joined(distinct)
    return [found.get(folded[text], []) for text in texts]


def _tag_joined(folded: list[str]) -> dict[str, list[str]]:
    """Groups per folded post, by one search per group over all of them (see
    :func:`find_targets_batch`)."""
    if not folded:
        return {}
    if any("\n" in f for f in folded):
        # normalisation keeps line breaks out of posts; a raw caller's fallback
        return {f: _groups(f) for f in folded}
    joined = "\n".join(folded)
    starts = [0]
    for f in folded[:-1]:
        starts.append(starts[-1] + len(f) + 1)
    import bisect

    hits: list[set[str]] = [set() for _ in folded]
    for group, pattern in _compiled().items():
        for match in pattern.finditer(joined):
            i = bisect.bisect_right(starts, match.start()) - 1
            if match.end() > starts[i] + len(folded[i]):
                return {f: _groups(f) for f in folded}
            hits[i].add(group)
    return {f: [g for g in TARGET_GROUPS if g in h] for f, h in zip(folded, hits, strict=True)}


def _groups(folded: str) -> list[str]:
    patterns = _compiled()
    return [group for group in TARGET_GROUPS if patterns[group].search(folded)]
