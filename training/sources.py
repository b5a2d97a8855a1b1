"""The data registry: one reader per labelled source, its licence class and its label mapping.

Every mapping here is the one decided in ``../shared/data/SOURCES.md`` ("Label mapping"); a
label a source does not annotate is unknown (NaN), never 0. Readers return a frame with the
columns of :data:`ROW_COLUMNS`; the corpus builder (:mod:`training.corpus`) adds the rest.
Lexicons are registered too, but only as word lists: they never become rows.

A missing or malformed file raises :class:`SourceError`, naming the source and the file. A
researcher's own file (:class:`UserSource`) and the feedback export (:class:`FeedbackSource`)
are read row by row instead (:mod:`training.user_import`, :mod:`training.feedback_import`): a
bad row is left out and reported, and only a file that is not a table at all raises.

Over 500 lines because it is the registry: one short reader per source, each applying the
mapping SOURCES.md decides, beside the table that registers it, so that a source's reading and
mapping are read and checked in one place.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import regex

from warning.labels import LABELS
from warning.safe_io import json_loads

from .feedback_import import MAX_TEXT_CHARS, ExportError, Reject, TableError, read_export
from .user_import import read_user_file

__all__ = [
    "DEFAULT_LICENCES",
    "FEEDBACK_LICENCE",
    "FEEDBACK_SOURCE",
    "LEXICONS",
    "LICENCE_CLASSES",
    "META_COLUMNS",
    "ROW_COLUMNS",
    "SOURCES",
    "SYNTHETIC_DIR",
    "FeedbackSource",
    "Source",
    "SourceError",
    "UserSource",
    "collected_rows",
    "feedback_source",
    "load_lexicon",
    "read_source",
    "select_sources",
]

LICENCE_CLASSES = ("permissive", "research-unclear", "non-commercial", "copyleft")
#: What the default model may use (SOURCES.md, "Licence classes").
DEFAULT_LICENCES = ("permissive", "research-unclear")
#: Metadata a source publishes beside its labels, kept per row (empty where it has none):
#: ``meta_group`` the group or keyword the text was collected for (RuEthnoHate's
#: ``ethnic_group``s joined by ``;``, the Turkish ``Keyword``), ``meta_label`` the source's own
#: label as published (RuEthnoHate's ``class`` per group, in the order of ``meta_group``),
#: ``meta_type`` a finer type (the Turkish hate type ``alt etiket``).
META_COLUMNS = ("meta_group", "meta_label", "meta_type")
ROW_COLUMNS = ("text", "lang", *LABELS, "orig_split", "group_hint", *META_COLUMNS)

U = np.nan  # unknown label
_CLEAN = (0.0, 0.0, 0.0, 0.0)


class SourceError(ValueError):
    """A source's file is missing or malformed; the message names the source and the file."""

    def __init__(self, source: str, path: Path | str, problem: str) -> None:
        self.source = source
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"source {source!r}: {self.path}: {problem}")


@dataclass(frozen=True)
class Source:
    """A registered labelled source.

    Attributes:
        name: Folder name under the data directory.
        licence: One of :data:`LICENCE_CLASSES`.
        langs: Languages of its rows.
        reader: ``reader(folder) -> DataFrame`` with :data:`ROW_COLUMNS`.
        files: Files the reader needs, relative to the folder (checked before reading).
        default: Part of the default corpus (else opt-in by name).
        capped: Clean single-domain text whose share of training rows is capped (ky, kk, uz).
        experimental: Topic or appropriateness annotations, not toxicity: no label mapping is
            decided, so its rows carry unknown labels and are for experiments only.
        synthetic: Written by this project (``training/synthetic/``), not collected: a flagged
            source, only in a corpus that asks for it, and every figure is reported with and
            without it.
        opt_in: A synthetic source that ``--synthetic`` leaves out: measured, not part of the
            shipped model's corpus; a corpus takes it only when named (``--add-source``).
        local: Calib-only sentences of one language (``training/uz_sentences.py``) that fit
            only that language's stack, calibration and thresholds, never the global ones
            (:func:`local_rows`).
    """

    name: str
    licence: str
    langs: tuple[str, ...]
    reader: Callable[[Path], pd.DataFrame]
    files: tuple[str, ...]
    default: bool = True
    capped: bool = False
    experimental: bool = False
    synthetic: bool = False
    opt_in: bool = False
    local: bool = False

    def folder(self, data_dir: Path) -> Path:
        """Where the source's files lie: the data directory, or the package for our own."""
        return SYNTHETIC_DIR if self.synthetic else Path(data_dir) / self.name

    def __post_init__(self) -> None:
        if self.licence not in LICENCE_CLASSES:
            raise ValueError(f"{self.name}: licence {self.licence!r} not in {LICENCE_CLASSES}")


# --------------------------------------------------------------------------------------------
# File helpers: every failure names the file.


def _check(source: str, path: Path) -> Path:
    if not path.is_file():
        raise SourceError(source, path, "file not found")
    return path


