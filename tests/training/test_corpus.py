import json
import random
from pathlib import Path

import pandas as pd
import pytest

from training.corpus import (
    SPLITS,
    CorpusConfig,
    build_corpus,
    corpus_table,
    load_corpus,
    write_corpus,
)
from training.near_duplicates import near_duplicate_pairs
from training.sources import SourceError, UserSource

WORDS = ("кыргыз бишкек ош базар баасы жаңы мектеп суу жол кар жамгыр шайлоо акча "
         "the market price school water road snow rain election money city bus").split()


def _write_user(path: Path, texts: list[str], labels: list[int] | None = None) -> UserSource:
    labels = labels if labels is not None else [i % 2 for i in range(len(texts))]
    path.write_text(
        "\n".join(json.dumps({"text": t, "hate": y}, ensure_ascii=False)
                  for t, y in zip(texts, labels, strict=True)) + "\n",
        encoding="utf-8",
    )
    return UserSource(path, labels={"hate": "hate"}, lang="ky")


def _random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + f" {seed}-{i}"
            for i in range(n)]


@pytest.fixture(scope="module")
def fixture_corpus(fixture_data_dir) -> pd.DataFrame:
    return build_corpus(CorpusConfig(data_dir=fixture_data_dir))


def test_corpus_has_the_documented_columns(fixture_corpus) -> None:
    assert list(fixture_corpus.columns) == [
        "id", "text", "text_norm", "lang", "offensive", "hate", "threat", "extremism", "source",
        "licence", "capped", "group", "split", "orig_split", "n_copies", "derived",
        "meta_group", "meta_label", "meta_type",
    ]
    assert set(fixture_corpus["split"]) <= set(SPLITS)
    assert fixture_corpus["id"].is_unique


def test_default_corpus_takes_default_licences_only(fixture_corpus) -> None:
    sources = set(";".join(fixture_corpus["source"]).split(";"))
    assert "davidson_en" in sources and "ru_2ch_pikabu" in sources
    assert not sources & {"ethos_en", "trac1_en_aggression", "vicomtech_stormfront_en",
                          "ru_sensitive_topics_snlp"}
    assert set(";".join(fixture_corpus["licence"]).split(";")) <= {"permissive",
                                                                     "research-unclear"}


def test_opt_in_source_needs_its_licence_class(fixture_data_dir) -> None:
    with pytest.raises(ValueError, match="outside the allowed licence classes"):
        build_corpus(CorpusConfig(sources=["ethos_en"], data_dir=fixture_data_dir))
    corpus = build_corpus(CorpusConfig(sources=["ethos_en"], licences=["copyleft"],
                                       data_dir=fixture_data_dir))
    assert set(corpus["source"]) == {"ethos_en"}


def test_capped_sources_are_marked(fixture_corpus) -> None:
    capped = fixture_corpus[fixture_corpus["capped"]]
    assert set(capped["lang"]) == {"ky", "kk", "uz"}


def test_paradetox_pair_stays_in_one_split_and_official_test_stays_test(fixture_corpus) -> None:
    pdx = fixture_corpus[fixture_corpus["source"].str.contains("paradetox")]
    pair = pdx[pdx["text"].isin(["да пошёл ты со своим мнением, дурак",
                                 "не согласен с твоим мнением", "у меня другое мнение"])]
    assert pair["group"].nunique() == 1 and pair["split"].nunique() == 1
    official = fixture_corpus[fixture_corpus["orig_split"] == "test"]
    assert len(official) >= 3 and (official["split"] == "test").all()


def test_exact_duplicates_merge_and_conflicting_labels_become_unknown(tmp_path) -> None:
    a = _write_user(tmp_path / "a.jsonl", ["Жаман сөз бул жерде", "Бир нерсе"], [1, 0])
    b = _write_user(tmp_path / "b.jsonl", ["жаман СӨЗ бул жерде!!", "бир нерсе."], [0, 0])
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[a, b], keyboard_variants=()))
    assert len(corpus) == 2
    merged = corpus.set_index(corpus["text_norm"].str.lower().str.rstrip("!."))
    assert pd.isna(merged.loc["жаман сөз бул жерде", "hate"])  # 1 vs 0: unknown
    assert merged.loc["бир нерсе", "hate"] == 0.0
    assert set(corpus["n_copies"]) == {2}
    assert corpus.attrs["stats"]["label_conflicts_set_unknown"] == 1
    assert set(corpus["source"]) == {"user:a;user:b"}


def test_near_duplicates_share_a_group(tmp_path) -> None:
    base = "Бишкекте бүгүн жаңы мектеп ачылды, ата-энелер абдан ыраазы болушту"
    texts = [base, base + " (видео)", "Ош шаарында көчөлөр оңдолуп жатат, айдоочулар ыраазы эмес"]
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[
        _write_user(tmp_path / "n.jsonl", texts)]))
    groups = corpus.set_index("text")["group"]
    assert groups[texts[0]] == groups[texts[1]] != groups[texts[2]]


