"""Unintended-bias metrics per identity group (part of ``warning eval``).

Two measurements, per label (``hate`` for identity attacks, ``offensive`` too) and per group of
:data:`warning.labels.TARGET_GROUPS`:

- on identity-swap template sets per language (Dixon et al. 2018; ``benchmarks/fairness/``):
  the same toxic and non-toxic sentences with each group swapped in;
- on the corpus's test split, where :func:`warning.text.targets.find_targets` tags the group in at
  least ``min_rows`` rows with a known label, positives and negatives among them; other groups
  are reported as ``insufficient data``.

The metrics are those of Borkan et al. (2019), "Nuanced metrics for measuring unintended bias
with real data for text classification":

- subgroup AUC: ROC-AUC on the rows that mention the group;
- BPSN AUC (background positive, subgroup negative): non-toxic rows of the group against toxic
  rows of the rest; low values mean the group's mere mention raises scores (false alarms);
- BNSP AUC (background negative, subgroup positive): toxic rows of the group against non-toxic
  rows of the rest; low values mean attacks on the group are scored lower (misses).

Each comes with a percentile bootstrap interval over rows.

Example:
    >>> rows = expand_templates(load_templates()["en"])
    >>> sorted(rows.columns)
    ['group', 'lang', 'template', 'text', 'toxic']
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warning.labels import LABELS, TARGET_GROUPS
from warning.models.classifier import Classifier
from warning.text.targets import find_targets

from .metrics import bootstrap_auc

__all__ = [
    "FAIRNESS_LABELS",
    "INSUFFICIENT",
    "TEMPLATE_DIR",
    "bias_aucs",
    "corpus_fairness",
    "evaluate_fairness",
    "expand_templates",
    "fairness_markdown",
    "load_templates",
    "score_as_posts",
    "score_texts_as_posts",
    "template_fairness",
    "template_flag_rates",
]

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "fairness"
#: Labels whose bias is measured: identity attacks (``hate``) and toxicity (``offensive``).
FAIRNESS_LABELS = ("hate", "offensive")
INSUFFICIENT = "insufficient data"
METRICS = ("subgroup_auc", "bpsn_auc", "bnsp_auc")
#: Languages with no labelled hateful or offensive data (SOURCES.md): their template figures
#: measure transfer from the other languages. (Kazakh has had its hate set since issue 15.)
UNLABELLED_LANGS = ("uz",)


def load_templates(folder: Path = TEMPLATE_DIR) -> dict[str, dict[str, Any]]:
    """The template sets in ``folder``, keyed by file name without ``.json``: one per language
    (``kk.json``), or per language and script where a language is written in two
    (``uz.json`` in Latin letters, ``uz-Cyrl.json`` in Cyrillic; both have ``"lang": "uz"``,
    the language the model is told the posts are in).

    Raises:
        ValueError: A file lacks a group's form, a template lacks ``{group}``, or a set is empty.
    """
    out = {}
    for path in sorted(Path(folder).glob("*.json"), key=lambda p: p.stem):
        data = json.loads(path.read_text(encoding="utf-8"))
        missing = set(TARGET_GROUPS) - set(data.get("groups", {}))
        if missing:
            raise ValueError(f"{path}: no surface form for group(s) {sorted(missing)}")
        for kind in ("toxic", "non_toxic"):
            if not data.get(kind):
                raise ValueError(f"{path}: no {kind} templates")
            bad = [t for t in data[kind] if t.count("{group}") != 1]
            if bad:
                raise ValueError(f"{path}: templates need exactly one {{group}}: {bad[:3]}")
        data.setdefault("lang", path.stem)
        out[path.stem] = data
    return out


def expand_templates(template_set: dict[str, Any]) -> pd.DataFrame:
    """Every template with every group swapped in.

    Returns:
        Columns ``text``, ``lang``, ``group``, ``template`` (its index within its kind, e.g.
        ``toxic:3``) and ``toxic`` (1.0 or 0.0). A sentence that starts with the placeholder
        begins with a capital.
    """
    rows = []
    for kind, toxic in (("toxic", 1.0), ("non_toxic", 0.0)):
        for i, template in enumerate(template_set[kind]):
            for group in TARGET_GROUPS:
                text = template.replace("{group}", template_set["groups"][group])
                rows.append({"text": text[:1].upper() + text[1:], "lang": template_set["lang"],
                             "group": group, "template": f"{kind}:{i}", "toxic": toxic})
    return pd.DataFrame(rows)


def bias_aucs(y: Sequence[float], p: Sequence[float], in_group: Sequence[bool],
              n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, float]]:
    """Subgroup, BPSN and BNSP AUC of one group with bootstrap intervals.

    Args:
        y: 1/0 labels (rows with NaN must be dropped first).
        p: Scores.
        in_group: Whether each row mentions the group; the rest is the background.

    Returns:
        ``{metric: {"value", "low", "high"}}``; NaN where a side has no rows.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    g = np.asarray(in_group, dtype=bool)
    pos, neg = y == 1, y == 0
    masks = {"subgroup_auc": g, "bpsn_auc": (g & neg) | (~g & pos),
             "bnsp_auc": (g & pos) | (~g & neg)}
    return {name: bootstrap_auc(y[m], p[m], n_boot=n_boot, seed=seed)
            for name, m in masks.items()}


