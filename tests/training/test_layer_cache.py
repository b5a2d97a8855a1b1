"""Cached lower layers (training.layer_cache) and LoRA training on them, on a tiny random BERT."""

import copy
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from fixtures.tiny_bert import tiny_bert, tiny_tokenizer  # noqa: E402

from training.layer_cache import (  # noqa: E402
    LayerCache,
    cache_rows,
    lower_states,
    pooled,
    upper_states,
)
from training.transformer import TransformerConfig, balanced_weights, fit_transformer  # noqa: E402
from warning import Classifier  # noqa: E402


def _config(**kw) -> TransformerConfig:
    base = {"version": "t", "max_length": 24, "window_tokens": 16, "window_stride": 8,
            "head": {"type": "mlp", "hidden": 32, "dropout": 0.0}, "dev_rows": 0,
            "calib_rows": 0, "train_rows_per_source": 0, "threads": 1,
            "lora_targets": ["query", "value"]}
    base.update(kw)
    return TransformerConfig(**base)


TEXTS = ["you stupid idiot moron", "the market opens at nine",
         "we will kill and burn them all tonight", "hello"]


@pytest.fixture(scope="module")
def three_layer_encoder(tiny_corpus):
    tokenizer = tiny_tokenizer([*list(tiny_corpus["text"]), *TEXTS])
    return tokenizer, tiny_bert(len(tokenizer), layers=3, seed=1).eval()


def _meta(layers: int = 2) -> dict:
    return {"layers": layers, "max_length": 24, "precision": "float32", "hidden": 32}


def test_lower_then_upper_layers_equal_the_whole_encoder(three_layer_encoder) -> None:
    tokenizer, base = three_layer_encoder
    enc = tokenizer(["query: " + t for t in TEXTS], padding=True, return_tensors="pt")
    with torch.inference_mode():
        whole = base(**enc).last_hidden_state
        split = upper_states(base, lower_states(base, enc["input_ids"], enc["attention_mask"],
                                                2), enc["attention_mask"], 2)
    mask = enc["attention_mask"].bool()
    torch.testing.assert_close(split[mask], whole[mask], rtol=1e-5, atol=1e-5)


def test_cache_stores_states_resumes_and_pads_batches(three_layer_encoder, tmp_path) -> None:
    tokenizer, base = three_layer_encoder
    cache = LayerCache(tmp_path / "c", _meta())
    ids = [f"r{i}" for i in range(len(TEXTS))]
    assert cache_rows(ids[:2], TEXTS[:2], cache, tokenizer, base, shard_size=1) == 2
    # a second call (a resumed run) adds only the rows not cached yet, duplicates once
    assert cache_rows(ids + ids[:1], TEXTS + TEXTS[:1], cache, tokenizer, base) == 2
    assert cache_rows(ids, TEXTS, cache, tokenizer, base) == 0
    assert len(list((tmp_path / "c").glob("shard_*.npz"))) == 3
    hidden, mask = LayerCache(tmp_path / "c", _meta()).batch(["r3", "r2"])
    enc = tokenizer(["query: " + t for t in (TEXTS[3], TEXTS[2])], padding=True,
                    return_tensors="pt")
    assert torch.equal(mask, enc["attention_mask"])
    with torch.inference_mode():
        direct = lower_states(base, enc["input_ids"], enc["attention_mask"], 2)
        out = pooled(upper_states(base, hidden, mask, 2), mask)
        whole = pooled(base(**enc).last_hidden_state, enc["attention_mask"])
    keep = mask.bool()
    torch.testing.assert_close(hidden[keep], direct[keep], rtol=2e-3, atol=2e-3)  # float16
    torch.testing.assert_close(out, whole, rtol=5e-3, atol=5e-3)
    with pytest.raises(KeyError, match="'nope' is not in the layer cache"):
        cache.batch(["r0", "nope"])
    with pytest.raises(ValueError, match="holds layer states made with"):
        LayerCache(tmp_path / "c", _meta(layers=1))


def test_half_written_shard_does_not_count(three_layer_encoder, tmp_path) -> None:
    tokenizer, base = three_layer_encoder
    cache = LayerCache(tmp_path / "c", _meta())
    cache_rows(["a"], TEXTS[:1], cache, tokenizer, base)
    # an interrupted write leaves a temporary file behind, never a shard's .npz
    (tmp_path / "c" / "shard_00001.tmp.npy").write_bytes(b"partial")
    assert set(LayerCache(tmp_path / "c", _meta()).index()) == {"a"}


def test_source_weights_scale_a_sources_share() -> None:
    import pandas as pd

    rows = pd.DataFrame({"lang": ["ky"] * 2 + ["ru"] * 2,
                         "source": ["ky_youtube_hate", "ky_youtube_hate", "ru_a", "ru_a;x"]})
    plain = balanced_weights(rows, 1.0)
    more = balanced_weights(rows, 1.0, {"ky_youtube_hate": 3.0})
    assert np.isclose(plain[:2].sum(), 0.5) and np.isclose(more[:2].sum(), 0.75)
    with pytest.raises(ValueError, match="source_weights"):
        TransformerConfig(source_weights={"x": 0.0})
    with pytest.raises(ValueError, match="cached_layers"):
        TransformerConfig(cached_layers=-1)