def test_near_duplicate_pairs_are_verified() -> None:
    texts = ["the quick brown fox jumps over the lazy dog today",
             "the quick brown fox jumps over the lazy dog today!",
             "completely different sentence about the weather in osh"]
    assert near_duplicate_pairs(texts) == [(0, 1)]
    assert near_duplicate_pairs(["short", "short"]) == []  # too short: exact dedup handles it


def test_no_group_crosses_splits_on_many_rows(tmp_path) -> None:
    texts = _random_texts(1500, seed=1)
    # plant near-duplicate families: one word added, and a second edit of some of them
    texts += [t + " видео" for t in texts[:200]] + [t + " видео ok" for t in texts[:50]]
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[
        _write_user(tmp_path / "many.jsonl", texts)], keyboard_variants=()))
    assert (corpus.groupby("group")["split"].nunique() == 1).all()
    sizes = corpus.groupby("group").size()
    assert (sizes > 1).sum() >= 190 and sizes.max() <= 3
    shares = corpus["split"].value_counts(normalize=True)
    assert 0.6 < shares["train"] < 0.8 and all(shares[s] > 0.05 for s in ("dev", "calib", "test"))


def test_split_is_deterministic_and_unmoved_by_unrelated_rows(tmp_path) -> None:
    first = _write_user(tmp_path / "first.jsonl", _random_texts(400, seed=2))
    extra = _write_user(tmp_path / "extra.jsonl", _random_texts(600, seed=3))
    alone = build_corpus(CorpusConfig(sources=[], user_sources=[first]))
    again = build_corpus(CorpusConfig(sources=[], user_sources=[first]))
    both = build_corpus(CorpusConfig(sources=[], user_sources=[extra, first]))
    pd.testing.assert_frame_equal(alone, again)
    merged = alone.merge(both, on="id", suffixes=("_alone", "_both"))
    assert len(merged) == len(alone)
    assert (merged["split_alone"] == merged["split_both"]).all()
    assert (merged["group_alone"] == merged["group_both"]).all()


def test_corpus_table_counts_positive_negative_unknown(fixture_corpus) -> None:
    table = corpus_table(fixture_corpus)
    for heading in ("by source", "by language", "by split", "total", "offensive +/-/?"):
        assert heading in table
    total_line = next(line for line in table.splitlines() if line.startswith("total"))
    assert str(len(fixture_corpus)) in total_line


def test_write_and_load_round_trip(fixture_corpus, tmp_path) -> None:
    path = write_corpus(fixture_corpus, tmp_path / "out" / "corpus.parquet")
    loaded = load_corpus(path)
    pd.testing.assert_frame_equal(loaded, fixture_corpus.reset_index(drop=True),
                                  check_like=False, check_dtype=False)
    stats = json.loads(path.with_suffix(".stats.json").read_text())
    assert stats["rows"] == len(fixture_corpus)
    assert "by split" in path.with_suffix(".md").read_text()


def test_load_corpus_errors(tmp_path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        load_corpus(tmp_path / "missing.parquet")
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(SourceError, match="not a corpus"):
        load_corpus(tmp_path / "bad.parquet")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"licences": ["public-domain"]}, "unknown licence class"),
        ({"sources": ["nope"]}, "unknown source"),
        ({"ratios": (0.5, 0.5, 0.5, 0.5)}, "ratios"),
        ({"near_duplicate_threshold": 0.0}, "near_duplicate_threshold"),
    ],
)
def test_corpus_config_validates(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        CorpusConfig(**kwargs)


def test_corpus_config_round_trips(tmp_path) -> None:
    config = CorpusConfig(sources=["davidson_en"], user_sources=[
        UserSource(tmp_path / "x.csv", labels={"hate": "h"}, lang="ru")])
    assert CorpusConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_missing_source_file_stops_the_build_with_its_name(fixture_data_dir, tmp_path) -> None:
    with pytest.raises(SourceError, match="source folder not found"):
        build_corpus(CorpusConfig(sources=["davidson_en"], data_dir=tmp_path))


def test_weak_hate_labels_are_derived_only_when_asked_and_flagged(tmp_path) -> None:
    path = tmp_path / "ru.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "все узбеки тупые твари", "off": 1},
        {"text": "ты тупая тварь", "off": 1},
        {"text": "узбеки открыли новый рынок", "off": 0},
    ]) + "\n", encoding="utf-8")
    user = UserSource(path, labels={"offensive": "off"}, lang="ru")
    plain = build_corpus(CorpusConfig(sources=[], user_sources=[user]))
    assert plain["hate"].isna().all() and (plain["derived"] == "").all()
    weak = build_corpus(CorpusConfig(sources=[], user_sources=[user], weak_hate_languages=["ru"]))
    by_text = weak.set_index("text")
    assert by_text.loc["все узбеки тупые твари", "hate"] == 1.0
    assert by_text.loc["все узбеки тупые твари", "derived"] == "weak:hate"
    assert pd.isna(by_text.loc["ты тупая тварь", "hate"])  # no group named: stays unknown
    assert pd.isna(by_text.loc["узбеки открыли новый рынок", "hate"])  # not offensive
    assert weak.attrs["stats"]["weak_hate_labels"] == 1


