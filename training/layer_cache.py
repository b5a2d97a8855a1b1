"""The encoder's frozen lower layers run once: their outputs cached on disk, resumable.

On 2 CPU cores a LoRA step through all 12 layers of the encoder costs a forward and a backward
pass through every layer. With ``cached_layers: k`` in the training configuration, layers
``0..k-1`` stay frozen (no adapters there), each training row goes through them once, and their
output (one vector per token, float16) is kept in this cache; training then runs only the top
``12 - k`` layers (with their adapters) and the head, for as many passes over the rows as the
budget allows. The model saved is the same kind as a full LoRA run's (adapters on the top
layers only), so scoring does not change: the full encoder with the adapters merged.

The cache is a folder of shards. Shard ``shard_NNNNN`` is two files: ``.npy``, the tokens'
states of its rows one after the other (``[tokens, hidden]``, float16, read memory-mapped), and
``.npz``, the row ids and their token counts. The ``.npz`` is written last and renamed into
place, so a shard counts only once complete, and an interrupted run resumes at the first row
not yet cached. ``meta.json`` names what the states depend on (encoder, layers, maximum length,
prefix, precision); a folder made with other settings is refused.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LayerCache", "cache_rows", "lower_states", "pooled", "run_cache",
           "upper_states"]

log = logging.getLogger(__name__)


def _mask(base, hidden, attention_mask):
    from transformers.masking_utils import create_bidirectional_mask

    return create_bidirectional_mask(config=base.config, inputs_embeds=hidden,
                                     attention_mask=attention_mask)


def lower_states(base, input_ids, attention_mask, layers: int):
    """The hidden states after the embeddings and the first ``layers`` layers of ``base`` (a
    transformers ``BertModel``): ``[batch, tokens, hidden]``."""
    hidden = base.embeddings(input_ids=input_ids)
    mask = _mask(base, hidden, attention_mask)
    for layer in base.encoder.layer[:layers]:
        hidden = layer(hidden, mask)
    return hidden


def upper_states(base, hidden, attention_mask, start: int):
    """The last hidden state, from the output of layer ``start - 1`` through the remaining
    layers of ``base`` (with whatever adapters are injected there)."""
    mask = _mask(base, hidden, attention_mask)
    for layer in base.encoder.layer[start:]:
        hidden = layer(hidden, mask)
    return hidden


def pooled(hidden, attention_mask):
    """Mean over the real tokens, L2-normalised (the pooling the classifier scores with)."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


class LayerCache:
    """Per-token outputs of the frozen lower layers, by row id, in a folder of shards.

    Args:
        folder: Where the shards are kept (made if missing).
        meta: What the states depend on; a folder holding other ``meta`` is refused.
    """

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.meta = dict(meta)
        self.folder.mkdir(parents=True, exist_ok=True)
        meta_path = self.folder / "meta.json"
        if meta_path.is_file():
            existing = json.loads(meta_path.read_text())
            if existing != self.meta:
                raise ValueError(f"{self.folder} holds layer states made with {existing}, not "
                                 f"{self.meta}; use another folder")
        else:
            meta_path.write_text(json.dumps(self.meta, indent=2))
        self._index: dict[str, tuple[int, int, int]] | None = None
        self._arrays: list[np.ndarray] = []

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard_*.npz"))

    def index(self) -> dict[str, tuple[int, int, int]]:
        """Row id -> (shard number, first token, token count), for every complete shard."""
        if self._index is None:
            self._index, self._arrays = {}, []
            for number, shard in enumerate(self._shards()):
                with np.load(shard) as data:
                    ids, lengths = data["ids"].tolist(), data["lengths"]
                starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int)
                for row_id, first, count in zip(ids, starts, lengths, strict=True):
                    self._index[row_id] = (number, int(first), int(count))
                self._arrays.append(np.load(shard.with_suffix(".npy"), mmap_mode="r"))
        return self._index

    def add(self, ids: Sequence[str], states: Sequence[np.ndarray]) -> None:
        """Store one shard: ``states[i]`` is ``[tokens_i, hidden]`` for ``ids[i]``."""
        number = len(self._shards())
        stem = self.folder / f"shard_{number:05d}"
        tokens = np.concatenate([np.asarray(s, dtype=np.float16) for s in states])
        with open(stem.with_suffix(".tmp.npy"), "wb") as handle:
            np.save(handle, tokens)
        stem.with_suffix(".tmp.npy").rename(stem.with_suffix(".npy"))
        with open(stem.with_suffix(".tmp.npz"), "wb") as handle:
            np.savez(handle, ids=np.asarray(list(ids), dtype=str),
                     lengths=np.asarray([len(s) for s in states], dtype=np.int32))
        stem.with_suffix(".tmp.npz").rename(stem.with_suffix(".npz"))
        self._index = None

    def batch(self, ids: Sequence[str]):
        """``(states, attention_mask)`` for ``ids``, padded to the longest: float32
        ``[batch, tokens, hidden]`` and int64 ``[batch, tokens]`` torch tensors.

        Raises:
            KeyError: A row is not cached.
        """
        import torch

        index = self.index()
        where = []
        for row_id in ids:
            if row_id not in index:
                raise KeyError(f"row {row_id!r} is not in the layer cache {self.folder}")
            where.append(index[row_id])
        longest = max(count for _, _, count in where)
        hidden = int(self.meta["hidden"])
        out = np.zeros((len(where), longest, hidden), dtype=np.float32)
        mask = np.zeros((len(where), longest), dtype=np.int64)
        for i, (shard, first, count) in enumerate(where):
            out[i, :count] = self._arrays[shard][first : first + count]
            mask[i, :count] = 1
        return torch.from_numpy(out), torch.from_numpy(mask)


