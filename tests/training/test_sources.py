import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.sources import (
    LEXICONS,
    ROW_COLUMNS,
    SOURCES,
    SourceError,
    UserSource,
    load_lexicon,
    read_source,
)

U = None  # unknown, written as None in the expectations below


def _labels(frame: pd.DataFrame, text: str) -> tuple:
    row = frame[frame["text"] == text]
    assert len(row) == 1, f"{text!r} appears {len(row)} times"
    values = row[["offensive", "hate", "threat", "extremism"]].iloc[0].tolist()
    return tuple(None if math.isnan(v) else int(v) for v in values)


# Each registered source, a text from its fixture and the labels SOURCES.md decides for it.
MAPPINGS = [
    ("ru_2ch_pikabu", "Какой же ты идиот", (1, U, U, U)),
    ("ru_2ch_pikabu", "Погода сегодня отличная", (0, 0, 0, 0)),
    ("ru_paradetox_russe2022", "этот урод опять всё сломал", (1, U, U, U)),
    ("ru_paradetox_russe2022", "этот человек опять всё сломал", (0, 0, 0, 0)),
    ("offenseval2020_tr", "@USER sen tam bir aptalsın", (1, U, U, U)),
    ("offenseval2020_tr", "Maç harikaydı, tebrikler", (0, 0, 0, 0)),
    ("davidson_en", "RT @someone: those people are vermin and should leave", (1, 1, U, U)),
    ("davidson_en", "@friend you are such a stupid idiot lol", (1, 0, U, U)),
    ("davidson_en", "what a lovely sunny day &amp; a nice walk", (0, 0, 0, 0)),
    ("gab_hate_corpus_en", "they are animals and must be wiped out", (0, 1, 1, U)),
    ("gab_hate_corpus_en", "what a damn stupid game", (1, 0, 0, U)),
    ("gab_hate_corpus_en", "the meeting starts at noon", (0, 0, 0, 0)),
    ("implicit_hate_en", "we must take our country back from them", (U, 1, U, 1)),
    ("implicit_hate_en", "those invaders will regret coming here", (U, 1, 1, U)),
    ("implicit_hate_en", "the council voted on the budget", (U, 0, U, U)),
    ("threatgram101_telegram", "someone should hang them all", (U, U, 1, U)),
    ("threatgram101_telegram", "the vote is next tuesday", (U, U, 0, U)),
    ("mlma", "en normal text here", (0, 0, 0, 0)),
    ("mlma", "fr hateful text here", (U, 1, U, U)),
    ("mlma", "ar rude text here", (1, U, U, U)),
    ("hasoc2019_en", "you are a disgusting liar", (1, U, U, U)),
    ("hasoc2019_en", "nice photo of the mountains", (0, 0, 0, 0)),
    ("ky_news_topics_24kg", "Ош шаарында көчөлөр оңдолуп жатат.", (0, 0, 0, 0)),
    ("kk_kazsandra_sentiment", "Жеткізу баяу болды", (0, 0, 0, 0)),  # negative review, clean
    ("uz_app_reviews_sentiment", "Reklama ko'p", (0, 0, 0, 0)),
    ("vicomtech_stormfront_en", "they ruin every neighbourhood they move into", (U, 1, U, U)),
    ("vicomtech_stormfront_en", "the forum rules were updated", (U, 0, U, U)),
    ("ethos_en", "those people are a disease", (U, 1, 1, U)),
    ("ethos_en", "I like this song", (U, 0, U, U)),
    ("trac1_en_aggression", "you are a pathetic loser", (1, U, U, U)),
    ("trac1_en_aggression", "nice to see the market open", (0, 0, 0, 0)),
    ("ru_sensitive_topics_snlp", "про оружие и законы", (U, U, U, U)),
    # a text with any instance of class -1 is hate; all 0 or 1 is "? 0 ? ?"
    ("ru_ethnohate", "Узбеки и таджики опять заняли весь рынок, ненавижу узбеков", (U, 1, U, U)),
    ("ru_ethnohate", "Мой сосед казах, а жена у него киргизка, хорошие люди", (U, 0, U, U)),
    ("ky_youtube_hate", "озбектер бул жерден кетсин, алар адам эмес", (1, 1, U, U)),
    ("ky_youtube_hate", "сен акмаксын го тилинди тарт", (1, 0, U, U)),
    ("ky_youtube_hate", "бугун Бишкекте кар жаады", (0, 0, 0, 0)),  # the paper's val part
    ("kk_hate_speech", "бұл ұлттың адамдары бәрі ақымақ олар бізге керек емес", (U, 1, U, U)),
    ("kk_hate_speech", "нәсіліміз басқалардан жоғары деген сөз", (U, 1, U, U)),  # nazism
    ("kk_hate_speech", "сен өте ақымақ адамсың аузыңды жап", (1, U, U, U)),
    ("kk_hate_speech", "қарулы топ жаңа жауынгерлер шақырады", (U, U, U, 1)),
    ("kk_hate_speech", "бүгін ауа райы жақсы", (0, 0, 0, 0)),
    ("tr_hate_tweets", "Suriyeliler bu ülkeden defolup gitsin hepsi", (U, 1, U, U)),
    ("tr_hate_tweets", "Bu Yahudi yazarın kitabı berbat, sen de aptalsın", (1, 0, U, U)),
    ("tr_hate_tweets", "Ermeni komşumuz bize tatlı getirdi.\nÇok naziktiler", (0, 0, 0, 0)),
]


