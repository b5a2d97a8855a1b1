"""What the report says about the model: its card's key figures and the languages it is weak in.

Everything is read from the model folder (``config.json``, ``eval/report.json`` and the card,
``README.md``, as ``warning eval`` writes them); nothing is typed in here. A language is marked
weak, with the reasons in plain words, when

- the model's config lists it among ``weak_languages`` (every post in it is marked for review);
- the evaluation had clean text only in it (no hateful or offensive examples: only the false
  alarm rate was measured);
- its macro-F1 on the test split is below :data:`WEAK_MACRO_F1`;
- or the evaluation has no figure for it at all.

Example:
    >>> facts = ModelFacts.from_folder("models/default")    # doctest: +SKIP
    >>> facts.weakness("kk")                                 # doctest: +SKIP
    ['marked for review by the model (weak language)', 'evaluated on clean text only ...']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warning.i18n import Lang

__all__ = ["WEAK_MACRO_F1", "ModelFacts", "find_model_folder"]

#: Below this macro-F1 on the test split a language is called weak.
WEAK_MACRO_F1 = 0.7


@dataclass
class ModelFacts:
    """The model's key figures, from its folder (any part may be missing).

    Attributes:
        name: ``name@version``.
        folder: Where the figures were read.
        kind: ``baseline``, ``transformer`` or ``ensemble``.
        weak_languages: From the config: every post in them is marked for review.
        scored_labels: Labels the model scores.
        thresholds: Global thresholds per label.
        overall: Per label: n, positives, precision, recall, F1 (value, low, high).
        macro_f1: Per language: mean F1 over the labels with positives there.
        clean: Per clean-text-only language: rows and the share of them flagged.
        functional: Per functional suite: cases, hateful caught, non-hateful passed.
        split, rows: The evaluation split and its size.
        limitations: The card's "Limitations and ethical considerations", as Markdown lines.
    """

    name: str
    folder: str
    kind: str = ""
    created: str | None = None
    weak_languages: list[str] = field(default_factory=list)
    scored_labels: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    overall: dict[str, dict[str, Any]] = field(default_factory=dict)
    macro_f1: dict[str, float] = field(default_factory=dict)
    evaluated: set[str] = field(default_factory=set)
    clean: dict[str, dict[str, float]] = field(default_factory=dict)
    functional: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: str | None = None
    rows: int | None = None
    limitations: list[str] = field(default_factory=list)
    has_eval: bool = False

    @classmethod
    def from_folder(cls, folder: Path | str) -> ModelFacts:
        """Read a model folder's config, evaluation report and card."""
        from warning.settings import repo_root

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        try:  # a shipped model is named by its place in the checkout
            shown = folder.resolve().relative_to(repo_root()).as_posix()
        except ValueError:
            shown = str(folder)
        facts = cls(name=f"{config.get('name')}@{config.get('version')}", folder=shown,
                    kind=config.get("kind", ""), created=config.get("created"),
                    weak_languages=list(config.get("weak_languages", [])),
                    scored_labels=list(config.get("scored_labels", [])),
                    thresholds=dict(config.get("thresholds", {})))
        report_path = folder / "eval" / "report.json"
        if report_path.is_file():
            report = json.loads(report_path.read_text(encoding="utf-8"))
            facts.has_eval = True
            facts.split, facts.rows = report.get("split"), report.get("rows")
            facts.overall = report.get("overall", {})
            facts.macro_f1 = {k: float(v) for k, v in
                              (report.get("macro_f1_by_language") or {}).items()}
            for per_lang in (report.get("by_language") or {}).values():
                facts.evaluated.update(per_lang)
            facts.clean = {lang: {"n": v.get("n", 0), "flagged": v.get("any_label_flag_rate",
                                                                       0.0)}
                           for lang, v in (report.get("clean_languages") or {}).items()}
            facts.evaluated.update(facts.clean)
            for suite, result in (report.get("functional") or {}).items():
                facts.functional[suite] = {
                    "cases": result.get("cases"),
                    "hateful": (result.get("hateful") or {}).get("accuracy"),
                    "non_hateful": (result.get("non_hateful") or {}).get("accuracy")}
        # the card is README.md; folders made before it was named so have card.md
        card = next((folder / name for name in ("README.md", "card.md")
                     if (folder / name).is_file()), None)
        if card is not None:
            facts.limitations = _section(card.read_text(encoding="utf-8"),
                                         "Limitations and ethical considerations")
        return facts

    def weakness(self, lang: str, tr: Lang | None = None) -> list[str]:
        """Why the model is weak in ``lang``, in plain words in ``tr``'s language (English by
        default); empty: not known to be weak."""
        tr = tr or Lang("en")
        _ = tr.gettext
        reasons = []
        if lang in self.weak_languages:
            reasons.append(_("the model marks every post in it for review (a weak language)"))
        if not self.has_eval:
            return reasons
        positives = lang in self.macro_f1
        if lang in self.clean and not positives:
            rate = self.clean[lang]["flagged"]
            reasons.append(_("evaluated on clean text only: no hateful or offensive examples, "
                             "only false alarms measured ({share} flagged)").format(
                                 share=tr.percent(rate, 1)))
        if positives and self.macro_f1[lang] < WEAK_MACRO_F1:
            reasons.append(_("macro-F1 {value} on the test split (below {limit})").format(
                value=tr.number(self.macro_f1[lang], 2), limit=tr.number(WEAK_MACRO_F1, 1)))
        if lang not in self.evaluated:
            reasons.append(_("not evaluated"))
        suites = [s for s in self.functional if s.split("_")[0] == lang]
        for suite in suites if reasons else ():
            result = self.functional[suite]
            if result["hateful"] is not None:
                reasons.append(_("our own test suite {suite}: {caught} of hateful cases caught, "
                                 "{passed} of others passed").format(
                                     suite=suite, caught=tr.percent(result["hateful"]),
                                     passed=tr.percent(result["non_hateful"] or 0)))
        return reasons


def _section(markdown: str, title: str) -> list[str]:
    """The lines of a ``## title`` section, without the heading."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip().lower() == title.lower()
            continue
        if inside and line.strip():
            lines.append(line.rstrip())
    return lines


def find_model_folder(name: str | None, given: Path | str | None = None) -> Path | None:
    """The folder of the model called ``name`` (``name@version``): ``given`` when it is that
    model, else the shipped models' folders that are; None when none is.

    Example:
        >>> find_model_folder("no-such-model@0") is None
        True
    """
    from warning.models.classifier import default_model_path
    from warning.settings import repo_root

    candidates = [Path(given)] if given is not None else []
    candidates.append(default_model_path())
    models = repo_root() / "models"
    if models.is_dir():
        candidates += sorted(p.parent for p in models.glob("*/config.json"))
        candidates += sorted(p.parent for p in models.glob("*/members/*/config.json"))
    for folder in candidates:
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if f"{config.get('name')}@{config.get('version')}" == name:
            return folder
    return None
