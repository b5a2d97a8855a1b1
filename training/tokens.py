"""Tokenisation through Hugging Face ``datasets``: ``Dataset.map`` (batched) with its cache.

The transformer's training tokenises its rows once; the Arrow file is named by a hash of the
tokenizer, the length, the prefix and the texts, so a rerun (or a resumed run) loads it instead
of tokenising again, and any change makes a new one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["tokenised_dataset"]


def _tokenizer_fingerprint(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        spec = f"{type(tokenizer).__name__}:{getattr(tokenizer, 'name_or_path', '')}:" \
               f"{len(tokenizer)}"
    else:
        # truncation and padding are state the last call left behind, not the vocabulary
        state = json.loads(backend.to_str())
        state.pop("truncation", None)
        state.pop("padding", None)
        spec = json.dumps(state, sort_keys=True)
    return hashlib.sha1(spec.encode()).hexdigest()


def tokenised_dataset(texts: list[str], tokenizer, max_length: int, cache_dir: Path,
                      prefix: str | None = None):
    """The texts tokenised once through ``datasets.Dataset.map`` (batched), cached as Arrow.

    The cache file is named by a hash of the tokenizer, ``max_length``, the prefix and the
    texts, so a second run on the same rows loads it instead of tokenising again, and any
    change makes a new one.

    Args:
        texts: Normalised texts, in training order.
        tokenizer: A Hugging Face tokenizer.
        max_length: Truncation length, prefix and special tokens included.
        cache_dir: Folder of the cache files (a run's work folder).
        prefix: Put before every text (default: E5's ``"query: "``).

    Returns:
        A ``datasets.Dataset`` with ``input_ids`` and ``attention_mask``, row ``i`` for
        ``texts[i]``.
    """
    import datasets

    from warning.models.encoder import E5_PREFIX

    prefix = E5_PREFIX if prefix is None else prefix
    digest = hashlib.sha1()
    for part in (_tokenizer_fingerprint(tokenizer), str(max_length), prefix, *texts):
        digest.update(part.encode())
        digest.update(b"\0")
    fingerprint = digest.hexdigest()[:20]
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    datasets.disable_progress_bars()

    def tokenise(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        enc = tokenizer([prefix + t for t in batch["text"]], truncation=True,
                        max_length=max_length)
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    raw = datasets.Dataset.from_dict({"text": list(texts)})
    return raw.map(tokenise, batched=True, batch_size=1000, remove_columns=["text"],
                   cache_file_name=str(cache_dir / f"tokens-{fingerprint}.arrow"),
                   load_from_cache_file=True, new_fingerprint=fingerprint)