@pytest.mark.parametrize(("source", "text", "expected"), MAPPINGS)
def test_reader_applies_the_decided_mapping(fixture_data_dir, source, text, expected) -> None:
    frame = read_source(source, fixture_data_dir)
    assert _labels(frame, text) == expected


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_reader_returns_the_row_columns(fixture_data_dir, source) -> None:
    frame = read_source(source, fixture_data_dir)
    assert list(frame.columns) == [*ROW_COLUMNS, "source", "licence"]
    assert len(frame) > 0
    assert (frame["source"] == source).all()
    assert (frame["licence"] == SOURCES[source].licence).all()
    labels = frame[["offensive", "hate", "threat", "extremism"]].to_numpy()
    assert np.isin(labels[~np.isnan(labels)], [0.0, 1.0]).all()
    assert frame["text"].str.strip().ne("").all()


@pytest.mark.parametrize(
    ("source", "dropped"),
    [
        ("threatgram101_telegram", "they will get what is coming"),  # level 1
        ("mlma", "en mixed text here"),  # hateful + normal
        ("mlma", "en scared text here"),  # fearful alone
        ("vicomtech_stormfront_en", "see the thread above"),  # relation
        ("ethos_en", "not sure about this one"),  # 0.2 < isHate < 0.5
        ("trac1_en_aggression", "some people here know what they did"),  # covert
    ],
)
def test_reader_drops_what_the_mapping_drops(fixture_data_dir, source, dropped) -> None:
    assert dropped not in set(read_source(source, fixture_data_dir)["text"])


def test_official_test_parts_are_marked(fixture_data_dir) -> None:
    hasoc = read_source("hasoc2019_en", fixture_data_dir)
    assert set(hasoc.loc[hasoc["orig_split"] == "test", "text"]) == {"nice photo of the mountains"}
    pdx = read_source("ru_paradetox_russe2022", fixture_data_dir)
    assert set(pdx.loc[pdx["orig_split"] == "test", "text"]) == {"какая тупая новость, автор дебил"}


def test_paradetox_pairs_share_a_group_hint(fixture_data_dir) -> None:
    pdx = read_source("ru_paradetox_russe2022", fixture_data_dir)
    group = pdx.loc[pdx["text"] == "да пошёл ты со своим мнением, дурак", "group_hint"].item()
    members = set(pdx.loc[pdx["group_hint"] == group, "text"])
    assert members == {"да пошёл ты со своим мнением, дурак", "не согласен с твоим мнением",
                       "у меня другое мнение"}


def test_ru_ethnohate_gives_one_row_per_text_with_its_groups(fixture_data_dir) -> None:
    frame = read_source("ru_ethnohate", fixture_data_dir)
    assert len(frame) == 3  # five (text, group) instances of three texts
    row = frame[frame["text"].str.startswith("Узбеки")].iloc[0]
    assert row["meta_group"] == "узбек;таджик"
    assert row["meta_label"] == "-1;0"
    assert (frame["lang"] == "ru").all()


def test_ky_youtube_hate_reads_both_parts_without_a_fixed_split(fixture_data_dir) -> None:
    frame = read_source("ky_youtube_hate", fixture_data_dir)
    assert len(frame) == 4
    assert (frame["orig_split"] == "").all()  # split by group in the corpus, like every source
    assert sorted(frame["meta_label"]) == ["hate", "non_hate", "non_hate", "offensive"]


