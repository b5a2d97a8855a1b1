"""Stacking trained models into one (``warning train ensemble``).

The members' raw (window-max) logits on the calib split feed one logistic regression per label
(globally, and per detected language where calib holds at least ``min_language_positives``
positives and as many negatives for that label); the combined logit is then calibrated, with
thresholds and review bands, exactly like a single model's (globally and per language). The
stacker has one weight per member and a bias, so the calib split that fits it also fits the
calibration without much optimism. A member trained for some languages only (a *language
specialist*: a baseline with ``languages`` set) votes only in those languages' own stacks,
never in the global one, and is scored only on posts detected in them. Calib rows of a
``local`` source (our Uzbek sentences, ``training/uz_sentences.py``) likewise fit only their
language's stack and calibration. The dev split decides whether the ensemble is shipped
(``benchmarks/results``), and test is read only for the card.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from warning.labels import LABELS, LANGUAGES
from warning.models.calibration import Calibrator
from warning.models.classifier import Classifier, ModelConfig, git_commit, library_versions
from warning.models.ensemble import EnsembleClassifier, Stack

from .calibration import fit_label_calibration, fit_language_calibration
from .sources import collected_rows, local_rows

__all__ = ["EnsembleConfig", "fit_ensemble", "fit_stack", "without_weak_labels"]

log = logging.getLogger(__name__)


@dataclass
class EnsembleConfig:
    """Settings of the stacker.

    Attributes:
        name, version: Shown as ``name@version``.
        calib_rows: Calib rows used (0 = all), sampled with ``seed``.
        c: Inverse L2 strength of the stacking logistic regressions.
        min_language_positives: Positives (and negatives) a language needs in calib for its
            own stacking weights and calibration.
        global_members: Members of the global entry, used for every language and label
            without its own stack (None: all). Naming only the multilingual transformer keeps
            a member that never saw a language (the character n-gram baseline has no Kyrgyz,
            Kazakh or Uzbek positives, and no Russian hate or threat) from voting there: it
            joins only where calib shows how much to trust it.
        member_languages: ``{member: languages}`` for language specialists, which join only
            those languages' own stacks. ``fit_ensemble`` fills it from each member's
            training settings (``languages``) for members not named here.
        calibration: ``platt`` or ``temperature`` on the combined logit.
        thresholds_from: ``all`` calib rows, or ``collected`` posts only wherever those hold
            ``min_real_positives`` positives and as many negatives for a label (globally and
            in each language): our own written sentences then still fit the stack and the
            calibrators but no longer decide where to flag (Kyrgyz calib is over half our
            sentences). Chosen on dev (``benchmarks/default_model.py``).
        min_real_positives: See ``thresholds_from``.
        max_clean_flagged: With ``thresholds_from="collected"``: a false-alarm budget where a
            label's collected calib rows hold fewer than ``min_real_positives`` positives (its
            positives are our own sentences: Uzbek ``hate``). Its threshold is raised until
            at most this share of the collected rows without the label score at or above it
            (:func:`training.calibration.fit_label_calibration`). None: no budget.
        zero_shot_languages: Languages with no labelled posts for some labels (Uzbek has no
            labelled hate). In them, each label without its own stack is decided by
            ``zero_shot_members`` alone, weighted on every calib row, instead of by the global
            entry: a character n-gram member that never saw the language adds noise there
            (on the Uzbek identity-swap sentences its ROC-AUC is 0.72, the transformer's 0.96).
        zero_shot_members: See ``zero_shot_languages`` (default: ``("transformer",)``).
        threshold_bootstrap: Thresholds as the median best-F1 point of this many resamples of
            the calib rows (:func:`training.calibration.fit_threshold`), globally and per
            language; 0: the best-F1 point of the rows themselves. Kyrgyz calib holds 56 `hate`
            positives, over which F1 was nearly flat from 0.2 to 0.62: the single best point
            lay at 0.32 with one transformer member and at 0.62 with the next.
        weak_labels: Whether calib rows' weak labels (rule-derived, ``derived`` =
            ``weak:<label>``: the Russian toxic posts that name a group, ``warning train corpus
            --weak-hate ru``) fit the stack, the calibration and the thresholds. False: those
            cells are unknown in calib, so only human labels decide; the rows' other labels
            still count. The weak labels are the rule "a toxic post that names a group is
            hate", so a stack fitted on them learns that rule back
            (``benchmarks/results/stack_inputs.md``).
        seed: Sampling seed.
    """

    name: str = "e5-lora+baseline"
    version: str = field(default_factory=lambda: dt.date.today().strftime("%Y.%m.%d"))
    calib_rows: int = 0
    c: float = 1.0
    min_language_positives: int = 30
    global_members: tuple[str, ...] | None = None
    member_languages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    calibration: str = "platt"
    thresholds_from: str = "all"
    min_real_positives: int = 20
    max_clean_flagged: float | None = None
    zero_shot_languages: tuple[str, ...] = ()
    zero_shot_members: tuple[str, ...] = ("transformer",)
    threshold_bootstrap: int = 0
    weak_labels: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.thresholds_from not in ("all", "collected"):
            raise ValueError(f"thresholds_from must be 'all' or 'collected', not "
                             f"{self.thresholds_from!r}")
        if self.max_clean_flagged is not None:
            if self.thresholds_from != "collected":
                raise ValueError("max_clean_flagged needs thresholds_from='collected'")
            if not 0.0 <= self.max_clean_flagged < 1.0:
                raise ValueError(f"max_clean_flagged must be in [0, 1), not "
                                 f"{self.max_clean_flagged}")
        if self.threshold_bootstrap < 0:
            raise ValueError(f"threshold_bootstrap must be 0 or more, not "
                             f"{self.threshold_bootstrap}")
        if self.global_members is not None:
            self.global_members = tuple(self.global_members)
        self.member_languages = {n: tuple(v) for n, v in self.member_languages.items()}
        self.zero_shot_languages = tuple(self.zero_shot_languages)
        self.zero_shot_members = tuple(self.zero_shot_members)
        if self.zero_shot_languages and not self.zero_shot_members:
            raise ValueError("zero_shot_languages needs at least one zero_shot_members")
        strange = set(self.zero_shot_languages) - set(LANGUAGES)
        if strange:
            raise ValueError(f"unknown zero-shot language(s) {sorted(strange)}; languages are "
                             f"{list(LANGUAGES)}")
        clash = set(self.global_members or ()) & set(self.member_languages)
        if clash:
            raise ValueError(f"language specialist(s) {sorted(clash)} cannot be global members")

    def flags(self) -> list[str]:
        """The ``warning train ensemble`` options that give these settings, the defaults left
        out (specialists need none: they are read from the members)."""
        out = ["--name", self.name, "--version", self.version]
        if self.calib_rows:
            out += ["--calib-rows", str(self.calib_rows)]
        for member in self.global_members or ():
            out += ["--global-member", member]
        if self.thresholds_from != "all":
            out += ["--thresholds-from", self.thresholds_from]
        if self.max_clean_flagged is not None:
            out += ["--max-clean-flagged", str(self.max_clean_flagged)]
        if self.threshold_bootstrap:
            out += ["--threshold-bootstrap", str(self.threshold_bootstrap)]
        if not self.weak_labels:
            out += ["--no-weak-labels"]
        for lang in self.zero_shot_languages:
            out += ["--zero-shot-language", lang]
        if self.zero_shot_languages and self.zero_shot_members != ("transformer",):
            for member in self.zero_shot_members:
                out += ["--zero-shot-member", member]
        return out


def _lr(x: np.ndarray, y: np.ndarray, c: float) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    return [round(float(v), 6) for v in fit.coef_[0]], round(float(fit.intercept_[0]), 6)


def _check_voters(members: Any, specialists: dict[str, tuple[str, ...]]) -> None:
    if not set(members) - set(specialists):
        raise ValueError(f"every member ({', '.join(sorted(members))}) is a language "
                         "specialist: an ensemble needs one that votes in every language")


def fit_stack(member_logits: dict[str, np.ndarray], member_labels: dict[str, list[str]],
              calib: pd.DataFrame, labels: list[str], langs: list[str],
              config: EnsembleConfig, local: np.ndarray | None = None) -> Stack:
    """Logistic-regression weights per label over the members that score it.

    Args:
        member_logits: ``{member: raw logits [n_rows, len(member_labels[member])]}``.
        member_labels: Each member's scored labels (its logit columns).
        calib: The calib rows (0/1/NaN per label).
        labels: The labels to stack.
        langs: Detected language per calib row.
        local: Rows that fit their language's own entry only, never the global one or the
            zero-shot entry (:func:`training.sources.local_rows`).
    """
    weights: dict[str, dict[str, Any]] = {}
    by_language: dict[str, dict[str, dict[str, Any]]] = {}
    langs_arr = np.asarray(langs, dtype=object)
    zero_shot = config.zero_shot_members if config.zero_shot_languages else ()
    unknown = (set(config.global_members or ()) | set(config.member_languages) |
               set(zero_shot)) - set(member_logits)
    if unknown:
        raise ValueError(f"member(s) {sorted(unknown)} named in the settings are not members")
    special = config.member_languages
    _check_voters(member_logits, special)
    for label in labels:
        names = [n for n in member_logits if label in member_labels[n]]
        x = np.column_stack([member_logits[n][:, member_labels[n].index(label)] for n in names])
        y = calib[label].to_numpy(float, copy=True)
        y[~np.isfinite(x[:, [i for i, n in enumerate(names) if n not in special]]).all(
            axis=1)] = np.nan
        known = ~np.isnan(y)
        shared_rows = known if local is None else known & ~np.asarray(local, dtype=bool)
        glob = [i for i, n in enumerate(names) if n not in special and
                (config.global_members is None or n in config.global_members)] or \
            [i for i, n in enumerate(names) if n not in special]
        if not glob:
            continue
        coef, bias = _lr(x[shared_rows][:, glob], y[shared_rows], config.c)
        weights[label] = {"members": [names[i] for i in glob], "coef": coef, "bias": bias}
        for lang in sorted(set(langs)):
            rows = known & (langs_arr == lang)
            pos = int(y[rows].sum())
            if pos < config.min_language_positives or \
                    rows.sum() - pos < config.min_language_positives:
                continue
            mine = [i for i, n in enumerate(names) if lang in special.get(n, (lang,))]
            rows &= np.isfinite(x[:, mine]).all(axis=1)
            coef, bias = _lr(x[rows][:, mine], y[rows], config.c)
            by_language.setdefault(lang, {})[label] = {"members": [names[i] for i in mine],
                                                       "coef": coef, "bias": bias}
        shared = [i for i, n in enumerate(names) if n in zero_shot and n not in special]
        if shared:
            coef, bias = _lr(x[shared_rows][:, shared], y[shared_rows], config.c)
            for lang in config.zero_shot_languages:
                if label not in by_language.get(lang, {}):
                    by_language.setdefault(lang, {})[label] = {
                        "members": [names[i] for i in shared], "coef": coef, "bias": bias}
        log.info("%s: global weights %s", label, dict(zip(weights[label]["members"],
                                                          weights[label]["coef"], strict=True)))
    return Stack(weights, by_language)


def fit_ensemble(members: dict[str, Classifier], corpus: pd.DataFrame,
                 config: EnsembleConfig | None = None) -> EnsembleClassifier:
    """Stack trained members on the corpus's calib split and calibrate the result.

    Raises:
        ValueError: No members, no calib rows, or no label that a member scores.
    """
    from warning.text.lang import detect_language

    config = copy.deepcopy(config) if config else EnsembleConfig()
    if not members:
        raise ValueError("an ensemble needs at least one member")
    for name, member in members.items():
        own = tuple((member.config.training or {}).get("languages") or ())
        if own and name not in config.member_languages:
            config.member_languages[name] = own
    for name, langs in config.member_languages.items():
        log.info("%s: language specialist, votes only in the stacks of %s", name,
                 ", ".join(langs))
    calib = corpus[corpus["split"] == "calib"]
    if calib.empty:
        raise ValueError("the corpus has no 'calib' rows")
    if config.calib_rows and len(calib) > config.calib_rows:
        calib = calib.sample(config.calib_rows, random_state=config.seed).sort_index()
    if not config.weak_labels:
        calib = without_weak_labels(calib)
    _check_voters(members, config.member_languages)
    voters = [m for n, m in members.items() if n not in config.member_languages]
    labels = [n for n in LABELS if any(n in m.config.scored_labels for m in voters)]
    if not labels:
        raise ValueError("no member scores any label")
    langs = [detect_language(t) for t in calib["text"]]
    # a local row (one language's own sentences) that reads as another language would fit
    # that language's stack: it is left out
    local = local_rows(calib).to_numpy()
    stray = local & (np.asarray(langs, dtype=object) != calib["lang"].to_numpy(dtype=object))
    if stray.any():
        log.info("%d local calib rows detected as another language: left out", stray.sum())
        calib, local = calib[~stray], local[~stray]
        langs = [lang for lang, out in zip(langs, stray, strict=True) if not out]
    texts = list(calib["text"])
    logits = {name: m.raw_logits(texts) for name, m in members.items()}
    stack = fit_stack(logits, {n: m.config.scored_labels for n, m in members.items()}, calib,
                      labels, langs, config, local)
    weak = sorted(set.intersection(*[set(m.config.weak_languages) for m in members.values()]))
    identity = {n: Calibrator().to_dict() for n in labels}
    cfg = ModelConfig(
        kind="ensemble", name=config.name, version=config.version, scored_labels=labels,
        thresholds=dict.fromkeys(labels, 0.5), review_bands={n: [0.5, 0.5] for n in labels},
        calibration=identity, weak_languages=weak,
        training={"ensemble": asdict(config), "calib_rows": len(calib),
                  "members": {n: m.name for n, m in members.items()}},
        data_sources=_union_sources(members), library_versions=library_versions(),
        commit=git_commit(), created=dt.date.today().isoformat(),
    )
    draft = EnsembleClassifier(cfg, members, stack)
    combined = draft.combine(logits, langs)
    real = collected_rows(calib).to_numpy() if config.thresholds_from == "collected" else None
    # the global calibration without the local rows (another language's own sentences)
    cfg.calibration, cfg.thresholds, cfg.review_bands = fit_label_calibration(
        combined[~local], calib[~local], labels, config.calibration,
        real=None if real is None else real[~local], min_real=config.min_real_positives,
        max_clean_flagged=config.max_clean_flagged, threshold_bootstrap=config.threshold_bootstrap)
    cfg.by_language = fit_language_calibration(
        combined, calib, labels, langs, config.calibration, config.min_language_positives,
        config.min_language_positives, real=real, min_real=config.min_real_positives,
        max_clean_flagged=config.max_clean_flagged, threshold_bootstrap=config.threshold_bootstrap)
    return EnsembleClassifier(cfg, members, stack)


def without_weak_labels(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with each weak label (``derived`` naming ``weak:<label>``) set to unknown."""
    if "derived" not in rows:
        return rows
    rows = rows.copy()
    derived = rows["derived"].fillna("").astype(str)
    for label in LABELS:
        weak = derived.str.contains(f"weak:{label}", regex=False)
        if label in rows and weak.any():
            log.info("calib: %d weak %s labels left out", int(weak.sum()), label)
            rows.loc[weak, label] = np.nan
    return rows


def _union_sources(members: dict[str, Classifier]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for m in members.values():
        for entry in m.config.data_sources:
            seen.setdefault(entry.get("name", str(entry)), entry)
    return [seen[k] for k in sorted(seen)]
