"""Training the transformer classifier (``warning train transformer --config FILE``).

Two modes behind one configuration:

- ``frozen`` (stage 1): the encoder stays as converted; the corpus is embedded once into a
  resumable cache and a masked-BCE MLP head is trained on the embeddings in seconds;
- ``lora`` (stage 2): LoRA adapters (peft) on the encoder's attention and feed-forward layers
  plus the head, trained end to end with masked binary cross-entropy, language- and
  source-balanced sampling, early stopping on dev, a fixed seed, and checkpoints, so an
  interrupted run resumes where it stopped. CUDA when present, the CPU otherwise, with a wall
  time budget.

Over 500 lines because both modes share one configuration, sampling, calibration and saving,
and the LoRA loop (cache, checkpoints, resume, a second phase) reads best as one piece.

Either way the result is calibrated on the calib split with window-max logits (as scored),
thresholds and review bands are fitted there, and the folder saved holds only the head and the
adapters (a few MB), never the encoder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from warning.labels import LABELS
from warning.models.calibration import Calibrator
from warning.models.classifier import ModelConfig, git_commit, library_versions
from warning.models.transformer import TransformerClassifier, build_head

from .baseline import _sources_with_licences, cap_rows, weak_languages
from .calibration import fit_label_calibration, fit_language_calibration
from .sampling import _cap_sources, _length_batches, _sample, balanced_weights
from .tokens import tokenised_dataset

__all__ = ["TransformerConfig", "balanced_weights", "fit_transformer", "tokenised_dataset",
           "train_transformer"]

log = logging.getLogger(__name__)


@dataclass
class TransformerConfig:
    """Settings of the transformer (round-trips through ``to_dict``/``from_dict``).

    Attributes:
        name, version: Shown as ``name@version``.
        mode: ``frozen`` (head on cached embeddings) or ``lora`` (adapters + head).
        labels: Labels to train; ``extremism`` stays off (experimental).
        max_length: Tokens per window, prefix and special tokens included.
        window_tokens, window_stride: Long texts are scored as the max over windows.
        head: Head spec (``{"type": "mlp", "hidden": 256, "dropout": 0.1}`` or linear).
        lora_r, lora_alpha, lora_dropout, lora_targets: LoRA settings.
        lr_head, lr_encoder, weight_decay: AdamW learning rates and decay.
        warmup_steps: LoRA mode: the learning rates rise linearly from near 0 to theirs over
            the first ``warmup_steps`` steps of a run (0 = at full rate from the first step).
            A fresh optimizer at full rate moved a started run away from its start at once
            (``benchmarks/results/transformer_training.md``).
        lr_decay: LoRA mode: ``constant`` keeps the rates after the warm-up; ``linear`` lowers
            them to 0 at ``max_steps``.
        batch_size: Training batch size.
        length_buckets: Batches are drawn ``length_buckets`` at a time (one weighted sample),
            sorted by length and cut into batches of similar length, so a batch pads to its own
            longest post rather than to the longest of a random draw (1 = no bucketing).
        max_steps: Upper bound on optimiser steps (LoRA mode).
        time_budget_minutes: Wall-time budget for the LoRA training loop: past it, training
            evaluates once more, checkpoints and stops, returning the checkpoint ``keep`` names.
        eval_every: Steps between dev evaluations (and checkpoints).
        patience: Evaluations without a dev improvement before stopping.
        select_by: LoRA mode: what a dev evaluation is judged by, for early stopping and the
            checkpoint kept. ``loss``: the masked cross-entropy. ``auc``: the mean ROC-AUC over
            the labels with positives and negatives among the dev rows, i.e. how well the
            member ranks posts, not how well its raw probabilities are calibrated. The member
            is recalibrated (and, in the default, stacked) on calib afterwards, so a run that
            shifts the probabilities of a whole label (new rows with many positives) without
            ranking worse need not lose to its start. Both are logged at every evaluation.
        keep: LoRA mode: the checkpoint the run returns, ``best`` by ``select_by`` (the start
            included) or the ``last`` one, for a member whose choice is left to the stack on
            dev (``benchmarks/default_model.py``) rather than to this run's own dev rows.
        head_epochs: Maximum epochs for the frozen-mode head.
        train_rows_per_source: Cap on training rows per source (0 = all); keeps a CPU run in
            budget and stops the largest sources from drowning the rest.
        uncapped_sources: Sources whose training rows are all kept whatever
            ``train_rows_per_source`` says (the small real sets, e.g. ``ky_youtube_hate``).
        capped_rows_per_language: Rows kept per clean-only language (ky, kk, uz).
        balance_power: Sampling weight of a row is ``count(lang, source) ** -power``: 0 is
            uniform, 1 gives every language-source cell the same total weight.
        source_weights: Extra sampling weight per source (first source of a merged row), on
            top of the balance, e.g. ``{"ky_youtube_hate": 2.0}`` to see a small real set more
            often; a source not named keeps 1.
        cached_layers: LoRA mode on a CPU: the lower ``cached_layers`` layers of the encoder
            stay frozen without adapters, every training and dev row goes through them once,
            their per-token output is cached on disk (:mod:`training.layer_cache`, resumable),
            and training runs only the layers above (with adapters) and the head, several times
            faster per post (``benchmarks/results/transformer_training.md``). 0 trains adapters
            on every layer, the whole encoder run at every step (the GPU recipe).
        layer_cache_dir: Folder of that cache (default: shared in the cache dir by encoder,
            layers, length and precision, so runs on the same rows reuse it).
        dev_rows, calib_rows: Rows sampled from dev and calib (0 = all) for speed.
        calibration: ``platt`` or ``temperature``.
        per_language_calibration: Also fit calibration, thresholds and review bands per
            detected language where calib has at least ``min_language_positives`` positives
            (and as many negatives) for a label; the rest stays global.
        threads: torch CPU threads.
        init_checkpoint: LoRA mode: a checkpoint folder of an earlier run with the same
            adapter settings (its ``best_adapter.safetensors`` and ``best_head.safetensors``),
            or a saved LoRA model's folder (``adapter/`` and ``head.safetensors``, such as
            the shipped default's ``members/transformer``), to start from, with a fresh
            optimizer at this run's learning rates: a second phase at a lower rate after
            early stopping, or on new rows. The start's own dev loss is the first to
            beat, so a worse second phase keeps the start. Ignored once this run's work folder
            has a checkpoint of its own (the run then resumes from it); it must be another
            run's folder.
        seed: Seed of sampling, initialisation and dropout.
    """

    name: str = "e5-small"
    version: str = field(default_factory=lambda: dt.date.today().strftime("%Y.%m.%d"))
    mode: str = "lora"  # the default finishes within 60 minutes on 2 CPU cores
    labels: tuple[str, ...] = ("offensive", "hate", "threat")
    max_length: int = 128
    window_tokens: int = 120
    window_stride: int = 90
    head: dict[str, Any] = field(default_factory=lambda: {"type": "mlp", "hidden": 256,
                                                          "dropout": 0.1})
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    lr_head: float = 1e-3
    lr_encoder: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 0
    lr_decay: str = "constant"
    batch_size: int = 32
    length_buckets: int = 8
    max_steps: int = 3000
    time_budget_minutes: float = 45.0
    eval_every: int = 100
    patience: int = 3
    select_by: str = "loss"
    keep: str = "best"
    head_epochs: int = 40
    train_rows_per_source: int = 3000
    uncapped_sources: tuple[str, ...] = ()
    capped_rows_per_language: int = 1000
    balance_power: float = 0.5
    source_weights: dict[str, float] = field(default_factory=dict)
    cached_layers: int = 0
    layer_cache_dir: str | None = None
    dev_rows: int = 1500
    calib_rows: int = 4000
    calibration: str = "platt"
    per_language_calibration: bool = True
    min_language_positives: int = 30
    threads: int = 2
    init_checkpoint: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        self.labels = tuple(self.labels)
        self.lora_targets = tuple(self.lora_targets)
        self.uncapped_sources = tuple(self.uncapped_sources)
        if self.mode not in ("frozen", "lora"):
            raise ValueError(f"mode must be 'frozen' or 'lora', got {self.mode!r}")
        if self.init_checkpoint and self.mode != "lora":
            raise ValueError("init_checkpoint starts LoRA training; mode is "
                             f"{self.mode!r}")
        unknown = set(self.labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}; labels are {list(LABELS)}")
        if not 8 <= self.max_length <= 512:
            raise ValueError("max_length must be between 8 and 512")
        if not 1 <= self.window_stride <= self.window_tokens <= self.max_length - 5:
            raise ValueError("need 1 <= window_stride <= window_tokens <= max_length - 5 (room "
                             "for the 'query: ' prefix and the special tokens)")
        if min(self.batch_size, self.eval_every, self.max_steps, self.length_buckets) < 1:
            raise ValueError("batch_size, length_buckets, eval_every and max_steps must be "
                             "positive")
        if self.cached_layers < 0:
            raise ValueError("cached_layers must be 0 (no cache) or a positive layer count")
        if self.warmup_steps < 0:
            raise ValueError("warmup_steps must be 0 (no warm-up) or a positive step count")
        if self.lr_decay not in ("constant", "linear"):
            raise ValueError(f"lr_decay must be 'constant' or 'linear', got {self.lr_decay!r}")
        if self.mode != "lora" and (self.warmup_steps or self.lr_decay != "constant"):
            raise ValueError("warmup_steps and lr_decay schedule LoRA training; mode is "
                             f"{self.mode!r}")
        if any(w <= 0 for w in self.source_weights.values()):
            raise ValueError("source_weights must be positive")
        if self.calibration not in ("platt", "temperature"):
            raise ValueError("calibration must be 'platt' or 'temperature'")
        if self.select_by not in ("loss", "auc"):
            raise ValueError(f"select_by must be 'loss' or 'auc', got {self.select_by!r}")
        if self.keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' or 'last', got {self.keep!r}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["labels"], out["lora_targets"] = list(self.labels), list(self.lora_targets)
        out["uncapped_sources"] = list(self.uncapped_sources)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformerConfig:
        return cls(**data)

    @classmethod
    def from_file(cls, path: Path) -> TransformerConfig:
        """Read a JSON file of fields (unknown fields are an error naming them)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls.from_dict(data)


