"""Augmented copies of training rows: a post as people also type it.

Two documented augmentations, each flagged per row in ``derived`` and applied to ``train`` rows
only (dev, calib and test stay real posts as published, so no figure mixes them in):

- keyboard variants (``derived = "keyboard"``): a Kyrgyz or Kazakh row with its own letters,
  as typed on a Russian keyboard (:func:`warning.text.normalize.keyboard_fold`);
- plain variants (``derived = "plain"``): a row as typed in a hurry, lower case and without
  punctuation (:func:`warning.text.normalize.plain_fold`). One whole labelled source (the
  Kazakh hate set) is written that way while the clean text of the same language is not, so
  without these copies a model learns the style as a label: the shipped model of 2026.12.05
  flagged neutral Kazakh sentences as hate far more often once their punctuation was removed
  (``benchmarks/results/plain_style.md``).

A copy keeps the row's labels, source, licence, group and split, and gets its own id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pandas as pd

from warning.text.normalize import keyboard_fold, plain_fold

from .feedback_import import text_key

__all__ = ["add_keyboard_variants", "add_plain_variants"]


def add_keyboard_variants(rows: pd.DataFrame, languages: Sequence[str]
                          ) -> tuple[pd.DataFrame, int]:
    """Add each training row in ``languages`` as typed on a Russian keyboard.

    Rows without any of the language's own letters (already typed that way) and copies whose
    text is already in the corpus are skipped. Returns the rows with the copies appended and
    how many were added.
    """
    return _add_copies(rows, languages, keyboard_fold, "keyboard", new_key=True)


def add_plain_variants(rows: pd.DataFrame, languages: Sequence[str]
                       ) -> tuple[pd.DataFrame, int]:
    """Add each training row in ``languages`` as typed without capitals or punctuation.

    Rows already typed that way are skipped. The corpus's key ignores case and punctuation,
    so a copy shares its row's key (and group and split): it is not a new text for
    deduplication, only a new spelling for training. Keyboard variants are copied too, so a
    Kazakh post typed on a Russian keyboard without punctuation is covered. Returns the rows
    with the copies appended and how many were added.
    """
    return _add_copies(rows, languages, lambda text, _lang: plain_fold(text), "plain",
                       new_key=False)


def _add_copies(rows: pd.DataFrame, languages: Sequence[str],
                fold: Callable[[str, str], str], tag: str, *, new_key: bool
                ) -> tuple[pd.DataFrame, int]:
    if not languages or rows.empty:
        return rows, 0
    candidates = rows[rows["lang"].isin(languages) & rows["split"].eq("train")]
    if candidates.empty:
        return rows, 0
    copies = candidates.copy()
    copies["text"] = [fold(t, lang) for t, lang in
                      zip(candidates["text"], candidates["lang"], strict=True)]
    copies["text_norm"] = [fold(t, lang) for t, lang in
                           zip(candidates["text_norm"], candidates["lang"], strict=True)]
    changed = copies["text_norm"].ne(candidates["text_norm"]).to_numpy()
    if new_key:
        copies["key"] = copies["text_norm"].map(text_key)
        changed = changed & ~copies["key"].isin(set(rows["key"])).to_numpy()
    copies = copies[changed & copies["text_norm"].str.strip().ne("").to_numpy()]
    # one copy per new key (keyboard) or per new spelling (plain, whose key is its row's)
    unique = "key" if new_key else "text_norm"
    copies = copies.drop_duplicates(unique)
    copies["id"] = [hashlib.sha1(f"{tag}:{k}".encode()).hexdigest()[:16]
                    for k in copies[unique]]
    copies["derived"] = [f"{d};{tag}" if d else tag for d in copies["derived"]]
    return pd.concat([rows, copies], ignore_index=True), len(copies)
