"""Many posts scored as columns: what :meth:`Classifier.score` returns one record per post of.

A scan scores millions of posts; building a :class:`~warning.labels.ScoredPost` per post and
taking it apart again into output columns costs more than the baseline model itself. So the
scoring path works on the whole batch: probabilities rounded once, flags, risk and review
decided with array comparisons per language (the thresholds and review bands of each
language applied to its rows at once), and the result kept as columns (:class:`ScoredColumns`),
which a scan writes as they are and :meth:`ScoredColumns.post` turns into the same
``ScoredPost`` the one-post path always gave.

Example:
    >>> columns = score_columns(model, ["Ты идиот", ""])     # doctest: +SKIP
    >>> columns.risk, columns.error                         # doctest: +SKIP
    (['low', None], [None, 'empty text'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from warning.labels import LABELS, Risk, ScoredPost

__all__ = ["ScoredColumns", "score_columns"]


@dataclass
class ScoredColumns:
    """Scored posts as columns, one entry per post in input order.

    Attributes:
        scores: Per label (every label of ``LABELS``), the posts' probabilities rounded to 4
            places; None where the model cannot score the label or the post has an error.
        flagged: The labels flagged, per post (in the model's ``scored_labels`` order).
        lang: The detected language (None for a post with an error).
        targets: The identity groups mentioned.
        risk: ``none``, ``low``, ``medium`` or ``high`` (None for a post with an error).
        review: True when a person should look (always for a post with an error).
        error: Why the post could not be scored, or None.
        model: The model's ``name@version``.
    """

    scores: dict[str, list[float | None]]
    flagged: list[list[str]]
    lang: list[str | None]
    targets: list[list[str]]
    risk: list[str | None]
    review: list[bool]
    error: list[str | None]
    model: str

    def __len__(self) -> int:
        return len(self.error)

    def post(self, i: int) -> ScoredPost:
        """Post ``i`` as a :class:`ScoredPost` (its own lists: changing one changes no other)."""
        if self.error[i] is not None:
            return ScoredPost.failed(self.error[i], self.model)  # type: ignore[arg-type]
        return ScoredPost(scores={name: self.scores[name][i] for name in LABELS},
                          flagged=list(self.flagged[i]), lang=self.lang[i],
                          targets=list(self.targets[i]), risk=self.risk[i],
                          review=self.review[i], model=self.model)

    @classmethod
    def failed(cls, errors: Sequence[str], model: str) -> ScoredColumns:
        """Columns of posts that could not be scored, each with its reason (every score None,
        review true, as :meth:`ScoredPost.failed`)."""
        n = len(errors)
        return cls(scores={name: [None] * n for name in LABELS}, flagged=[[] for _ in errors],
                   lang=[None] * n, targets=[[] for _ in errors], risk=[None] * n,
                   review=[True] * n, error=list(errors), model=model)

    @classmethod
    def from_posts(cls, posts: Sequence[ScoredPost], model: str) -> ScoredColumns:
        """Columns of :class:`ScoredPost` records (a model that only has ``score``)."""
        return cls(scores={name: [p.scores[name] for p in posts] for name in LABELS},
                   flagged=[list(p.flagged) for p in posts], lang=[p.lang for p in posts],
                   targets=[list(p.targets) for p in posts], risk=[p.risk for p in posts],
                   review=[bool(p.review) for p in posts], error=[p.error for p in posts],
                   model=posts[0].model if posts else model)

    def take(self, rows: Sequence[int]) -> ScoredColumns:
        """The posts at ``rows``, in that order."""
        return ScoredColumns(
            scores={name: [self.scores[name][i] for i in rows] for name in LABELS},
            flagged=[self.flagged[i] for i in rows], lang=[self.lang[i] for i in rows],
            targets=[self.targets[i] for i in rows], risk=[self.risk[i] for i in rows],
            review=[self.review[i] for i in rows], error=[self.error[i] for i in rows],
            model=self.model)

    def __add__(self, other: ScoredColumns) -> ScoredColumns:
        """These posts, then ``other``'s (the model named by the part that scored any)."""
        scored_any = any(e is None for e in self.error) or not other.error
        return ScoredColumns(
            scores={name: self.scores[name] + other.scores[name] for name in LABELS},
            flagged=self.flagged + other.flagged, lang=self.lang + other.lang,
            targets=self.targets + other.targets, risk=self.risk + other.risk,
            review=self.review + other.review, error=self.error + other.error,
            model=self.model if scored_any else other.model)


class Classifier(Protocol):
    """What scoring as columns uses of a :class:`warning.models.classifier.Classifier` (named
    here, not imported: the classifier imports this module)."""

    config: Any

    @property
    def name(self) -> str: ...

    def _check(self, text: object, normalized: bool) -> tuple[str | None, str]: ...

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str] | None = None, *,
                      normalized: bool = False) -> np.ndarray: ...

    def thresholds_for(self, lang: str | None) -> dict[str, float]: ...

    def review_bands_for(self, lang: str | None) -> dict[str, list[float]]: ...