def _device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _model_config(config: TransformerConfig, labels: list[str], train: pd.DataFrame,
                  extra: dict[str, Any]) -> ModelConfig:
    identity = {n: Calibrator().to_dict() for n in labels}
    return ModelConfig(
        kind="transformer", name=config.name, version=config.version, scored_labels=labels,
        thresholds=dict.fromkeys(labels, 0.5), review_bands={n: [0.5, 0.5] for n in labels},
        calibration=identity, window_words=config.window_tokens,
        window_stride=config.window_stride,
        training={**config.to_dict(), "head": dict(config.head), **extra},
        data_sources=_sources_with_licences(train), library_versions=library_versions(),
        commit=git_commit(), created=dt.date.today().isoformat(),
    )


def _calibrate(model: TransformerClassifier, calib: pd.DataFrame, config: TransformerConfig,
               train: pd.DataFrame) -> TransformerClassifier:
    labels = model.config.scored_labels
    logits = model.raw_logits(list(calib["text"]))
    calibration, thresholds, bands = fit_label_calibration(logits, calib, labels,
                                                           config.calibration)
    cfg = model.config
    cfg.calibration, cfg.thresholds, cfg.review_bands = calibration, thresholds, bands
    if config.per_language_calibration:
        from warning.text.lang import detect_language

        cfg.by_language = fit_language_calibration(
            logits, calib, labels, [detect_language(t) for t in calib["text"]],
            config.calibration, config.min_language_positives, config.min_language_positives)
    cfg.weak_languages = weak_languages(train, labels)
    return TransformerClassifier(cfg, model.tokenizer, model.encoder, model.head)


