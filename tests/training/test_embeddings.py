import numpy as np
import pandas as pd
import pytest

from training.embeddings import EmbeddingCache, embed_rows


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{i:016x}" for i in range(n)],
                         "text_norm": [f"post number {i}" for i in range(n)]})


def _encode(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


def test_embedding_cache_resumes_after_an_interruption(tmp_path) -> None:
    rows = _rows(25)
    calls = []

    def dies_after_two_shards(texts):
        calls.append(len(texts))
        if len(calls) > 2:
            raise KeyboardInterrupt("killed")
        return _encode(texts)

    cache = EmbeddingCache(tmp_path / "c")
    with pytest.raises(KeyboardInterrupt):
        embed_rows(rows, cache, shard_size=10, encode=dies_after_two_shards)
    assert len(cache.shards()) == 2 and len(cache.ids()) == 20
    seen = []
    resumed = embed_rows(rows, EmbeddingCache(tmp_path / "c"), shard_size=10,
                         encode=lambda t: seen.append(len(t)) or _encode(t))
    assert seen == [5]  # only the rows the killed run had not finished
    full = embed_rows(rows, EmbeddingCache(tmp_path / "fresh"), shard_size=10, encode=_encode)
    np.testing.assert_array_equal(resumed, full)


def test_embedding_cache_returns_rows_in_order_and_reports_missing(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "c")
    rows = _rows(6)
    embed_rows(rows, cache, encode=_encode)
    reordered = rows.iloc[::-1]
    np.testing.assert_array_equal(cache.load(list(reordered["id"])),
                                  _encode(list(reordered["text_norm"])))
    with pytest.raises(KeyError, match="not embedded"):
        cache.load(["ffffffffffffffff"])


def test_embedding_cache_refuses_another_encoder_setting(tmp_path) -> None:
    EmbeddingCache(tmp_path / "c", max_length=128)
    with pytest.raises(ValueError, match="holds embeddings made with"):
        EmbeddingCache(tmp_path / "c", max_length=256)


def test_embed_with_a_tiny_random_bert() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from warning.models.encoder import embed

    config = transformers.BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    model = transformers.BertModel(config, add_pooling_layer=False)

    class CharTokenizer:
        def __call__(self, texts, padding, truncation, max_length, return_tensors):
            ids = [[2, *[3 + ord(c) % 60 for c in t][:max_length - 2], 1] for t in texts]
            width = max(map(len, ids))
            return {"input_ids": torch.tensor([i + [0] * (width - len(i)) for i in ids]),
                    "attention_mask": torch.tensor([[1] * len(i) + [0] * (width - len(i))
                                                    for i in ids])}

    texts = ["a much longer text than the others", "short", "mid length"]
    out = embed(texts, CharTokenizer(), model, max_length=32, batch_size=2)
    assert out.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    single = embed(["short"], CharTokenizer(), model, max_length=32)
    np.testing.assert_allclose(out[1], single[0], atol=1e-5)  # padding does not leak in
