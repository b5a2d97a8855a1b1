"""The taxonomy, defined once: labels, risk levels, the review band and the scored-post record.

Every other module (training, scoring, the API, the model cards) reads these definitions; nothing
else spells a label name or a risk rule. See DESIGN.md, "Labels".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Label:
    """One output of the classifier.

    Attributes:
        name: The label's id, used as a column and JSON key.
        description: What a positive means, in plain language.
        experimental: True for a label that stays off (``null``) unless a model is trained and
            evaluated for it.
    """

    name: str
    description: str
    experimental: bool = False


OFFENSIVE = Label(
    "offensive",
    "insulting, abusive, profane or toxic language towards anyone",
)
HATE = Label(
    "hate",
    "attacks, demeans or dehumanises people for a protected identity: ethnicity, nationality, "
    "religion, gender, sexual orientation, disability",
)
THREAT = Label(
    "threat",
    "threatens, calls for, or glorifies violence against people",
)
EXTREMISM = Label(
    "extremism",
    "experimental: promotes or recruits for extremist groups or ideologies, justifies terrorism",
    experimental=True,
)

#: The labels in column order. Every model's ``predict_proba`` returns columns in this order.
LABEL_DEFS: tuple[Label, ...] = (OFFENSIVE, HATE, THREAT, EXTREMISM)
LABELS: tuple[str, ...] = tuple(label.name for label in LABEL_DEFS)
DESCRIPTIONS: dict[str, str] = {label.name: label.description for label in LABEL_DEFS}

#: Languages the project names; anything else is ``other``.
LANGUAGES: tuple[str, ...] = ("ru", "ky", "kk", "uz", "tr", "en", "other")

#: Identity groups tagged by :func:`warning.text.targets.find_targets`, in a fixed order.
TARGET_GROUPS: tuple[str, ...] = (
    "kyrgyz", "uzbek", "tajik", "russian", "dungan", "uyghur", "chinese", "kazakh",
    "muslim", "christian", "jewish", "women", "lgbt", "migrant", "disabled",
)


class Risk(StrEnum):
    """Risk level of a scored post (DESIGN.md, "Labels")."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


#: Default half-width of the review band around a threshold, for a model that has not fitted
#: its own band (fitted models store theirs: see ``training.calibration.fit_review_band``).
DEFAULT_REVIEW_MARGIN = 0.15


def risk_level(
    flagged: Sequence[str],
    scores: Mapping[str, float | None],
    targets: Sequence[str],
    high_hate_threshold: float = 0.9,
) -> Risk:
    """The risk of a post from its flagged labels, scores and target groups.

    ``high``: ``threat`` or ``extremism`` flagged, or ``hate`` flagged with a target group and a
    score at or over ``high_hate_threshold``; ``medium``: ``hate`` flagged; ``low``: only
    ``offensive`` flagged; ``none``: nothing flagged.

    Example:
        >>> risk_level(["offensive"], {"offensive": 0.9}, []).value
        'low'
    """
    flagged_set = set(flagged)
    unknown = flagged_set - set(LABELS)
    if unknown:
        raise ValueError(f"unknown label(s) flagged: {sorted(unknown)}; known: {list(LABELS)}")
    if "threat" in flagged_set or "extremism" in flagged_set:
        return Risk.HIGH
    if "hate" in flagged_set:
        hate = scores.get("hate")
        if targets and hate is not None and hate >= high_hate_threshold:
            return Risk.HIGH
        return Risk.MEDIUM
    if "offensive" in flagged_set:
        return Risk.LOW
    return Risk.NONE


def in_review_band(score: float | None, band: Sequence[float]) -> bool:
    """True when ``score`` lies in the review band ``[low, high)`` of its label.

    A label the model cannot score (``None`` or NaN) is never in the band: it is reported as
    ``null``.
    """
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return False
    low, high = band
    return low <= score < high


def needs_review(
    scores: Mapping[str, float | None],
    bands: Mapping[str, Sequence[float]],
    lang: str,
    weak_languages: Sequence[str] = (),
) -> bool:
    """True when a person should look: a score in its review band, or a weak language."""
    if lang in weak_languages:
        return True
    return any(in_review_band(scores.get(name), band) for name, band in bands.items())


@dataclass
class ScoredPost:
    """One scored post, as the CLI, the scanner and the API return it.

    ``scores`` holds a probability per label, or ``None`` (JSON ``null``) where the model cannot
    score that label. ``explanation``, when asked for, maps each flagged label to the words that
    drove its score, with their weights.

    Examples:
        >>> post = ScoredPost(scores={"offensive": 0.93, "hate": 0.12, "threat": 0.02,
        ...     "extremism": None}, flagged=["offensive"], lang="ru", targets=[],
        ...     risk="low", review=False, model="baseline@0.1.0")
        >>> post.to_dict()["scores"]["extremism"] is None
        True
    """

    scores: dict[str, float | None]
    flagged: list[str]
    lang: str | None
    targets: list[str]
    risk: str | None
    review: bool
    model: str
    explanation: dict[str, list[tuple[str, float]]] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [name for name in LABELS if name not in self.scores]
        if missing:
            raise ValueError(f"scores lack label(s) {missing}")
        for name, value in self.scores.items():
            if value is not None and (not isinstance(value, float | int) or math.isnan(value)):
                raise ValueError(f"score for {name!r} must be a number or None, got {value!r}")
        if self.error is None and self.risk not in {r.value for r in Risk}:
            raise ValueError(f"risk must be one of {[r.value for r in Risk]}, got {self.risk!r}")

    @classmethod
    def failed(cls, error: str, model: str) -> ScoredPost:
        """The record for a text that could not be scored: every score ``null``, the reason in
        ``error``, and ``review`` true, so it is never mistaken for a clean post."""
        return cls(scores=dict.fromkeys(LABELS), flagged=[], lang=None, targets=[], risk=None,
                   review=True, model=model, error=error)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``explanation`` and ``error`` appear only when set."""
        out = asdict(self)
        extra = out.pop("extra")
        if out["explanation"] is None:
            out.pop("explanation")
        if out["error"] is None:
            out.pop("error")
        out.update(extra)
        return out