def cache_rows(ids: Sequence[str], texts: Sequence[str], cache: LayerCache, tokenizer, base,
               batch_size: int = 64, shard_size: int = 2048, precision: str = "float32",
               prefix: str | None = None) -> int:
    """Run the rows not yet cached through the lower layers and store their states; rows are
    sorted by length within a shard so a batch pads little. Returns how many rows were added.

    Args:
        ids, texts: Row ids and their normalised texts (same order).
        cache: Where the states go; its ``meta`` gives ``layers`` and ``max_length``.
        tokenizer, base: The encoder (a transformers ``BertModel``, without adapters on the
            cached layers).
        batch_size: Rows per forward pass.
        shard_size: Rows per shard (the unit of resumption).
        precision: ``bfloat16`` runs the layers under CPU autocast.
        prefix: Put before every text (default: E5's ``"query: "``).
    """
    import torch
    from tqdm import tqdm

    from warning.models.encoder import E5_PREFIX

    prefix = E5_PREFIX if prefix is None else prefix
    done = cache.index()
    seen: set[str] = set()
    todo = []
    for row_id, text in zip(ids, texts, strict=True):
        if row_id not in done and row_id not in seen:
            seen.add(row_id)
            todo.append((row_id, text))
    if not todo:
        return 0
    layers, max_length = int(cache.meta["layers"]), int(cache.meta["max_length"])
    base.eval()
    start = time.perf_counter()
    with tqdm(total=len(todo), unit="posts", desc="lower layers", smoothing=0.1) as bar:
        for begin in range(0, len(todo), shard_size):
            part = todo[begin : begin + shard_size]
            enc = tokenizer([prefix + t for _, t in part], truncation=True,
                            max_length=max_length)
            order = np.argsort([len(x) for x in enc["input_ids"]], kind="stable")
            states: list[np.ndarray | None] = [None] * len(part)
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                padded = tokenizer.pad({"input_ids": [enc["input_ids"][i] for i in idx],
                                        "attention_mask": [enc["attention_mask"][i]
                                                           for i in idx]},
                                       return_tensors="pt")
                with torch.inference_mode(), torch.autocast(
                        "cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                    hidden = lower_states(base, padded["input_ids"], padded["attention_mask"],
                                          layers)
                hidden = hidden.float().numpy()
                for j, i in enumerate(idx):
                    states[i] = hidden[j, : len(enc["input_ids"][i])]
                bar.update(len(idx))
            cache.add([row_id for row_id, _ in part], states)  # type: ignore[arg-type]
    rate = len(todo) / (time.perf_counter() - start)
    log.info("cached the lower %d layers of %d rows at %.1f posts/s", layers, len(todo), rate)
    return len(todo)


def run_cache(config, work_dir: Path, base, converted: bool) -> tuple[LayerCache, str]:
    """The cache a training run with ``config.cached_layers`` uses, and its precision: shared
    under the cache dir for the converted base encoder (or ``config.layer_cache_dir``), in
    the run's work folder for any other encoder (tests)."""
    from warning.models.encoder import E5_PREFIX, E5_SHA256
    from warning.settings import cache_dir, precision

    mode = precision()
    layers = config.cached_layers
    if layers >= base.config.num_hidden_layers:
        raise ValueError(f"cached_layers={layers}, but the encoder has only "
                         f"{base.config.num_hidden_layers} layers: at least one must train")
    meta = {"encoder": f"multilingual-e5-small-q4-{E5_SHA256[:12]}" if converted else "custom",
            "layers": layers, "max_length": config.max_length, "prefix": E5_PREFIX,
            "precision": mode, "hidden": base.config.hidden_size}
    if config.layer_cache_dir:
        folder = Path(config.layer_cache_dir)
    elif converted:
        folder = cache_dir() / "layer_states" / f"e5-q4-L{layers}-{config.max_length}-{mode}"
    else:
        folder = work_dir / "layer_states"
    return LayerCache(folder, meta), mode