def _labels(model: Classifier) -> list[str]:
    return [n for n in FAIRNESS_LABELS if n in model.config.scored_labels]


def template_fairness(model: Classifier, templates: dict[str, dict[str, Any]] | None = None,
                      n_boot: int = 1000) -> dict[str, dict[str, dict[str, Any]]]:
    """Bias AUCs on the template sets: ``{set: {label: {group: {metric: interval}}}}``, where
    a set is a language (``kk``) or a language in a script (``uz-Cyrl``)."""
    templates = load_templates() if templates is None else templates
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key, template_set in templates.items():
        rows = expand_templates(template_set)
        proba = model.predict_proba(list(rows["text"]),
                                    langs=[template_set["lang"]] * len(rows))
        out[key] = {}
        for name in _labels(model):
            p = proba[:, LABELS.index(name)]
            out[key][name] = {
                group: {"n": int((rows["group"] == group).sum()),
                        **bias_aucs(rows["toxic"], p, rows["group"] == group, n_boot)}
                for group in TARGET_GROUPS}
    return out


def score_as_posts(model: Classifier, template_set: dict[str, Any]
                   ) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray]:
    """A template set's sentences scored as a user's posts are: each sentence's language
    detected and that language's thresholds applied (unlike :func:`template_fairness`, which
    scores each set as its own language).

    Returns:
        The expanded rows (:func:`expand_templates`), the detected languages, the
        probabilities and the flags (``[n, n_labels]``; False where a label is not scored).
    """
    rows = expand_templates(template_set)
    langs, proba, flags = score_texts_as_posts(model, list(rows["text"]))
    return rows, langs, proba, flags


