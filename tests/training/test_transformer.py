"""The transformer classifier and its training, on a tiny random BERT (no base model needed)."""

import itertools
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from fixtures.tiny_bert import tiny_bert, tiny_tokenizer  # noqa: E402

from training.transformer import (  # noqa: E402
    TransformerConfig,
    _length_batches,
    balanced_weights,
    fit_transformer,
    lr_factor,
    mean_label_auc,
)
from warning import Classifier, settings  # noqa: E402
from warning.labels import LABELS  # noqa: E402


@pytest.fixture(scope="module")
def tiny_encoder(tiny_corpus):
    tokenizer = tiny_tokenizer([*list(tiny_corpus["text"]), "we will kill and burn them"])
    return tokenizer, tiny_bert(len(tokenizer), layers=2, seed=0)


def _config(**kw) -> TransformerConfig:
    base = {"version": "t", "max_length": 24, "window_tokens": 16, "window_stride": 8,
            "head": {"type": "mlp", "hidden": 32, "dropout": 0.0}, "dev_rows": 0,
            "calib_rows": 0, "train_rows_per_source": 0, "threads": 1, "head_epochs": 30,
            "lora_targets": ["query", "value"]}
    base.update(kw)
    return TransformerConfig(**base)


def test_transformer_config_validates_and_round_trips(tmp_path) -> None:
    config = _config(mode="lora")
    assert TransformerConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="mode"):
        TransformerConfig(mode="full")
    with pytest.raises(ValueError, match="window_stride"):
        TransformerConfig(max_length=32, window_tokens=40)
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"mode": "frozen", "epochs": 3}))
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['epochs'\]"):
        TransformerConfig.from_file(path)


