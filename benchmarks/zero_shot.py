"""Zero-shot reach: hateful and neutral template sentences flagged, per template language.

Usage:
    nice python benchmarks/zero_shot.py --model "shipped default=models/default" \
        [--model "new=runs/..."] [--sets kk,uz,uz-Cyrl,ky,ru]

For each template set of ``benchmarks/fairness/`` (ten toxic and ten non-toxic sentences, each
with the 15 identity groups swapped in), through the model's ordinary path (the language
detected per sentence, its thresholds for that language): the share of toxic sentences
flagged ``hate``, flagged for any label, and of non-toxic sentences flagged ``hate`` and for
any label. Beside them, the ``hate`` threshold each set's sentences met (per-language where the
model fitted one, else global) and the highest ``hate`` score among its toxic sentences, so a
threshold no sentence can reach (a language that the model would never flag) shows. Kazakh and
Uzbek measure transfer: Uzbek has no labelled hate at all; Kazakh has the ``kk_hate_speech``
set (lower-cased, partly translated), not these sentences' register. Writes
``benchmarks/results/zero_shot.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from pathlib import Path

import numpy as np

from training.fairness import load_templates, score_as_posts
from warning import Classifier
from warning.labels import LABELS

HERE = Path(__file__).resolve().parent


def reach(model: Classifier, template_set: dict) -> dict[str, object]:
    rows, langs, proba, flags = score_as_posts(model, template_set)
    thresholds = model.threshold_matrix(langs, len(rows))
    hate = LABELS.index("hate")
    toxic = rows["toxic"].to_numpy() == 1
    used = sorted({round(float(t), 3) for t in thresholds[:, hate]})
    detected = {}
    for lang in langs or []:
        detected[lang] = detected.get(lang, 0) + 1
    return {
        "toxic hate": flags[toxic, hate].mean(), "toxic any": flags[toxic].any(1).mean(),
        "neutral hate": flags[~toxic, hate].mean(), "neutral any": flags[~toxic].any(1).mean(),
        "thresholds": used, "max toxic hate": float(np.nanmax(proba[toxic, hate])),
        "detected": ", ".join(f"{k} {v}" for k, v in sorted(detected.items(),
                                                           key=lambda kv: -kv[1])[:3]),
        "n": (int(toxic.sum()), int((~toxic).sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--sets", default="kk,uz,uz-Cyrl,ky,ru,tr,en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "zero_shot.md")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    templates = load_templates()
    sets = [s for s in args.sets.split(",") if s]
    unknown = sorted(set(sets) - set(templates))
    if unknown:
        raise SystemExit(f"no template set {unknown}; there are {sorted(templates)}")
    lines = ["| model | set | toxic flagged `hate` | toxic flagged any | neutral flagged "
             "`hate` | neutral flagged any | `hate` threshold(s) met | highest toxic `hate` "
             "score | detected as |", "|---|---|---:|---:|---:|---:|---|---:|---|"]
    for spec in args.model:
        name, _, folder = spec.partition("=")
        model = Classifier.load(folder)
        for key in sets:
            r = reach(model, templates[key])
            print(name, key, {k: v for k, v in r.items()}, flush=True)
            lines.append(
                f"| {name} (`{model.name}`) | {key} | {r['toxic hate']:.1%} | "
                f"{r['toxic any']:.1%} | {r['neutral hate']:.1%} | {r['neutral any']:.1%} | "
                f"{', '.join(f'{t:.3f}' for t in r['thresholds'])} | "
                f"{r['max toxic hate']:.3f} | {r['detected']} |")
    text = "\n".join([
        "# Zero-shot reach on the identity-swap templates", "",
        "Command: `nice python benchmarks/zero_shot.py "
        + " ".join(f"--model '{m}'" for m in args.model) + f" --sets {args.sets}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.node() or 'vm'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}  ",
        "Sentences: each set's ten toxic and ten non-toxic templates with the 15 groups swapped "
        "in (150 + 150), scored as a user's posts are: language detected per sentence, that "
        "language's thresholds. Targets of issue 16: kk and uz toxic caught at least 50%, "
        "neutral flagged at most 10%.", "", *lines, ""])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
