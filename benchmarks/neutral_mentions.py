"""False alarms on neutral mentions of ethnic groups: the same everyday sentences with each group
swapped in, in Russian, Kyrgyz and Kazakh, scored by each model given.

Usage:
    python benchmarks/neutral_mentions.py [--model NAME=FOLDER ...] [--out FILE.md]

Every sentence is neutral (markets, neighbours, students, a festival), so every flag is a false
alarm. This is a quick check written while choosing the default model, before the identity-swap
fairness sets of ``warning eval``; its sentences were written for it and are not training data
(a test checks the mention augmentation shares no five-word run with them). A second table
scores those fairness sets (``benchmarks/fairness/``): non-toxic sentences flagged ``hate``
against toxic ones caught. Default models: the shipped default and the shipped baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
from pathlib import Path

from training.fairness import expand_templates, load_templates
from warning import Classifier
from warning.labels import LABELS
from warning.settings import precision

HERE = Path(__file__).resolve().parent

# Russian: adjective forms for "X traders ...", plural nouns for "X live ..."
RU_GROUPS = {"таджикские": "таджики", "узбекские": "узбеки", "кыргызские": "кыргызы",
             "русские": "русские", "дунганские": "дунгане", "уйгурские": "уйгуры",
             "китайские": "китайцы", "казахские": "казахи"}
RU_ADJECTIVE = ["{a} торговцы привезли на рынок свежие овощи.",
                "{a} студенты заняли первое место на олимпиаде.",
                "В селе открыли {a} кафе, там вкусно и недорого.",
                "{a} и наши врачи вместе провели бесплатный приём."]
RU_NOUN = ["В нашем доме живут {n}, хорошие соседи.",
           "На празднике выступали {n} со своими песнями.",
           "Вчера {n} и местные жители вместе убирали парк.",
           "По данным переписи, {n} составляют заметную часть населения района."]
KY_GROUPS = ["тажиктер", "өзбектер", "кыргыздар", "орустар", "дуңгандар", "уйгурлар", "кытайлар",
             "казактар"]
KY_NOUN = ["Базарда {n} жаңы жемиш сатып жатышат.",
           "Биздин айылда {n} көп жылдан бери жашайт.",
           "Майрамда {n} өз ырларын ырдашты.",
           "Кечээ {n} менен бирге паркты тазаладык."]
KK_GROUPS = ["тәжіктер", "өзбектер", "қырғыздар", "орыстар", "дүңгендер", "ұйғырлар", "қытайлар",
             "қазақтар"]
KK_NOUN = ["Пойызда {n} бізге ыстық шай ұсынды.",
           "Біздің ауылда {n} көп жылдан бері тұрады.",
           "Мерекеде {n} өз әндерін орындады.",
           "Суық болса да, {n} таңертең саябақта жүгіреді."]


def sentences() -> dict[str, list[str]]:
    """The neutral sentences per language, every template with every group."""
    def first_upper(text: str) -> str:
        return text[0].upper() + text[1:]

    ru = [first_upper(t.format(a=a)) for a in RU_GROUPS for t in RU_ADJECTIVE]
    ru += [t.format(n=n) for n in RU_GROUPS.values() for t in RU_NOUN]
    return {"ru": ru, "ky": [t.format(n=n) for n in KY_GROUPS for t in KY_NOUN],
            "kk": [t.format(n=n) for n in KK_GROUPS for t in KK_NOUN]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FOLDER")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "neutral_mentions.md")
    args = parser.parse_args()
    models = dict(m.split("=", 1) for m in args.model) or {
        "shipped default": "models/default", "shipped baseline": "models/baseline"}
    sets = sentences()
    hate = LABELS.index("hate")
    templates = {name: expand_templates(t) for name, t in load_templates().items()}
    rows, fair_rows = [], []
    for name, folder in models.items():
        model = Classifier.load(folder)
        cells = []
        for texts in sets.values():
            flags = model.predict(texts)
            cells.append(f"{flags[:, hate].mean():.0%} / {flags[:, :3].any(axis=1).mean():.0%}")
        rows.append(f"| {name} (`{model.name}`, {folder}) | " + " | ".join(cells) + " |")
        cells = []
        for frame in templates.values():
            flags = model.predict(frame["text"].tolist())[:, hate]
            toxic = frame["toxic"].to_numpy() == 1
            cells.append(f"{flags[~toxic].mean():.0%} / {flags[toxic].mean():.0%}")
        fair_rows.append(f"| {name} | " + " | ".join(cells) + " |")
    lines = [
        "# False alarms on neutral mentions of ethnic groups",
        "",
        "Command: `python benchmarks/neutral_mentions.py " +
        " ".join(f"--model '{m}'" for m in args.model) + "`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, Python "
        f"{platform.python_version()}, arithmetic {precision()}  ",
        "Sentences: " + ", ".join(f"{lang} {len(t)}" for lang, t in sets.items()) +
        " neutral sentences (8 groups in each template); every flag is a false alarm.",
        "",
        "| model | " + " | ".join(f"{lang}: hate / any label flagged" for lang in sets) + " |",
        "|---|" + "---:|" * len(sets),
        *rows,
        "",
        "## The fairness identity-swap sets",
        "",
        "The template sets of `warning eval` (`benchmarks/fairness/`, every template with each of "
        "the 15 groups): the share of non-toxic sentences flagged `hate` (false alarms) / the "
        "share of toxic ones flagged `hate` (caught). No Kazakh or Uzbek hate was ever trained "
        "on: those columns measure what carries over from other languages.",
        "",
        "| model | " + " | ".join(f"{n}: non-toxic / toxic" for n in templates) + " |",
        "|---|" + "---:|" * len(templates),
        *fair_rows,
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
