import json

import numpy as np
import pandas as pd
import pytest

from training.card import render_card
from training.eval_run import run_evaluation
from training.evaluate import (
    SuiteError,
    evaluate_corpus,
    leave_one_source_out,
    load_suite,
    run_suite,
    write_report,
)
from warning.models.calibration import Calibrator
from warning.models.classifier import Classifier, ModelConfig

SUITE = """case_id,functionality,test_case,label_gold,target_ident,lang
t-1,threat_dir_h,we will kill and burn them all,hateful,migrant,en
t-2,derog_dehum_h,they are vermin and parasites,hateful,migrant,en
t-3,derog_impl_h,those people should simply go back,hateful,uzbek,en
t-4,ident_neutral_nh,the market opens at nine,non-hateful,,en
t-5,profanity_nh,"you stupid idiot, the bus is late again",non-hateful,,en
t-6,counter_quote_nh,"saying ""they are vermin"" is disgusting",non-hateful,migrant,en
"""


@pytest.fixture
def suite_path(tmp_path):
    path = tmp_path / "en_suite.csv"
    path.write_text(SUITE, encoding="utf-8")
    return path


class KeywordModel(Classifier):
    """A test double: hate when "vermin" appears, threat when "kill" does."""

    def __init__(self) -> None:
        names = ["offensive", "hate", "threat"]
        super().__init__(ModelConfig(
            kind="keyword", name="keyword", version="1", scored_labels=names,
            thresholds=dict.fromkeys(names, 0.5), review_bands={n: [0.4, 0.6] for n in names},
            calibration={n: Calibrator().to_dict() for n in names}))

    def _window_logits(self, windows):
        return np.array([[5.0 if "idiot" in w else -5.0, 5.0 if "vermin" in w else -5.0,
                          5.0 if "kill" in w else -5.0] for w in windows])

    def _save_weights(self, folder):
        raise NotImplementedError

    @classmethod
    def _from_folder(cls, folder, config):
        raise NotImplementedError


def test_functional_runner_accuracy_per_functionality_and_target(suite_path) -> None:
    result = run_suite(KeywordModel(), suite_path)
    assert result["cases"] == 6
    by_func = result["by_functionality"]
    assert by_func["threat_dir_h"]["accuracy"] == 1.0
    assert by_func["derog_dehum_h"]["accuracy"] == 1.0
    assert by_func["derog_impl_h"]["accuracy"] == 0.0  # no keyword: missed
    assert by_func["ident_neutral_nh"]["accuracy"] == 1.0
    assert by_func["counter_quote_nh"]["accuracy"] == 0.0  # quoting "vermin" fools it
    assert result["hateful"] == {"n": 3, "accuracy": pytest.approx(2 / 3),
                                 "flagged_any": pytest.approx(2 / 3)}
    # the profanity case is flagged offensive only: passed as non-hateful, yet flagged
    assert by_func["profanity_nh"] == {"n": 1, "accuracy": 1.0, "flagged_any": 1.0,
                                       "gold": "non-hateful"}
    assert result["non_hateful"]["flagged_any"] == pytest.approx(2 / 3)
    assert result["by_target"]["migrant"]["n"] == 3
    assert result["by_target"]["(none)"]["n"] == 2
    assert {e["functionality"] for e in result["errors"]} == {"derog_impl_h", "counter_quote_nh"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("functionality,test_case\nx,y\n", "missing column"),
        ("functionality,test_case,label_gold\nx,y,maybe\n", "label_gold must be"),
        ("functionality,test_case,label_gold\nx, ,hateful\n", "empty test_case"),
    ],
)
def test_functional_suite_errors(tmp_path, content, match) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SuiteError, match=match):
        load_suite(path)
    with pytest.raises(SuiteError, match="not found"):
        load_suite(tmp_path / "missing.csv")


def test_evaluate_corpus_report(tiny_model, tiny_corpus) -> None:
    report = evaluate_corpus(tiny_model, tiny_corpus, "test", n_boot=50)
    en_hate = report["by_language"]["hate"]["en"]
    assert en_hate["positives"] > 0 and 0 <= en_hate["f1"]["value"] <= 1
    assert en_hate["f1"]["low"] <= en_hate["f1"]["value"] <= en_hate["f1"]["high"]
    assert "ru" not in report["by_language"]["hate"]  # unknown in ru: masked, not negative
    assert "ky" in report["clean_languages"]
    assert set(report["calibration"]) == set(tiny_model.config.scored_labels)
    assert set(report["macro_f1_by_language"]) == {"en", "ru", "tr"}


