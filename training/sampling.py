"""Which training rows a transformer run takes and how often it draws each.

Per-source caps (``train_rows_per_source``, with ``uncapped_sources`` kept whole), weights that
balance languages and sources (``balance_power``, ``source_weights``), and batches of similar
length drawn from one weighted sample.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["balanced_weights"]


def balanced_weights(rows: pd.DataFrame, power: float,
                     source_weights: dict[str, float] | None = None) -> np.ndarray:
    """Sampling weights that balance languages and sources: ``count(lang, source) ** -power``,
    times ``source_weights[source]`` where given, normalised to sum to 1."""
    first_source = rows["source"].str.split(";").str[0]
    cell = rows["lang"].astype(str) + "|" + first_source
    counts = cell.map(cell.value_counts()).to_numpy(float)
    weights = counts ** -power
    if source_weights:
        weights = weights * first_source.map(source_weights).fillna(1.0).to_numpy(float)
    return weights / weights.sum()


def _sample(rows: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if not n or len(rows) <= n:
        return rows
    return rows.sample(n, random_state=seed).sort_index()


def _cap_sources(rows: pd.DataFrame, per_source: int,
                 uncapped: tuple[str, ...] = ()) -> pd.DataFrame:
    if not per_source:
        return rows
    rank = rows["id"].map(lambda i: hashlib.sha1(f"src:{i}".encode()).hexdigest())
    first = rows["source"].str.split(";").str[0]
    keep = (rank.groupby(first).rank(method="first") <= per_source) | first.isin(uncapped)
    return rows[keep.to_numpy()]


def _length_batches(rng: np.random.Generator, weights: np.ndarray, lengths: np.ndarray,
                    batch_size: int, buckets: int) -> list[np.ndarray]:
    """``buckets`` batches from one weighted draw, each of posts of similar length, in random
    order (the draw, and so the sampling balance, is the same as without bucketing)."""
    draw = rng.choice(len(weights), size=batch_size * buckets, p=weights)
    draw = draw[np.argsort(lengths[draw], kind="stable")]
    batches = [draw[i : i + batch_size] for i in range(0, len(draw), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]