def _read_table(source: str, path: Path, required: Iterable[str], **kwargs) -> pd.DataFrame:
    _check(source, path)
    try:
        frame = pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError as exc:
        raise SourceError(source, path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") \
            from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise SourceError(source, path, f"cannot be parsed: {exc}") from exc
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise SourceError(
            source, path, f"missing column(s) {missing}; found {list(frame.columns)[:12]}"
        )
    return frame


def _read_lines(source: str, path: Path) -> list[str]:
    _check(source, path)
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SourceError(source, path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") \
            from exc


def _bad_values(source: str, path: Path, column: str, values: pd.Series, allowed: set) -> None:
    bad = values[~values.isin(allowed)]
    if len(bad):
        raise SourceError(
            source, path,
            f"column {column!r} has unexpected value(s) {sorted(map(str, bad.unique()))[:5]} "
            f"(expected {sorted(map(str, allowed))})",
        )


def _rows(
    texts: Iterable, labels: Iterable[tuple[float, float, float, float]], lang: str | Iterable,
    orig_split: str | Iterable = "", group_hint: str | Iterable = "",
    **meta: str | Iterable,
) -> pd.DataFrame:
    texts = list(texts)
    label_array = np.array(list(labels), dtype=float).reshape(len(texts), len(LABELS))
    frame = pd.DataFrame({"text": pd.Series(texts, dtype=object).astype(str)})
    frame["lang"] = lang if isinstance(lang, str) else list(lang)
    for i, name in enumerate(LABELS):
        frame[name] = label_array[:, i]
    frame["orig_split"] = orig_split if isinstance(orig_split, str) else list(orig_split)
    frame["group_hint"] = group_hint if isinstance(group_hint, str) else list(group_hint)
    unknown = set(meta) - set(META_COLUMNS)
    if unknown:
        raise ValueError(f"unknown metadata column(s) {sorted(unknown)}")
    for column in META_COLUMNS:
        value = meta.get(column, "")
        frame[column] = value if isinstance(value, str) else list(value)
    return frame


def _valid_text(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Drop rows whose text cell is empty (NaN): a blank post carries no label."""
    return frame[frame[column].notna() & (frame[column].astype(str).str.strip() != "")]


# --------------------------------------------------------------------------------------------
# Readers, one per source, each applying exactly the mapping of SOURCES.md.


def read_ru_2ch_pikabu(folder: Path) -> pd.DataFrame:
    name, path = "ru_2ch_pikabu", folder / "labeled.csv"
    df = _valid_text(_read_table(name, path, ["comment", "toxic"]), "comment")
    _bad_values(name, path, "toxic", df["toxic"], {0, 1})
    labels = [(1.0, U, U, U) if t == 1 else _CLEAN for t in df["toxic"]]
    return _rows(df["comment"], labels, "ru")


def read_ru_paradetox(folder: Path) -> pd.DataFrame:
    """Toxic sentence ``1 ? ? ?``; each neutral rewrite ``0 0 0 0``, grouped with its pair."""
    name = "ru_paradetox_russe2022"
    parts = []
    for part in ("train", "dev", "test"):
        path = folder / f"{part}.tsv"
        df = _read_table(name, path, ["toxic_comment"], sep="\t", quoting=csv.QUOTE_NONE)
        rewrites = [c for c in ("neutral_comment1", "neutral_comment2", "neutral_comment3")
                    if c in df.columns]
        orig = "test" if part == "test" else ""
        for i, row in enumerate(df.itertuples(index=False)):
            group = f"{name}:{part}:{i}"
            toxic = row.toxic_comment
            if isinstance(toxic, str) and toxic.strip():
                parts.append((toxic, (1.0, U, U, U), orig, group))
            for col in rewrites:
                text = getattr(row, col)
                if isinstance(text, str) and text.strip():
                    parts.append((text, _CLEAN, orig, group))
    texts, labels, origs, groups = zip(*parts, strict=True) if parts else ((), (), (), ())
    return _rows(texts, labels, "ru", origs, groups)


def read_offenseval_tr(folder: Path) -> pd.DataFrame:
    name, path = "offenseval2020_tr", folder / "offenseval-tr-training-v1.tsv"
    df = _read_table(name, path, ["tweet", "subtask_a"], sep="\t", quoting=csv.QUOTE_NONE)
    df = _valid_text(df, "tweet")
    _bad_values(name, path, "subtask_a", df["subtask_a"], {"OFF", "NOT"})
    labels = [(1.0, U, U, U) if v == "OFF" else _CLEAN for v in df["subtask_a"]]
    return _rows(df["tweet"], labels, "tr")


def read_davidson(folder: Path) -> pd.DataFrame:
    name, path = "davidson_en", folder / "labeled_data.csv"
    df = _valid_text(_read_table(name, path, ["tweet", "class"]), "tweet")
    _bad_values(name, path, "class", df["class"], {0, 1, 2})
    mapping = {0: (1.0, 1.0, U, U), 1: (1.0, 0.0, U, U), 2: _CLEAN}
    return _rows(df["tweet"], [mapping[c] for c in df["class"]], "en")


def read_gab(folder: Path) -> pd.DataFrame:
    """hate = hd, threat = cv, offensive = vo, extremism unknown; all three 0 is clean."""
    name, path = "gab_hate_corpus_en", folder / "ghc_train.tsv"
    df = _read_table(name, path, ["text", "hd", "cv", "vo"], sep="\t", quoting=csv.QUOTE_NONE)
    df = _valid_text(df, "text")
    for col in ("hd", "cv", "vo"):
        _bad_values(name, path, col, df[col], {0, 1})
    labels = [
        _CLEAN if not (hd or cv or vo) else (float(vo), float(hd), float(cv), U)
        for hd, cv, vo in zip(df["hd"], df["cv"], df["vo"], strict=True)
    ]
    return _rows(df["text"], labels, "en")


def read_implicit_hate(folder: Path) -> pd.DataFrame:
    """Stage 1 hate / not hate; stage 2 incitement adds extremism, threatening adds threat."""
    name = "implicit_hate_en"
    p1, p2 = folder / "implicit_hate_v1_stg1_posts.tsv", folder / "implicit_hate_v1_stg2_posts.tsv"
    s1 = _valid_text(_read_table(name, p1, ["post", "class"], sep="\t"), "post")
    s2 = _valid_text(_read_table(name, p2, ["post", "implicit_class"], sep="\t"), "post")
    _bad_values(name, p1, "class", s1["class"], {"not_hate", "implicit_hate", "explicit_hate"})
    labels: dict[str, list[float]] = {}
    for post, cls in zip(s1["post"], s1["class"], strict=True):
        labels[post] = [U, 0.0 if cls == "not_hate" else 1.0, U, U]
    extra = s2["extra_implicit_class"] if "extra_implicit_class" in s2 else [None] * len(s2)
    for post, cls, cls2 in zip(s2["post"], s2["implicit_class"], extra, strict=True):
        row = labels.setdefault(post, [U, 1.0, U, U])  # stage 2 posts are implicit hate
        row[1] = 1.0
        if "incitement" in (cls, cls2):
            row[3] = 1.0
        if "threatening" in (cls, cls2):
            row[2] = 1.0
    return _rows(labels.keys(), [tuple(v) for v in labels.values()], "en")


def read_threatgram(folder: Path) -> pd.DataFrame:
    """Level 2 is a threat, level 0 is not, level 1 is dropped; other labels unknown."""
    name, path = "threatgram101_telegram", folder / "Labeled_15076.json"
    _check(name, path)
    try:
        records = json_loads(path.read_text(encoding="utf-8"))  # nesting bounded
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(name, path, f"not valid JSON: {exc}") from exc
    if not isinstance(records, list):
        raise SourceError(name, path, "expected a JSON list of objects")
    texts, labels = [], []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or "reply" not in rec or "Label" not in rec:
            raise SourceError(name, path, f"record {i} lacks 'reply' or 'Label'")
        if rec["Label"] not in (0, 1, 2):
            raise SourceError(name, path, f"record {i} has Label {rec['Label']!r}")
        text = rec["reply"]
        if rec["Label"] == 1 or not isinstance(text, str) or not text.strip():
            continue
        texts.append(text)
        labels.append((U, U, 1.0 if rec["Label"] == 2 else 0.0, U))
    return _rows(texts, labels, "en")


def _mlma_label(sentiment: str) -> tuple[float, float, float, float] | None:
    parts = set(str(sentiment).split("_"))
    if parts == {"normal"}:
        return _CLEAN
    if "normal" in parts:
        return None
    if "hateful" in parts:
        return (U, 1.0, U, U)
    if parts & {"offensive", "abusive"}:
        return (1.0, U, U, U)
    return None


def read_mlma(folder: Path) -> pd.DataFrame:
    name = "mlma"
    frames = []
    for lang in ("en", "fr", "ar"):
        path = folder / "hate_speech_mlma" / f"{lang}_dataset.csv"
        df = _valid_text(_read_table(name, path, ["tweet", "sentiment"]), "tweet")
        mapped = [(t, _mlma_label(s)) for t, s in zip(df["tweet"], df["sentiment"], strict=True)]
        kept = [(t, lab) for t, lab in mapped if lab is not None]
        frames.append(_rows([t for t, _ in kept], [lab for _, lab in kept], lang))
    return pd.concat(frames, ignore_index=True)


def read_hasoc(folder: Path) -> pd.DataFrame:
    """HOF ``1 ? ? ?``, NOT clean; the official test part (gold labels) stays test."""
    name = "hasoc2019_en"
    frames = []
    for file, orig in (("hasoc_en_train_A.tsv", ""), ("hasoc_en_dev_A.tsv", ""),
                       ("hasoc_en_gold_A.tsv", "test")):
        path = folder / file
        df = _read_table(name, path, [], sep="\t", header=None, quoting=csv.QUOTE_NONE)
        if df.shape[1] != 3:
            raise SourceError(name, path, f"expected 3 columns (id, text, label), got "
                                          f"{df.shape[1]}")
        df.columns = ["id", "text", "label"]
        df = _valid_text(df, "text")
        _bad_values(name, path, "label", df["label"], {"HOF", "NOT"})
        labels = [(1.0, U, U, U) if v == "HOF" else _CLEAN for v in df["label"]]
        frames.append(_rows(df["text"], labels, "en", orig))
    return pd.concat(frames, ignore_index=True)


def read_ky_news(folder: Path) -> pd.DataFrame:
    name, path = "ky_news_topics_24kg", folder / "qad-train_1000.csv"
    df = _valid_text(_read_table(name, path, ["text"]), "text")
    return _rows(df["text"], [_CLEAN] * len(df), "ky")


def read_kk_kazsandra(folder: Path) -> pd.DataFrame:
    """Review polarity is not toxicity: every row is clean. The test part stays test."""
    name = "kk_kazsandra_sentiment"
    frames = []
    for file, orig in (("04_pc_valid.csv", ""), ("05_pc_test.csv", "test")):
        df = _valid_text(_read_table(name, folder / file, ["text"]), "text")
        frames.append(_rows(df["text"], [_CLEAN] * len(df), "kk", orig))
    return pd.concat(frames, ignore_index=True)


def read_uz_reviews(folder: Path) -> pd.DataFrame:
    name = "uz_app_reviews_sentiment"
    texts = []
    for file in ("UZ_negative.txt", "UZ_positive.txt"):
        texts += [line for line in _read_lines(name, folder / file) if line.strip()]
    return _rows(texts, [_CLEAN] * len(texts), "uz")


# ---- real labelled hate in ru (ethnic), ky, kk, tr: each a part of its public set ----------


def read_ru_ethnohate(folder: Path) -> pd.DataFrame:
    """RuEthnoHate: one row per text from its (text, ethnic group) instances.

    A text with any instance of class -1 (negative attitude to the group) is ``? 1 ? ?``; a
    text whose instances are all 0 or 1 is ``? 0 ? ?`` (it names ethnic groups without
    hostility). The groups and their classes are kept as ``meta_group``/``meta_label``.
    """
    name, path = "ru_ethnohate", folder / "RuEthnoHate.json"
    _check(name, path)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SourceError(name, path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") \
            from exc
    except json.JSONDecodeError as exc:
        raise SourceError(name, path, f"not valid JSON: {exc}") from exc
    if not isinstance(records, list):
        raise SourceError(name, path, "expected a JSON list of (text, ethnic group) instances")
    texts: dict[object, str] = {}
    groups: dict[object, list[tuple[str, int]]] = {}
    for i, rec in enumerate(records):
        needed = {"text_id", "text", "ethnic_group", "class"}
        if not isinstance(rec, dict) or not needed <= set(rec):
            raise SourceError(name, path, f"instance {i} lacks one of text_id, text, "
                                          "ethnic_group, class")
        if rec["class"] not in (-1, 0, 1):
            raise SourceError(name, path, f"instance {i} has class {rec['class']!r} "
                                          "(expected -1, 0 or 1)")
        key = rec["text_id"]
        text = rec["text"]
        if key in texts and texts[key] != text:
            raise SourceError(name, path, f"text_id {key!r} has two different texts")
        texts[key] = text
        groups.setdefault(key, []).append((str(rec["ethnic_group"]).strip(), int(rec["class"])))
    keep = [k for k, t in texts.items() if isinstance(t, str) and t.strip()]
    labels = [(U, 1.0 if min(c for _, c in groups[k]) == -1 else 0.0, U, U) for k in keep]
    meta_group = [";".join(g for g, _ in groups[k]) for k in keep]
    meta_label = [";".join(str(c) for _, c in groups[k]) for k in keep]
    return _rows([texts[k] for k in keep], labels, "ru", meta_group=meta_group,
                 meta_label=meta_label)


def read_ky_youtube_hate(folder: Path) -> pd.DataFrame:
    """Kyrgyz YouTube comments: hate ``1 1 ? ?``, offensive ``1 0 ? ?``, non_hate clean.

    The paper's train and val parts are both read as ordinary rows: the corpus splits the
    comments by group like every source, so real Kyrgyz comments reach dev, calib and test.
    The label as published is kept as ``meta_label`` (three classes, for the paper's metric).
    """
    name = "ky_youtube_hate"
    mapping = {"hate": (1.0, 1.0, U, U), "offensive": (1.0, 0.0, U, U), "non_hate": _CLEAN}
    frames = []
    for file in ("train.csv", "val.csv"):
        path = folder / file
        df = _valid_text(_read_table(name, path, ["text", "label"]), "text")
        labels = df["label"].astype(str).str.strip()
        _bad_values(name, path, "label", labels, set(mapping))
        frames.append(_rows(df["text"], [mapping[v] for v in labels], "ky",
                            meta_label=labels.tolist()))
    return pd.concat(frames, ignore_index=True)


# Tags that end some of the Kazakh set's texts (carried over from the English sources it was
# translated from) and give the label away (``propaganda``, ``radicalization``, ...), and the
# remains of links whose punctuation was removed (``https vk cc ...`` in neutral rows,
# ``pic twitter com ...`` in racism rows), which give it away as well.
_KK_TAG_WORDS = {"propaganda", "radicalization", "radicalizaton", "radicalisation",
                 "recruitment"}
_KK_LINK = regex.compile(r"(?<!\S)(?:h?ttps?|www|pic\s+twitter\s+com)(?:\s+[a-z0-9]+)*")


def strip_label_tags(text: str) -> str:
    """Remove the Kazakh hate set's trailing English label tags and its link remains.

    Example:
        >>> strip_label_tags("бұл қарулы топтың үгіті https vk cc abc propaganda")
        'бұл қарулы топтың үгіті'
    """
    words = _KK_LINK.sub(" ", text).split()
    while words and words[-1].lower() in _KK_TAG_WORDS:
        words.pop()
        words = _KK_LINK.sub(" ", " ".join(words)).split()
    return " ".join(words)


def read_kk_hate_speech(folder: Path) -> pd.DataFrame:
    """Kazakh hate set: racism and nazism ``? 1 ? ?``, bullying ``1 ? ? ?``, violent
    ``? ? ? 1`` (experimental extremism only), neutral clean; trailing label tags stripped."""
    name, path = "kk_hate_speech", folder / "Data.csv"
    mapping = {"racism": (U, 1.0, U, U), "nazism": (U, 1.0, U, U), "bullying": (1.0, U, U, U),
               "violent": (U, U, U, 1.0), "neutral": _CLEAN}
    df = _valid_text(_read_table(name, path, ["message", "label_name"]), "message")
    labels = df["label_name"].astype(str).str.strip()
    _bad_values(name, path, "label_name", labels, set(mapping))
    texts = df["message"].astype(str).map(strip_label_tags)
    keep = texts.str.strip().ne("").to_numpy()
    return _rows(texts[keep], [mapping[v] for v in labels[keep]], "kk",
                 meta_label=labels[keep].tolist())


def read_tr_hate_tweets(folder: Path) -> pd.DataFrame:
    """Turkish tweets naming a group: nefret ``? 1 ? ?``, saldırgan ``1 0 ? ?``, hiçbiri
    clean. The ``Keyword`` (the group searched for) and the hate type are kept."""
    name, path = "tr_hate_tweets", folder / "tweets.csv"
    mapping = {"nefret": (U, 1.0, U, U), "saldırgan": (1.0, 0.0, U, U), "hiçbiri": _CLEAN}
    df = _valid_text(_read_table(name, path, ["tweet", "etiket", "Keyword"], dtype=str,
                                 keep_default_na=False), "tweet")
    labels = df["etiket"].str.strip().str.lower()
    _bad_values(name, path, "etiket", labels, set(mapping))
    kind = df["alt etiket"].str.strip() if "alt etiket" in df else ""
    return _rows(df["tweet"], [mapping[v] for v in labels], "tr",
                 meta_group=df["Keyword"].str.strip().tolist(), meta_label=labels.tolist(),
                 meta_type=kind if isinstance(kind, str) else kind.tolist())


def read_stormfront(folder: Path) -> pd.DataFrame:
    """Opt-in: hate ``? 1 ? ?``, noHate ``? 0 ? ?``, others dropped; its test sample stays test."""
    name, path = "vicomtech_stormfront_en", folder / "stormfront.csv"
    df = _valid_text(_read_table(name, path, ["text", "label"]), "text")
    df = df[df["label"].isin(["hate", "noHate"])]
    labels = [(U, 1.0 if v == "hate" else 0.0, U, U) for v in df["label"]]
    orig = ["test" if s == "test" else "" for s in df.get("sampled_split", [""] * len(df))]
    return _rows(df["text"], labels, "en", orig)


def read_ethos(folder: Path) -> pd.DataFrame:
    """Opt-in: isHate >= 0.5 hate, <= 0.2 not hate; violence (same cut-offs) is threat."""
    name = "ethos_en"
    binary = _read_table(name, folder / "Ethos_Dataset_Binary.csv", ["comment", "isHate"], sep=";")
    multi = _read_table(name, folder / "Ethos_Dataset_Multi_Label.csv", ["comment", "violence"],
                        sep=";")
    violence = dict(zip(multi["comment"], multi["violence"], strict=True))
    texts, labels = [], []
    for text, score in zip(binary["comment"], binary["isHate"], strict=True):
        if not isinstance(text, str) or not text.strip():
            continue
        hate = 1.0 if score >= 0.5 else 0.0 if score <= 0.2 else U
        v = violence.get(text)
        threat = U if v is None else 1.0 if v >= 0.5 else 0.0 if v <= 0.2 else U
        if np.isnan(hate) and np.isnan(threat):
            continue
        texts.append(text)
        labels.append((U, hate, threat, U))
    return _rows(texts, labels, "en")


def read_trac1(folder: Path) -> pd.DataFrame:
    """Opt-in: overt aggression ``1 ? ? ?``, non-aggressive clean, covert dropped."""
    name = "trac1_en_aggression"
    frames = []
    for file, orig in (("agr_en_train.csv", ""), ("agr_en_dev.csv", ""),
                       ("agr_en_fb_gold.csv", "test"), ("agr_en_tw_gold.csv", "test")):
        path = folder / file
        df = _read_table(name, path, [], header=None)
        if df.shape[1] != 3:
            raise SourceError(name, path, f"expected 3 columns (id, text, label), got "
                                          f"{df.shape[1]}")
        df.columns = ["id", "text", "label"]
        df = _valid_text(df, "text")
        _bad_values(name, path, "label", df["label"], {"OAG", "CAG", "NAG"})
        df = df[df["label"] != "CAG"]
        labels = [(1.0, U, U, U) if v == "OAG" else _CLEAN for v in df["label"]]
        frames.append(_rows(df["text"], labels, "en", orig))
    return pd.concat(frames, ignore_index=True)


def _experimental_reader(name: str, files: tuple[str, ...]) -> Callable[[Path], pd.DataFrame]:
    """The s-nlp sets annotate topics and appropriateness, not toxicity: labels stay unknown."""

    def read(folder: Path) -> pd.DataFrame:
        frames = []
        for file in files:
            path = folder / file
            df = _valid_text(_read_table(name, path, ["text"]), "text")
            orig = "test" if "test" in file else ""
            frames.append(_rows(df["text"], [(U, U, U, U)] * len(df), "ru", orig))
        return pd.concat(frames, ignore_index=True)

    read.__name__ = f"read_{name}"
    return read


#: Our own written examples (flagged sources; see ``Source.synthetic``).
SYNTHETIC_DIR = Path(__file__).resolve().parent / "synthetic"
_SYNTHETIC_KINDS = {"hateful", "threat", "hard_negative", "profanity", "negation",
                    "counter_speech", "quoting", "reclaimed", "neutral_mention", "hateful_pair",
                    "threat_pair", "insult", "positive_mention"}
#: ``orig_split`` of augmentation rows: the corpus puts them in train or calib, never dev/test.
AUGMENT = "augment"
#: ``orig_split`` of augmentation rows that go to train only (never calib: our own sentences
#: there moved the stack's thresholds, ``benchmarks/results/default_model_frames_not_shipped.md``).
AUGMENT_TRAIN = "augment-train"
#: ``orig_split`` of augmentation rows that go to calib only (never train: sentences that set a
#: language's thresholds while the members stay zero-shot in it, ``training/uz_sentences.py``).
AUGMENT_CALIB = "augment-calib"
#: Every augmentation ``orig_split``.
AUGMENTS = (AUGMENT, AUGMENT_TRAIN, AUGMENT_CALIB)


def _synthetic_reader(name: str, file: str, lang: str, augmentation: bool = False,
                      train_only: bool = False, calib_only: bool = False
                      ) -> Callable[[Path], pd.DataFrame]:
    """Read one of our synthetic files: labels as written (empty = unknown).

    ``augmentation``: generated sentences (``training/mentions.py``,
    ``training/group_frames.py``), not posts. Their rows
    carry ``orig_split`` :data:`AUGMENT` (train or calib only) and their template as group
    hint, so a template's sentences stay together. ``train_only``: :data:`AUGMENT_TRAIN`
    instead (train only); ``calib_only``: :data:`AUGMENT_CALIB` (calib only).
    """
    if train_only and calib_only:
        raise ValueError("an augmentation source is train-only or calib-only, not both")

    def read(folder: Path) -> pd.DataFrame:
        path = folder / file
        df = _read_table(name, path, ["text", *LABELS, "kind"], dtype=str,
                         keep_default_na=False)
        df = _valid_text(df, "text")
        _bad_values(name, path, "kind", df["kind"], _SYNTHETIC_KINDS)
        labels = np.full((len(df), len(LABELS)), np.nan)
        for j, label in enumerate(LABELS):
            column = df[label].str.strip()
            _bad_values(name, path, label, column, {"0", "1", ""})
            labels[:, j] = column.map({"0": 0.0, "1": 1.0, "": np.nan}).to_numpy(float)
        if augmentation:
            return _rows(df["text"], labels, lang,
                         orig_split=(AUGMENT_TRAIN if train_only else
                                     AUGMENT_CALIB if calib_only else AUGMENT),
                         group_hint=(f"{name}:" + df["template"]).tolist())
        return _rows(df["text"], labels, lang)

    read.__name__ = f"read_{name}"
    return read


_SOURCES: tuple[Source, ...] = (
    Source("ru_2ch_pikabu", "research-unclear", ("ru",), read_ru_2ch_pikabu, ("labeled.csv",)),
    Source("ru_paradetox_russe2022", "research-unclear", ("ru",), read_ru_paradetox,
           ("train.tsv", "dev.tsv", "test.tsv")),
    Source("offenseval2020_tr", "permissive", ("tr",), read_offenseval_tr,
           ("offenseval-tr-training-v1.tsv",)),
    Source("davidson_en", "permissive", ("en",), read_davidson, ("labeled_data.csv",)),
    Source("gab_hate_corpus_en", "research-unclear", ("en",), read_gab, ("ghc_train.tsv",)),
    Source("implicit_hate_en", "permissive", ("en",), read_implicit_hate,
           ("implicit_hate_v1_stg1_posts.tsv", "implicit_hate_v1_stg2_posts.tsv")),
    Source("threatgram101_telegram", "permissive", ("en",), read_threatgram,
           ("Labeled_15076.json",)),
    Source("mlma", "permissive", ("en", "fr", "ar"), read_mlma,
           tuple(f"hate_speech_mlma/{lang}_dataset.csv" for lang in ("en", "fr", "ar"))),
    Source("hasoc2019_en", "research-unclear", ("en",), read_hasoc,
           ("hasoc_en_train_A.tsv", "hasoc_en_dev_A.tsv", "hasoc_en_gold_A.tsv")),
    Source("ky_news_topics_24kg", "research-unclear", ("ky",), read_ky_news,
           ("qad-train_1000.csv",), capped=True),
    Source("kk_kazsandra_sentiment", "research-unclear", ("kk",), read_kk_kazsandra,
           ("04_pc_valid.csv", "05_pc_test.csv"), capped=True),
    Source("uz_app_reviews_sentiment", "research-unclear", ("uz",), read_uz_reviews,
           ("UZ_negative.txt", "UZ_positive.txt"), capped=True),
    Source("ru_ethnohate", "research-unclear", ("ru",), read_ru_ethnohate,
           ("RuEthnoHate.json",)),
    Source("ky_youtube_hate", "research-unclear", ("ky",), read_ky_youtube_hate,
           ("train.csv", "val.csv")),
    Source("kk_hate_speech", "research-unclear", ("kk",), read_kk_hate_speech, ("Data.csv",)),
    Source("tr_hate_tweets", "research-unclear", ("tr",), read_tr_hate_tweets, ("tweets.csv",)),
    Source("vicomtech_stormfront_en", "copyleft", ("en",), read_stormfront, ("stormfront.csv",),
           default=False),
    Source("ethos_en", "copyleft", ("en",), read_ethos,
           ("Ethos_Dataset_Binary.csv", "Ethos_Dataset_Multi_Label.csv"), default=False),
    Source("trac1_en_aggression", "non-commercial", ("en",), read_trac1,
           ("agr_en_train.csv", "agr_en_dev.csv", "agr_en_fb_gold.csv", "agr_en_tw_gold.csv"),
           default=False),
    Source("ru_sensitive_topics_snlp", "non-commercial", ("ru",),
           _experimental_reader("ru_sensitive_topics_snlp", ("val.csv", "test.csv")),
           ("val.csv", "test.csv"), default=False, experimental=True),
    Source("ru_inappropriate_snlp", "non-commercial", ("ru",),
           _experimental_reader("ru_inappropriate_snlp", ("v1_val.csv", "v1_test.csv")),
           ("v1_val.csv", "v1_test.csv"), default=False, experimental=True),
    Source("synthetic_ru", "permissive", ("ru",),
           _synthetic_reader("synthetic_ru", "ru_synthetic.csv", "ru"), ("ru_synthetic.csv",),
           default=False, synthetic=True),
    Source("synthetic_ky", "permissive", ("ky",),
           _synthetic_reader("synthetic_ky", "ky_synthetic.csv", "ky"), ("ky_synthetic.csv",),
           default=False, synthetic=True),
    Source("synthetic_en_contrast", "permissive", ("en",),
           _synthetic_reader("synthetic_en_contrast", "en_contrast.csv", "en"),
           ("en_contrast.csv",), default=False, synthetic=True),
    Source("synthetic_ru_mentions", "permissive", ("ru",),
           _synthetic_reader("synthetic_ru_mentions", "ru_mentions.csv", "ru", augmentation=True),
           ("ru_mentions.csv",), default=False, synthetic=True),
    Source("synthetic_ky_mentions", "permissive", ("ky",),
           _synthetic_reader("synthetic_ky_mentions", "ky_mentions.csv", "ky", augmentation=True),
           ("ky_mentions.csv",), default=False, synthetic=True),
    Source("synthetic_kk_mentions", "permissive", ("kk",),
           _synthetic_reader("synthetic_kk_mentions", "kk_mentions.csv", "kk", augmentation=True),
           ("kk_mentions.csv",), default=False, synthetic=True),
    Source("synthetic_en_mentions", "permissive", ("en",),
           _synthetic_reader("synthetic_en_mentions", "en_mentions.csv", "en", augmentation=True),
           ("en_mentions.csv",), default=False, synthetic=True),
    Source("synthetic_ru_frames", "permissive", ("ru",),
           _synthetic_reader("synthetic_ru_frames", "ru_frames.csv", "ru", augmentation=True,
                             train_only=True),
           ("ru_frames.csv",), default=False, synthetic=True, opt_in=True),
    Source("synthetic_ky_frames", "permissive", ("ky",),
           _synthetic_reader("synthetic_ky_frames", "ky_frames.csv", "ky", augmentation=True,
                             train_only=True),
           ("ky_frames.csv",), default=False, synthetic=True, opt_in=True),
    Source("synthetic_kk_frames", "permissive", ("kk",),
           _synthetic_reader("synthetic_kk_frames", "kk_frames.csv", "kk", augmentation=True,
                             train_only=True),
           ("kk_frames.csv",), default=False, synthetic=True, opt_in=True),
    Source("synthetic_uz_calib", "permissive", ("uz",),
           _synthetic_reader("synthetic_uz_calib", "uz_calib.csv", "uz", augmentation=True,
                             calib_only=True),
           ("uz_calib.csv",), default=False, synthetic=True, opt_in=True, local=True),
)

#: Registered labelled sources by name.
SOURCES: dict[str, Source] = {source.name: source for source in _SOURCES}


def select_sources(names: Sequence[str] | None, licences: Sequence[str], synthetic: bool = False,
                   add: Sequence[str] = ()) -> list[Source]:
    """Registered sources to read: named ones, or the defaults within the licence classes, plus
    our synthetic sources (but the opt-in ones) when asked for, plus those named in ``add``.

    Raises:
        ValueError: A named source's licence class is not allowed, or a source in ``add`` is
            not registered.
    """
    unknown = [name for name in add if name not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; registered: {sorted(SOURCES)}")
    extra = [s for s in SOURCES.values() if s.synthetic and synthetic and not s.opt_in
             and s.licence in licences]
    extra += [SOURCES[name] for name in add if SOURCES[name] not in extra]
    if names is None:
        return [s for s in SOURCES.values() if s.default and s.licence in licences] + extra
    chosen = [SOURCES[name] for name in names]
    chosen += [s for s in extra if s not in chosen]
    refused = [s.name for s in chosen if s.licence not in licences]
    if refused:
        raise ValueError(
            f"source(s) {refused} are outside the allowed licence classes {list(licences)}; "
            "add their class to include them"
        )
    return chosen


def collected_rows(frame: pd.DataFrame) -> pd.Series:
    """True for corpus rows that are collected posts: at least one of the row's sources (a
    merged row lists several, ``;``-separated) is not one of our own written ones
    (``synthetic``). Keyboard variants of a collected post count as collected."""
    ours = {name for name, src in SOURCES.items() if src.synthetic}
    return ~frame["source"].str.split(";").map(lambda names: set(names) <= ours)


def local_rows(frame: pd.DataFrame) -> pd.Series:
    """True for corpus rows whose every source is ``local`` (:class:`Source`): they fit their
    own language's stack and thresholds only."""
    local = {name for name, src in SOURCES.items() if src.local}
    return frame["source"].str.split(";").map(lambda names: set(names) <= local)


#: Lexicons: word lists for features, augmentation or tagging, never corpus rows.
LEXICONS: dict[str, str] = {
    "lexicon_ru_obscene_mat": "permissive",
    "lexicon_hurtlex": "non-commercial",
}


def read_source(source: Source | str, data_dir: Path) -> pd.DataFrame:
    """Read one registered source into rows with its decided label mapping.

    Args:
        source: A :class:`Source` or its name.
        data_dir: The folder holding one sub-folder per source.

    Returns:
        A frame with :data:`ROW_COLUMNS` plus ``source`` and ``licence``.

    Raises:
        SourceError: The folder or a file is missing or malformed; or ``source`` is a lexicon.
    """
    if isinstance(source, str):
        if source in LEXICONS:
            raise SourceError(source, data_dir / source,
                              "is a lexicon: lexicons never become corpus rows")
        if source not in SOURCES:
            raise SourceError(source, data_dir / source,
                              f"unknown source; registered: {sorted(SOURCES)}")
        source = SOURCES[source]
    folder = source.folder(data_dir)
    if not folder.is_dir():
        raise SourceError(source.name, folder, "source folder not found (is WARNING_DATA_DIR set?)")
    for file in source.files:
        _check(source.name, folder / file)
    frame = source.reader(folder)
    frame["source"] = source.name
    frame["licence"] = source.licence
    return frame


def load_lexicon(name: str, data_dir: Path) -> dict[str, list[str]]:
    """A lexicon's words per language (``{"ru": [...], ...}``), for features or tagging only.

    Raises:
        SourceError: Unknown lexicon, or a missing or malformed file.
    """
    folder = Path(data_dir) / name
    if name == "lexicon_ru_obscene_mat":
        lines = _read_lines(name, folder / "MAT_FINAL_with_unigram_inflections.txt")
        return {"ru": sorted({line.strip().lower() for line in lines if line.strip()})}
    if name == "lexicon_hurtlex":
        out = {}
        for lang in ("RU", "TR", "EN"):
            df = _read_table(name, folder / f"hurtlex_{lang}.tsv", ["lemma", "category"], sep="\t")
            out[lang.lower()] = sorted(set(df["lemma"].dropna().astype(str).str.lower()))
        return out
    raise SourceError(name, folder, f"unknown lexicon; registered: {sorted(LEXICONS)}")


@dataclass
class UserSource:
    """A researcher's own labelled CSV or JSONL file, mapped column by column and read row by
    row (:mod:`training.user_import`): a row that cannot be used (unreadable, no text, a bad
    label, no language) is left out and reported with its line, id and reason, never stopping
    the build; a file that cannot be read as a table stops it (:class:`SourceError`).

    Attributes:
        path: The file (``.csv``, ``.tsv``, ``.jsonl`` or ``.json`` lines).
        text_col: Column with the post.
        labels: Our label name -> the file's column; values 1/0, true/false, yes/no; empty is
            unknown. Labels not listed are unknown for every row.
        lang: Language of every row (a code of two or three letters); when neither this nor
            ``lang_col`` is given, each row's language is detected.
        lang_col: Column with a language code per row.
        split_col: Optional column with ``test`` for rows that must stay in the test split.
        name: Source name in the corpus (default: the file's stem).
        licence: Free text recorded with the rows (default ``user``).
        apostrophe_escaped: A CSV written by ``warning feedback export``: one leading
            apostrophe is removed from each text (it guards formulas in spreadsheets; see
            ``warning.feedback.csv_escape``).

    Example:
        >>> src = UserSource("my_posts.csv", text_col="message", labels={"hate": "is_hate"},
        ...                  lang="ky")
    """

    path: Path | str
    text_col: str = "text"
    labels: Mapping[str, str] = field(default_factory=dict)
    lang: str | None = None
    lang_col: str | None = None
    split_col: str | None = None
    name: str | None = None
    licence: str = "user"
    apostrophe_escaped: bool = False

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        unknown = set(self.labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}; labels are {list(LABELS)}")
        if self.name is None:
            self.name = f"user:{self.path.stem}"

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values (what :meth:`from_dict` reads back)."""
        return {**asdict(self), "path": str(self.path), "labels": dict(self.labels)}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> UserSource:
        """The source :meth:`to_dict` wrote (a :class:`FeedbackSource` for ``kind: feedback``)."""
        fields = {k: v for k, v in data.items() if k != "kind"}
        return FeedbackSource(**fields) if data.get("kind") == "feedback" else UserSource(**fields)

    def read(self) -> pd.DataFrame:
        """The usable rows (see :meth:`read_checked`)."""
        return self.read_checked()[0]

    def read_checked(self) -> tuple[pd.DataFrame, list[Reject], dict | None]:
        """The usable rows (:data:`ROW_COLUMNS` plus ``source`` and ``licence``), the rows
        left out, each with its line, id and reason (:mod:`training.user_import`), and a
        summary of the file.

        Raises:
            SourceError: The file is missing, of another type, not a table (CSV, TSV, JSON
                lines), lacks a column it is told to read, or ``lang`` is not a language code.
        """
        name, path = str(self.name), Path(self.path)
        try:
            rows = read_user_file(path, source=name, text_col=self.text_col,
                                  labels=self.labels, lang=self.lang, lang_col=self.lang_col,
                                  split_col=self.split_col,
                                  apostrophe_escaped=self.apostrophe_escaped)
        except TableError as exc:
            raise SourceError(name, path, str(exc)) from None
        frame = _rows(rows.texts, rows.labels, rows.langs, rows.splits)
        frame["source"] = name
        frame["licence"] = self.licence
        return frame, rows.rejects, rows.summary(path)


#: Source name and licence of the moderators' reviewed feedback in a corpus.
FEEDBACK_SOURCE = "feedback"
FEEDBACK_LICENCE = "own reviewed feedback"


@dataclass
class FeedbackSource(UserSource):
    """The export of ``warning feedback export`` (JSON lines or CSV), read row by row
    (:mod:`training.feedback_import`): a row that cannot be used is reported with its line, id
    and reason instead of stopping the build or vanishing.

    Attributes:
        max_chars: Longest text used (default: the feedback store's default limit).
    """

    text_col: str = "text"
    labels: Mapping[str, str] = field(default_factory=lambda: {label: label for label in LABELS})
    lang_col: str | None = "lang"
    name: str | None = FEEDBACK_SOURCE
    licence: str = FEEDBACK_LICENCE
    apostrophe_escaped: bool = True
    max_chars: int = MAX_TEXT_CHARS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {self.max_chars}")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "kind": "feedback"}

    def read_checked(self) -> tuple[pd.DataFrame, list[Reject], dict | None]:
        """The usable rows (:data:`ROW_COLUMNS`, ``source``, ``licence`` and the row's file,
        line and id), the rows left out, and a summary of the file.

        Raises:
            SourceError: The file is missing or not an export at all.
        """
        name, path = str(self.name), Path(self.path)
        try:
            export = read_export(path, source=name, max_chars=self.max_chars)
        except ExportError as exc:
            raise SourceError(name, path, str(exc)) from None
        frame = _rows(export.texts, export.labels, export.langs)
        frame["source"] = name
        frame["licence"] = self.licence
        return export.with_origin(frame, path), export.rejects, export.summary(path)


def feedback_source(path: Path | str, *, name: str = FEEDBACK_SOURCE,
                    licence: str = FEEDBACK_LICENCE,
                    max_chars: int = MAX_TEXT_CHARS) -> FeedbackSource:
    """The export of ``warning feedback export`` (JSON lines or CSV) as a user source.

    Every label column is read; a label the moderator left out is empty in the export and stays
    unknown (NaN) in the corpus, never 0. Only confirmed items are ever in an export; a row
    that is not (a ``status`` other than confirmed, no ``reviewed`` time) is left out and
    reported, as is every other row that cannot be used (:mod:`training.feedback_import`).

    Example:
        >>> feedback_source("feedback.jsonl").labels["hate"]
        'hate'
    """
    return FeedbackSource(path, name=name, licence=licence, max_chars=max_chars)