def score_columns(model: Classifier, texts: Sequence[str], *,
                  normalized: bool = False) -> ScoredColumns:
    """Score ``texts`` with ``model`` into :class:`ScoredColumns` (see the module docstring).

    Each post is normalised once (not at all when ``normalized``), and its normalised text
    goes on to language ID, the model and the target tagger, each in one batch.
    """
    from warning.text.lang import detect_languages
    from warning.text.targets import find_targets_batch

    checked = [model._check(t, normalized) for t in texts]
    errors = [problem for problem, _ in checked]
    ok = [i for i, problem in enumerate(errors) if problem is None]
    clean = [checked[i][1] for i in ok]
    out = ScoredColumns.failed([e or "" for e in errors], model.name)
    out.error = errors
    if not ok:
        return out
    langs = detect_languages(clean, normalized=True)
    proba = model.predict_proba(clean, langs=langs, normalized=True)
    found = find_targets_batch(clean, normalized=True)
    # rounded as Python rounds (numpy's round differs on some halves); NaN is null
    rounded = {name: [None if v != v else round(v, 4) for v in column]
               for name, column in zip(LABELS, proba.T.tolist(), strict=True)}
    values = np.array([rounded[name] for name in LABELS], dtype=float).T  # None -> NaN
    flagged, risk, review = _decisions(model, values, langs, [bool(t) for t in found])
    for row, i in enumerate(ok):
        for name in LABELS:
            out.scores[name][i] = rounded[name][row]
        out.flagged[i], out.lang[i], out.targets[i] = flagged[row], langs[row], found[row]
        out.risk[i], out.review[i] = risk[row], review[row]
    return out


def _decisions(model: Classifier, values: np.ndarray, langs: list[str],
               has_targets: list[bool]) -> tuple[list[list[str]], list[str], list[bool]]:
    """Flags, risk and review of rounded scores ``values`` ``[n, n_labels]`` (NaN: null), by
    the thresholds and review bands of each post's language."""
    cfg = model.config
    n = len(values)
    scored = list(cfg.scored_labels)
    lang_of = np.array(langs, dtype=object)
    thresholds = np.zeros((n, len(scored)))
    review = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for lang in dict.fromkeys(langs):
            rows = lang_of == lang
            table = model.thresholds_for(lang)
            thresholds[rows] = [table[name] for name in scored]
            if lang in cfg.weak_languages:
                review[rows] = True
                continue
            for name, (low, high) in model.review_bands_for(lang).items():
                if name in LABELS:  # NaN (null) is never in a band
                    s = values[rows, LABELS.index(name)]
                    review[rows] |= (low <= s) & (s < high)
        mask = values[:, [LABELS.index(name) for name in scored]] >= thresholds
        hate_score = values[:, LABELS.index("hate")]
        high_hate = hate_score >= cfg.high_hate_threshold
    codes = (mask.astype(np.int64) << np.arange(len(scored))).sum(axis=1)
    names = {int(c): [name for j, name in enumerate(scored) if int(c) >> j & 1]
             for c in np.unique(codes)}
    flagged = [list(names[c]) for c in codes.tolist()]

    def column(name: str) -> np.ndarray:
        return mask[:, scored.index(name)] if name in scored else np.zeros(n, dtype=bool)

    hate = column("hate")
    risk = np.where(column("threat") | column("extremism"), Risk.HIGH.value,
                    np.where(hate, np.where(high_hate & np.array(has_targets, dtype=bool),
                                            Risk.HIGH.value, Risk.MEDIUM.value),
                             np.where(column("offensive"), Risk.LOW.value, Risk.NONE.value)))
    return flagged, risk.tolist(), review.tolist()
