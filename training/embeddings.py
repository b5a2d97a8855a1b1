"""Stage 1: embed the corpus once with the frozen encoder, cached on disk and resumable.

The cache is a folder of shards (``shard_NNNNN.npz``: row ids and float32 embeddings) plus a
``meta.json`` naming the encoder, prefix, maximum length and pooling. An interrupted run resumes
where it stopped: rows already in a finished shard are never embedded again; a shard is written
to a temporary name and renamed, so a half-written shard never counts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from warning.models.encoder import E5_PREFIX, E5_SHA256, embed, load_encoder

__all__ = ["EmbeddingCache", "embed_rows"]

log = logging.getLogger(__name__)


class EmbeddingCache:
    """Embeddings by row id in a folder of shards."""

    def __init__(self, folder: Path, max_length: int = 128) -> None:
        self.folder = Path(folder)
        self.meta = {"encoder": f"multilingual-e5-small-q4-{E5_SHA256[:12]}",
                     "prefix": E5_PREFIX, "max_length": max_length, "pooling": "mean+l2"}
        self.folder.mkdir(parents=True, exist_ok=True)
        meta_path = self.folder / "meta.json"
        if meta_path.is_file():
            existing = json.loads(meta_path.read_text())
            if existing != self.meta:
                raise ValueError(f"{self.folder} holds embeddings made with {existing}, not "
                                 f"{self.meta}; use another folder")
        else:
            meta_path.write_text(json.dumps(self.meta, indent=2))

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard_*.npz"))

    def ids(self) -> set[str]:
        done: set[str] = set()
        for shard in self.shards():
            with np.load(shard) as data:
                done.update(data["ids"].tolist())
        return done

    def load(self, ids: Sequence[str]) -> np.ndarray:
        """Embeddings for ``ids`` in that order.

        Raises:
            KeyError: An id has not been embedded.
        """
        table: dict[str, np.ndarray] = {}
        wanted = set(ids)
        for shard in self.shards():
            with np.load(shard) as data:
                for row_id, vector in zip(data["ids"].tolist(), data["x"], strict=True):
                    if row_id in wanted:
                        table[row_id] = vector
        missing = [i for i in ids if i not in table]
        if missing:
            raise KeyError(f"{len(missing)} rows not embedded yet (first: {missing[0]})")
        return np.stack([table[i] for i in ids]).astype(np.float32)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> Path:
        number = len(self.shards())
        path = self.folder / f"shard_{number:05d}.npz"
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, ids=np.asarray(ids, dtype=object).astype(str), x=vectors)
        tmp.rename(path)
        return path


def embed_rows(rows: pd.DataFrame, cache: EmbeddingCache, shard_size: int = 2048,
               batch_size: int = 64,
               encode: Callable[[list[str]], np.ndarray] | None = None) -> np.ndarray:
    """Embed the rows not yet in the cache (``id`` and ``text_norm``/``text`` columns), then
    return every row's embedding in row order. Prints progress with posts per second.

    Args:
        rows: Corpus rows.
        cache: Where embeddings are kept.
        shard_size: Rows per shard (the unit of resumption).
        batch_size: Texts per forward pass.
        encode: ``encode(texts) -> [n, dim]``; default: the frozen base encoder.
    """
    from tqdm import tqdm

    column = "text_norm" if "text_norm" in rows else "text"
    done = cache.ids()
    todo = rows[~rows["id"].isin(done)].drop_duplicates("id")
    if len(todo):
        if encode is None:
            tokenizer, model = load_encoder()

            def encode(texts: list[str]) -> np.ndarray:
                return embed(texts, tokenizer, model, max_length=cache.meta["max_length"],
                             batch_size=batch_size)

        start = time.perf_counter()
        with tqdm(total=len(todo), unit="posts", desc="embedding", smoothing=0.1) as bar:
            for begin in range(0, len(todo), shard_size):
                part = todo.iloc[begin : begin + shard_size]
                cache.add(list(part["id"]), encode(list(part[column])))
                bar.update(len(part))
        rate = len(todo) / (time.perf_counter() - start)
        print(f"embedded {len(todo):,} posts at {rate:,.1f} posts/s", flush=True)
    return cache.load(list(rows["id"]))
