"""An ensemble: member models' raw logits combined per label by a stacker fitted on calib.

A model folder of kind ``ensemble`` holds ``config.json``, ``stack.json`` and one complete model
folder per member under ``members/<name>/`` (the folder is self-contained: retraining another
model elsewhere never changes it). For each label the combined logit is

    z = sum_k weight_k * z_k + bias

where ``z_k`` is member ``k``'s raw (window-max) logit for that label; the weights are a
logistic regression fitted on the calib split (``training.ensemble``), globally and, where calib
held enough positives in a detected language, for that language. A member that appears only in
some languages' entries (a language specialist) is scored only on posts detected in those
languages. Calibration, thresholds, review bands, risk and everything else are the shared
:class:`~warning.models.classifier.Classifier` path, on the combined logit. A member that does
not score a label does not take part in it.

Example:
    >>> model = Classifier.load("models/default")             # doctest: +SKIP
    >>> [m.name for m in model.members]                        # doctest: +SKIP
    ['e5-small-lora@2026.11.27', 'baseline-tfidf-lr@2026.11.26']
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warning.models.classifier import Classifier, ModelConfig, ModelLoadError, _languages

__all__ = ["EnsembleClassifier", "Stack"]

STACK_FILE = "stack.json"
MEMBERS_DIR = "members"


class Stack:
    """Per-label linear weights over member logits, global and per language.

    ``weights[label] = {"members": [names...], "coef": [...], "bias": b}``;
    ``by_language[lang][label]`` has the same shape and overrides the global entry.
    """

    def __init__(self, weights: dict[str, dict[str, Any]],
                 by_language: dict[str, dict[str, dict[str, Any]]] | None = None) -> None:
        self.weights = weights
        self.by_language = by_language or {}
        for where, table in [("global", weights), *self.by_language.items()]:
            for label, entry in table.items():
                if len(entry.get("members", [])) != len(entry.get("coef", [])) or \
                        "bias" not in entry:
                    raise ModelLoadError(f"{STACK_FILE}: {where}/{label} needs members, coef "
                                         "(one per member) and bias")

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "by_language": self.by_language}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stack:
        return cls(data["weights"], data.get("by_language", {}))

    def combine(self, label: str, member_logits: dict[str, np.ndarray],
                langs: Sequence[str] | None) -> np.ndarray:
        """The combined logit for ``label`` from ``{member: logits of that label}``."""
        def apply(entry: dict[str, Any], rows: slice | np.ndarray) -> np.ndarray:
            z = np.full(len(next(iter(member_logits.values()))[rows]), float(entry["bias"]))
            for name, coef in zip(entry["members"], entry["coef"], strict=True):
                z += float(coef) * member_logits[name][rows]
            return z

        out = apply(self.weights[label], slice(None))
        for lang, table in self.by_language.items():
            if label not in table or langs is None:
                continue
            rows = np.array([x == lang for x in langs])
            if rows.any():
                out[rows] = apply(table[label], rows)
        return out


class EnsembleClassifier(Classifier):
    """Member classifiers whose logits a :class:`Stack` combines (see the module docstring)."""

    kind = "ensemble"

    def __init__(self, config: ModelConfig, members: dict[str, Classifier], stack: Stack
                 ) -> None:
        super().__init__(config)
        if not members:
            raise ModelLoadError("an ensemble needs at least one member")
        self.members = members
        self.stack = stack
        self._member_languages: dict[str, set[str]] | None = None
        for label in config.scored_labels:
            if label not in stack.weights:
                raise ModelLoadError(f"{STACK_FILE} has no weights for scored label {label!r}")
        for where, table in [("global", stack.weights), *stack.by_language.items()]:
            for label, entry in table.items():
                missing = set(entry["members"]) - set(members)
                if missing:
                    raise ModelLoadError(f"{STACK_FILE}: {where}/{label} uses unknown "
                                         f"member(s) {sorted(missing)}")

    def windows(self, text: str, *, normalized: bool = False) -> list[str]:
        """The post as one piece: each member windows it its own way."""
        return [text]

    def languages(self, texts: Sequence[str] | str, *,
                  normalized: bool = False) -> list[str] | None:
        """Detected languages when the stack or the calibration depends on them."""
        if not (self.stack.by_language or self.config.by_language):
            return None
        texts = [texts] if isinstance(texts, str) else list(texts)
        return _languages(texts, normalized)

    def raw_logits(self, texts: Sequence[str] | str, langs: Sequence[str] | None = None, *,
                   normalized: bool = False) -> np.ndarray:
        """Combined logits ``[n_texts, n_scored_labels]`` from each member's window-max logits
        (``langs``: the texts' languages, detected here when not given and needed;
        ``normalized``: the texts are already normalised, and the members are told so)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return np.zeros((0, len(self.config.scored_labels)))
        if langs is None and self.stack.by_language:
            langs = self.languages(texts, normalized=normalized)
        raw = {}
        for name, member in self.members.items():
            where = self.member_languages().get(name)
            if where is None:
                raw[name] = member.raw_logits(texts, normalized=normalized)
                continue
            # a language specialist: only its languages' posts (the others never read it)
            raw[name] = np.full((len(texts), len(member.config.scored_labels)), np.nan)
            rows = np.flatnonzero([lang in where for lang in langs or ()])
            if len(rows):
                raw[name][rows] = member.raw_logits([texts[i] for i in rows],
                                                    normalized=normalized)
        return self.combine(raw, langs)

    def member_languages(self) -> dict[str, set[str]]:
        """``{member: languages}`` for members that only some languages' stacks use (the
        others, used by the global stack, are scored on every post)."""
        if self._member_languages is None:
            everywhere = {n for e in self.stack.weights.values() for n in e["members"]}
            self._member_languages = {
                name: {lang for lang, table in self.stack.by_language.items()
                       if any(name in e["members"] for e in table.values())}
                for name in self.members if name not in everywhere}
        return self._member_languages

    def combine(self, raw: dict[str, np.ndarray], langs: Sequence[str] | None) -> np.ndarray:
        """Combined logits from each member's raw logits (``{member: [n, its labels]}``) and
        the posts' languages (None: global weights only)."""
        n = len(next(iter(raw.values())))
        out = np.empty((n, len(self.config.scored_labels)))
        for j, label in enumerate(self.config.scored_labels):
            per_member = {name: raw[name][:, m.config.scored_labels.index(label)]
                          for name, m in self.members.items()
                          if label in m.config.scored_labels}
            out[:, j] = self.stack.combine(label, per_member, langs)
        return out

    def _window_logits(self, windows: list[str]) -> np.ndarray:
        return self.raw_logits(windows)

    def _save_weights(self, folder: Path) -> None:
        members_dir = folder / MEMBERS_DIR
        if members_dir.exists():
            shutil.rmtree(members_dir)
        for name, member in self.members.items():
            member.save(members_dir / name)
        (folder / STACK_FILE).write_text(json.dumps(self.stack.to_dict(), indent=2) + "\n",
                                         encoding="utf-8")

    @classmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> EnsembleClassifier:
        stack_path = folder / STACK_FILE
        if not stack_path.is_file():
            raise ModelLoadError(f"{folder}: {STACK_FILE} not found")
        try:
            stack = Stack.from_dict(json.loads(stack_path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"{stack_path} is not a valid stack: {exc}") from exc
        names = sorted({n for table in [stack.weights, *stack.by_language.values()]
                        for e in table.values() for n in e["members"]})
        members = {}
        for name in names:
            member_dir = folder / MEMBERS_DIR / name
            if not member_dir.is_dir():
                raise ModelLoadError(f"{folder}: member folder {MEMBERS_DIR}/{name} not found")
            members[name] = Classifier.load(member_dir)
        return cls(config, members, stack)