def test_synthetic_sources_come_only_when_asked(fixture_data_dir) -> None:
    from training.corpus import select_sources

    names = {s.name for s in select_sources(None, ["permissive", "research-unclear"])}
    assert not any(n.startswith("synthetic") for n in names)
    with_synth = {s.name for s in select_sources(None, ["permissive"], synthetic=True)}
    assert {"synthetic_ru", "synthetic_ky", "synthetic_en_contrast"} <= with_synth
    # the opt-in group frames (measured, not shipped) come only when named
    assert not any(n.endswith("_frames") for n in with_synth)
    added = {s.name for s in select_sources(None, ["permissive"], synthetic=True,
                                            add=["synthetic_ru_frames"])}
    assert added == with_synth | {"synthetic_ru_frames"}
    with pytest.raises(ValueError, match="unknown source"):
        select_sources(None, ["permissive"], add=["no_such_source"])


def test_group_frames_go_to_train_only_and_move_no_other_row(fixture_data_dir) -> None:
    plain = build_corpus(CorpusConfig(data_dir=str(fixture_data_dir),
                                      sources=["synthetic_ru", "synthetic_ky"]))
    framed = build_corpus(CorpusConfig(
        data_dir=str(fixture_data_dir), sources=["synthetic_ru", "synthetic_ky"],
        add_sources=("synthetic_ru_frames", "synthetic_ky_frames")))
    frames = framed["source"].str.contains("frames")
    assert frames.sum() > 1000
    assert set(framed.loc[frames, "split"]) == {"train"}
    kept = framed[~frames].set_index("text")["split"]
    assert kept.loc[plain["text"]].tolist() == plain["split"].tolist()


def test_mention_augmentation_goes_to_train_or_calib_only_and_moves_no_other_row(
        fixture_data_dir) -> None:
    plain = build_corpus(CorpusConfig(data_dir=str(fixture_data_dir),
                                      sources=["synthetic_ru", "synthetic_ky"]))
    augmented = build_corpus(CorpusConfig(
        data_dir=str(fixture_data_dir),
        sources=["synthetic_ru", "synthetic_ky", "synthetic_ru_mentions",
                 "synthetic_ky_mentions"]))
    mention = augmented["source"].str.contains("mentions")
    assert mention.sum() > 1500
    assert set(augmented.loc[mention, "split"]) == {"train", "calib"}
    assert augmented.loc[mention, "split"].eq("train").mean() > 0.6
    # one template's group swaps stay in one split
    assert (augmented[mention].groupby("group")["split"].nunique() == 1).all()
    assert (augmented.loc[mention, ["offensive", "hate", "threat"]] == 0).all().all()
    # the other rows keep their split
    merged = plain.merge(augmented, on="id", suffixes=("_plain", "_aug"))
    assert len(merged) == len(plain)
    assert (merged["split_plain"] == merged["split_aug"]).all()


def test_corpus_keeps_the_sources_metadata(fixture_corpus) -> None:
    tr = fixture_corpus[fixture_corpus["source"] == "tr_hate_tweets"].set_index("text")
    row = tr.loc["Suriyeliler bu ülkeden defolup gitsin hepsi"]
    assert (row["meta_group"], row["meta_label"], row["meta_type"]) == \
        ("suriyeli", "nefret", "etnik")
    ru = fixture_corpus[fixture_corpus["source"] == "ru_ethnohate"]
    assert set(ru["meta_group"]) == {"узбек;таджик", "казах;киргиз", "еврей"}


def _keyboard_corpus(tmp_path: Path, keyboard: tuple[str, ...]) -> pd.DataFrame:
    texts = [f"Өзбектер менен дуңгандар {i} жөнүндө сүйлөшүү" for i in range(40)]
    texts += [f"Қазақтар туралы әңгіме {i} өте қызық" for i in range(40)]
    texts += [f"бул жерде эч кандай тамга жок {i}" for i in range(20)]  # no own letters
    path = tmp_path / "kbd.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "hate": i % 2, "lang": "kk" if "Қазақ" in t
                                          else "ky"}, ensure_ascii=False)
                              for i, t in enumerate(texts)) + "\n", encoding="utf-8")
    user = UserSource(path, labels={"hate": "hate"}, lang_col="lang")
    return build_corpus(CorpusConfig(sources=[], user_sources=[user], keyboard_variants=keyboard))