def test_lora_on_cached_layers_trains_resumes_and_scores_like_the_full_model(
        tiny_corpus, three_layer_encoder, tmp_path, monkeypatch) -> None:
    tokenizer, base = three_layer_encoder
    work = tmp_path / "work"
    config = _config(mode="lora", max_steps=4, eval_every=2, batch_size=8, cached_layers=2,
                     source_weights={"fixture_ky": 2.0})
    first = fit_transformer(tiny_corpus, config, work, encoder=(tokenizer, copy.deepcopy(base)))
    assert json.loads((work / "checkpoint" / "state.json").read_text())["step"] == 4
    shards = sorted((work / "layer_states").glob("shard_*.npz"))
    assert shards
    config.max_steps = 6
    resumed = fit_transformer(tiny_corpus, config, work, encoder=(tokenizer, copy.deepcopy(base)))
    state = json.loads((work / "checkpoint" / "state.json").read_text())
    assert state["step"] == 6 and len(state["history"]) == 3
    # the rows were cached once: the resumed run added no shard
    assert sorted((work / "layer_states").glob("shard_*.npz")) == shards
    assert first.config.training["cached_layers"] == 2
    folder = resumed.save(tmp_path / "m")
    adapter = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    assert adapter["layers_to_transform"] == [2]
    from safetensors.torch import load_file

    keys = list(load_file(str(folder / "adapter" / "adapter_model.safetensors")))
    assert keys and all(".layer.2." in k for k in keys)
    import warning.models.encoder

    monkeypatch.setattr(warning.models.encoder, "load_encoder",
                        lambda path=None: (tokenizer, copy.deepcopy(base)))
    loaded = Classifier.load(folder)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), resumed.predict_proba(TEXTS),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="at least one must train"):
        fit_transformer(tiny_corpus, _config(mode="lora", max_steps=2, cached_layers=3),
                        tmp_path / "w3", encoder=(tokenizer, copy.deepcopy(base)))


def test_lora_widens_to_lower_layers_from_a_saved_model(
        tiny_corpus, three_layer_encoder, tmp_path) -> None:
    """A run with LoRA on more layers (fewer cached) starts from a saved model with LoRA on
    the top ones: the added layers' adapters start at zero, so it starts from exactly that
    model. The other way (fewer layers than the start had) is refused."""
    tokenizer, base = three_layer_encoder
    settings = {"mode": "lora", "eval_every": 2, "batch_size": 8}
    top = fit_transformer(tiny_corpus, _config(**settings, max_steps=4, cached_layers=2),
                          tmp_path / "top", encoder=(tokenizer, copy.deepcopy(base)))
    saved = top.save(tmp_path / "saved")
    wider = fit_transformer(tiny_corpus, _config(**settings, max_steps=1, cached_layers=1,
                                                 init_checkpoint=str(saved), lr_encoder=0.0,
                                                 lr_head=0.0),
                            tmp_path / "wider", encoder=(tokenizer, copy.deepcopy(base)))
    np.testing.assert_allclose(wider.raw_logits(TEXTS), top.raw_logits(TEXTS), rtol=1e-4,
                               atol=1e-5)
    adapter = json.loads((wider.save(tmp_path / "w") / "adapter" / "adapter_config.json")
                         .read_text())
    assert adapter["layers_to_transform"] == [1, 2]
    with pytest.raises(ValueError, match="does not match this run's LoRA settings"):
        fit_transformer(tiny_corpus, _config(**settings, max_steps=1, cached_layers=2,
                                             init_checkpoint=str(tmp_path / "w")),
                        tmp_path / "narrower", encoder=(tokenizer, copy.deepcopy(base)))


@pytest.mark.parametrize("name", ["lora_cpu", "lora_gpu", "frozen"])
def test_committed_transformer_configs_load(name) -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "training" / "configs" / f"{name}.json"
    config = TransformerConfig.from_file(path)
    # the CPU recipe trains on cached lower layers; the GPU recipe runs the whole encoder
    assert config.cached_layers == {"lora_cpu": 10, "lora_gpu": 0, "frozen": 0}[name]


def test_uncapped_sources_keep_every_row() -> None:
    import pandas as pd

    from training.transformer import _cap_sources

    rows = pd.DataFrame({"id": [f"r{i}" for i in range(30)],
                         "source": ["big"] * 20 + ["small_real"] * 10})
    capped = _cap_sources(rows, 5)
    assert capped["source"].value_counts().to_dict() == {"big": 5, "small_real": 5}
    kept = _cap_sources(rows, 5, ("small_real",))
    assert kept["source"].value_counts().to_dict() == {"big": 5, "small_real": 10}
    config = TransformerConfig(uncapped_sources=["small_real"])
    assert TransformerConfig.from_dict(config.to_dict()) == config
