import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _tiny_bert():
    config = transformers.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    return transformers.BertModel(config, add_pooling_layer=False).eval()


def test_quantize_int8_leaves_the_float_encoder_alone_and_shares_embeddings() -> None:
    from warning.models.transformer import quantize_int8

    model = _tiny_bert()
    quantized = quantize_int8(model)
    assert quantized.embeddings is model.embeddings  # shared, not copied
    layer, qlayer = model.encoder.layer[0], quantized.encoder.layer[0]
    assert type(layer.attention.self.query) is torch.nn.Linear  # the original keeps float32
    assert type(qlayer.attention.self.query) is not torch.nn.Linear  # quantised
    assert type(qlayer.intermediate.dense) is not torch.nn.Linear
    assert type(qlayer.output.dense) is torch.nn.Linear  # the FFN down-projection stays float
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.inference_mode():
        exact = model(input_ids=ids).last_hidden_state
        approx = quantized(input_ids=ids).last_hidden_state
    assert approx.shape == exact.shape
    assert torch.allclose(approx, exact, atol=0.2)


def test_precision_setting_accepts_int8(monkeypatch) -> None:
    from warning.settings import precision

    monkeypatch.setenv("WARNING_PRECISION", "int8")
    assert precision() == "int8"
    monkeypatch.setenv("WARNING_PRECISION", "int4")
    with pytest.raises(ValueError, match="int8"):
        precision()