def test_leave_one_source_out_trains_without_the_source(tiny_model, tiny_corpus) -> None:
    seen = []

    def fit(rows: pd.DataFrame):
        seen.append(set(rows["source"]))
        return tiny_model

    result = leave_one_source_out(tiny_corpus, fit, sources=["fixture_en", "fixture_ru"])
    assert seen == [{"fixture_ru", "fixture_tr", "fixture_ky"},
                    {"fixture_en", "fixture_tr", "fixture_ky"}]
    assert set(result["fixture_en"]) == {"offensive", "hate", "threat"}
    assert set(result["fixture_ru"]) == {"offensive"}  # hate/threat unknown there


def test_run_evaluation_writes_report_plots_and_card(tiny_model_dir, tiny_corpus,
                                                     suite_path) -> None:
    report = run_evaluation(tiny_model_dir, tiny_corpus, suites=[suite_path], loso=True,
                            n_boot=20)
    out = tiny_model_dir / "eval"
    for name in ("report.json", "report.md", "reliability.png", "pr_curves.png"):
        assert (out / name).stat().st_size > 0
    loaded = json.loads((out / "report.json").read_text())  # valid JSON: no NaN
    assert loaded["functional"]["en_suite.csv"]["cases"] == 6
    assert "fixture_en" in report["leave_one_source_out"]
    card = (tiny_model_dir / "README.md").read_text()
    for section in ("## What it is for", "## What a score means", "## Training data",
                    "## Per language and label", "## Calibration", "Functional suite",
                    "## Leave one source out", "## Limitations and ethical considerations",
                    "Kyrgyz"):
        assert section in card
    markdown = (out / "report.md").read_text()
    assert "| functionality | gold | n | accuracy | flagged for any label |" in markdown
    assert "| profanity_nh | non-hateful | 1 | 100.0% | 100.0% |" in markdown


def test_run_evaluation_takes_the_loso_matrix_of_an_earlier_report_of_the_same_model(
        tiny_model_dir, tiny_corpus, tmp_path) -> None:
    first = run_evaluation(tiny_model_dir, tiny_corpus, suites=(), loso=True, n_boot=0,
                           fairness=False, out_dir=tmp_path / "first")
    earlier = tmp_path / "first" / "report.json"
    again = run_evaluation(tiny_model_dir, tiny_corpus, suites=(), n_boot=0, fairness=False,
                           out_dir=tmp_path / "again", loso_from=earlier)
    assert json.loads(json.dumps(again["leave_one_source_out"])) == \
        json.loads(earlier.read_text())["leave_one_source_out"]
    assert set(first["leave_one_source_out"]) == set(again["leave_one_source_out"])
    card = (tiny_model_dir / "README.md").read_text()
    assert "by an earlier `warning eval --loso` of this model" in card
    assert f"(from `{earlier}`)" in card and "| fixture_en | " in card
    # a report made on another corpus (here: fewer test rows) is refused
    smaller = tiny_corpus.drop(tiny_corpus.index[tiny_corpus["split"] == "test"][:5])
    with pytest.raises(ValueError, match="another model or corpus"):
        run_evaluation(tiny_model_dir, smaller, suites=(), n_boot=0, fairness=False,
                       out_dir=tmp_path / "other", loso_from=earlier)
    earlier.write_text(json.dumps({"model": "x"}))
    with pytest.raises(ValueError, match="expected a JSON object"):
        run_evaluation(tiny_model_dir, tiny_corpus, suites=(), n_boot=0, fairness=False,
                       out_dir=tmp_path / "other", loso_from=earlier)


def test_write_report_handles_nan(tiny_model, tiny_corpus, tmp_path) -> None:
    report = evaluate_corpus(tiny_model, tiny_corpus, "test", n_boot=0)
    paths = write_report(report, tmp_path / "r")
    assert "NaN" not in paths[0].read_text()
    assert render_card(tiny_model.config, report).startswith("# Model card: baseline@test")


def test_evaluate_compare_reports_puts_models_side_by_side(tiny_model, tiny_corpus) -> None:
    from training.evaluate import compare_reports

    ours = evaluate_corpus(tiny_model, tiny_corpus, n_boot=0)
    keyword = evaluate_corpus(KeywordModel(), tiny_corpus, n_boot=0)
    table = compare_reports({"tiny": ours, "keyword": keyword})
    assert list(table.columns) == ["tiny F1", "keyword F1", "tiny ROC-AUC", "keyword ROC-AUC"]
    assert table.index.names == ["label", "lang"]
    assert table.loc[("hate", "en"), "tiny F1"] == pytest.approx(
        ours["by_language"]["hate"]["en"]["f1"]["value"])
    assert ("offensive", "ky") not in table.index  # no positives there
