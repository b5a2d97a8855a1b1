"""Model cards generated from a model's config and its evaluation report (STYLE.md item 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from warning.classifier import ModelConfig
from warning.labels import DESCRIPTIONS, LABELS

from .evaluate import report_markdown

__all__ = ["render_card", "write_card"]

_LICENCE_NOTES = {
    "research-unclear": "published for research with no licence stated, or use-restricted",
    "non-commercial": "CC BY-NC: no commercial use of this model",
    "copyleft": "CC BY-SA / GPL: share-alike terms may reach this model",
}


def _limitations(config: ModelConfig, report: dict[str, Any]) -> list[str]:
    weak = ", ".join(config.weak_languages) or "none"
    null = [n for n in LABELS if n not in config.scored_labels]
    clean = report.get("clean_languages", {})
    fp = "; ".join(f"{lang} {b['any_label_flag_rate']:.1%}" for lang, b in clean.items())
    return [
        "- **Kyrgyz, Kazakh and Uzbek: no labelled hateful or offensive data exists.** The "
        "model has only seen clean news (Kyrgyz) and app reviews (Kazakh, Uzbek) in these "
        "languages. It will miss most hate and threats written in them. The only measurement of "
        "what it catches in Kyrgyz is our own functional suite "
        "(`benchmarks/functional/ky_suite.csv`); the corpus figures for these languages are "
        f"false-positive rates on clean text only ({fp or 'not measured'}).",
        "- **Hate and threat are learned from English data only.** No source labels `hate` or "
        "`threat` in Russian or Turkish; in those languages the model flags ethnic hate only "
        "insofar as character n-grams carry over, which is little. The Russian functional "
        "suite shows how much.",
        f"- Weak languages (every post in them is marked `review: true`): {weak}.",
        *([f"- Not scored (always `null`, never flagged): {', '.join(null)}."] if null else []),
        "- Character n-grams see words, not meaning: negation, counter-speech that quotes hate, "
        "irony and implicit hate are frequent errors (see the functional suites).",
        "- The training sources are tweets and forum posts from other countries (US, India, "
        "Russia, Turkey); the slang, targets and politics of Central Asian feeds differ.",
        "- Scores are calibrated on the calib split, whose base rates are far higher than a "
        "real feed's: on a real feed most flagged posts at a given threshold will be false "
        "alarms more often than the precision figures suggest.",
        "- Never use a score alone to sanction a person, remove an account or report someone to "
        "authorities. A person reviews flagged posts, and `review: true` posts always.",
    ]


def render_card(config: ModelConfig, report: dict[str, Any]) -> str:
    """The card as Markdown: model details, intended use, data, metrics, limitations."""
    sources = "\n".join(
        f"- `{s['name']}` ({s['licence']}"
        f"{': ' + _LICENCE_NOTES[s['licence']] if s['licence'] in _LICENCE_NOTES else ''})"
        for s in config.data_sources) or "- (not recorded)"
    labels = "\n".join(
        f"| `{n}` | {DESCRIPTIONS[n]} | "
        f"{config.thresholds[n]:.3f} | {config.review_bands[n][0]:.3f}-"
        f"{config.review_bands[n][1]:.3f} |" if n in config.scored_labels else
        f"| `{n}` | {DESCRIPTIONS[n]} | not scored (`null`) | |" for n in LABELS)
    training = config.training
    body = report_markdown(report).split("\n", 1)[1]
    return "\n".join([
        f"# Model card: {config.model_id}",
        "",
        f"Kind: `{config.kind}`. Created {config.created} from commit `{config.commit}`. "
        f"Training took {training.get('seconds', '?')} s on {training.get('train_rows', '?'):,} "
        "rows." if isinstance(training.get("train_rows"), int) else
        f"Kind: `{config.kind}`. Created {config.created}.",
        "",
        "## What it is for",
        "",
        "Flagging posts in Russian, Kyrgyz, English, Kazakh, Uzbek and Turkish for a person to "
        "review: moderators of online communities and analysts of civil-society organisations "
        "in Kyrgyzstan and Central Asia who watch for hate and threats that can precede "
        "conflict. It is a triage aid, not a judge.",
        "",
        "## What a score means",
        "",
        "Each score is a calibrated probability that the post carries the label, fitted on "
        "held-out data (calib split). A post is flagged for a label when its score reaches the "
        "label's threshold (chosen for the best F1 on that split). Inside the review band the "
        "model is unsure: a person should look.",
        "",
        "| label | meaning | threshold | review band |",
        "|---|---|---:|---|",
        labels,
        "",
        "`extremism` is experimental and off: in Central Asia \"extremism\" is also a legal "
        "charge used against religious minorities, journalists and critics. A model that flags "
        "it could be turned against the people this project protects; it stays `null` until a "
        "model is trained and evaluated for it with that risk in view.",
        "",
        "## Training data",
        "",
        sources,
        "",
        "Training configuration:",
        "",
        "```json",
        json.dumps({k: v for k, v in training.items() if k != "seconds"}, ensure_ascii=False),
        "```",
        "",
        body,
        "",
        "## Limitations and ethical considerations",
        "",
        *_limitations(config, report),
        "",
        "## Reproduce",
        "",
        "```bash",
        "warning train corpus",
        f"warning train {config.kind}",
        "```",
        "",
    ])


def write_card(folder: Path, config: ModelConfig, report: dict[str, Any]) -> Path:
    """Write ``card.md`` into the model folder."""
    path = Path(folder) / "card.md"
    path.write_text(render_card(config, report), encoding="utf-8")
    return path
