"""Unintended-bias metrics, the identity-swap templates and their place in ``warning eval``."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.eval_run import run_evaluation
from training.fairness import (
    INSUFFICIENT,
    bias_aucs,
    corpus_fairness,
    expand_templates,
    fairness_markdown,
    load_templates,
    template_fairness,
    template_flag_rates,
)
from training.metrics import bootstrap_auc
from warning.labels import TARGET_GROUPS
from warning.models.calibration import Calibrator
from warning.models.classifier import Classifier, ModelConfig
from warning.text.normalize import fold
from warning.text.targets import find_targets


class VerminModel(Classifier):
    """A test double: ``hate`` and ``offensive`` high when "vermin" appears."""

    def __init__(self) -> None:
        names = ["offensive", "hate"]
        super().__init__(ModelConfig(
            kind="keyword", name="vermin", version="1", scored_labels=names,
            thresholds=dict.fromkeys(names, 0.5), review_bands={n: [0.4, 0.6] for n in names},
            calibration={n: Calibrator().to_dict() for n in names}))

    def _window_logits(self, windows):
        return np.array([[5.0 if "vermin" in w else -5.0] * 2 for w in windows])

    def _save_weights(self, folder):
        raise NotImplementedError

    @classmethod
    def _from_folder(cls, folder, config):
        raise NotImplementedError


def test_fairness_bias_aucs_match_hand_computed_values() -> None:
    # subgroup: positives 0.9, 0.4; negatives 0.5, 0.1
    # background: positives 0.8, 0.5; negatives 0.2, 0.45
    y = [1, 1, 0, 0, 1, 0, 1, 0]
    p = [0.9, 0.4, 0.5, 0.1, 0.8, 0.2, 0.5, 0.45]
    g = [True] * 4 + [False] * 4
    out = bias_aucs(y, p, g, n_boot=0)
    assert out["subgroup_auc"]["value"] == pytest.approx(3 / 4)  # 0.4 < 0.5
    assert out["bpsn_auc"]["value"] == pytest.approx(3.5 / 4)  # 0.5 vs 0.5 ties: one half
    assert out["bnsp_auc"]["value"] == pytest.approx(3 / 4)  # 0.4 < 0.45
    assert math.isnan(out["subgroup_auc"]["low"])


def test_metrics_bootstrap_auc_interval_brackets_the_value_and_needs_both_classes() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(50), np.zeros(50)]
    p = y * 0.3 + rng.random(100)
    out = bootstrap_auc(y, p, n_boot=200)
    assert out["low"] <= out["value"] <= out["high"] and out["high"] - out["low"] < 0.4
    assert bootstrap_auc(y, p, n_boot=200) == out  # seeded
    one_class = bootstrap_auc(np.ones(5), np.arange(5.0))
    assert all(math.isnan(v) for v in one_class.values())


TEMPLATE_SETS = ["en", "kk", "ky", "ru", "tr", "uz", "uz-Cyrl"]
ROOT = Path(__file__).resolve().parents[2]


def test_fairness_template_sets_are_the_six_languages_and_cyrillic_uzbek() -> None:
    templates = load_templates()
    assert sorted(templates) == TEMPLATE_SETS
    assert {key: t["lang"] for key, t in templates.items()} == \
        {**{k: k for k in TEMPLATE_SETS}, "uz-Cyrl": "uz"}
    # the two Uzbek scripts are the same sentences: as many of each kind
    for kind in ("toxic", "non_toxic"):
        assert len(templates["uz"][kind]) == len(templates["uz-Cyrl"][kind])


@pytest.mark.parametrize("lang", TEMPLATE_SETS)
def test_fairness_templates_swap_every_group_in_and_the_tagger_finds_exactly_it(lang) -> None:
    template_set = load_templates()[lang]
    rows = expand_templates(template_set)
    n_toxic, n_clean = len(template_set["toxic"]), len(template_set["non_toxic"])
    assert n_toxic >= 10 and n_clean >= 10
    assert len(rows) == len(TARGET_GROUPS) * (n_toxic + n_clean)
    assert (rows.groupby("group")["toxic"].sum() == n_toxic).all()
    assert rows["text"].str[0].str.isupper().all()
    assert not rows["text"].str.contains("{group}", regex=False).any()
    # the same sentence for every group: only the group's form differs
    assert rows.groupby("template")["group"].nunique().eq(len(TARGET_GROUPS)).all()
    tagged = [find_targets(text) for text in rows["text"]]
    assert tagged == [[g] for g in rows["group"]]


def test_fairness_load_templates_rejects_a_missing_group_and_a_bad_template(tmp_path) -> None:
    groups = {g: g for g in TARGET_GROUPS}
    path = tmp_path / "xx.json"
    path.write_text(json.dumps({"lang": "xx", "groups": groups,
                                "toxic": ["{group} bad"], "non_toxic": ["no placeholder"]}))
    with pytest.raises(ValueError, match="exactly one"):
        load_templates(tmp_path)
    del groups["lgbt"]
    path.write_text(json.dumps({"lang": "xx", "groups": groups, "toxic": ["{group} x"],
                                "non_toxic": ["{group} y"]}))
    with pytest.raises(ValueError, match="lgbt"):
        load_templates(tmp_path)


def test_fairness_templates_score_a_keyword_model_per_language_label_and_group() -> None:
    templates = {"en": {"lang": "en", "groups": {g: f"{g}s" for g in TARGET_GROUPS},
                        "toxic": ["{group} are vermin", "all {group} are vermin"],
                        "non_toxic": ["{group} live here", "I met {group}"]}}
    out = template_fairness(VerminModel(), templates, n_boot=50)
    assert set(out["en"]) == {"hate", "offensive"}
    cell = out["en"]["hate"]["women"]
    assert cell["n"] == 4
    assert {m: cell[m]["value"] for m in ("subgroup_auc", "bpsn_auc", "bnsp_auc")} == \
        {"subgroup_auc": 1.0, "bpsn_auc": 1.0, "bnsp_auc": 1.0}
    text = "\n".join(fairness_markdown({"min_rows": 100, "templates": out}))
    assert "| en | hate | kyrgyz 1.000" in text  # all tie at 1.0: the first group is shown


def test_template_flag_rates_are_the_shares_a_user_would_see_flagged() -> None:
    groups = {g: f"{g}s" for g in TARGET_GROUPS}
    templates = {"en": {"lang": "en", "groups": groups,
                        # one toxic template of two is caught; one neutral of two is flagged
                        "toxic": ["{group} are vermin", "{group} should leave"],
                        "non_toxic": ["{group} live here", "{group} are not vermin"]}}
    out = template_flag_rates(VerminModel(), templates)
    assert out == {"en": {"offensive": {"toxic": 0.5, "neutral": 0.5},
                          "hate": {"toxic": 0.5, "neutral": 0.5}}}
    text = "\n".join(fairness_markdown({"min_rows": 100, "templates": {},
                                         "template_flags": out}))
    assert "| en | hate | 50.0% | 50.0% |" in text


def test_the_card_says_what_to_expect_in_a_language_without_labelled_hate() -> None:
    from training.card import _untrained_language

    flags = {"uz": {"hate": {"toxic": 0.107, "neutral": 0.0}},
             "uz-Cyrl": {"hate": {"toxic": 0.093, "neutral": 0.013}},
             "kk": {"hate": {"toxic": 0.367, "neutral": 0.087}}}
    (line,) = _untrained_language({"fairness": {"template_flags": flags}})
    assert "11% (uz), 9% (uz-Cyrl) were flagged `hate`" in line
    assert "0% (uz), 1% (uz-Cyrl) of the neutral ones" in line
    assert "kk" not in line  # Kazakh has labelled hate: not a zero-shot language
    assert _untrained_language({"fairness": {"template_flags": {"kk": flags["kk"]}}}) == []
    assert _untrained_language({}) == []  # a report from before the measurement


def test_fairness_corpus_measures_only_groups_with_enough_rows() -> None:
    rows = []
    for i in range(240):
        group_text = "migrants" if i < 120 else "the weather"
        toxic = i % 2 == 0
        rows.append({"text": f"{group_text} {'are vermin' if toxic else 'are here'} #{i}",
                     "hate": float(toxic), "offensive": np.nan if i % 3 else float(toxic),
                     "split": "test"})
    corpus = pd.DataFrame(rows)
    out = corpus_fairness(VerminModel(), corpus, min_rows=100, n_boot=50)
    migrant = out["hate"]["migrant"]
    assert migrant["n"] == 120 and migrant["positives"] == 60
    assert migrant["bpsn_auc"]["value"] == 1.0
    assert out["hate"]["women"] == {"n": 0, "positives": 0, "status": INSUFFICIENT}
    assert out["offensive"]["migrant"]["status"] == INSUFFICIENT  # 40 known rows only
    # 120 rows but only 5 positives: too few to rank
    few = corpus.assign(hate=[float(i < 5) if i < 120 else float(i % 2 == 0)
                              for i in range(240)])
    assert corpus_fairness(VerminModel(), few, min_rows=100, n_boot=0)["hate"]["migrant"] \
        == {"n": 120, "positives": 5, "status": INSUFFICIENT}
    text = "\n".join(fairness_markdown({"min_rows": 100, "templates": {}, "corpus": out}))
    assert "| women | 0 | 0 | insufficient data | | |" in text
    assert "| migrant | 120 | 60 | 1.000" in text


def test_eval_run_adds_fairness_to_the_report_and_the_card_carries_the_new_sections(
        tiny_model_dir, tiny_corpus, tmp_path) -> None:
    report = run_evaluation(tiny_model_dir, tiny_corpus, suites=(), n_boot=20,
                            out_dir=tmp_path / "eval")
    fairness = json.loads((tmp_path / "eval" / "report.json").read_text())["fairness"]
    assert sorted(fairness["templates"]) == TEMPLATE_SETS
    assert set(fairness["templates"]["en"]) == {"hate", "offensive"}
    assert set(fairness["templates"]["ky"]["hate"]) == set(TARGET_GROUPS)
    # the tiny corpus names no identity group: every corpus cell is insufficient
    assert {e["status"] for groups in fairness["corpus"].values() for e in groups.values()} \
        == {INSUFFICIENT}
    assert report["fairness"]["min_rows"] == 100
    card = (tiny_model_dir / "README.md").read_text()
    # uz is measured, and said to measure transfer only (kk has had labelled hate since
    # kk_hate_speech)
    assert "`uz`, `uz-Cyrl`: no public labelled hateful" in card
    for heading in ("## Fairness per identity group", "### Templates `ky`, label `hate`",
                    "### Templates `kk`, label `hate`", "### Templates `uz-Cyrl`, label `hate`",
                    "## In plain words", "## Data protection",
                    "## Limitations and ethical considerations"):
        assert heading in card
    assert "insufficient data" in card
    assert "dual use of `extremism`" in card and "When to ask a person" in card
    assert "## Fairness per identity group" in (tmp_path / "eval" / "report.md").read_text()


def _words(text: str) -> list[str]:
    return [w for w in fold(text).replace(",", " ").replace(".", " ").replace("!", " ").split()]


def _runs(texts: list[str]) -> set[tuple[str, ...]]:
    return {tuple(w[k : k + 5]) for t in texts for w in [_words(t)] for k in range(len(w) - 4)}


@pytest.fixture(scope="module")
def frozen_and_written() -> dict[str, list[str]]:
    """The functional suites' test cases and our synthetic training sentences."""
    suites = sorted((ROOT / "benchmarks" / "functional").glob("*_suite.csv"))
    synthetic = sorted((ROOT / "training" / "synthetic").glob("*.csv"))
    assert suites and synthetic
    return {"suites": [t for p in suites for t in pd.read_csv(p, dtype=str)["test_case"]],
            "synthetic": [t for p in synthetic for t in pd.read_csv(p, dtype=str)["text"]]}