def test_kk_hate_speech_strips_the_label_tags(fixture_data_dir) -> None:
    frame = read_source("kk_hate_speech", fixture_data_dir)
    joined = " ".join(frame["text"])
    for leak in ("propaganda", "pic", "twitter", "https", "vk"):
        assert leak not in joined.split()
    assert len(frame) == 5  # the row that was only a tag is dropped
    assert set(frame["meta_label"]) == {"racism", "nazism", "bullying", "violent", "neutral"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("мен оны көрдім propaganda", "мен оны көрдім"),
        ("мен оны көрдім radicalization recruitment", "мен оны көрдім"),
        ("сілтеме https vk cc ab12 осында", "сілтеме осында"),
        ("пропаганда туралы мақала", "пропаганда туралы мақала"),  # Kazakh words stay
        ("propaganda", ""),
    ],
)
def test_strip_label_tags(text, expected) -> None:
    from training.sources import strip_label_tags

    assert strip_label_tags(text) == expected


def test_tr_hate_tweets_keeps_keyword_and_hate_type(fixture_data_dir) -> None:
    frame = read_source("tr_hate_tweets", fixture_data_dir).set_index("text")
    row = frame.loc["Suriyeliler bu ülkeden defolup gitsin hepsi"]
    assert (row["meta_group"], row["meta_label"], row["meta_type"]) == \
        ("suriyeli", "nefret", "etnik")
    assert frame.loc["Bu Yahudi yazarın kitabı berbat, sen de aptalsın", "meta_type"] == ""


@pytest.mark.parametrize("name", ["ru_ethnohate", "ky_youtube_hate", "kk_hate_speech",
                                  "tr_hate_tweets"])
def test_new_real_sources_are_default_and_research_unclear(name) -> None:
    assert SOURCES[name].default
    assert SOURCES[name].licence == "research-unclear"
    assert not SOURCES[name].capped


def test_ru_ethnohate_bad_class_is_named(broken_dir) -> None:
    path = broken_dir / "ru_ethnohate" / "RuEthnoHate.json"
    path.write_text('[{"text_id": 1, "ethnic_group": "узбек", "text": "x", "class": 2}]',
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"RuEthnoHate\.json: instance 0 has class 2"):
        read_source("ru_ethnohate", broken_dir)


def test_tr_hate_tweets_unknown_label_is_named(broken_dir) -> None:
    path = broken_dir / "tr_hate_tweets" / "tweets.csv"
    path.write_text("ID,tweet,etiket,alt etiket,Keyword,time\n1,merhaba,belki,,rus,x\n",
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"column 'etiket' has unexpected value.*belki"):
        read_source("tr_hate_tweets", broken_dir)


def test_mlma_keeps_each_file_language(fixture_data_dir) -> None:
    frame = read_source("mlma", fixture_data_dir)
    assert set(frame["lang"]) == {"en", "fr", "ar"}


@pytest.fixture
def broken_dir(tmp_path: Path, fixture_data_dir: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(fixture_data_dir, target)
    return target


def test_missing_file_names_source_and_file(broken_dir) -> None:
    (broken_dir / "davidson_en" / "labeled_data.csv").unlink()
    with pytest.raises(SourceError, match=r"davidson_en.*labeled_data\.csv.*not found") as info:
        read_source("davidson_en", broken_dir)
    assert info.value.source == "davidson_en"


def test_missing_folder_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SourceError, match="source folder not found"):
        read_source("ru_2ch_pikabu", tmp_path)


def test_missing_column_is_named(broken_dir) -> None:
    (broken_dir / "ru_2ch_pikabu" / "labeled.csv").write_text("text,label\nпривет,0\n")
    with pytest.raises(SourceError, match=r"ru_2ch_pikabu.*missing column.*comment"):
        read_source("ru_2ch_pikabu", broken_dir)


def test_unexpected_label_value_is_named(broken_dir) -> None:
    path = broken_dir / "offenseval2020_tr" / "offenseval-tr-training-v1.tsv"
    path.write_text("id\ttweet\tsubtask_a\n1\tmerhaba\tMAYBE\n")
    with pytest.raises(SourceError, match=r"unexpected value.*MAYBE"):
        read_source("offenseval2020_tr", broken_dir)


def test_wrong_encoding_is_named(broken_dir) -> None:
    path = broken_dir / "ru_2ch_pikabu" / "labeled.csv"
    path.write_bytes("comment,toxic\nпривет,0\n".encode("cp1251"))
    with pytest.raises(SourceError, match=r"labeled\.csv: not valid UTF-8"):
        read_source("ru_2ch_pikabu", broken_dir)


