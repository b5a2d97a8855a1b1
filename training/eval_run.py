"""``warning eval``: evaluate a model folder and regenerate its card and report.

``run_evaluation`` is the plain function behind the command (and what notebooks call).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from warning.classifier import Classifier
from warning.settings import precision

from .card import write_card
from .corpus import load_corpus
from .evaluate import evaluate_corpus, leave_one_source_out, run_suite, write_report

__all__ = ["DEFAULT_SUITES", "fitter_for", "run_evaluation"]

log = logging.getLogger(__name__)

DEFAULT_SUITES = tuple(sorted((Path(__file__).resolve().parent.parent / "benchmarks" /
                               "functional").glob("*_suite.csv")))


def fitter_for(model: Classifier) -> Callable[[pd.DataFrame], Classifier]:
    """A function that retrains a model of the same kind and configuration on other rows
    (for the leave-one-source-out matrix)."""
    if model.config.kind == "baseline":
        from .baseline import BaselineConfig, fit_baseline

        training = dict(model.config.training)
        chosen = training.pop("chosen_c", {})
        for key in ("train_rows", "seconds"):
            training.pop(key, None)
        config = BaselineConfig.from_dict(training)
        if chosen:  # reuse the strengths dev chose instead of searching again
            config.c_grid = (float(sorted(chosen.values())[len(chosen) // 2]),)
        return lambda rows: fit_baseline(rows, config)
    raise ValueError(f"no retraining recipe for model kind {model.config.kind!r}")


def _has_transformer(model: Classifier) -> bool:
    members = getattr(model, "members", {})
    return model.config.kind == "transformer" or any(map(_has_transformer, members.values()))


def run_evaluation(
    model_dir: Path, corpus: pd.DataFrame | Path, suites: Sequence[Path] = DEFAULT_SUITES,
    loso: bool = False, n_boot: int = 1000, out_dir: Path | None = None,
    beside: dict[str, Path] | None = None, loso_from: Path | None = None,
    fairness: bool = True,
) -> dict[str, Any]:
    """Evaluate the model in ``model_dir``; write the report to ``out_dir`` (default
    ``model_dir/eval``) and the card to ``model_dir/card.md``.

    Args:
        beside: Other models' ``report.json`` files (name -> path), e.g. a permissive-only
            model's, whose headline figures the card shows next to this model's; they must
            have been made on the same corpus and split.
        loso_from: A leave-one-source-out matrix measured elsewhere (JSON with ``note`` and
            ``matrix``, e.g. ``benchmarks/results/loso_frozen.json``), for a model kind that
            cannot be retrained once per source here; its note says what was retrained.
        fairness: Measure bias per identity group (``report["fairness"]``: template sets and
            the test split's tagged groups; :mod:`training.fairness`).

    Returns:
        The report dict.
    """
    model_dir = Path(model_dir)
    model = Classifier.load(model_dir)
    frame = corpus if isinstance(corpus, pd.DataFrame) else load_corpus(Path(corpus))
    # read what the card shows beside the model first: a bad file fails before the scoring
    n_test = int((frame["split"] == "test").sum())
    others = {}
    for name, path in (beside or {}).items():
        other = json.loads(Path(path).read_text(encoding="utf-8"))
        if (other.get("split"), other.get("rows")) != ("test", n_test):
            raise ValueError(f"{path} was made on {other.get('rows')} {other.get('split')} "
                             f"rows, not {n_test} test rows: rebuild it on the same corpus")
        others[name] = other
    outside_loso = None
    if loso_from and not loso:
        outside_loso = json.loads(Path(loso_from).read_text(encoding="utf-8"))
        if not isinstance(outside_loso, dict) or not {"note", "matrix"} <= set(outside_loso):
            raise ValueError(f"{loso_from}: expected a JSON object with 'note' and 'matrix'")
    report = evaluate_corpus(model, frame, "test", n_boot=n_boot, fairness=fairness)
    if _has_transformer(model):  # WARNING_PRECISION moves scores by up to about 0.01
        report["precision"] = precision()
    report["functional"] = {Path(s).name: run_suite(model, Path(s)) for s in suites}
    if loso:
        report["leave_one_source_out"] = leave_one_source_out(frame, fitter_for(model))
    elif outside_loso:
        report["leave_one_source_out"] = outside_loso["matrix"]
        report["leave_one_source_out_note"] = f"{outside_loso['note']} (from `{loso_from}`)"
    write_report(report, Path(out_dir) if out_dir else model_dir / "eval")
    write_card(model_dir, model.config, report, others)
    return report
