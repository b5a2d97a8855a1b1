"""Hateful group frames and their contrasts: sentences that state hatred of a group, in Russian,
Kyrgyz and Kazakh, each frame also filled with people who are not a protected group, written by this
project.

Why: the shipped default caught 23% of the Russian functional suite's hatred stated as a
feeling ("I hate <group>") and 23% of its implicit derogation, and 58% of the Kyrgyz feelings
(``benchmarks/results/default_model_real_posts.md``). The real Russian hate set (RuEthnoHate)
is mostly news-comment hostility; the weak Russian labels need a swear word; so a plain "Я
ненавижу <group>" reached the model from a few dozen of our synthetic rows only. These
sentences give every group the frames of hate that carry no swear word: a feeling, a negative
attribution, dehumanisation, exclusion and a call to drive a group out.

Each frame is also filled with people who are not a protected group (officials, fraudsters,
debt collectors...): "Ненавижу коррупционеров" is a complaint, not hate speech. The pair
teaches that the target, not the frame, makes a sentence hate (the functional suites' "abuse of
non-protected targets" cases measure the same). Those rows are ``hard_negative`` (no label) or,
in the frames that insult, ``insult`` (offensive, not hate).

The sentences are generated from the frames below and the group names of
:mod:`training.mentions` by :func:`frame_rows`, and committed as
``training/synthetic/{ru,ky,kk}_frames.csv`` (sources ``synthetic_ru_frames``,
``synthetic_ky_frames`` and ``synthetic_kk_frames``). Regenerate them with ``python -m
training.group_frames``; a test checks the committed files equal the generator's output and
share no sentence and no five-word run with the functional suites, the fairness templates or
the neutral-mention benchmark. Those suites were written by the same project, so after this
augmentation they no longer measure these frames independently: the real posts' test splits
stay the first measure.

The rows are augmentation, not posts, and go to train only (in calib, our sentences moved the
stack's thresholds). They are opt-in (``warning train corpus --add-source
synthetic_ru_frames,...``), not in the shipped model's corpus: stacks with baselines trained on
them caught more of the suites' hateful cases but lost real Kyrgyz comments on dev
(``benchmarks/results/default_model_frames_not_shipped.md``).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

from .mentions import KK_FORMS, KY_FORMS, RU_FORMS, first_upper, rows_csv, write_generated
from .sources import SYNTHETIC_DIR

__all__ = ["FILES", "Frame", "frame_rows", "render_csv", "write_files"]

#: Output file per language.
FILES = {"ru": "ru_frames.csv", "ky": "ky_frames.csv", "kk": "kk_frames.csv"}

#: Groups that are peoples (frames about a homeland or a people fit them, and migrants).
PEOPLES = ("kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese", "kazakh",
           "jewish", "migrant")


@dataclass(frozen=True)
class Frame:
    """A hateful sentence with one slot (the case letters of :mod:`training.mentions`).

    ``threat``: the frame calls for violence or expulsion (``threat`` label too).
    ``contrast``: what the frame is with people who are not a protected group:
    ``hard_negative`` (no label), ``insult`` (offensive, not hate) or None (not filled so:
    the frame makes no sense with them). ``groups`` limits the frame to some groups."""

    text: str
    contrast: str | None = "hard_negative"
    threat: bool = False
    groups: tuple[str, ...] | None = None


# People who are not a protected group, in the case forms of the languages' group names.
RU_OTHERS: list[tuple[str, str, str, str, str]] = [
    ("чиновники", "чиновников", "чиновникам", "чиновниками", "чиновниках"),
    ("мошенники", "мошенников", "мошенникам", "мошенниками", "мошенниках"),
    ("коррупционеры", "коррупционеров", "коррупционерам", "коррупционерами", "коррупционерах"),
    ("коллекторы", "коллекторов", "коллекторам", "коллекторами", "коллекторах"),
    ("спамеры", "спамеров", "спамерам", "спамерами", "спамерах"),
    ("депутаты", "депутатов", "депутатам", "депутатами", "депутатах"),
    ("взяточники", "взяточников", "взяточникам", "взяточниками", "взяточниках"),
    ("хамы в маршрутках", "хамов в маршрутках", "хамам в маршрутках", "хамами в маршрутках",
     "хамах в маршрутках"),
]

KY_OTHERS: list[tuple[str, str, str, str, str, str]] = [
    ("чиновниктер", "чиновниктердин", "чиновниктерге", "чиновниктерди", "чиновниктерде",
     "чиновниктерден"),
    ("алдамчылар", "алдамчылардын", "алдамчыларга", "алдамчыларды", "алдамчыларда",
     "алдамчылардан"),
    ("паракорлор", "паракорлордун", "паракорлорго", "паракорлорду", "паракорлордо",
     "паракорлордон"),
    ("депутаттар", "депутаттардын", "депутаттарга", "депутаттарды", "депутаттарда",
     "депутаттардан"),
    ("коллекторлор", "коллекторлордун", "коллекторлорго", "коллекторлорду", "коллекторлордо",
     "коллекторлордон"),
    ("спамерлер", "спамерлердин", "спамерлерге", "спамерлерди", "спамерлерде", "спамерлерден"),
]

KK_OTHERS: list[tuple[str, str, str, str, str, str]] = [
    ("шенеуніктер", "шенеуніктердің", "шенеуніктерге", "шенеуніктерді", "шенеуніктерде",
     "шенеуніктерден"),
    ("алаяқтар", "алаяқтардың", "алаяқтарға", "алаяқтарды", "алаяқтарда", "алаяқтардан"),
    ("парақорлар", "парақорлардың", "парақорларға", "парақорларды", "парақорларда",
     "парақорлардан"),
    ("депутаттар", "депутаттардың", "депутаттарға", "депутаттарды", "депутаттарда",
     "депутаттардан"),
    ("коллекторлар", "коллекторлардың", "коллекторларға", "коллекторларды", "коллекторларда",
     "коллекторлардан"),
    ("спамерлер", "спамерлердің", "спамерлерге", "спамерлерді", "спамерлерде", "спамерлерден"),
]

RU_FRAMES: list[Frame] = [
    # hatred stated as a feeling
    Frame("Ненавижу {G}, и меня никто не переубедит."),
    Frame("Как же я ненавижу {G}, сил моих нет."),
    Frame("{N} меня бесят до дрожи, видеть их не хочу."),
    Frame("Презираю {G} и ни капли этого не стесняюсь."),
    Frame("Испытываю к {D} только злость и брезгливость."),
    Frame("Чем больше узнаю {G}, тем сильнее их ненавижу."),
    Frame("Не выношу {G}, рядом с ними мне противно дышать."),
    Frame("{N} мне глубоко противны, так было и так будет."),
    Frame("Скажу прямо: {G} я ненавижу всем сердцем."),
    Frame("Меня воротит, когда вокруг {N}."),
    # negative attribution
    Frame("{N} — лживые и подлые, доверять им нельзя.", contrast=None),
    Frame("Все {N} жулики, отвернёшься — обчистят.", contrast="insult"),
    Frame("У {G} подлость в крови, это не лечится.", contrast="insult"),
    Frame("Ни одного порядочного человека среди {G} я не встречал.", contrast="insult"),
    Frame("{N} умеют только обманывать и тащить чужое.", contrast="insult"),
    Frame("{N} грязные и ленивые, от них один вред.", contrast=None),
    # dehumanisation
    Frame("{N} размножаются как крысы, скоро их будет больше нас.", contrast=None),
    Frame("{N} — как саранча: где прошли, там пусто.", contrast=None),
    Frame("{N} — отбросы, человеческого в них ничего нет.", contrast=None),
    Frame("{N} хуже бродячих собак.", contrast="insult"),
    # exclusion and implicit derogation
    Frame("{D} не место в нашем городе, пусть едут к себе.", contrast=None, groups=PEOPLES),
    Frame("Пусть {N} сидят у себя и не лезут к нормальным людям.", contrast=None),
    Frame("Нормальный человек с {I} за один стол не сядет.", contrast=None),
    Frame("Не сдавайте квартиры {D}, потом сами пожалеете.", contrast=None),
    Frame("Я бы {G} даже на порог не пустил.", contrast="hard_negative"),
    Frame("Опять {N} понаехали, скоро своих в городе не останется.", contrast=None,
          groups=PEOPLES),
    Frame("Не дай бог дочь приведёт в дом кого-нибудь из {G}.", contrast=None),
    # calls to drive a group out
    Frame("{G} надо гнать отсюда палками.", contrast=None, threat=True),
    Frame("Всех {G} пора вывезти за город и решить вопрос навсегда.", contrast=None,
          threat=True),
]

KY_FRAMES: list[Frame] = [
    # hatred stated as a feeling
    Frame("{A} жек көрөм, мени эч ким көндүрө албайт."),
    Frame("{B} жийиркенем, жанымда турса эле жагымсыз болуп калат."),
    Frame("{N} мага такыр жакпайт, аларды көрө албайм."),
    Frame("{A} көргөн сайын ачуум келет."),
    Frame("{A} бүт жүрөгүм менен жек көрөм, алар менен иш кылгым келбейт."),
    Frame("{N} тууралуу ойлосом эле жүрөгүм айнып кетет."),
    Frame("Ачык айтам: {A} жек көрөм жана муну жашырбайм."),
    # negative attribution
    Frame("{N} баары калпычы жана ууру, аларга ишенбегиле.", contrast="insult"),
    Frame("{N} акылсыз жана жалкоо, алардан эч пайда жок.", contrast=None),
    Frame("{G} канында эле алдамчылык бар, аны эч ким оңдой албайт.", contrast="insult"),
    Frame("{G} арасынан бир да ак ниет адам көрө элекмин.", contrast="insult"),
    Frame("{N} бирөөнүн эсебинен гана жашашат, өздөрү эч нерсе кылбайт.", contrast="insult"),
    # dehumanisation
    Frame("{N} чымындай болуп, бардык жерди каптап алды.", contrast=None),
    Frame("{N} – бул эл эмес, таштанды.", contrast=None),
    Frame("{N} иттен да жаман, аларга адамча мамиле кылбаш керек.", contrast=None),
    # exclusion and implicit derogation
    Frame("{D} биздин шаарда орун жок, өз жерине кайтышсын.", contrast=None, groups=PEOPLES),
    Frame("{D} батир бербегиле, кийин өкүнүп каласыңар.", contrast=None),
    Frame("Кызым {B} бирөөгө турмушка чыкса, үйгө киргизбейм.", contrast=None),
    Frame("{A} босогомо да жолотпойм.", contrast="hard_negative"),
    Frame("Кайра эле {N} толуп кетти, жакында өзүбүзгө орун калбайт.", contrast=None,
          groups=PEOPLES),
    # calls to drive a group out
    Frame("{A} бул жерден таяк менен кубалап чыгуу керек.", contrast=None, threat=True),
    Frame("{G} баарын чогултуп, маселени биротоло чечиш керек.", contrast=None, threat=True),
]

# Kazakh: no frame puts a particle after a slot (its vowel would follow the name's).
KK_FRAMES: list[Frame] = [
    # hatred stated as a feeling
    Frame("{A} жек көремін, мені ешкім сендіре алмайды."),
    Frame("{B} жиіркенемін, қасымда тұрса да жаным түршігеді."),
    Frame("{N} маған мүлдем ұнамайды, оларды көре алмаймын."),
    Frame("{A} көрген сайын ашуым келеді."),
    Frame("Ашығын айтайын: {A} шын жүректен жек көремін."),
    Frame("{N} туралы ойласам болды, жүрегім айниды."),
    # negative attribution
    Frame("{N} түгелдей алаяқ, оларға сенуге болмайды.", contrast="insult"),
    Frame("{G} қанында алдау бар, оны ешкім түзете алмайды.", contrast="insult"),
    Frame("{G} арасынан бір де адал адам көрмедім.", contrast="insult"),
    Frame("{N} біреудің есебінен ғана күн көреді, өздері ештеңе істемейді.",
          contrast="insult"),
    Frame("{N} жалқау әрі надан, олардан ешқандай пайда жоқ.", contrast=None),
    # dehumanisation
    Frame("{N} шегірткедей қаптап, бәрін жеп кетті.", contrast=None),
    Frame("{N} иттен де төмен, оларға адам сияқты қарамау керек.", contrast=None),
    # exclusion and implicit derogation
    Frame("{D} біздің қалада орын жоқ, өз жерлеріне қайтсын.", contrast=None, groups=PEOPLES),
    Frame("{D} пәтер бермеңдер, кейін өкінесіңдер.", contrast=None),
    Frame("{A} табалдырығыма да жолатпаймын.", contrast="hard_negative"),
    Frame("Қызым {B} біреуге тұрмысқа шықса, үйге кіргізбеймін.", contrast=None),
    # calls to drive a group out
    Frame("{A} бұл жерден таяқпен қуып шығу керек.", contrast=None, threat=True),
    Frame("{G} бәрін жинап, мәселені біржола шешу керек.", contrast=None, threat=True),
]

_RU_SLOTS = ("N", "G", "D", "I", "P")
_KY_SLOTS = ("N", "G", "D", "A", "P", "B")
LANGS = {"ru": (RU_FORMS, RU_OTHERS, RU_FRAMES, _RU_SLOTS),
         "ky": (KY_FORMS, KY_OTHERS, KY_FRAMES, _KY_SLOTS),
         "kk": (KK_FORMS, KK_OTHERS, KK_FRAMES, _KY_SLOTS)}
#: Labels (offensive, hate, threat) by kind.
_LABELS = {"hateful": ("1", "1", "0"), "threat": ("1", "1", "1"),
           "hard_negative": ("0", "0", "0"), "insult": ("1", "0", "0")}


def frame_rows(lang: str) -> list[dict[str, str]]:
    """Every frame with every name of every group it fits, then with every non-protected
    target where the frame has a contrast, in a fixed order.

    Each row: the sentence, its labels (extremism unknown), the group (empty for the
    contrasts), the kind, the language and the frame's number (a frame's rows are
    near-duplicates of each other and stay in one split).
    """
    forms, others, frames, slots = LANGS[lang]
    rows = []

    def add(text: str, kind: str, group: str, number: int) -> None:
        offensive, hate, threat = _LABELS[kind]
        rows.append({"text": first_upper(text), "offensive": offensive, "hate": hate,
                     "threat": threat, "extremism": "", "target_ident": group, "kind": kind,
                     "lang": lang, "template": f"{lang}-frame-{number:02d}"})

    for number, frame in enumerate(frames):
        for group, names in forms.items():
            if frame.groups is not None and group not in frame.groups:
                continue
            for name in names:
                add(frame.text.format(**dict(zip(slots, name, strict=True))),
                    "threat" if frame.threat else "hateful", group, number)
        if frame.contrast is not None:
            for name in others:
                add(frame.text.format(**dict(zip(slots, name, strict=True))), frame.contrast,
                    "", number)
    random.Random(f"frames-{lang}").shuffle(rows)
    return rows


def render_csv(lang: str) -> str:
    """The committed file's exact content for ``lang``."""
    return rows_csv(frame_rows(lang))


def write_files(folder: Path = SYNTHETIC_DIR) -> list[Path]:
    """Write the files of :data:`FILES` into ``folder``."""
    return write_generated(FILES, render_csv, folder)


if __name__ == "__main__":
    for written in write_files(Path(sys.argv[1]) if len(sys.argv) > 1 else SYNTHETIC_DIR):
        print(f"wrote {written}")