def test_malformed_json_is_named(broken_dir) -> None:
    (broken_dir / "threatgram101_telegram" / "Labeled_15076.json").write_text('[{"reply": "x"')
    with pytest.raises(SourceError, match="not valid JSON"):
        read_source("threatgram101_telegram", broken_dir)


def test_wrong_column_count_is_named(broken_dir) -> None:
    (broken_dir / "hasoc2019_en" / "hasoc_en_train_A.tsv").write_text("a\tb\n")
    with pytest.raises(SourceError, match="expected 3 columns"):
        read_source("hasoc2019_en", broken_dir)


def test_lexicons_never_become_rows(fixture_data_dir) -> None:
    for name in LEXICONS:
        with pytest.raises(SourceError, match="lexicon"):
            read_source(name, fixture_data_dir)


def test_lexicons_load_as_word_lists(fixture_data_dir) -> None:
    assert load_lexicon("lexicon_ru_obscene_mat", fixture_data_dir) == {"ru": ["слово1", "слово2"]}
    assert set(load_lexicon("lexicon_hurtlex", fixture_data_dir)) == {"ru", "tr", "en"}


def test_unknown_source_is_a_clear_error(fixture_data_dir) -> None:
    with pytest.raises(SourceError, match="unknown source"):
        read_source("no_such_source", fixture_data_dir)


# ---- a user's own file ---------------------------------------------------------------------


def test_user_csv_with_column_mapping(tmp_path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "message,is_hate,is_threat,split\n"
        "Өзбектер кетсин,1,0,\n"
        "Жакшы күн,0,,test\n"
        ",1,1,\n"  # empty text: dropped
        '"a, quoted text",yes,no,\n',
        encoding="utf-8",
    )
    src = UserSource(path, text_col="message", labels={"hate": "is_hate", "threat": "is_threat"},
                     lang="ky", split_col="split")
    frame = src.read()
    assert list(frame["text"]) == ["Өзбектер кетсин", "Жакшы күн", "a, quoted text"]
    assert _labels(frame, "Өзбектер кетсин") == (U, 1, 0, U)
    assert _labels(frame, "Жакшы күн") == (U, 0, U, U)
    assert list(frame["orig_split"]) == ["", "test", ""]
    assert (frame["source"] == "user:mine").all()


def test_user_jsonl_detects_language_when_not_given(tmp_path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "Бүгүн Ошко барам, ким барат?", "off": true}\n\n'
                    '{"text": "Does anyone know a good dentist?", "off": false}\n',
                    encoding="utf-8")
    frame = UserSource(path, labels={"offensive": "off"}).read()
    assert list(frame["lang"]) == ["ky", "en"]
    assert list(frame["offensive"]) == [1.0, 0.0]


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        ("message,hate\nпривет,1\n", ".csv", r"missing column\(s\) \['text'\]"),
        ("text,is_hate\nпривет,1\n", ".csv", r"missing column\(s\) \['hate'\]"),
        ('["a list"]\n', ".jsonl", "no line holds a JSON object"),
        ("", ".csv", "the file is empty"),
        ("text,hate\nx,1\n", ".xlsx", "unsupported file type"),
    ],
)
def test_user_source_errors_name_file_and_problem(tmp_path, content, suffix, match) -> None:
    # a file that is not a table it can read stops the build (a bad row does not: see
    # tests/training/test_user_import.py)
    path = tmp_path / f"mine{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=match) as info:
        UserSource(path, labels={"hate": "hate"}).read()
    assert str(path) in str(info.value)


def test_user_source_rejects_unknown_label() -> None:
    with pytest.raises(ValueError, match="unknown label"):
        UserSource("x.csv", labels={"toxicity": "col"})


def test_sources_user_jsonl_nested_too_deep_costs_that_line(tmp_path) -> None:
    from training.sources import UserSource

    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "a post", "hate": 1}\n{"text": ' + "[" * 100_000 + "]" * 100_000
                    + "}\n", encoding="utf-8")
    frame, rejects, _ = UserSource(path, labels={"hate": "hate"}, lang="en").read_checked()
    assert list(frame["text"]) == ["a post"]
    assert [(r.line, r.reason) for r in rejects] == [(2, "unreadable")]
    assert "nested deeper than" in rejects[0].details
