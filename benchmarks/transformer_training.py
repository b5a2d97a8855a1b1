"""Posts per second of the ways to fine-tune the encoder on this machine's CPU.

Usage:
    nice python benchmarks/transformer_training.py --corpus corpus/corpus.parquet [--steps 6]

Measures, on batches drawn from the corpus's training rows exactly as the training loop draws
them (language- and source-balanced weights, 8 batches of 32 at a time sorted by length):

- the current recipe: LoRA adapters on all 12 layers, forward and backward through the whole
  encoder, one optimiser step per batch;
- caching the frozen lower layers once (``training.layer_cache``): the one-off pass through
  layers ``0..k-1``, in float32 and in bfloat16 autocast;
- training on that cache: LoRA on the top ``12 - k`` layers, or those layers fully trained,
  plus the head, for several ``k``.

Then, for a run that sees every cached row ``E`` times, the posts per second over the whole
run (the one-off cache pass included). Rates are posts per CPU second of the process (its
threads summed), since on a shared machine wall time measures the other sessions more than
the recipe. Writes a table to
``benchmarks/results/transformer_training.md`` (the section between the markers) with the
machine, the date and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from training.baseline import cap_rows
from training.corpus import load_corpus
from training.layer_cache import LayerCache, cache_rows, pooled, upper_states
from training.transformer import TransformerConfig, _cap_sources, _length_batches, balanced_weights
from warning.models.encoder import load_encoder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "transformer_training.md"
START, END = "<!-- measured: start -->", "<!-- measured: end -->"


def _batches(corpus: pd.DataFrame, steps: int, config: TransformerConfig):
    train = cap_rows(corpus[corpus["split"] == "train"], config.capped_rows_per_language)
    train = _cap_sources(train, config.train_rows_per_source, config.uncapped_sources)
    weights = balanced_weights(train, config.balance_power)
    texts = list(train["text_norm"] if "text_norm" in train else train["text"])
    lengths = np.array([len(t) for t in texts])
    rng = np.random.default_rng(0)
    out: list[np.ndarray] = []
    while len(out) < steps + 1:
        out.extend(_length_batches(rng, weights, lengths, config.batch_size,
                                   config.length_buckets))
    return train, out[: steps + 1], texts


def _peft(base, layers_from: int | None, config: TransformerConfig):
    from peft import LoraConfig, get_peft_model

    extra = {}
    if layers_from:
        extra = {"layers_to_transform": list(range(layers_from,
                                                   base.config.num_hidden_layers)),
                 "layers_pattern": "layer"}
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout,
                      target_modules=list(config.lora_targets), bias="none", **extra)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        return get_peft_model(base, lora)


def _time_steps(step, batches) -> float:
    """Posts per CPU second of this process (its threads summed): on a machine other sessions
    share, wall time says more about them than about the recipe."""
    step(batches[0])  # warm-up, not timed
    start = time.process_time()
    n = 0
    for idx in batches[1:]:
        step(idx)
        n += len(idx)
    return n / (time.process_time() - start)


def full_lora(texts, batches, config) -> float:
    import torch

    from training.heads import masked_bce
    from warning.models.encoder import E5_PREFIX
    from warning.models.transformer import build_head

    tokenizer, base = load_encoder()
    model = _peft(base, None, config)
    head = build_head(config.head, base.config.hidden_size, 3)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad]
                            + list(head.parameters()), lr=1e-4)
    model.train()

    def step(idx):
        enc = tokenizer([E5_PREFIX + texts[i] for i in idx], truncation=True,
                        max_length=config.max_length, padding=True, return_tensors="pt")
        opt.zero_grad()
        logits = head(pooled(model(**enc).last_hidden_state, enc["attention_mask"]))
        loss = masked_bce(logits, torch.zeros_like(logits), torch.ones(3))
        loss.backward()
        opt.step()

    return _time_steps(step, batches)


def cached(train, texts, batches, config, layers: int, precision: str, folder: Path,
           modes: list[str]) -> tuple[float, dict[str, float]]:
    import torch

    from training.heads import masked_bce
    from warning.models.transformer import build_head

    tokenizer, base = load_encoder()
    ids = list(train["id"])
    wanted = sorted({int(i) for b in batches for i in b})
    cache = LayerCache(folder, {"layers": layers, "max_length": config.max_length,
                                "precision": precision, "hidden": base.config.hidden_size})
    start = time.process_time()
    added = cache_rows([ids[i] for i in wanted], [texts[i] for i in wanted], cache, tokenizer,
                       base, precision=precision)
    cache_rate = added / (time.process_time() - start)
    rates = {}
    for mode in modes:
        tokenizer, base = load_encoder()
        if mode == "lora":
            model = _peft(base, layers, config).get_base_model()
            params = [p for p in model.parameters() if p.requires_grad]
        else:
            model = base
            for p in model.parameters():
                p.requires_grad_(False)
            params = [p for layer in model.encoder.layer[layers:] for p in layer.parameters()]
            for p in params:
                p.requires_grad_(True)
        head = build_head(config.head, base.config.hidden_size, 3)
        opt = torch.optim.AdamW(params + list(head.parameters()), lr=1e-4)
        model.train()

        def step(idx, model=model, head=head, opt=opt):
            hidden, mask = cache.batch([ids[i] for i in idx])
            opt.zero_grad()
            logits = head(pooled(upper_states(model, hidden, mask, layers), mask))
            loss = masked_bce(logits, torch.zeros_like(logits), torch.ones(3))
            loss.backward()
            opt.step()

        rates[mode] = _time_steps(step, batches)
    return cache_rate, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--steps", type=int, default=6, help="timed steps of each recipe")
    parser.add_argument("--layers", default="8,10", help="cached lower layers (k) to try")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load_before = os.getloadavg()
    config = TransformerConfig()
    corpus = load_corpus(args.corpus)
    train, batches, texts = _batches(corpus, args.steps, config)
    results = []
    lora = full_lora(texts, batches, config)
    results.append(("LoRA on all 12 layers (current recipe)", f"{lora:.1f}", "", ""))
    print(f"full LoRA: {lora:.1f} posts/s", flush=True)
    summary: dict[str, float] = {"lora": lora}
    with tempfile.TemporaryDirectory() as tmp:
        for layers in [int(x) for x in args.layers.split(",")]:
            for precision in ("float32", "bfloat16"):
                modes = ["lora", "full"] if precision == "bfloat16" else []
                cache_rate, rates = cached(train, texts, batches, config, layers, precision,
                                           Path(tmp) / f"L{layers}-{precision}", modes)
                print(f"k={layers} {precision}: cache {cache_rate:.1f} posts/s, {rates}",
                      flush=True)
                results.append((f"cache layers 0..{layers - 1} once ({precision})", "",
                                f"{cache_rate:.1f}", ""))
                summary[f"cache{layers}-{precision}"] = cache_rate
                for mode, rate in rates.items():
                    what = (f"LoRA on layers {layers}..11" if mode == "lora"
                            else f"layers {layers}..11 fully trained")
                    results.append((f"{what} + head, on the cache", "", "", f"{rate:.1f}"))
                    summary[f"top{layers}-{mode}"] = rate
    load_after = os.getloadavg()
    lines = ["Posts per CPU second (the process's CPU time, its 2 threads summed; a quiet "
             "2-core machine does up to twice these per wall second):", "",
             "| recipe | training, end to end | one-off cache pass | training on the cache |",
             "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in results]
    lines += ["", "Posts per CPU second over a whole run that sees each cached row E times "
              "(cache pass in bfloat16 included): `E / (E / train + 1 / cache)`", "",
              "| recipe | E = 1 | E = 3 | E = 10 |", "|---|---:|---:|---:|",
              f"| LoRA on all 12 layers | {lora:.1f} | {lora:.1f} | {lora:.1f} |"]
    for layers in [int(x) for x in args.layers.split(",")]:
        for mode in ("lora", "full"):
            train_rate = summary[f"top{layers}-{mode}"]
            cache_rate = summary[f"cache{layers}-bfloat16"]
            cells = [e / (e / train_rate + 1 / cache_rate) for e in (1, 3, 10)]
            name = (f"cache 0..{layers - 1}, LoRA {layers}..11" if mode == "lora"
                    else f"cache 0..{layers - 1}, layers {layers}..11 trained")
            lines.append(f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    header = [
        f"Command: `nice python benchmarks/transformer_training.py --corpus {args.corpus} "
        f"--steps {args.steps} --layers {args.layers}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.node() or 'vm'}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"{args.threads} torch threads  ",
        f"Load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f} (other "
        "sessions share these cores; compare the rows with each other, not with other days)  ",
        f"Batches: {args.steps} timed (after one untimed) of {config.batch_size}, drawn as "
        f"training draws them from {len(train):,} training rows.", ""]
    block = "\n".join([START, *header, *lines, END])
    text = args.out.read_text() if args.out.is_file() else "# Training the transformer\n"
    if START in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Measured recipes\n\n" + block + "\n"
    args.out.write_text(text)
    print(block)


if __name__ == "__main__":
    main()