@pytest.mark.parametrize("lang", TEMPLATE_SETS)
def test_fairness_templates_share_no_sentence_and_no_five_words_with_suites_or_training(
        lang, frozen_and_written) -> None:
    texts = list(expand_templates(load_templates()[lang])["text"])
    for name, others in frozen_and_written.items():
        sentences = {fold(t).strip().rstrip(".!") for t in others}
        same = [t for t in texts if fold(t).rstrip(".!") in sentences]
        assert not same, (name, same[:3])
        runs = _runs(others)
        shared = [t for t in texts if _runs([t]) & runs]
        assert not shared, (name, shared[:3])


def test_fairness_five_word_check_catches_a_template_copied_with_another_group() -> None:
    copied = "Мигранттар – коомдун таштандысы, аларды кууш керек."  # ky toxic:7 + a tail
    assert _runs(["Аялдар – коомдун таштандысы, аларды кууш керек."]) & _runs([copied])
    assert not _runs(["Аялдар – коомдун таштандысы."]) & _runs([copied])  # only 4 words


def test_fairness_markdown_summary_names_the_weakest_group() -> None:
    def entry(auc):
        return {m: {"value": auc, "low": auc - 0.1, "high": auc + 0.05}
                for m in ("subgroup_auc", "bpsn_auc", "bnsp_auc")}

    fairness = {"min_rows": 100, "templates": {"ky": {"hate": {
        "kyrgyz": entry(0.9), "migrant": entry(0.62), "women": entry(0.8)}}}}
    text = "\n".join(fairness_markdown(fairness))
    assert "| ky | hate | migrant 0.620 [0.52, 0.67] | migrant 0.620 [0.52, 0.67] |" in text