def _trainable_labels(train: pd.DataFrame, config: TransformerConfig) -> list[str]:
    labels = []
    for name in config.labels:
        y = train[name].dropna()
        if y.nunique() == 2 and min(y.sum(), len(y) - y.sum()) >= 20:
            labels.append(name)
        else:
            log.warning("%s: too few known positives or negatives in training: stays null", name)
    if not labels:
        raise ValueError("no label has enough positives and negatives to train")
    return labels


def fit_transformer(corpus: pd.DataFrame, config: TransformerConfig | None = None,
                    work_dir: Path | None = None, encoder: tuple | None = None
                    ) -> TransformerClassifier:
    """Train, calibrate and return a transformer classifier (not yet saved).

    Args:
        corpus: A corpus frame with train, dev and calib rows.
        config: Settings (defaults when None).
        work_dir: Checkpoints and the embedding cache (default: a folder in the cache dir).
        encoder: ``(tokenizer, model)`` to use instead of the converted base encoder (tests).

    Raises:
        ValueError: A split is missing or no label can be trained.
    """
    import torch

    from warning.settings import cache_dir

    config = config or TransformerConfig()
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    for split in ("train", "dev", "calib"):
        if not (corpus["split"] == split).any():
            raise ValueError(f"the corpus has no {split!r} rows")
    train = cap_rows(corpus[corpus["split"] == "train"], config.capped_rows_per_language)
    train = _cap_sources(train, config.train_rows_per_source, config.uncapped_sources)
    dev = _sample(corpus[corpus["split"] == "dev"], config.dev_rows, config.seed)
    calib = _sample(corpus[corpus["split"] == "calib"], config.calib_rows, config.seed)
    labels = _trainable_labels(train, config)
    work_dir = Path(work_dir) if work_dir else cache_dir() / "runs" / f"{config.name}-{config.mode}"
    work_dir.mkdir(parents=True, exist_ok=True)
    if config.init_checkpoint:
        start_folder = Path(config.init_checkpoint)
        if start_folder.resolve() == (work_dir / "checkpoint").resolve():
            raise ValueError("init_checkpoint is this run's own checkpoint folder: give the "
                             "second phase a new --work-dir")
        missing = [name for name in _start_files(start_folder)
                   if not (start_folder / name).is_file()]
        if missing:
            raise ValueError(f"init_checkpoint {start_folder}: {', '.join(missing)} not found")
    converted = encoder is None
    if encoder is None:
        from warning.models.encoder import load_encoder

        encoder = load_encoder()
    tokenizer, base = encoder
    start = time.perf_counter()
    if config.mode == "frozen":
        head, extra = _fit_frozen(train, dev, labels, config, work_dir, tokenizer, base,
                                  converted)
        model_encoder = base
    else:
        model_encoder, head, extra = _fit_lora(train, dev, labels, config, work_dir, tokenizer,
                                               base, converted)
    extra.update({"train_rows": len(train), "seconds": round(time.perf_counter() - start),
                  "device": str(_device())})
    draft = TransformerClassifier(_model_config(config, labels, train, extra), tokenizer,
                                  model_encoder, head)
    return _calibrate(draft, calib, config, train)


