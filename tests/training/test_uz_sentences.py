"""The Uzbek calibration sentences (``training/uz_sentences.py``): committed as generated,
every group in both scripts, contrasts naming no group, and in calib only."""

import pandas as pd
import pytest

from training import uz_sentences
from training.corpus import CorpusConfig, build_corpus
from training.sources import SYNTHETIC_DIR
from warning.text.lang import detect_language
from warning.text.targets import TARGET_GROUPS, find_targets


def test_committed_file_is_the_generators_output() -> None:
    committed = (SYNTHETIC_DIR / uz_sentences.FILES["uz"]).read_text(encoding="utf-8")
    assert committed == uz_sentences.render_csv(), "run: python -m training.uz_sentences"


@pytest.mark.parametrize(("latin", "cyrillic"), [
    ("Yo'q, o'zbeklar", "Йўқ, ўзбеклар"),
    ("tayoq bilan", "таёқ билан"),
    ("Ertaga qirg'izlarga", "Эртага қирғизларга"),
    ("ma'ruza va an'analari", "маъруза ва анъаналари"),
    ("Shahar chiqdi, mehmondo'st", "Шаҳар чиқди, меҳмондўст"),
    ("LGBT vakillari yeb", "ЛГБТ вакиллари еб"),
    ("ayyorlik 2025-yil", "айёрлик 2025-йил"),
])
def test_latin_letters_become_cyrillic(latin, cyrillic) -> None:
    assert uz_sentences.to_cyrillic(latin) == cyrillic


def test_every_group_in_both_scripts_and_contrasts_name_no_group() -> None:
    rows = pd.DataFrame(uz_sentences.uz_rows())
    assert rows["text"].is_unique and not rows["text"].str.contains("{", regex=False).any()
    assert (rows["lang"] == "uz").all()
    rows["script"] = rows["template"].str.split("-").str[1]
    latin = rows["text"].str.contains(r"[a-z]{3}", regex=True)
    assert (latin == (rows["script"] == "latn")).all()
    for _, mine in rows.groupby("script"):
        hateful = mine[mine["hate"] == "1"]
        assert set(hateful["target_ident"]) == set(TARGET_GROUPS)
        per_group = hateful.groupby("target_ident").size()
        assert per_group.max() - per_group.min() <= 1  # one frame is for peoples only
        neutral = mine[mine["kind"].isin(["neutral_mention", "positive_mention"])]
        assert set(neutral["target_ident"]) == set(TARGET_GROUPS)
        assert (neutral[["offensive", "hate", "threat"]] == "0").all().all()
        contrasts = mine[(mine["hate"] == "0") & (mine["target_ident"] == "")]
        assert len(contrasts) >= 50 and set(contrasts["kind"]) == {"hard_negative", "insult"}
        assert not any(find_targets(t) for t in contrasts["text"])
    # the sentences read as Uzbek to the project's language detector, in either script
    detected = [detect_language(t) for t in rows["text"]]
    assert sum(d == "uz" for d in detected) / len(detected) > 0.8


def test_uzbek_sentences_go_to_calib_only_and_move_no_other_row(fixture_data_dir) -> None:
    plain = build_corpus(CorpusConfig(data_dir=str(fixture_data_dir),
                                      sources=["synthetic_ru", "synthetic_ky"]))
    with_uz = build_corpus(CorpusConfig(data_dir=str(fixture_data_dir),
                                        sources=["synthetic_ru", "synthetic_ky",
                                                 "synthetic_uz_calib"]))
    uz = with_uz["source"] == "synthetic_uz_calib"
    assert uz.sum() > 1000
    assert set(with_uz.loc[uz, "split"]) == {"calib"}
    merged = plain.merge(with_uz, on="id", suffixes=("_plain", "_uz"))
    assert len(merged) == len(plain)
    assert (merged["split_plain"] == merged["split_uz"]).all()


def test_a_source_is_not_train_only_and_calib_only_at_once() -> None:
    from training.sources import _synthetic_reader

    with pytest.raises(ValueError, match="train-only or calib-only"):
        _synthetic_reader("x", "x.csv", "uz", augmentation=True, train_only=True,
                          calib_only=True)