def test_learning_rate_warms_up_then_holds_or_decays() -> None:
    held = TransformerConfig(warmup_steps=4, max_steps=10)
    assert [lr_factor(s, held) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    decayed = TransformerConfig(warmup_steps=2, max_steps=10, lr_decay="linear")
    factors = [lr_factor(s, decayed) for s in range(10)]
    assert factors[:3] == [0.5, 1.0, 1.0]
    assert factors[9] == pytest.approx(0.125) and all(
        a >= b for a, b in itertools.pairwise(factors[1:]))
    assert lr_factor(3, TransformerConfig()) == 1.0
    with pytest.raises(ValueError, match="lr_decay"):
        TransformerConfig(lr_decay="cosine")
    with pytest.raises(ValueError, match="warmup_steps"):
        TransformerConfig(warmup_steps=-1)
    with pytest.raises(ValueError, match="schedule LoRA training; mode is 'frozen'"):
        TransformerConfig(mode="frozen", warmup_steps=10)


def test_balanced_weights_equalise_language_source_cells(tiny_corpus) -> None:
    rows = tiny_corpus[tiny_corpus["split"] == "train"]
    w = balanced_weights(rows, power=1.0)
    per_cell = pd_groupsum(rows, w)
    assert np.allclose(per_cell, per_cell[0])
    assert np.allclose(balanced_weights(rows, power=0.0), 1 / len(rows))


def test_length_batches_group_similar_lengths_from_one_weighted_draw() -> None:
    lengths = np.arange(1000)
    weights = np.r_[np.zeros(500), np.full(500, 1 / 500)]  # only the long half may be drawn
    batches = _length_batches(np.random.default_rng(0), weights, lengths, batch_size=16,
                              buckets=8)
    assert len(batches) == 8 and all(len(b) == 16 for b in batches)
    assert all(lengths[b].min() >= 500 for b in batches)
    spans = sorted((lengths[b].min(), lengths[b].max()) for b in batches)
    # sorted before cutting: batches do not overlap in length
    assert all(hi <= lo for (_, hi), (lo, _) in itertools.pairwise(spans))
    assert [lengths[b].min() for b in batches] != sorted(lengths[b].min() for b in batches)


def pd_groupsum(rows, w):
    import pandas as pd

    return pd.Series(w, index=rows.index).groupby(rows["lang"] + rows["source"]).sum().to_numpy()


def test_frozen_mode_trains_calibrates_and_round_trips(tiny_corpus, tiny_encoder, tmp_path,
                                                       monkeypatch) -> None:
    model = fit_transformer(tiny_corpus, _config(mode="frozen"), tmp_path / "work",
                            encoder=tiny_encoder)
    assert model.config.kind == "transformer"
    assert model.config.scored_labels == ["offensive", "hate", "threat"]
    proba = model.predict_proba(["you stupid idiot moron", "the market opens at nine"])
    assert proba.shape == (2, len(LABELS)) and np.isnan(proba[:, 3]).all()
    folder = model.save(tmp_path / "m")
    assert (folder / "head.safetensors").is_file() and not (folder / "adapter").exists()
    import warning.models.encoder

    monkeypatch.setattr(warning.models.encoder, "load_encoder", lambda path=None: tiny_encoder)
    loaded = Classifier.load(folder)
    np.testing.assert_allclose(loaded.predict_proba(["you stupid idiot moron"]), proba[:1],
                               rtol=1e-5, atol=1e-6)


def test_token_windows_cover_long_texts(tiny_corpus, tiny_encoder, tmp_path) -> None:
    model = fit_transformer(tiny_corpus, _config(mode="frozen", head_epochs=2),
                            tmp_path / "work", encoder=tiny_encoder)
    text = " ".join(["market"] * 40) + " kill burn"
    windows = model.windows(text)
    assert len(windows) > 2 and windows[-1].endswith("kill burn")
    assert all(len(w.split()) <= 16 for w in windows)


def test_lora_mode_trains_checkpoints_and_resumes(tiny_corpus, tiny_encoder, tmp_path,
                                                  monkeypatch) -> None:
    import copy

    work = tmp_path / "work"
    first = fit_transformer(tiny_corpus, _config(mode="lora", max_steps=4, eval_every=2,
                                                 batch_size=8),
                            work, encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    state = json.loads((work / "checkpoint" / "state.json").read_text())
    assert state["step"] == 4 and len(state["history"]) == 2
    assert first.config.training["steps"] == 4
    resumed = fit_transformer(tiny_corpus, _config(mode="lora", max_steps=6, eval_every=2,
                                                   batch_size=8),
                              work, encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    state = json.loads((work / "checkpoint" / "state.json").read_text())
    assert state["step"] == 6 and len(state["history"]) == 3  # continued, not restarted
    folder = resumed.save(tmp_path / "m")
    assert (folder / "adapter" / "adapter_config.json").is_file()
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 5_000_000
    import warning.models.encoder

    monkeypatch.setattr(warning.models.encoder, "load_encoder",
                        lambda path=None: (tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    loaded = Classifier.load(folder)
    text = ["you stupid idiot moron", "the market opens at nine"]
    np.testing.assert_allclose(loaded.predict_proba(text), resumed.predict_proba(text),
                               rtol=1e-4, atol=1e-5)
    # a loaded model has its adapters merged; saved again (as an ensemble member is), it keeps
    # them, so the copy scores like the original
    again = Classifier.load(loaded.save(tmp_path / "again"))
    assert (tmp_path / "again" / "adapter" / "adapter_config.json").is_file()
    np.testing.assert_allclose(again.predict_proba(text), resumed.predict_proba(text),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("start", ["checkpoint", "saved model"])
def test_lora_starts_from_an_earlier_run(tiny_corpus, tiny_encoder, tmp_path, start) -> None:
    """A second phase starts from an earlier run's best checkpoint, or from a saved LoRA model
    (``adapter/`` and ``head.safetensors``, as the shipped default's transformer member, whose
    adapter keys peft saves without the adapter's name): exactly that model either way."""
    import copy

    settings = {"mode": "lora", "eval_every": 2, "batch_size": 8}
    first = fit_transformer(tiny_corpus, _config(**settings, max_steps=4), tmp_path / "a",
                            encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    folder = (tmp_path / "a" / "checkpoint" if start == "checkpoint"
              else first.save(tmp_path / "saved"))
    # learning rates of 0: one step changes nothing, so the second run scores like the first
    second = fit_transformer(tiny_corpus, _config(**settings, max_steps=1,
                                                  init_checkpoint=str(folder),
                                                  lr_encoder=0.0, lr_head=0.0),
                             tmp_path / "b",
                             encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    text = ["you stupid idiot moron", "the market opens at nine"]
    np.testing.assert_allclose(second.raw_logits(text), first.raw_logits(text), rtol=1e-5,
                               atol=1e-6)
    assert second.config.training["steps"] == 1  # counted from 0: a new phase, not a resume
    assert second.config.training["dev_history"][0][0] == 0  # the start's own dev loss


def test_lora_refuses_a_start_it_cannot_use(tiny_corpus, tiny_encoder, tmp_path) -> None:
    import copy

    settings = {"mode": "lora", "eval_every": 2, "batch_size": 8}
    first = fit_transformer(tiny_corpus, _config(**settings, max_steps=2), tmp_path / "a",
                            encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    start = str(tmp_path / "a" / "checkpoint")

    def fit(work: str, **extra):
        return fit_transformer(tiny_corpus, _config(**settings, max_steps=1, **extra),
                               tmp_path / work,
                               encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))

    with pytest.raises(ValueError, match="does not match this run's LoRA settings"):
        fit("c", init_checkpoint=start, lora_r=4)
    with pytest.raises(ValueError, match="this run's own checkpoint folder"):
        fit("a", init_checkpoint=start)
    with pytest.raises(ValueError, match="init_checkpoint starts LoRA training"):
        _config(mode="frozen", init_checkpoint=start)
    with pytest.raises(ValueError, match=r"best_adapter\.safetensors, .*best_head\.safetensors"):
        fit("d", init_checkpoint=str(tmp_path))
    saved = first.save(tmp_path / "saved")
    (saved / "head.safetensors").unlink()
    with pytest.raises(ValueError, match=r"head\.safetensors not found"):
        fit("e", init_checkpoint=str(saved))


def _short_lora(tiny_corpus, tiny_encoder, work, **settings):
    """Four LoRA steps on the tiny corpus, dev evaluated every two."""
    import copy

    return fit_transformer(tiny_corpus, _config(**{"mode": "lora", "eval_every": 2,
                                                   "batch_size": 8, "max_steps": 4, **settings}),
                           work, encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))


def test_mean_label_auc_skips_unknown_cells_and_one_class_labels() -> None:
    y = np.array([[1, 0, 1], [0, np.nan, 1], [1, 1, 1], [0, 0, np.nan]], dtype=float)
    scores = np.array([[2, 0, 0], [1, 9, 0], [3, 1, 0], [0, 2, 0]], dtype=float)
    # label 0 ranked perfectly (1.0), label 1 has its positive below one negative (0.5),
    # label 2 has no negatives and does not count
    assert mean_label_auc(scores, y) == pytest.approx(0.75)
    assert np.isnan(mean_label_auc(scores[:, 2:], y[:, 2:]))


def test_lora_can_select_checkpoints_by_dev_roc_auc(tiny_corpus, tiny_encoder, tmp_path,
                                                    caplog) -> None:
    """With ``select_by: auc`` the history holds 1 - the mean dev ROC-AUC (not the loss) and
    the start is the one to beat, as with the loss."""
    import logging

    with pytest.raises(ValueError, match="select_by"):
        _config(select_by="f1")
    start = _short_lora(tiny_corpus, tiny_encoder, tmp_path / "a").save(tmp_path / "saved")
    with caplog.at_level(logging.INFO, logger="training.transformer"):
        second = _short_lora(tiny_corpus, tiny_encoder, tmp_path / "b", select_by="auc",
                             init_checkpoint=str(start))
    history = second.config.training["dev_history"]
    assert [step for step, _ in history] == [0, 2, 4]
    assert all(0.0 <= value <= 1.0 for _, value in history)
    assert second.config.training["best_dev_loss"] == pytest.approx(
        min(value for _, value in history), abs=1e-4)
    assert "dev 1 - mean ROC-AUC" in caplog.text and "mean ROC-AUC" in caplog.text


@pytest.mark.parametrize("keep", ["best", "last"])
def test_lora_keeps_the_best_or_the_last_checkpoint(tiny_corpus, tiny_encoder, tmp_path,
                                                    monkeypatch, keep) -> None:
    """Dev ranking made to worsen at every evaluation: ``best`` returns the start unchanged,
    ``last`` the trained weights (left for the stack to judge on dev)."""

    import training.transformer as module

    with pytest.raises(ValueError, match="keep"):
        _config(keep="first")
    start = _short_lora(tiny_corpus, tiny_encoder, tmp_path / "a")
    folder = start.save(tmp_path / "start")
    worse = iter([0.9, 0.8, 0.7])
    monkeypatch.setattr(module, "mean_label_auc", lambda logits, y: next(worse))
    model = _short_lora(tiny_corpus, tiny_encoder, tmp_path / "b", select_by="auc", keep=keep,
                        patience=5, lr_encoder=0.05, lr_head=0.05, init_checkpoint=str(folder))
    assert [round(v, 4) for _, v in model.config.training["dev_history"]] == [0.1, 0.2, 0.3]
    assert model.config.training["kept"] == keep
    text = ["you stupid idiot moron", "the market opens at nine"]
    same = np.allclose(model.raw_logits(text), start.raw_logits(text), rtol=1e-5, atol=1e-6)
    assert same == (keep == "best")


def test_lora_stops_at_its_time_budget(tiny_corpus, tiny_encoder, tmp_path) -> None:
    import copy

    model = fit_transformer(tiny_corpus, _config(mode="lora", max_steps=50, eval_every=25,
                                                 batch_size=4, time_budget_minutes=0.0),
                            tmp_path / "work",
                            encoder=(tiny_encoder[0], copy.deepcopy(tiny_encoder[1])))
    assert model.config.training["stop"] == "time budget"
    assert model.config.training["steps"] == 1


def test_bfloat16_precision_stays_close_and_bad_values_are_refused(tiny_corpus, tiny_encoder,
                                                                   tmp_path,
                                                                   monkeypatch) -> None:
    model = fit_transformer(tiny_corpus, _config(mode="frozen", head_epochs=2),
                            tmp_path / "work", encoder=tiny_encoder)
    texts = ["you stupid idiot moron", "the market opens at nine", "we will kill them"]
    exact = model.predict_proba(texts)
    monkeypatch.setenv("WARNING_PRECISION", "bfloat16")
    fast = model.predict_proba(texts)
    assert fast.dtype == exact.dtype and not np.array_equal(fast, exact, equal_nan=True)
    np.testing.assert_allclose(fast[:, :3], exact[:, :3], atol=0.05)
    monkeypatch.setenv("WARNING_PRECISION", "int4")
    with pytest.raises(ValueError, match="WARNING_PRECISION"):
        model.predict_proba(texts)
    # auto: bfloat16 only where the CPU has it natively
    monkeypatch.setenv("WARNING_PRECISION", "auto")
    monkeypatch.setattr(settings, "cpu_has_native_bf16", lambda: True)
    np.testing.assert_array_equal(model.predict_proba(texts), fast)
    monkeypatch.setattr(settings, "cpu_has_native_bf16", lambda: False)
    np.testing.assert_array_equal(model.predict_proba(texts), exact)


@pytest.mark.parametrize(("flags", "native"), [
    ("fpu sse avx512f avx512_bf16 avx512vl", True),
    ("fpu sse amx_bf16 amx_tile", True),
    ("fpu sse avx2 avx512f avx512bw", False),
])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, flags, native) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n", encoding="utf-8")
    assert settings.cpu_has_native_bf16(cpuinfo) is native
    assert settings.cpu_has_native_bf16(tmp_path / "missing") is False


def test_tokenised_dataset_is_cached_and_not_tokenised_again(tiny_encoder, tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    from training.transformer import tokenised_dataset

    tokenizer = tiny_encoder[0]
    texts = ["you stupid idiot moron", "the market opens at nine", "we will kill and burn them"]
    first = tokenised_dataset(texts, tokenizer, 24, tmp_path)
    assert isinstance(first, datasets.Dataset)
    assert first.column_names == ["input_ids", "attention_mask"]
    assert first[0]["input_ids"] == tokenizer("query: " + texts[0])["input_ids"]
    files = sorted(tmp_path.glob("tokens-*.arrow"))
    assert len(files) == 1

    class Refuses:
        """The same tokenizer, but calling it fails: a cached run must not tokenise."""

        backend_tokenizer = tokenizer.backend_tokenizer

        def __call__(self, *args, **kwargs):
            raise AssertionError("tokenised again")

    again = tokenised_dataset(texts, Refuses(), 24, tmp_path)
    assert again["input_ids"] == first["input_ids"]
    assert sorted(tmp_path.glob("tokens-*.arrow")) == files
    # other texts or another length make a new cache file
    tokenised_dataset(texts[:2], tokenizer, 24, tmp_path)
    tokenised_dataset(texts, tokenizer, 16, tmp_path)
    assert len(list(tmp_path.glob("tokens-*.arrow"))) == 3
