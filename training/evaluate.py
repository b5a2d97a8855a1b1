"""The evaluation suite the model cards are built from (``warning eval``).

- per language x label: precision, recall, F1 and ROC-AUC with bootstrap intervals, on the
  corpus's test split, masking unknown labels; flag rates on the clean-only languages (their
  false-positive rate);
- calibration per label: adaptive ECE, Brier score, reliability bins;
- per source: the same metrics on each source's test rows;
- functional suites in the HateCheck CSV format (``functionality``, ``test_case``,
  ``label_gold``, ``target_ident``): accuracy per functionality and per target group;
- a leave-one-source-out matrix: train without a source, test on all of its rows.

Output: ``report.json``, ``report.md`` and PNG plots (reliability diagram, precision-recall
curves) in one folder.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warning.labels import LABELS
from warning.models.classifier import Classifier

from .metrics import adaptive_ece, binary_metrics, bootstrap_metrics, brier_score, reliability_bins

__all__ = [
    "SuiteError",
    "compare_reports",
    "evaluate_corpus",
    "leave_one_source_out",
    "load_suite",
    "run_suite",
    "write_report",
]

log = logging.getLogger(__name__)

#: A functional case counts as predicted hateful when one of these labels is flagged.
HATEFUL_LABELS = ("hate", "threat")
SUITE_COLUMNS = ("functionality", "test_case", "label_gold")


class SuiteError(ValueError):
    """A functional suite file is missing or malformed (the message names the file)."""


def _labels_scored(model: Classifier) -> list[str]:
    return list(model.config.scored_labels)


def _metrics_block(y: np.ndarray, p: np.ndarray, threshold: float | np.ndarray, n_boot: int
                   ) -> dict:
    point = binary_metrics(y, p, threshold)
    if point["positives"] == 0 or point["positives"] == point["n"]:
        return {"n": point["n"], "positives": point["positives"],
                "flag_rate": point["flag_rate"]}
    boot = bootstrap_metrics(y, p, threshold, n_boot=n_boot)
    return {"n": point["n"], "positives": point["positives"], "flag_rate": point["flag_rate"],
            **boot}


def evaluate_corpus(
    model: Classifier, corpus: pd.DataFrame, split: str = "test", n_boot: int = 1000,
    min_rows: int = 20, fairness: bool = False,
) -> dict[str, Any]:
    """Metrics of a model on one split of a corpus.

    Args:
        model: The classifier.
        corpus: A corpus frame (``training.corpus``).
        split: The split to read (``test`` for cards; read once per model).
        n_boot: Bootstrap replicates for the intervals.
        min_rows: Language/label cells with fewer known rows are skipped.
        fairness: Add ``fairness``: bias AUCs per identity group on the template sets and on
            the split's tagged groups (:mod:`training.fairness`), reusing the scores.

    Returns:
        A JSON-ready dict: ``by_language``, ``by_source``, ``overall``, ``calibration``,
        ``clean_languages``, ``macro_f1_by_language`` and ``curves`` (for the plots).
    """
    rows = corpus[corpus["split"] == split].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"the corpus has no {split!r} rows")
    log.info("scoring %d %s rows", len(rows), split)
    langs = model.languages(list(rows["text"]))
    proba = model.predict_proba(list(rows["text"]), langs=langs)
    thresholds = model.threshold_matrix(langs, len(rows))  # per language where fitted
    scored = _labels_scored(model)
    report: dict[str, Any] = {
        "model": model.name, "split": split, "rows": len(rows), "scored_labels": scored,
        "thresholds": dict(model.config.thresholds),
        "thresholds_by_language": {lang: part["thresholds"] for lang, part in
                                   model.config.by_language.items()},
        "by_language": defaultdict(dict), "by_source": defaultdict(dict), "overall": {},
        "calibration": {}, "clean_languages": {}, "curves": {},
    }
    sources = rows["source"].str.split(";")
    for name in scored:
        j = LABELS.index(name)
        known = rows[name].notna().to_numpy()
        y, p = rows.loc[known, name].to_numpy(float), proba[known, j]
        report["overall"][name] = _metrics_block(y, p, thresholds[known, j], n_boot)
        report["calibration"][name] = {
            "adaptive_ece": adaptive_ece(y, p), "brier": brier_score(y, p),
            "bins": reliability_bins(y, p),
        }
        report["curves"][name] = {}
        for lang, part in rows[known].groupby("lang"):
            if len(part) < min_rows:
                continue
            idx = part.index.to_numpy()
            y_l, p_l = part[name].to_numpy(float), proba[idx, j]
            report["by_language"][name][lang] = _metrics_block(y_l, p_l, thresholds[idx, j],
                                                               n_boot)
            if 0 < y_l.sum() < len(y_l):
                report["curves"][name][lang] = _pr_curve(y_l, p_l)
        for source in sorted({s for ss in sources for s in ss}):
            mask = known & sources.map(lambda ss, s=source: s in ss).to_numpy()
            if mask.sum() >= min_rows:
                report["by_source"][name][source] = _metrics_block(
                    rows.loc[mask, name].to_numpy(float), proba[mask, j], thresholds[mask, j],
                    n_boot=0)
    with np.errstate(invalid="ignore"):  # from the scores above: no second pass
        flags = proba >= thresholds
    clean = rows[rows.get("capped", pd.Series(False, index=rows.index)).astype(bool)]
    for lang, part in clean.groupby("lang"):
        f = flags[part.index.to_numpy()]
        report["clean_languages"][lang] = {
            "n": len(part), "any_label_flag_rate": float(f.any(axis=1).mean()),
            **{f"{name}_flag_rate": float(f[:, LABELS.index(name)].mean()) for name in scored},
        }
    report["macro_f1_by_language"] = _macro_f1(report["by_language"])
    if fairness:
        from .fairness import evaluate_fairness

        report["fairness"] = evaluate_fairness(model, rows, split, n_boot=n_boot, proba=proba)
    report["by_language"] = dict(report["by_language"])
    report["by_source"] = dict(report["by_source"])
    return report


def _value(block: dict, metric: str) -> float:
    entry = block.get(metric)
    if isinstance(entry, dict):
        return entry.get("value", math.nan)
    return math.nan if entry is None else entry


def _macro_f1(by_language: dict[str, dict[str, dict]]) -> dict[str, float]:
    """Mean positive-class F1 over the labels that have positives in each language."""
    per_lang: dict[str, list[float]] = defaultdict(list)
    for blocks in by_language.values():
        for lang, block in blocks.items():
            f1 = _value(block, "f1")
            if block.get("positives", 0) > 0 and not math.isnan(f1):
                per_lang[lang].append(f1)
    return {lang: float(np.mean(v)) for lang, v in sorted(per_lang.items())}


def _pr_curve(y: np.ndarray, p: np.ndarray, points: int = 50) -> dict[str, list[float]]:
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    tp = np.cumsum(ys)
    precision = tp / np.arange(1, len(ys) + 1)
    recall = tp / max(ys.sum(), 1)
    idx = np.unique(np.linspace(0, len(ys) - 1, points).astype(int))
    return {"precision": precision[idx].round(4).tolist(), "recall": recall[idx].round(4).tolist()}


# ---- functional suites ---------------------------------------------------------------------


def load_suite(path: Path) -> pd.DataFrame:
    """Read a functional suite in the HateCheck CSV format.

    Raises:
        SuiteError: Missing file or column, an empty case, or a ``label_gold`` other than
            ``hateful``/``non-hateful``.
    """
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"{path}: functional suite not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, csv.Error) as exc:
        raise SuiteError(f"{path}: cannot be read as a UTF-8 CSV: {exc}") from exc
    missing = [c for c in SUITE_COLUMNS if c not in frame.columns]
    if missing:
        raise SuiteError(f"{path}: missing column(s) {missing}")
    bad = frame[~frame["label_gold"].isin(["hateful", "non-hateful"])]
    if len(bad):
        raise SuiteError(f"{path}: row {bad.index[0] + 2}: label_gold must be 'hateful' or "
                         f"'non-hateful', got {bad['label_gold'].iloc[0]!r}")
    empty = frame[frame["test_case"].str.strip() == ""]
    if len(empty):
        raise SuiteError(f"{path}: row {empty.index[0] + 2}: empty test_case")
    if "target_ident" not in frame:
        frame["target_ident"] = ""
    return frame


def run_suite(model: Classifier, suite: pd.DataFrame | Path) -> dict[str, Any]:
    """Accuracy on a functional suite, overall, on hateful and non-hateful cases, per
    functionality and per target group. A case is predicted hateful when ``hate`` or
    ``threat`` is flagged.

    Each block also holds ``flagged_any``: the share of its cases flagged for any scored label,
    ``offensive`` included. For hateful cases that is what a moderator still sees when the
    model misses the hate (a hateful case flagged only ``offensive`` is not silently passed);
    for non-hateful ones it counts every flag, a legitimate ``offensive`` on profanity too.
    """
    frame = load_suite(suite) if not isinstance(suite, pd.DataFrame) else suite.copy()
    flags = model.predict(list(frame["test_case"]))
    cols = [LABELS.index(n) for n in HATEFUL_LABELS if n in model.config.scored_labels]
    predicted = flags[:, cols].any(axis=1) if cols else np.zeros(len(frame), dtype=bool)
    frame["predicted"] = np.where(predicted, "hateful", "non-hateful")
    frame["correct"] = frame["predicted"] == frame["label_gold"]
    frame["flagged_any"] = flags.any(axis=1)

    def acc(part: pd.DataFrame) -> dict[str, float]:
        if not len(part):
            return {"n": 0, "accuracy": math.nan, "flagged_any": math.nan}
        return {"n": len(part), "accuracy": float(part["correct"].mean()),
                "flagged_any": float(part["flagged_any"].mean())}

    return {
        "cases": len(frame),
        "overall": acc(frame),
        "hateful": acc(frame[frame["label_gold"] == "hateful"]),
        "non_hateful": acc(frame[frame["label_gold"] == "non-hateful"]),
        "by_functionality": {k: {**acc(v), "gold": v["label_gold"].iloc[0]}
                             for k, v in frame.groupby("functionality", sort=True)},
        "by_target": {(k or "(none)"): acc(v) for k, v in frame.groupby("target_ident",
                                                                         sort=True)},
        "errors": frame.loc[~frame["correct"], ["functionality", "test_case", "label_gold",
                                                 "predicted"]].head(40).to_dict("records"),
    }


# ---- leave one source out -------------------------------------------------------------------


def leave_one_source_out(
    corpus: pd.DataFrame, fit: Callable[[pd.DataFrame], Classifier],
    sources: Sequence[str] | None = None, min_rows: int = 50,
) -> dict[str, Any]:
    """Train without each source and test on all of that source's rows.

    Args:
        corpus: The full corpus.
        fit: ``fit(corpus) -> Classifier``, trained on the rows it is given.
        sources: Sources to hold out (default: every source with a positive for any label).
        min_rows: Label cells with fewer known rows are left out.

    Returns:
        ``{source: {label: {"roc_auc", "f1", "n", "positives"}}}``; a label the source has
        only one class of is left out.
    """
    names = corpus["source"].str.split(";")
    if sources is None:
        has_pos = corpus[list(LABELS)].fillna(0).sum(axis=1) > 0
        sources = sorted({s for ss in names[has_pos] for s in ss})
    out: dict[str, Any] = {}
    for source in sources:
        held = names.map(lambda ss, s=source: s in ss).to_numpy()
        log.info("leave-one-source-out: %s (%d rows held out)", source, held.sum())
        model = fit(corpus[~held])
        test = corpus[held]
        langs = model.languages(list(test["text"]))
        proba = model.predict_proba(list(test["text"]), langs=langs)
        thresholds = model.threshold_matrix(langs, len(test))
        cells = {}
        for name in model.config.scored_labels:
            known = test[name].notna().to_numpy()
            y = test.loc[known, name].to_numpy(float)
            if known.sum() < min_rows or y.min(initial=1) == y.max(initial=0):
                continue  # too few rows, or only one class: nothing to rank
            j = LABELS.index(name)
            m = binary_metrics(y, proba[known, j], thresholds[known, j])
            cells[name] = {k: m[k] for k in ("roc_auc", "f1", "n", "positives")}
        out[source] = cells
    return out


# ---- writing --------------------------------------------------------------------------------


def compare_reports(reports: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Side by side: F1 and ROC-AUC per label and language of several models' reports (name ->
    report of :func:`evaluate_corpus`, made on the same split), cells with positives only.

    Returns:
        A frame indexed by ``(label, lang)`` with columns ``"{name} F1"`` and
        ``"{name} ROC-AUC"``; NaN where a model has no such cell.

    Example:
        >>> compare_reports({"new": new_report, "default": default_report})  # doctest: +SKIP
    """
    rows: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for name, report in reports.items():
        for label, blocks in report["by_language"].items():
            for lang, block in blocks.items():
                if block.get("positives", 0) > 0:
                    rows[(label, lang)][f"{name} F1"] = _value(block, "f1")
                    rows[(label, lang)][f"{name} ROC-AUC"] = _value(block, "roc_auc")
    columns = [f"{name} {m}" for m in ("F1", "ROC-AUC") for name in reports]
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["label", "lang"])
    return frame.sort_index()


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def _fmt(block: dict, metric: str) -> str:
    entry = block.get(metric)
    if not isinstance(entry, dict):
        return "" if entry is None or (isinstance(entry, float) and math.isnan(entry)) else \
            f"{entry:.3f}"
    value, low, high = (_num(entry.get(k)) for k in ("value", "low", "high"))
    if math.isnan(value):
        return "n/a"
    if math.isnan(low):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables (the model card reuses these sections)."""
    lines = [f"# Evaluation of {report['model']}", "",
             f"Split: `{report['split']}` ({report['rows']:,} rows). Intervals: 95% bootstrap. "
             "Unknown labels are masked out; cells with fewer than 20 known rows are omitted.",
             ""]
    lines += ["## Per language and label", "",
              "| label | lang | n | positives | precision | recall | F1 | ROC-AUC |",
              "|---|---|---:|---:|---|---|---|---|"]
    for name, blocks in report["by_language"].items():
        for lang, b in blocks.items():
            if b["positives"] == 0:
                continue
            lines.append(f"| {name} | {lang} | {b['n']:,} | {b['positives']:,} | "
                         f"{_fmt(b, 'precision')} | {_fmt(b, 'recall')} | {_fmt(b, 'f1')} | "
                         f"{_fmt(b, 'roc_auc')} |")
    lines += ["", "Macro-F1 per language (mean positive-class F1 over the labels with positives "
              "there): " + ", ".join(f"{k} {v:.3f}" for k, v in
                                     report["macro_f1_by_language"].items()), ""]
    lines += ["## Languages with clean text only (false-positive rate)", "",
              "These sources hold no hateful or offensive text, so every flag is a false "
              "positive. They say nothing about how well the model catches hate in these "
              "languages: that is measured only by our own functional suites.", "",
              "| lang | rows | any label flagged | " +
              " | ".join(f"{n} flagged" for n in report["scored_labels"]) + " |",
              "|---|---:|---:|" + "---:|" * len(report["scored_labels"])]
    for lang, b in report["clean_languages"].items():
        lines.append(f"| {lang} | {b['n']:,} | {b['any_label_flag_rate']:.2%} | " + " | ".join(
            f"{b[f'{n}_flag_rate']:.2%}" for n in report["scored_labels"]) + " |")
    lines += ["", "## Calibration", "", "| label | adaptive ECE | Brier | threshold |",
              "|---|---:|---:|---:|"]
    for name, c in report["calibration"].items():
        lines.append(f"| {name} | {_num(c['adaptive_ece']):.4f} | {_num(c['brier']):.4f} | "
                     f"{report['thresholds'][name]:.3f} |")
    lines += ["", "![reliability](reliability.png)", "", "![precision-recall](pr_curves.png)",
              ""]
    if report.get("by_source"):
        lines += ["## Per source (test rows)", "", "| label | source | n | positives | F1 | "
                  "ROC-AUC |", "|---|---|---:|---:|---:|---:|"]
        for name, blocks in report["by_source"].items():
            for source, b in blocks.items():
                if b["positives"] == 0:
                    continue
                lines.append(f"| {name} | {source} | {b['n']:,} | {b['positives']:,} | "
                             f"{_fmt(b, 'f1')} | {_fmt(b, 'roc_auc')} |")
        lines.append("")
    for suite, res in report.get("functional", {}).items():
        lines += [f"## Functional suite `{suite}` ({res['cases']} cases)", "",
                  f"Accuracy: overall {res['overall']['accuracy']:.1%}, hateful cases "
                  f"{res['hateful']['accuracy']:.1%}, non-hateful cases "
                  f"{res['non_hateful']['accuracy']:.1%}. Predicted hateful = `hate` or "
                  "`threat` flagged.", ""]
        if "flagged_any" in res["hateful"]:
            lines += [f"Flagged for any label (`offensive` included): "
                      f"{res['hateful']['flagged_any']:.1%} of the hateful cases, "
                      f"{res['non_hateful']['flagged_any']:.1%} of the non-hateful ones. A "
                      "hateful case flagged only `offensive` still reaches a moderator, under "
                      "the wrong label.", ""]
        lines += ["| functionality | gold | n | accuracy | flagged for any label |",
                  "|---|---|---:|---:|---:|"]
        for func, b in res["by_functionality"].items():
            lines.append(f"| {func} | {b['gold']} | {b['n']} | {b['accuracy']:.1%} | "
                         f"{_pct(b.get('flagged_any'))} |")
        lines += ["", "| target | n | accuracy |", "|---|---:|---:|"]
        for target, b in res["by_target"].items():
            lines.append(f"| {target} | {b['n']} | {b['accuracy']:.1%} |")
        lines.append("")
    if report.get("fairness"):
        from .fairness import fairness_markdown

        lines += fairness_markdown(report["fairness"])
    loso = report.get("leave_one_source_out")
    if loso:
        labels = report["scored_labels"]
        lines += ["## Leave one source out", "",
                  report.get("leave_one_source_out_note") or
                  "Trained without the source, tested on all of its rows (ROC-AUC / F1). Read "
                  "against the per-source table: the drop is what the source's own data adds.",
                  "", "| held-out source | " + " | ".join(labels) + " |",
                  "|---|" + "---|" * len(labels)]
        for source, cells in loso.items():
            row = []
            for name in labels:
                c = cells.get(name)
                row.append("" if not c else
                           f"{_num(c['roc_auc']):.3f} / {_num(c.get('f1')):.3f}"
                           .replace("nan", "n/a"))
            lines.append(f"| {source} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def _plots(report: dict[str, Any], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    labels = report["scored_labels"]
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 4), squeeze=False)
    for ax, name in zip(axes[0], labels, strict=True):
        bins = report["calibration"][name]["bins"]
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        ax.plot([b["mean_score"] for b in bins], [b["positive_rate"] for b in bins],
                marker="o")
        ax.set(title=f"{name} (ECE {report['calibration'][name]['adaptive_ece']:.3f})",
               xlabel="mean predicted probability", ylabel="observed positive rate",
               xlim=(0, 1), ylim=(0, 1))
    fig.suptitle(f"Reliability, {report['model']} ({report['split']} split, equal-mass bins)")
    fig.tight_layout()
    paths.append(folder / "reliability.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 4), squeeze=False)
    for ax, name in zip(axes[0], labels, strict=True):
        for lang, curve in report["curves"].get(name, {}).items():
            ax.plot(curve["recall"], curve["precision"], label=lang)
        ax.set(title=name, xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"Precision-recall per language, {report['model']}")
    fig.tight_layout()
    paths.append(folder / "pr_curves.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths


def write_report(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``report.json``, ``report.md``, ``reliability.png`` and ``pr_curves.png``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps(_finite(report), indent=1, ensure_ascii=False, default=_json_default) + "\n",
        encoding="utf-8")
    (folder / "report.md").write_text(report_markdown(report) + "\n", encoding="utf-8")
    return [folder / "report.json", folder / "report.md", *_plots(report, folder)]


def _finite(value: Any) -> Any:
    """NaN and infinities become None: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer | np.floating):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