def _fit_frozen(train, dev, labels, config, work_dir, tokenizer, base,
                base_is_converted=False):
    from warning.models.encoder import embed

    # The frozen encoder's embeddings depend only on the text and max_length: share one cache
    # across runs (and with benchmarks/stage1_heads.py) unless a test passes its own encoder.
    from warning.settings import cache_dir

    from .embeddings import EmbeddingCache, embed_rows
    from .heads import MLPHead

    shared = cache_dir() / "embeddings" / f"corpus-e5-q4-{config.max_length}"
    cache = EmbeddingCache(shared if base_is_converted else work_dir / "embeddings",
                           max_length=config.max_length)

    def encode(texts: list[str]) -> np.ndarray:
        return embed(texts, tokenizer, base, max_length=config.max_length, batch_size=64)

    x_train = embed_rows(train, cache, encode=encode)
    x_dev = embed_rows(dev, cache, encode=encode)
    spec = dict(config.head)
    mlp = MLPHead(hidden=int(spec.get("hidden", 256)), dropout=float(spec.get("dropout", 0.1)),
                  epochs=config.head_epochs, lr=config.lr_head, seed=config.seed)
    if spec.get("type", "mlp") != "mlp":
        raise ValueError("frozen mode trains an MLP head; set head.type to 'mlp'")
    mlp.fit(x_train, train[labels].to_numpy(float), x_dev, dev[labels].to_numpy(float))
    return mlp.net_, {"dev_loss": min(mlp.history_), "epochs": len(mlp.history_)}