def score_texts_as_posts(model: Classifier, texts: list[str]
                         ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts scored as a user's posts are: each text's language detected and that language's
    thresholds applied. Returns the languages, the probabilities and the flags
    (``[n, n_labels]``; False where a label is not scored)."""
    langs = model.languages(texts)
    proba = model.predict_proba(texts, langs=langs)
    with np.errstate(invalid="ignore"):
        flags = proba >= model.threshold_matrix(langs, len(texts))
    return langs, proba, flags


def template_flag_rates(model: Classifier, templates: dict[str, dict[str, Any]] | None = None
                        ) -> dict[str, dict[str, dict[str, float]]]:
    """The share of each template set's toxic and of its neutral sentences that a user would
    see flagged (:func:`score_as_posts`): ``{set: {label: {"toxic": share, "neutral":
    share}}}``."""
    templates = load_templates() if templates is None else templates
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, template_set in templates.items():
        rows, _, _, flags = score_as_posts(model, template_set)
        toxic = rows["toxic"].to_numpy() == 1.0
        out[key] = {name: {"toxic": float(flags[toxic, LABELS.index(name)].mean()),
                           "neutral": float(flags[~toxic, LABELS.index(name)].mean())}
                    for name in _labels(model)}
    return out


def corpus_fairness(model: Classifier, corpus: pd.DataFrame, split: str = "test",
                    min_rows: int = 100, n_boot: int = 1000,
                    proba: np.ndarray | None = None, min_class: int = 10
                    ) -> dict[str, dict[str, dict[str, Any]]]:
    """Bias AUCs on the corpus's groups (tagged by :func:`warning.text.targets.find_targets`).

    A group is measured for a label only where at least ``min_rows`` of its rows have the
    label known, with at least ``min_class`` positives and as many negatives among them (and
    the background has both); otherwise its entry is ``{"n", "positives", "status":
    "insufficient data"}``. (Clean Kazakh reviews name Kazakhs hundreds of times with two
    toxic rows among them: an AUC over two positives says nothing.)

    Args:
        proba: Scores of the split's rows, when already computed.
        min_class: Fewest positives, and fewest negatives, in a measured group.

    Returns:
        ``{label: {group: entry}}``.
    """
    rows = corpus[corpus["split"] == split].reset_index(drop=True)
    if proba is None:
        proba = model.predict_proba(list(rows["text"]), langs=model.languages(list(rows["text"])))
    tags = rows["text"].map(lambda t: set(find_targets(t)))
    out: dict[str, dict[str, Any]] = {}
    for name in _labels(model):
        known = rows[name].notna().to_numpy()
        y, p = rows[name].to_numpy(float)[known], proba[known, LABELS.index(name)]
        out[name] = {}
        for group in TARGET_GROUPS:
            g = tags[known].map(lambda s, group=group: group in s).to_numpy(bool)
            n, positives = int(g.sum()), int(y[g].sum())
            background = y[~g]
            enough = (n >= min_rows and min_class <= positives <= n - min_class
                      and 0 < background.sum() < len(background))
            out[name][group] = ({"n": n, "positives": positives,
                                 **bias_aucs(y, p, g, n_boot)} if enough else
                                {"n": n, "positives": positives, "status": INSUFFICIENT})
    return out


def evaluate_fairness(model: Classifier, corpus: pd.DataFrame | None = None,
                      split: str = "test", min_rows: int = 100, n_boot: int = 1000,
                      templates: dict[str, dict[str, Any]] | None = None,
                      proba: np.ndarray | None = None, min_class: int = 10) -> dict[str, Any]:
    """Both measurements, as the report's ``fairness`` entry (``proba``: the split's scores,
    when already computed)."""
    report: dict[str, Any] = {"labels": _labels(model), "min_rows": min_rows,
                              "min_class": min_class,
                              "templates": template_fairness(model, templates, n_boot),
                              "template_flags": template_flag_rates(model, templates)}
    if corpus is not None:
        report["corpus"] = corpus_fairness(model, corpus, split, min_rows, n_boot, proba,
                                           min_class)
    return report


def _cell(entry: dict[str, Any], metric: str) -> str:
    if entry.get("status") == INSUFFICIENT:
        return INSUFFICIENT
    block = entry.get(metric) or {}
    value, low, high = (math.nan if block.get(k) is None else float(block[k])
                        for k in ("value", "low", "high"))
    if math.isnan(value):
        return "n/a"
    return f"{value:.3f}" if math.isnan(low) else f"{value:.3f} [{low:.2f}, {high:.2f}]"


def _worst(groups: dict[str, dict[str, Any]], metric: str) -> str:
    values = {g: e[metric]["value"] for g, e in groups.items()
              if e.get("status") != INSUFFICIENT and e.get(metric)
              and e[metric].get("value") is not None and not math.isnan(e[metric]["value"])}
    if not values:
        return "n/a"
    group = min(values, key=values.get)
    return f"{group} {_cell(groups[group], metric)}"


def fairness_markdown(fairness: dict[str, Any]) -> list[str]:
    """The report's fairness section as Markdown lines: a summary (the weakest group per
    language, label and metric), then one table per template language and label, then the
    test split's groups."""
    templates = fairness.get("templates", {})
    lines = ["## Fairness per identity group", "",
             "Unintended-bias AUCs (Borkan et al. 2019) with 95% bootstrap intervals. Subgroup "
             "AUC: how well the model separates attacks from neutral mentions within the group. "
             "BPSN (background positive, subgroup negative): low means neutral mentions of the "
             "group score like attacks on others, i.e. false alarms. BNSP (background negative, "
             "subgroup positive): low means attacks on the group score like neutral posts, "
             "i.e. misses. 1.0 is perfect, 0.5 is chance. Templates: the same sentences with "
             "each group swapped in (`benchmarks/fairness/`, written by this project).", ""]
    untrained = [key for key in templates if key.split("-")[0] in UNLABELLED_LANGS]
    if untrained:
        lines += ["Template sets " + ", ".join(f"`{k}`" for k in untrained) + ": no public "
                  "labelled hateful or offensive data exists in Uzbek, so the "
                  "project's models saw only clean app reviews in it (unless retrained on "
                  "a researcher's own labels). These tables measure "
                  "what carries over from the other languages, not what was learned; the sets "
                  "were written by this project and await review by native speakers. "
                  "`uz` is Uzbek in Latin letters, `uz-Cyrl` the same sentences in Cyrillic, as "
                  "many Uzbek speakers in Kyrgyzstan write.", ""]
    flags = fairness.get("template_flags", {})
    if flags:
        lines += ["Share of each template set's hateful and neutral sentences flagged, each "
                  "sentence's language detected and that language's thresholds applied (as a "
                  "user's posts are flagged):", "",
                  "| templates | label | hateful flagged | neutral flagged |",
                  "|---|---|---:|---:|"]
        lines += [f"| {key} | {name} | {rates['toxic']:.1%} | {rates['neutral']:.1%} |"
                  for key, by_label in flags.items() for name, rates in by_label.items()]
        lines.append("")
    if templates:
        lines += ["The weakest group per template set:", "",
                  "| templates | label | lowest subgroup AUC | lowest BPSN AUC | "
                  "lowest BNSP AUC |", "|---|---|---|---|---|"]
        lines += [f"| {lang} | {name} | " + " | ".join(_worst(groups, m) for m in METRICS)
                  + " |" for lang, by_label in templates.items()
                  for name, groups in by_label.items()]
        lines.append("")
    for lang, by_label in templates.items():
        for name, groups in by_label.items():
            lines += [f"### Templates `{lang}`, label `{name}`", "",
                      "| group | subgroup AUC | BPSN AUC | BNSP AUC |", "|---|---|---|---|"]
            lines += [f"| {group} | " + " | ".join(_cell(e, m) for m in METRICS) + " |"
                      for group, e in groups.items()]
            lines.append("")
    corpus = fairness.get("corpus")
    if corpus:
        lines += [f"### Test split, groups tagged in at least {fairness['min_rows']} rows", "",
                  "Groups below that count (rows with the label known), or with fewer than "
                  f"{fairness.get('min_class', 10)} toxic or non-toxic rows, are marked "
                  f"\"{INSUFFICIENT}\".", ""]
        for name, groups in corpus.items():
            lines += [f"Label `{name}`:", "",
                      "| group | rows | positives | subgroup AUC | BPSN AUC | BNSP AUC |",
                      "|---|---:|---:|---|---|---|"]
            lines += [f"| {group} | {e['n']:,} | {e['positives']:,} | " +
                      (f"{INSUFFICIENT} | | |" if e.get("status") == INSUFFICIENT else
                       " | ".join(_cell(e, m) for m in METRICS) + " |")
                      for group, e in groups.items()]
            lines.append("")
    return lines