def test_keyboard_variants_copy_training_rows_with_group_split_and_labels(tmp_path) -> None:
    from warning.text.normalize import keyboard_fold

    corpus = _keyboard_corpus(tmp_path, ("ky", "kk"))
    copies = corpus[corpus["derived"] == "keyboard"]
    originals = corpus[corpus["derived"] == ""]
    assert len(copies) == (originals["split"].eq("train") & ~originals["text"]
                           .str.startswith("бул")).sum() > 0
    assert (copies["split"] == "train").all()
    by_text = originals.set_index("text")
    for _, copy in copies.iterrows():
        original = by_text.loc[next(t for t in by_text.index
                                if keyboard_fold(t, copy["lang"]) == copy["text"])]
        assert original["group"] == copy["group"]
        assert original["hate"] == copy["hate"]
        assert original["source"] == copy["source"]
        assert not set("үөңәғқұһі") & set(copy["text"].lower())
    assert corpus["id"].is_unique
    assert corpus.attrs["stats"]["keyboard_variants_added"] == len(copies)
    assert corpus.attrs["stats"]["exact_duplicates_merged"] == 0


def test_keyboard_variants_can_be_switched_off(tmp_path) -> None:
    corpus = _keyboard_corpus(tmp_path, ())
    assert not corpus["derived"].str.contains("keyboard").any()


def test_keyboard_variants_reject_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="no keyboard folding for"):
        CorpusConfig(keyboard_variants=("ru",))


def test_plain_variants_copy_training_rows_and_keyboard_copies_lower_cased_unpunctuated(
        tmp_path) -> None:
    from warning.text.normalize import plain_fold

    path = tmp_path / "plain.jsonl"
    texts = [f"Өзбектер, дуңгандар! Сүйлөшүү {i}." for i in range(30)]
    texts += [f"уже без знаков {i}" for i in range(30)]  # typed that way: no copy
    path.write_text("\n".join(json.dumps({"text": t, "hate": i % 2}, ensure_ascii=False)
                              for i, t in enumerate(texts)) + "\n", encoding="utf-8")
    user = UserSource(path, labels={"hate": "hate"}, lang="ky")
    corpus = build_corpus(CorpusConfig(sources=[], user_sources=[user],
                                       plain_variants=("ky",)))
    plain = corpus[corpus["derived"].str.endswith("plain")]
    kept = corpus[~corpus["derived"].str.endswith("plain")]
    train = kept[kept["split"].eq("train") & kept["text"].str.contains(",")]
    assert len(train) > 0
    # each training original and each keyboard copy, once
    assert len(plain) == len(train) == 2 * train["derived"].eq("keyboard").sum()
    assert set(plain["derived"]) == {"plain", "keyboard;plain"}
    assert (plain["split"] == "train").all()
    assert plain["id"].is_unique and corpus["id"].is_unique
    by_plain = {plain_fold(t): row for t, (_, row) in zip(kept["text"], kept.iterrows(),
                                                           strict=True)}
    for _, copy in plain.iterrows():
        original = by_plain[copy["text"]]
        assert (original["group"], original["hate"], original["split"]) == \
            (copy["group"], copy["hate"], copy["split"])
        assert copy["text"] == copy["text"].lower() and "," not in copy["text"]
    assert corpus.attrs["stats"]["plain_variants_added"] == len(plain)
    assert not build_corpus(CorpusConfig(sources=[], user_sources=[user]))[
        "derived"].str.contains("plain").any()


def test_corpus_dataset_is_a_memory_mapped_datasets_dataset(fixture_corpus, tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    from training.corpus import corpus_dataset

    path = write_corpus(fixture_corpus, tmp_path / "corpus.parquet")
    ds = corpus_dataset(path)
    assert isinstance(ds, datasets.Dataset)
    assert len(ds) == len(fixture_corpus)
    assert {"text", "lang", "split", "offensive", "hate", "threat", "extremism"} <= \
        set(ds.column_names)
    assert ds.cache_files and all(Path(f["filename"]).is_file() for f in ds.cache_files)
    test = ds.filter(lambda row: row["split"] == "test")
    assert len(test) == (fixture_corpus["split"] == "test").sum()
    hate = ds.to_pandas()["hate"]
    assert hate.isna().sum() == fixture_corpus["hate"].isna().sum()  # unknown stays NaN


def test_corpus_dataset_names_a_missing_file(tmp_path) -> None:
    pytest.importorskip("datasets")
    from training.corpus import corpus_dataset

    with pytest.raises(SourceError, match="file not found"):
        corpus_dataset(tmp_path / "nothing.parquet")
