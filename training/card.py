"""Model cards generated from a model's config and its evaluation report (STYLE.md item 9).

The card is the model folder's ``README.md``, as the ecosystem's model folders write it
(transformers, peft, sentence-transformers, skops): a YAML header of card data (languages,
licence, training sources, base model, metrics with their split, in the ``model-index`` form
the Hugging Face hub reads), then the sections in Markdown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from warning.labels import DESCRIPTIONS, LABELS
from warning.models.classifier import ModelConfig

from .evaluate import report_markdown
from .fairness import UNLABELLED_LANGS

__all__ = ["CARD_FILE", "card_metadata", "render_card", "write_card"]

#: The card's file name in a model folder.
CARD_FILE = "README.md"
#: The base encoder of the transformer (DESIGN.md, "Models"), as its hub id.
BASE_MODEL = "intfloat/multilingual-e5-small"
#: The licence of the model's own code and weights (the training data's terms are listed
#: beside it, by licence class, and in the card's "Training data").
_PROJECT_LICENCE = "mit"

_LICENCE_NOTES = {
    "research-unclear": "published for research with no licence stated, or use-restricted",
    "non-commercial": "CC BY-NC: no commercial use of this model",
    "copyleft": "CC BY-SA / GPL: share-alike terms may reach this model",
}


#: The real labelled hate sets of Kyrgyz, Kazakh, Turkish and Russian (SOURCES.md).
_REAL_HATE_SOURCES = {"ky_youtube_hate", "kk_hate_speech", "tr_hate_tweets", "ru_ethnohate"}


def _real_hate_limitations(real: list[str], synthetic: list[str], fp: str) -> list[str]:
    """What the model learned from the small real hate sets, and what they cannot show."""
    sets = ", ".join(r for r in real if r != "ru_ethnohate") or "none of them here"
    lines = [
        "- **Kyrgyz, Kazakh and Turkish hate rest on one small real set each** "
        f"({sets}): Kyrgyz YouTube comments (863, one annotator, most typed on a "
        "Russian keyboard), a Kazakh set that is lower-cased, without punctuation and partly "
        "translated from English, Turkish tweets that each name a group. Each is one domain "
        "and a part of its public set; read the per-source figures of this card as figures on "
        "that domain, not on Kyrgyz, Kazakh or Turkish posts in general. Kyrgyz and Kazakh "
        "training rows were also added as typed without their own letters (flagged keyboard "
        "variants; never in dev, calib or test).",
        "- **Russian `hate` rests on RuEthnoHate** (ethnic hate in social-media texts) where "
        "it is in the data"
        + (", plus our written examples" if synthetic else "") +
        "; no source labels Russian, Kyrgyz, Kazakh or Turkish threats"
        + (" (only our written examples do)" if synthetic else "") + ".",
        "- **Uzbek has clean text only** (app reviews): hate in Uzbek is caught only insofar "
        "as what the model learned carries over. Flag rates on the clean single-domain "
        "sources (Kyrgyz news, Kazakh and Uzbek reviews; every flag there is a false "
        f"positive): {fp or 'not measured'}.",
    ]
    if synthetic:
        lines.append(
            f"- Our own written examples ({', '.join(synthetic)}) are a flagged source; the "
            "card's per-source figures keep them apart from real posts.")
    return lines


def _untrained_language(report: dict[str, Any]) -> list[str]:
    """What a user can expect in a language without labelled hate, from the flag rates on
    the Uzbek template sentences (none where the report has no such measurement)."""
    flags = report.get("fairness", {}).get("template_flags", {})
    sets = {key: by_label["hate"] for key, by_label in flags.items()
            if key.split("-")[0] in UNLABELLED_LANGS and "hate" in by_label}
    if not sets:
        return []
    caught = ", ".join(f"{r['toxic']:.0%} ({k})" for k, r in sets.items())
    neutral = ", ".join(f"{r['neutral']:.0%} ({k})" for k, r in sets.items())
    return [
        "- **In a language with no labelled hate** (measured on Uzbek), expect most hate to "
        "be missed: of our "
        f"hateful Uzbek template sentences, scored as a user's posts are, {caught} were "
        f"flagged `hate`, and {neutral} of the neutral ones. A quiet feed in such a language "
        "means nothing; every post in it is marked `review: true`."]


def _limitations(config: ModelConfig, report: dict[str, Any]) -> list[str]:
    weak = ", ".join(config.weak_languages) or "none"
    null = [n for n in LABELS if n not in config.scored_labels]
    clean = report.get("clean_languages", {})
    fp = "; ".join(f"{lang} {b['any_label_flag_rate']:.1%}" for lang, b in clean.items())
    synthetic = [s["name"] for s in config.data_sources if s["name"].startswith("synthetic_")]
    kinds = {config.kind, *config.training.get("members", {})}  # an ensemble's member names
    names = {s["name"] for s in config.data_sources}
    real_hate = sorted(names & _REAL_HATE_SOURCES)
    if real_hate:
        data_gap = _real_hate_limitations(real_hate, synthetic, fp) + _untrained_language(report)
    elif not synthetic:
        data_gap = [
            "- **Kyrgyz, Kazakh and Uzbek: no labelled hateful or offensive data exists.** The "
            "model has only seen clean news (Kyrgyz) and app reviews (Kazakh, Uzbek) in these "
            "languages. It will miss most hate and threats written in them. The only "
            "measurement of what it catches in Kyrgyz is our own functional suite "
            "(`benchmarks/functional/ky_suite.csv`); the corpus figures for these languages "
            f"are false-positive rates on clean text only ({fp or 'not measured'}).",
            "- **Hate and threat are learned from English data only.** No source labels "
            "`hate` or `threat` in Russian or Turkish; in those languages the model flags "
            "ethnic hate only insofar as what it learned carries over, which is little. The "
            "Russian functional suite shows how much."]
    else:
        data_gap = [
            "- **Kyrgyz figures are measured on our own suite only.** No labelled hateful or "
            "offensive Kyrgyz data exists; the Kyrgyz positives the model saw are examples "
            f"this project wrote ({', '.join(synthetic)}), and its Kyrgyz corpus cells are "
            "those examples' held-out part: read them as agreement with our own labelling, "
            "not as recall on real posts. The functional suite "
            "(`benchmarks/functional/ky_suite.csv`, frozen before any synthetic data was "
            "written, sharing no sentence or template with it) is the only independent "
            "Kyrgyz measurement, and it too was written by this project. Kazakh and Uzbek "
            f"have clean text only: their figures are false-positive rates ({fp or 'n/a'}); "
            "hate in them is caught only insofar as the multilingual encoder carries it over.",
            "- **Russian and Turkish `hate`/`threat` rest on derived labels.** No source labels "
            "them; Russian `hate` positives are weak labels (toxic posts that name an identity "
            "group) plus our written examples, so the Russian `hate` cells measure agreement "
            "with that rule. Turkish has `offensive` labels only."]
    return [
        *data_gap,
        f"- Weak languages (every post in them is marked `review: true`): {weak}.",
        *([f"- Not scored (always `null`, never flagged): {', '.join(null)}."] if null else []),
        *(["- Character n-grams see words, not meaning: negation, counter-speech that quotes "
           "hate, irony and implicit hate are frequent errors (see the functional suites)."]
          if kinds == {"baseline"} else
          ["- Negation, counter-speech that quotes hate, irony, reclaimed words and implicit "
           "hate remain frequent errors; see the functional suites per functionality."]),
        "- The training sources are tweets and forum posts from other countries (US, India, "
        "Russia, Turkey); the slang, targets and politics of Central Asian feeds differ.",
        "- Scores are calibrated on the calib split, whose base rates are far higher than a "
        "real feed's: on a real feed most flagged posts at a given threshold will be false "
        "alarms more often than the precision figures suggest.",
        "- Never use a score alone to sanction a person, remove an account or report someone to "
        "authorities. A person reviews flagged posts, and `review: true` posts always.",
    ]


def _plain_words(config: ModelConfig) -> list[str]:
    """For CSO staff: what a score means, what the model misses, when to ask a person."""
    weak = ", ".join(config.weak_languages) or "none"
    return [
        "## In plain words",
        "",
        "**What a score means.** A score of 0.8 for `hate` means: among many posts that got "
        "about 0.8 in our tests, about eight in ten were hateful. It is not the share of the "
        "post that is hateful, not how bad the post is, and not a verdict about its author. "
        "The model flags a post when a score passes the label's threshold in the table above; "
        "on a real feed, where hate is rarer than in our test data, more of the flagged posts "
        "will be harmless than these figures suggest.",
        "",
        "**What the model misses.** Hate written in Kyrgyz, Kazakh or Uzbek (little or no "
        "labelled data exists), coded words and new slang, hate hidden in irony, questions or "
        "images, threats without violent words, and anything that depends on who is speaking "
        "or what happened the day before. It also flags some posts that only *quote* or "
        "*condemn* hate, and mentions of a group that are not attacks (see the fairness "
        "tables: a low BPSN AUC for a group means neutral posts about that group get high "
        "scores).",
        "",
        "**When to ask a person.** Always before anything happens to a post or a person: a "
        "flag is a reason to read the post, never a decision. Ask a person in particular when "
        "the post is marked `review: true` (a score close to its threshold, or a language the "
        f"model is weak in: {weak}), when the post names an identity group, when the post may "
        "be counter-speech, news or a quotation, and whenever an alert could lead to a report "
        "to a platform, an employer or the authorities.",
        "",
    ]


def _data_protection() -> list[str]:
    """Retention, deletion, who runs scans, and the dual use of ``extremism``."""
    return [
        "## Data protection",
        "",
        "- **Scan outputs hold personal data** (posts, channels, times, pseudonymised authors). "
        "Keep them on encrypted storage that only the analysts who review alerts can open; "
        "delete the whole scan output (scores, alerts, reports, their `.rejects.csv`, "
        "`.summary.json` and any `.partial/` folder) when the analysis it was made for is "
        "finished, and at the latest after the retention period your organisation has set (we "
        "suggest no more than 90 days). Keep aggregate counts for a longer record, not posts.",
        "- **Authors are pseudonymised with a keyed hash** unless the person running the scan "
        "chooses to keep them; keep the key apart from the outputs. Never publish evidence "
        "posts with authors attached.",
        "- **Feedback** (moderators' corrections) may reach training only after a second "
        "person has reviewed it. Delete corrections nobody reviewed within the retention "
        "period, and delete a person's posts from the feedback and from any corpus built from "
        "it when they ask. A model trained on feedback keeps what it learned: retrain without "
        "the deleted rows at the next release.",
        "- **Who should run scans.** Trained staff of the organisation, for a documented "
        "purpose (monitoring hate and threats against communities), on public posts or data "
        "they are allowed to process, with a named person responsible. Do not scan private "
        "messages, do not build profiles of individuals, and do not hand outputs to security "
        "services, employers or platforms without a legal review and the organisation's "
        "agreement.",
        "- **The dual use of `extremism`.** In Central Asia \"extremism\" is also a criminal "
        "charge used against religious minorities, journalists and critics. A list of posts "
        "flagged for it can become a list of people to prosecute. The label is off (`null`) "
        "in the shipped models; do not switch it on, and do not share `extremism` outputs, "
        "without a written assessment of who could obtain them and what they could do with "
        "them.",
        "",
    ]


def _beside(report: dict[str, Any], beside: dict[str, dict[str, Any]]) -> list[str]:
    """Headline figures of other models (e.g. a permissive-only one) next to this one's."""
    if not beside:
        return []
    reports = {"this model": report, **beside}
    head = "| | " + " | ".join(reports) + " |\n|---|" + "---:|" * len(reports)
    langs = sorted({lang for r in reports.values() for lang in r["macro_f1_by_language"]})
    lines = ["## Beside other models", "",
             "Same test split and suites. Macro-F1 per language (labels with positives there):",
             "", head]
    for lang in langs:
        cells = [r["macro_f1_by_language"].get(lang) for r in reports.values()]
        lines.append(f"| {lang} | " + " | ".join("n/a" if v is None else f"{v:.3f}"
                                                for v in cells) + " |")
    suites = sorted({s for r in reports.values() for s in r.get("functional", {})})
    for suite in suites:
        cells = [r.get("functional", {}).get(suite) for r in reports.values()]
        lines.append(f"| {suite} hateful / non-hateful | " + " | ".join(
            "n/a" if c is None else f"{c['hateful']['accuracy']:.1%} / "
            f"{c['non_hateful']['accuracy']:.1%}" for c in cells) + " |")
    for lang in sorted({g for r in reports.values() for g in r.get("clean_languages", {})}):
        cells = [r.get("clean_languages", {}).get(lang) for r in reports.values()]
        lines.append(f"| clean {lang} flagged | " + " | ".join(
            "n/a" if c is None else f"{c['any_label_flag_rate']:.1%}" for c in cells) + " |")
    return [*lines, "", *[f"- {name}: `{r['model']}`" for name, r in beside.items()], ""]


