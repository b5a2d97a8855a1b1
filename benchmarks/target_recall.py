"""Target tagger on real text: recall per group on the groups the sources name.

RuEthnoHate names one or more ethnic groups per text (``ethnic_group``) and the Turkish hate
tweets were collected by a group keyword (``Keyword``). Where such a name is one of our 15
identity groups, the text mentions that group, so :func:`warning.text.targets.find_targets` should
return it: the share of texts where it does is the tagger's recall for the group. Names that
are none of our groups (Armenians, Kurds, Greeks, ...) are counted, not scored.

Usage:
    python benchmarks/target_recall.py [--data-dir DIR]

Writes ``benchmarks/results/target_recall.md`` (counts and shares only, no text).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
from collections import Counter, defaultdict
from pathlib import Path

from training.sources import read_source
from warning.settings import data_dir as default_data_dir
from warning.text.targets import find_targets

HERE = Path(__file__).resolve().parent

#: RuEthnoHate's group names (lemmas) that are one of our groups. Slurs count for the group
#: they target, as in the tagger ("чурка" and "гастарбайтер" for migrants).
RU_GROUPS = {
    "узбек": "uzbek", "таджик": "tajik", "киргиз": "kyrgyz", "кыргыз": "kyrgyz",
    "казах": "kazakh", "русский": "russian", "россиянин": "russian", "русак": "russian",
    "кацап": "russian", "москаль": "russian", "росс": "russian", "великоросс": "russian",
    "еврей": "jewish", "жид": "jewish",
    "китаец": "chinese", "уйгур": "uyghur", "дунганин": "dungan", "дунган": "dungan",
    "чурка": "migrant", "гастарбайтер": "migrant", "мигрант": "migrant", "сарт": "uzbek",
}
#: The Turkish keywords that are one of our groups.
TR_GROUPS = {
    "yahudi": "jewish", "çinli": "chinese", "hıristiyan": "christian", "hristiyan": "christian",
    "müslüman": "muslim", "rus": "russian", "kadın": "women", "kadınlar": "women",
    "suriyeli": "migrant",  # Syrians in Turkey are refugees: the tweets speak of them as such
}


def _instances(name: str, data_dir: Path) -> list[tuple[str, str]]:
    """(group name as the source writes it, text) per mention."""
    frame = read_source(name, data_dir)
    out = []
    for text, groups in zip(frame["text"], frame["meta_group"], strict=True):
        for group in filter(None, str(groups).split(";")):
            out.append((group.strip().lower(), text))
    return out


def _table(instances: list[tuple[str, str]], mapping: dict[str, str], lang: str
           ) -> tuple[str, str]:
    by_group: dict[str, list[bool]] = defaultdict(list)
    names: dict[str, Counter] = defaultdict(Counter)
    unmapped: Counter = Counter()
    for name, text in instances:
        group = mapping.get(name)
        if group is None:
            unmapped[name] += 1
            continue
        names[group][name] += 1
        by_group[group].append(group in find_targets(text))
    rows = ["| group | source names | mentions | tagged | recall |", "|---|---|---:|---:|---:|"]
    total_n = total_hit = 0
    for group in sorted(by_group, key=lambda g: -len(by_group[g])):
        hits = by_group[group]
        total_n += len(hits)
        total_hit += sum(hits)
        source_names = ", ".join(f"{n} ({c})" for n, c in names[group].most_common())
        rows.append(f"| {group} | {source_names} | {len(hits)} | {sum(hits)} | "
                    f"{sum(hits) / len(hits):.1%} |")
    rows.append(f"| **all of our groups** | | {total_n} | {total_hit} | "
                f"{total_hit / max(total_n, 1):.1%} |")
    top = ", ".join(f"{n} ({c})" for n, c in unmapped.most_common(12))
    note = (f"Names that are none of our 15 groups ({lang}): {sum(unmapped.values())} mentions "
            f"of {len(unmapped)} names, most often {top}.")
    return "\n".join(rows), note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "target_recall.md")
    args = parser.parse_args()
    data_dir = args.data_dir or default_data_dir()
    machine = f"{platform.node() or 'unknown'}, {platform.processor() or platform.machine()}, " \
              f"Python {platform.python_version()}"
    ru_table, ru_note = _table(_instances("ru_ethnohate", data_dir), RU_GROUPS, "ru")
    tr_table, tr_note = _table(_instances("tr_hate_tweets", data_dir), TR_GROUPS, "tr")
    report = (
        "# Target tagger recall on real text\n\n"
        f"Command: `python benchmarks/target_recall.py`  \nDate: {dt.date.today()}  \n"
        f"Machine: {machine}\n\n"
        "Recall of `warning.text.targets.find_targets` per identity group, on texts that a source "
        "says name the group: RuEthnoHate's `ethnic_group` per (text, group) instance, the "
        "Turkish hate tweets' search `Keyword` per tweet. A text may name a group only through "
        "a pronoun or a context the annotators saw, so 100% is not reachable; the figures say "
        "how often the tagger finds a named group, not its precision.\n\n"
        "The first run of this benchmark gave 88.0% over our groups in Russian and 63.1% in "
        "Turkish (Syrians 10.4%, Russians 2.3%, Christians 84.1%, Chinese in Russian 86.2%); "
        "after it, the lexicon gained Turkish `rus`, `suriyeli` and `sığınmacı` (as migrants), "
        "spellings of `hıristiyan`, Russian `китаец` and `чурок`. The figures below are after "
        "that change, on the same texts, so they are not an independent measurement.\n\n"
        f"## RuEthnoHate (ru)\n\n{ru_table}\n\n{ru_note}\n\n"
        f"## Turkish hate tweets (tr)\n\n{tr_table}\n\n{tr_note} `suriyeli` (Syrians) is "
        "counted as `migrant`: our groups have no Syrians, and the tweets speak of them as "
        "refugees.\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
