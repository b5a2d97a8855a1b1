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

from warning.models.classifier import Classifier, ModelConfig
from warning.settings import precision

from .card import write_card
from .corpus import load_corpus
from .evaluate import evaluate_corpus, leave_one_source_out, run_suite, write_report

__all__ = ["BESIDE_FILE", "DEFAULT_SUITES", "fitter_for", "rerender_card", "run_evaluation"]

#: Other models' reports the card shows beside this one, kept in the eval folder.
BESIDE_FILE = "beside.json"

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
    ``model_dir/eval``) and the card to ``model_dir/README.md``.

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
    eval_dir = Path(out_dir) if out_dir else model_dir / "eval"
    write_report(report, eval_dir)
    if others:  # kept so that `warning eval --card-only` can render the same card again
        (eval_dir / BESIDE_FILE).write_text(json.dumps(others, ensure_ascii=False),
                                            encoding="utf-8")
    write_card(model_dir, model.config, report, others)
    return report


def rerender_card(model_dir: Path, beside: dict[str, Path] | None = None) -> Path:
    """Write the card of ``model_dir`` again from its ``eval/report.json`` (and the reports
    shown beside it, ``eval/beside.json`` or ``beside``), without evaluating anything: for a
    change of the card's template only."""
    model_dir = Path(model_dir)
    config = ModelConfig.read(model_dir)
    report_path = model_dir / "eval" / "report.json"
    if not report_path.is_file():
        raise ValueError(f"{report_path} does not exist: evaluate the model first "
                         "(warning eval --model FOLDER)")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    others: dict[str, Any] = {}
    kept = model_dir / "eval" / BESIDE_FILE
    if kept.is_file():
        others = json.loads(kept.read_text(encoding="utf-8"))
    for name, path in (beside or {}).items():
        others[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    if beside:
        kept.write_text(json.dumps(others, ensure_ascii=False), encoding="utf-8")
    return write_card(model_dir, config, report, others)