def mean_label_auc(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean ROC-AUC over the label columns of ``y`` (0/1, NaN where unknown) that hold both
    classes among their known rows; NaN when none does.

    Example:
        >>> y = np.array([[1, 0], [0, np.nan], [1, 1], [0, 0]], dtype=float)
        >>> mean_label_auc(np.array([[2, 0], [1, 5], [3, 1], [0, 2]], dtype=float), y)
        0.75
    """
    from sklearn.metrics import roc_auc_score

    aucs = []
    for j in range(y.shape[1]):
        known = ~np.isnan(y[:, j])
        if len(np.unique(y[known, j])) == 2:
            aucs.append(roc_auc_score(y[known, j], logits[known, j]))
    return float(np.mean(aucs)) if aucs else float("nan")


def lr_factor(step: int, config: TransformerConfig) -> float:
    """The share of its learning rates a LoRA run trains ``step`` (0-based) at: a linear
    warm-up over ``warmup_steps``, then constant or a linear decay to 0 at ``max_steps``.
    Worked out from the step alone, so a resumed run continues the same schedule."""
    factor = 1.0
    if config.warmup_steps:
        factor = min(1.0, (step + 1) / config.warmup_steps)
    if config.lr_decay == "linear":
        start = min(config.warmup_steps, config.max_steps - 1)
        left = (config.max_steps - step) / max(config.max_steps - start, 1)
        factor *= min(1.0, max(0.0, left))
    return factor


def _fit_lora(train, dev, labels, config, work_dir, tokenizer, base, converted=False):
    import torch
    from peft import LoraConfig, get_peft_model

    from .heads import masked_bce
    from .layer_cache import cache_rows, pooled, run_cache, upper_states

    device = _device()
    column = "text_norm" if "text_norm" in train else "text"
    texts, dev_texts = list(train[column]), list(dev[column])
    train_ids, dev_ids = list(train["id"]), list(dev["id"])
    layers = config.cached_layers
    extra: dict[str, Any] = {}
    if layers:
        # the lower layers run once, before any adapter exists; only the layers above train
        cache, mode = run_cache(config, work_dir, base, converted)
        for ids, rows_texts in ((train_ids, texts), (dev_ids, dev_texts)):
            cache_rows(ids, rows_texts, cache, tokenizer, base, precision=mode)
        extra = {"layers_to_transform": list(range(layers, base.config.num_hidden_layers)),
                 "layers_pattern": "layer"}
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout,
                      target_modules=list(config.lora_targets), bias="none", **extra)
    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5 for a deprecated property; harmless, and not ours
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        model = get_peft_model(base, lora).to(device)
    inner = model.get_base_model()
    head = build_head(config.head, base.config.hidden_size, len(labels)).to(device)
    params = [{"params": [p for p in model.parameters() if p.requires_grad],
               "lr": config.lr_encoder},
              {"params": head.parameters(), "lr": config.lr_head}]
    opt = torch.optim.AdamW(params, weight_decay=config.weight_decay)
    base_rates = [config.lr_encoder, config.lr_head]
    y_train = train[labels].to_numpy(float)
    pos = np.nansum(y_train, axis=0)
    neg = np.sum(~np.isnan(y_train), axis=0) - pos
    pos_weight = torch.tensor(np.sqrt(neg / np.maximum(pos, 1)), dtype=torch.float32,
                              device=device)
    weights = balanced_weights(train, config.balance_power, config.source_weights)
    rng = np.random.default_rng(config.seed)
    y_dev = torch.tensor(dev[labels].to_numpy(float), dtype=torch.float32)
    if layers:
        def forward(which, idx, train_mode: bool):
            ids = train_ids if which == "train" else dev_ids
            hidden, mask = cache.batch([ids[int(i)] for i in idx])
            hidden, mask = hidden.to(device), mask.to(device)
            model.train(train_mode)
            head.train(train_mode)
            return head(pooled(upper_states(inner, hidden, mask, layers), mask))

        dev_lengths = np.array([cache.index()[i][2] for i in dev_ids])
    else:
        # Tokenised once through Dataset.map, cached in the work folder: a rerun (or a resumed
        # run) does not tokenise again.
        token_sets = {
            "train": tokenised_dataset(texts, tokenizer, config.max_length, work_dir / "tokens"),
            "dev": tokenised_dataset(dev_texts, tokenizer, config.max_length,
                                     work_dir / "tokens")}

        def forward(which, idx, train_mode: bool):
            batch = token_sets[which][[int(i) for i in idx]]
            enc = tokenizer.pad({"input_ids": batch["input_ids"],
                                 "attention_mask": batch["attention_mask"]},
                                return_tensors="pt").to(device)
            model.train(train_mode)
            head.train(train_mode)
            hidden = model(**enc).last_hidden_state
            return head(pooled(hidden, enc["attention_mask"]))

        dev_lengths = np.array([len(t) for t in token_sets["dev"]["input_ids"]])

    def dev_loss() -> float:
        """The dev figure to minimise (``select_by``): the loss, or 1 - the mean ROC-AUC."""
        order = np.argsort(dev_lengths, kind="stable")
        logits = torch.zeros_like(y_dev)
        with torch.inference_mode():
            for s in range(0, len(order), 64):
                idx = order[s : s + 64]
                logits[idx] = forward("dev", idx, False).float().cpu()
        loss = float(masked_bce(logits, y_dev, pos_weight.cpu()))
        auc = mean_label_auc(logits.numpy(), y_dev.numpy())
        log.info("dev: loss %.4f, mean ROC-AUC %.4f", loss, auc)
        if config.select_by == "auc" and math.isnan(auc):
            raise ValueError("select_by 'auc' needs dev rows with positives and negatives for "
                             "at least one label")
        return 1.0 - auc if config.select_by == "auc" else loss

    criterion = "loss" if config.select_by == "loss" else "1 - mean ROC-AUC"
    ckpt = work_dir / "checkpoint"
    state = {"step": 0, "best": math.inf, "waited": 0, "history": []}
    start_from = config.init_checkpoint and not (ckpt / "state.json").is_file()
    if start_from:
        _load_start(model, head, Path(config.init_checkpoint))
        log.info("starting from %s (a fresh optimizer, encoder lr %g, head lr %g)",
                 config.init_checkpoint, config.lr_encoder, config.lr_head)
    if (ckpt / "state.json").is_file():
        from safetensors.torch import load_file

        state = json.loads((ckpt / "state.json").read_text())
        model.load_state_dict(load_file(str(ckpt / "adapter.safetensors")), strict=False)
        head.load_state_dict(load_file(str(ckpt / "head.safetensors")))
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=True))
        rng = np.random.default_rng([config.seed, state["step"]])
        log.info("resuming from step %d (best dev loss %.4f)", state["step"], state["best"])

    def save_checkpoint(best: bool) -> None:
        from safetensors.torch import save_file

        ckpt.mkdir(parents=True, exist_ok=True)
        adapter = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
                   if "lora_" in k}
        save_file(adapter, str(ckpt / "adapter.safetensors"))
        save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()},
                  str(ckpt / "head.safetensors"))
        torch.save(opt.state_dict(), ckpt / "optimizer.pt")
        if best:
            save_file(adapter, str(ckpt / "best_adapter.safetensors"))
            save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()},
                      str(ckpt / "best_head.safetensors"))
        (ckpt / "state.json").write_text(json.dumps(state))

    if start_from:
        # the model it starts from is the one to beat: a worse second phase keeps it
        state["best"] = dev_loss()
        state["history"].append([0, state["best"]])
        save_checkpoint(True)
        log.info("step 0 (the start): dev %s %.4f", criterion, state["best"])
    start = time.perf_counter()
    first_step = state["step"]  # a resumed run's rate counts only its own steps
    budget = config.time_budget_minutes * 60
    y_all = torch.tensor(y_train, dtype=torch.float32)
    stop_reason = "max_steps"
    lengths = np.array([len(t) for t in texts])
    queue: list[np.ndarray] = []
    while state["step"] < config.max_steps:
        if not queue:
            queue = _length_batches(rng, weights, lengths, config.batch_size,
                                    config.length_buckets)
        idx = queue.pop()
        for group, rate in zip(opt.param_groups, base_rates, strict=True):
            group["lr"] = rate * lr_factor(state["step"], config)
        opt.zero_grad()
        logits = forward("train", idx, True)
        loss = masked_bce(logits, y_all[idx].to(device), pos_weight)
        loss.backward()
        opt.step()
        state["step"] += 1
        over_budget = time.perf_counter() - start > budget
        if (state["step"] % config.eval_every == 0 or state["step"] == config.max_steps
                or over_budget):
            current = dev_loss()
            state["history"].append([state["step"], current])
            improved = current < state["best"] - 1e-4
            if improved:
                state["best"], state["waited"] = current, 0
            else:
                state["waited"] += 1
            elapsed = time.perf_counter() - start
            log.info("step %d: train loss %.4f, dev %s %.4f%s (%.0f s, %.1f posts/s)",
                     state["step"], float(loss.detach()), criterion, current,
                     " *" if improved else "", elapsed,
                     (state["step"] - first_step) * config.batch_size / max(elapsed, 1e-9))
            save_checkpoint(improved)
            if state["waited"] >= config.patience:
                stop_reason = "early stopping"
                break
            if over_budget:
                stop_reason = "time budget"
                break
    from safetensors.torch import load_file

    if config.keep == "best" and (ckpt / "best_adapter.safetensors").is_file():
        model.load_state_dict(load_file(str(ckpt / "best_adapter.safetensors")), strict=False)
        head.load_state_dict(load_file(str(ckpt / "best_head.safetensors")))
    model.eval()
    head.eval()
    model = model.cpu()
    head = head.cpu()
    return model, head, {"steps": state["step"], "best_dev_loss": state["best"],
                         "kept": config.keep, "stop": stop_reason,
                         "dev_history": state["history"]}


#: A saved LoRA model's adapter and head (``warning.models.transformer``'s layout).
_SAVED_ADAPTER, _SAVED_HEAD = "adapter/adapter_model.safetensors", "head.safetensors"


def _start_files(folder: Path) -> tuple[str, str]:
    """The adapter and head files ``init_checkpoint`` names: a saved model's when the folder
    has its adapter folder, else a run checkpoint's best ones."""
    if (folder / "adapter").is_dir():
        return _SAVED_ADAPTER, _SAVED_HEAD
    return "best_adapter.safetensors", "best_head.safetensors"


def _lora_layer(key: str) -> str:
    """The encoder layer an adapter key belongs to ("...layer.10.attention..." -> "10")."""
    match = re.search(r"\.layer\.(\d+)\.", key)
    return match.group(1) if match else ""


def _load_start(model, head, folder: Path) -> None:
    """Load an earlier run's best adapter and head (or a saved model's) into ``model`` and
    ``head``, refusing one whose adapter does not match this run's (other rank, layers or
    target modules): a partial load would silently train from a half-initialised model.

    One difference is allowed: this run may put LoRA on more (lower) layers than the start
    had, so long as the start's layers are all among them with the same modules. The added
    layers' adapters start at zero (peft's ``lora_B`` initialisation), so the run still starts
    from exactly the saved model, with room to change layers it could not."""
    from safetensors.torch import load_file

    files = [folder / name for name in _start_files(folder)]
    adapter = load_file(str(files[0]))
    if files[0].name == Path(_SAVED_ADAPTER).name:
        # peft saves adapter keys without the adapter's name: put it back as the live model
        # names them ("...lora_A.weight" -> "...lora_A.default.weight")
        adapter = {k.replace(".lora_A.weight", ".lora_A.default.weight")
                   .replace(".lora_B.weight", ".lora_B.default.weight"): v
                   for k, v in adapter.items()}
    own = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    start_layers = {_lora_layer(k) for k in adapter}
    added = {k for k in own if k not in adapter}
    if (not set(adapter) <= set(own) or any(adapter[k].shape != own[k].shape for k in adapter)
            or any(_lora_layer(k) in start_layers for k in added)
            or any(float(own[k].abs().max()) != 0.0 for k in added if ".lora_B." in k)):
        raise ValueError(f"init_checkpoint {folder}: its adapter does not match this run's "
                         "LoRA settings (rank, cached layers or target modules)")
    model.load_state_dict(adapter, strict=False)
    head.load_state_dict(load_file(str(files[1])))


def train_transformer(corpus: pd.DataFrame, config: TransformerConfig | None, output_dir: Path,
                      work_dir: Path | None = None) -> Path:
    """Fit and save the transformer to ``output_dir`` (config, head, adapters)."""
    model = fit_transformer(corpus, config, work_dir)
    return model.save(Path(output_dir))