def render_card(config: ModelConfig, report: dict[str, Any],
                beside: dict[str, dict[str, Any]] | None = None) -> str:
    """The card as Markdown: model details, intended use, data, metrics, other models' figures
    beside this one's (``beside``: name -> report), limitations."""
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
        *([f"Scores were computed in {report['precision']} arithmetic "
           "(`WARNING_PRECISION`; bfloat16 and float32 scores differ by at most about 0.01)."]
          if report.get("precision") else []),
        *(["Members: " + ", ".join(
            f"`{name}` = `{model_id}`" + _specialist(training, name)
            for name, model_id in training["members"].items()) + "."]
          if isinstance(training.get("members"), dict) else []),
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
        *_beside(report, beside or {}),
        *_plain_words(config),
        "## Limitations and ethical considerations",
        "",
        *_limitations(config, report),
        "",
        *_data_protection(),
        "## Reproduce",
        "",
        "```bash",
        *(config.training.get("commands") or ["warning train corpus",
                                              f"warning train {config.kind}"]),
        "```",
        "",
    ])


def _metric(kind: str, value: float, name: str) -> dict[str, Any]:
    return {"type": kind, "value": round(float(value), 4), "name": name}


def card_metadata(config: ModelConfig, report: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML header: what the hub and other tools read of a model folder.

    Metrics are the test split's (``report["split"]``): macro-F1 per language, and F1 and
    ROC-AUC per label over all languages.
    """
    languages = sorted({*report.get("macro_f1_by_language", {}),
                        *report.get("clean_languages", {}), *config.by_language} - {"other"})
    classes = sorted({s["licence"] for s in config.data_sources})
    metrics = [_metric("f1", value, f"macro-F1, {lang}")
               for lang, value in sorted(report.get("macro_f1_by_language", {}).items())]
    for label, cells in report.get("overall", {}).items():
        for kind in ("f1", "roc_auc"):
            value = (cells.get(kind) or {}).get("value")
            if value is not None:
                metrics.append(_metric(kind, value, f"{kind}, {label}, all languages"))
    meta: dict[str, Any] = {
        "language": languages,
        "license": _PROJECT_LICENCE,
        "library_name": "early-warning",
        "pipeline_tag": "text-classification",
        "tags": ["hate-speech", "toxicity", "threat-detection", "early-warning",
                 f"kind-{config.kind}"],
        "datasets": [s["name"] for s in config.data_sources],
        "training_data_licence_classes": classes,
        "model_id": config.model_id,
        "labels": list(config.labels),
        "scored_labels": list(config.scored_labels),
    }
    if config.kind in ("transformer", "ensemble"):
        meta["base_model"] = BASE_MODEL
    if metrics:
        meta["model-index"] = [{
            "name": config.model_id,
            "results": [{
                "task": {"type": "text-classification", "name": "multi-label post scoring"},
                "dataset": {"type": "early-warning-corpus", "name": "the project's corpus",
                            "split": report.get("split", "test")},
                "metrics": metrics,
            }],
        }]
    return meta


def with_header(config: ModelConfig, report: dict[str, Any], body: str) -> str:
    """``body`` (a card's Markdown) with the YAML header in front."""
    header = yaml.safe_dump(card_metadata(config, report), allow_unicode=True,
                            sort_keys=False, width=100)
    return f"---\n{header}---\n\n{body}"


def write_card(folder: Path, config: ModelConfig, report: dict[str, Any],
               beside: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write the card, ``README.md`` with its YAML header, into the model folder (a
    ``card.md`` from before cards were named so is removed)."""
    folder = Path(folder)
    path = folder / CARD_FILE
    path.write_text(with_header(config, report, render_card(config, report, beside)),
                    encoding="utf-8")
    (folder / "card.md").unlink(missing_ok=True)
    return path


def _specialist(training: dict, member: str) -> str:
    """`` (votes only on posts in ky)`` for an ensemble's language specialist, else ``""``."""
    langs = ((training.get("ensemble") or {}).get("member_languages") or {}).get(member)
    return f" (votes only on posts in {', '.join(langs)})" if langs else ""
