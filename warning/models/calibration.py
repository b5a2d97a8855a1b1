"""Probability calibration applied at scoring time (fitting lives in ``training.calibration``).

A calibrator maps a model's raw score for one label (a logit) to a calibrated probability. It is
stored in the model folder's ``config.json`` as plain numbers, never pickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Calibrator", "logit", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def logit(p: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """Inverse of :func:`sigmoid`, clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Calibrator:
    """``p = sigmoid(slope * z + intercept)`` on a raw logit ``z``.

    Platt scaling fits both numbers; temperature scaling fits ``slope = 1 / T`` with
    ``intercept = 0``; the identity is ``(1, 0)``. ``prior_shift`` adds
    ``log(new_odds / train_odds)`` to move the base rate towards a real feed's (DESIGN.md,
    "Calibration and evaluation").

    Example:
        >>> Calibrator(1.0, 0.0).transform(np.array([0.0]))
        array([0.5])
    """

    slope: float = 1.0
    intercept: float = 0.0
    method: str = "identity"
    prior_shift: float = 0.0

    def transform(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(self.slope * np.asarray(z, dtype=float) + self.intercept + self.prior_shift)

    def to_dict(self) -> dict[str, Any]:
        return {"slope": self.slope, "intercept": self.intercept, "method": self.method,
                "prior_shift": self.prior_shift}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(float(data["slope"]), float(data["intercept"]), str(data.get("method", "")),
                   float(data.get("prior_shift", 0.0)))
