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


def _read_loso(path: Path, model_name: str, n_test: int) -> dict[str, Any]:
    """``{"note", "matrix"}`` from a matrix file or from an earlier report of the same model."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and {"note", "matrix"} <= set(data):
        return data
    if isinstance(data, dict) and data.get("leave_one_source_out"):
        if data.get("model") != model_name or (data.get("split"), data.get("rows")) != \
                ("test", n_test):
            raise ValueError(
                f"{path} is a report of {data.get('model')} on {data.get('rows')} "
                f"{data.get('split')} rows, not of {model_name} on {n_test} test rows: its "
                "leave-one-source-out matrix belongs to another model or corpus")
        note = data.get("leave_one_source_out_note") or (
            "Trained without the source, tested on all of its rows (ROC-AUC / F1), by an "
            "earlier `warning eval --loso` of this model on the same corpus. Read against the "
            "per-source table: the drop is what the source's own data adds.")
        # an earlier --loso-from note ends with its file; this run names its own
        return {"note": note.split(" (from `")[0], "matrix": data["leave_one_source_out"]}
    raise ValueError(f"{path}: expected a JSON object with 'note' and 'matrix', or a report.json "
                     "with 'leave_one_source_out'")


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
        loso_from: A leave-one-source-out matrix measured elsewhere, so that it need not be
            retrained once per source again: either a JSON with ``note`` and ``matrix`` (e.g.
            ``benchmarks/results/loso_frozen.json``, for a model kind that cannot be retrained
            per source here; its note says what was retrained), or an earlier ``report.json``
            of this same model on the same corpus and split, made with ``loso=True``.
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
    outside_loso = _read_loso(Path(loso_from), model.name, n_test) \
        if loso_from and not loso else None
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
