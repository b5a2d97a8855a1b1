"""Build one Parquet corpus from chosen sources: deduplicated, grouped and split.

The steps (DESIGN.md, "Data"):

1. read the chosen sources (registered ones by name and licence class, plus user files);
2. normalise every text (:func:`warning.text.normalize.normalize`) and drop rows left empty;
3. merge exact duplicates after normalisation and case folding, across sources; a label on
   which the copies disagree becomes unknown (and is counted);
4. group near-duplicates (MinHash, :mod:`training.near_duplicates`) together with the groups a
   source declares (a ParaDetox toxic sentence and its rewrites);
5. split by group, deterministically: a group's split depends only on its own content, so adding
   unrelated rows never moves a row; a group holding any row of a source's official test part
   goes to test, and a group made only of augmentation sentences (``training/mentions.py``)
   goes to train or calib (train-only ones, ``training/group_frames.py``, to train), never to
   dev or test;
6. add keyboard variants (``keyboard_variants``): each training row in Kyrgyz or Kazakh that
   has its own letters is copied as typed on a Russian keyboard
   (:func:`warning.text.normalize.keyboard_fold`), with the row's labels, source, group and
   split and ``derived = "keyboard"``; dev, calib and test stay as published, so no figure
   mixes them;
7. add plain variants (``plain_variants``, off by default): training rows in the chosen
   languages copied lower-cased and without punctuation (``derived = "plain"``), so that the
   style of one labelled source is not learned as its label (:mod:`training.variants`).

:func:`corpus_dataset` opens a written corpus as a Hugging Face ``datasets.Dataset`` (Arrow,
memory-mapped from the Parquet file).

Example:
    >>> from training.corpus import CorpusConfig, build_corpus
    >>> corpus = build_corpus(CorpusConfig(sources=["davidson_en"]))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from warning.labels import LABELS
from warning.settings import data_dir as default_data_dir
from warning.text.normalize import normalize

from .feedback_import import Reject, check_feedback_rows, feedback_stats, text_key, write_rejects
from .near_duplicates import UnionFind, near_duplicate_pairs
from .sources import (
    AUGMENT,
    AUGMENT_CALIB,
    AUGMENT_TRAIN,
    AUGMENTS,
    DEFAULT_LICENCES,
    LICENCE_CLASSES,
    META_COLUMNS,
    SOURCES,
    SourceError,
    UserSource,
    read_source,
    select_sources,
)
from .variants import add_keyboard_variants, add_plain_variants

__all__ = [
    "SPLITS",
    "CorpusConfig",
    "add_keyboard_variants",
    "assign_splits",
    "build_corpus",
    "corpus_dataset",
    "corpus_table",
    "derive_weak_hate",
    "select_sources",
    "write_corpus",
]

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "calib", "test")


@dataclass
class CorpusConfig:
    """What goes into the corpus and how it is split.

    Attributes:
        sources: Registered source names; ``None`` takes every default source whose licence
            class is in ``licences``. Naming an opt-in source includes it.
        licences: Licence classes allowed (default: permissive and research-unclear).
        user_sources: Researchers' own labelled files.
        data_dir: Folder of the public datasets (default: ``WARNING_DATA_DIR``).
        ratios: Shares of train, dev, calib and test for groups outside official test parts.
        near_duplicate_threshold: Jaccard similarity of character 5-grams that joins two texts
            into one group.
        synthetic: Add our own written examples (``training/synthetic/``; a flagged source),
            except the opt-in ones (``Source.opt_in``).
        add_sources: Sources added to the chosen ones by name (opt-in synthetic ones too).
        weak_hate_languages: Derive ``hate`` positives in these languages: a row labelled
            offensive whose ``hate`` is unknown and that names an identity group (target tagger,
            slurs included) gets ``hate = 1``, marked ``derived = "weak:hate"``. Off by default.
        keyboard_variants: Languages whose training rows are also added as typed on a Russian
            keyboard (their own letters folded; ``derived = "keyboard"``, same labels, group
            and split). Default Kyrgyz and Kazakh, whose real posts are mostly typed that way;
            empty to switch it off.
        plain_variants: Languages whose training rows (keyboard variants included) are also
            added lower-cased and without punctuation (``derived = "plain"``, same labels,
            group and split). Off by default.
    """

    sources: list[str] | None = None
    licences: list[str] = field(default_factory=lambda: list(DEFAULT_LICENCES))
    user_sources: list[UserSource] = field(default_factory=list)
    data_dir: Path | None = None
    ratios: tuple[float, float, float, float] = (0.70, 0.10, 0.10, 0.10)
    near_duplicate_threshold: float = 0.8
    synthetic: bool = False
    add_sources: tuple[str, ...] = ()
    weak_hate_languages: tuple[str, ...] = ()
    keyboard_variants: tuple[str, ...] = ("ky", "kk")
    plain_variants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.weak_hate_languages = tuple(self.weak_hate_languages)
        self.keyboard_variants = tuple(self.keyboard_variants)
        self.plain_variants = tuple(self.plain_variants)
        self.add_sources = tuple(self.add_sources)
        from warning.text.normalize import KEYBOARD_FOLDS

        bad_kbd = [lang for lang in self.keyboard_variants if lang not in KEYBOARD_FOLDS]
        if bad_kbd:
            raise ValueError(f"keyboard_variants: no keyboard folding for {bad_kbd}; known: "
                             f"{sorted(KEYBOARD_FOLDS)}")
        bad = [c for c in self.licences if c not in LICENCE_CLASSES]
        if bad:
            raise ValueError(f"unknown licence class(es) {bad}; known: {list(LICENCE_CLASSES)}")
        if self.sources is not None:
            unknown = [s for s in self.sources if s not in SOURCES]
            if unknown:
                raise ValueError(f"unknown source(s) {unknown}; registered: {sorted(SOURCES)}")
        self.ratios = tuple(float(r) for r in self.ratios)  # type: ignore[assignment]
        if len(self.ratios) != len(SPLITS) or min(self.ratios) < 0 or \
                abs(sum(self.ratios) - 1.0) > 1e-6:
            raise ValueError(f"ratios must be {len(SPLITS)} non-negative shares summing to 1, "
                             f"got {self.ratios}")
        if not 0.0 < self.near_duplicate_threshold <= 1.0:
            raise ValueError("near_duplicate_threshold must be in (0, 1]")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["data_dir"] = str(self.data_dir) if self.data_dir else None
        out["user_sources"] = [u.to_dict() for u in self.user_sources]
        out["ratios"] = list(self.ratios)
        out["weak_hate_languages"] = list(self.weak_hate_languages)
        out["keyboard_variants"] = list(self.keyboard_variants)
        out["plain_variants"] = list(self.plain_variants)
        out["add_sources"] = list(self.add_sources)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> CorpusConfig:
        data = dict(data)
        data["user_sources"] = [UserSource.from_dict(u) for u in data.get("user_sources", [])]
        if data.get("data_dir"):
            data["data_dir"] = Path(data["data_dir"])
        if "ratios" in data:
            data["ratios"] = tuple(data["ratios"])
        for key in ("weak_hate_languages", "keyboard_variants", "plain_variants",
                    "add_sources"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def _stable_unit(value: str, salt: str) -> float:
    digest = hashlib.sha1(f"{salt}:{value}".encode()).hexdigest()
    return int(digest[:13], 16) / float(16**13)


def _merged_orig_split(values: pd.Series) -> str:
    """``test`` if any copy is an official test row; :data:`AUGMENT_TRAIN` (``AUGMENT_CALIB``)
    if every copy is train-only (calib-only) augmentation, :data:`AUGMENT` if every copy is
    augmentation of any kind (never dev or test); else none."""
    if (values == "test").any():
        return "test"
    sole = next((kind for kind in (AUGMENT_TRAIN, AUGMENT_CALIB) if (values == kind).all()), "")
    return sole or (AUGMENT if values.isin(AUGMENTS).all() else "")


def _first_non_empty(values: pd.Series) -> str:
    return next((v for v in values if isinstance(v, str) and v), "")


def _merge_exact_duplicates(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per dedup key; labels merged (disagreement -> unknown). Returns (rows, conflicts)."""
    rows = rows.sort_values(["key", "source"], kind="stable")
    grouped = rows.groupby("key", sort=True)
    merged = grouped.agg(
        text=("text", "first"),
        text_norm=("text_norm", "first"),
        lang=("lang", "first"),
        source=("source", lambda s: ";".join(sorted(set(s)))),
        licence=("licence", lambda s: ";".join(sorted(set(s)))),
        orig_split=("orig_split", _merged_orig_split),
        group_hint=("group_hint", lambda s: "|".join(sorted({h for h in s if h}))),
        n_copies=("text", "size"),
        **{column: (column, _first_non_empty) for column in META_COLUMNS},
    )
    conflicts = 0
    for label in LABELS:
        lo, hi = grouped[label].min(), grouped[label].max()
        value = lo.where(lo == hi)  # NaN where copies disagree or all unknown
        conflicts += int(((lo != hi) & lo.notna()).sum())
        merged[label] = value
    return merged.reset_index(), conflicts


def assign_splits(
    frame: pd.DataFrame, ratios: Sequence[float] = (0.70, 0.10, 0.10, 0.10),
    threshold: float = 0.8,
) -> pd.DataFrame:
    """Add ``group`` and ``split`` to deduplicated rows (needs ``id``, ``key``, ``group_hint``,
    ``orig_split``).

    A group is a connected set of near-duplicates and declared pairs; its id is the smallest
    row id in it, so it depends on its members only. The split comes from a hash of that id,
    except that a group containing an official test row goes to test.
    """
    n = len(frame)
    uf = UnionFind(n)
    for i, j in near_duplicate_pairs(frame["key"].tolist(), threshold=threshold):
        uf.union(i, j)
    first_with_hint: dict[str, int] = {}
    for i, hints in enumerate(frame["group_hint"]):
        for hint in filter(None, hints.split("|")):
            if hint in first_with_hint:
                uf.union(i, first_with_hint[hint])
            else:
                first_with_hint[hint] = i
    roots = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    ids = frame["id"].to_numpy()
    group_of_root = pd.Series(ids).groupby(roots).min()
    groups = group_of_root.loc[roots].to_numpy()
    out = frame.copy()
    out["group"] = groups
    official_test = pd.Series(frame["orig_split"].eq("test").to_numpy()).groupby(groups).any()
    augmentation = pd.Series(frame["orig_split"].isin(AUGMENTS).to_numpy()).groupby(groups).all()
    # augmentation that goes to one split only: train-only, calib-only
    only = {split: pd.Series(frame["orig_split"].eq(kind).to_numpy()).groupby(groups).all()
            for split, kind in (("train", AUGMENT_TRAIN), ("calib", AUGMENT_CALIB))}
    bounds = np.cumsum(ratios)
    split_of_group = {}
    for group in official_test.index:
        if official_test.loc[group]:
            split_of_group[group] = "test"
        elif any(sole.loc[group] for sole in only.values()):
            split_of_group[group] = next(s for s, sole in only.items() if sole.loc[group])
        elif augmentation.loc[group]:
            # generated sentences: train or calib in the ratio of those two, never dev/test
            u = _stable_unit(group, "split")
            share = ratios[0] / (ratios[0] + ratios[SPLITS.index("calib")])
            split_of_group[group] = "train" if u < share else "calib"
        else:
            u = _stable_unit(group, "split")
            split_of_group[group] = SPLITS[int(np.searchsorted(bounds, u, side="right"))
                                          if u < bounds[-1] else len(SPLITS) - 1]
    out["split"] = out["group"].map(split_of_group)
    return out


def build_corpus(config: CorpusConfig | None = None) -> pd.DataFrame:
    """Read, normalise, deduplicate, group and split the chosen sources.

    Returns:
        One row per distinct text with ``id``, ``text`` (as published), ``text_norm``, ``lang``,
        the label columns (1.0, 0.0 or NaN for unknown), ``source``, ``licence``, ``capped``,
        ``group``, ``split``, ``orig_split`` and ``n_copies``. ``attrs["stats"]`` holds the
        counts of dropped and merged rows; ``attrs["rejects"]`` the feedback rows left out or
        with a label set unknown, each with its file, line, id and reason
        (:mod:`training.feedback_import`).

    Raises:
        SourceError: A chosen source's folder or file is missing or malformed.
        ValueError: No rows at all, or a disallowed source.
    """
    config = config or CorpusConfig()
    root = Path(config.data_dir) if config.data_dir else default_data_dir()
    frames = []
    for source in select_sources(config.sources, config.licences, config.synthetic,
                                 config.add_sources):
        log.info("reading %s", source.name)
        frames.append(read_source(source, root))
    rejects: list[Reject] = []
    feedback_files: list[dict] = []
    for user in config.user_sources:
        frame, found, summary = user.read_checked()
        frames.append(frame)
        rejects += found
        feedback_files += [summary] if summary else []
    if not frames:
        raise ValueError("no sources selected")
    rows = pd.concat(frames, ignore_index=True)
    for column in META_COLUMNS:  # user files and older readers carry no metadata
        rows[column] = rows[column].fillna("") if column in rows else ""
    rows["text_norm"] = rows["text"].map(normalize)
    rows["key"] = rows["text_norm"].map(text_key)
    rows, found = check_feedback_rows(rows)  # named, not only counted
    rejects += found
    n_read = len(rows)
    empty = rows["key"].eq("")
    rows = rows[~empty]
    merged, conflicts = _merge_exact_duplicates(rows)
    merged["derived"] = ""
    weak = derive_weak_hate(merged, config.weak_hate_languages)
    merged.insert(0, "id", merged["key"].map(lambda k: hashlib.sha1(k.encode()).hexdigest()[:16]))
    merged = assign_splits(merged, config.ratios, config.near_duplicate_threshold)
    capped = {s.name for s in SOURCES.values() if s.capped}
    merged["capped"] = merged["source"].map(lambda s: bool(set(s.split(";")) & capped))
    n_merged = len(merged)
    merged, n_keyboard = add_keyboard_variants(merged, config.keyboard_variants)
    merged, n_plain = add_plain_variants(merged, config.plain_variants)
    columns = ["id", "text", "text_norm", "lang", *LABELS, "source", "licence", "capped",
               "group", "split", "orig_split", "n_copies", "derived", *META_COLUMNS]
    corpus = merged[columns].sort_values("id", kind="stable").reset_index(drop=True)
    if corpus.empty:
        raise ValueError("the chosen sources gave no usable rows")
    corpus.attrs["stats"] = {
        "rows_read": int(n_read),
        "empty_after_normalisation": int(empty.sum()),
        "exact_duplicates_merged": int(len(rows) - n_merged),
        "label_conflicts_set_unknown": int(conflicts),
        "weak_hate_labels": int(weak),
        "keyboard_variants_added": int(n_keyboard),
        "plain_variants_added": int(n_plain),
        "near_duplicate_groups": int((corpus.groupby("group").size() > 1).sum()),
        "rows": len(corpus),
        **feedback_stats(feedback_files, rejects),
        "config": config.to_dict(),
    }
    corpus.attrs["rejects"] = sorted(rejects, key=lambda r: (r.file, r.line))  # write_corpus
    return corpus


def corpus_dataset(path: Path | str, cache_dir: Path | str | None = None):
    """The corpus written by :func:`write_corpus` as a Hugging Face ``datasets.Dataset``.

    Arrow, memory-mapped from the Parquet file (the Parquet file stays the artefact on disk),
    with every corpus column: ``text``, ``lang``, the label columns (NaN = unknown), ``split``,
    ``source``, ``group``, ``derived`` and the source metadata.

    Args:
        path: The corpus Parquet file.
        cache_dir: Where ``datasets`` keeps its Arrow copy (default: ``hf_cache`` beside the
            corpus).

    Returns:
        A ``datasets.Dataset``; ``ds.filter(lambda r: r["split"] == "train")`` gives a split.

    Raises:
        SourceError: The file is missing or is not a corpus.
        ImportError: ``datasets`` is not installed (it is in the ``train`` extra).

    Example:
        >>> ds = corpus_dataset("corpus/corpus.parquet")  # doctest: +SKIP
        >>> ds.filter(lambda r: r["split"] == "test").to_pandas()  # doctest: +SKIP
    """
    try:
        import datasets
    except ImportError as exc:
        raise ImportError("the corpus as a datasets.Dataset needs the 'train' extra: "
                          "pip install -e '.[train]' (or: pip install datasets)") from exc
    path = Path(path)
    _check_corpus_file(path)
    cache = Path(cache_dir) if cache_dir else path.parent / "hf_cache"
    datasets.disable_progress_bars()
    return datasets.Dataset.from_parquet(str(path), cache_dir=str(cache), keep_in_memory=False)


def derive_weak_hate(rows: pd.DataFrame, languages: Sequence[str]) -> int:
    """Mark ``hate = 1`` on offensive rows in ``languages`` whose ``hate`` is unknown and that
    name an identity group; returns how many rows changed (in place, ``derived = weak:hate``).

    This is a documented, noisy derivation: an insult that merely mentions a group ("my Uzbek
    neighbour is an idiot") becomes a hate positive too. It is flagged per row so every figure
    can be reported with and without it.
    """
    if not languages:
        return 0
    from warning.text.targets import find_targets

    candidates = rows["lang"].isin(languages) & rows["offensive"].eq(1.0) & rows["hate"].isna()
    hit = rows.loc[candidates, "text_norm"].map(lambda t: bool(find_targets(t)))
    index = hit[hit].index
    rows.loc[index, "hate"] = 1.0
    rows.loc[index, "derived"] = "weak:hate"
    return len(index)


def _label_counts(frame: pd.DataFrame) -> list[str]:
    cells = []
    for label in LABELS:
        col = frame[label]
        cells.append(f"{int((col == 1).sum())}/{int((col == 0).sum())}/{int(col.isna().sum())}")
    return cells


def corpus_table(corpus: pd.DataFrame) -> str:
    """Counts per source, language and split, with positive/negative/unknown per label.

    A row merged from several sources is counted under each of them in the source section.
    """
    header = ["", "rows", *[f"{label} +/-/?" for label in LABELS]]
    lines = []
    # A row merged from several sources counts once under each of them.
    by_source = corpus.assign(source=corpus["source"].str.split(";")).explode("source")
    sections = [("source", by_source, "source"), ("language", corpus, "lang"),
                ("split", corpus, "split")]
    if "derived" in corpus and corpus["derived"].fillna("").ne("").any():
        derived = corpus.assign(derived=corpus["derived"].fillna("").replace("", "as published")
                                .str.split(";")).explode("derived")
        sections.append(("derived (flagged rows)", derived, "derived"))
    for title, frame, column in sections:
        lines.append([f"by {title}", "", *[""] * len(LABELS)])
        for value, part in frame.groupby(column, sort=True):
            lines.append([f"  {value}", str(len(part)), *_label_counts(part)])
        if title == "source":
            shared = int(corpus["source"].str.contains(";").sum())
            lines.append(["  (rows in several sources)", str(shared), *[""] * len(LABELS)])
    lines.append(["total", str(len(corpus)), *_label_counts(corpus)])
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = lambda row: "  ".join(  # noqa: E731
        cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
    )
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def write_corpus(corpus: pd.DataFrame, path: Path) -> Path:
    """Write the corpus as Parquet, with its stats and table in ``<name>.stats.json``/``.md``
    and the feedback rows left out or with a label set unknown in ``<name>.rejects.csv``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stats = corpus.attrs.get("stats", {})
    frame = corpus.copy()
    frame.attrs = {}
    frame.to_parquet(path, index=False)
    path.with_suffix(".stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False))
    path.with_suffix(".md").write_text(corpus_table(corpus) + "\n")
    write_rejects(path.with_suffix(".rejects.csv"), corpus.attrs.get("rejects", []))
    return path


def _check_corpus_file(path: Path) -> None:
    """Raise :class:`SourceError` unless ``path`` is a corpus file (reads the schema only)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise SourceError("corpus", path, "file not found; build it with `warning train corpus`")
    try:
        names = set(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError("corpus", path, f"not a Parquet file: {exc}") from exc
    missing = [c for c in ("id", "text", "lang", *LABELS, "split") if c not in names]
    if missing:
        raise SourceError("corpus", path, f"not a corpus: missing column(s) {missing}")


def load_corpus(path: Path) -> pd.DataFrame:
    """Read a corpus written by :func:`write_corpus`, checking its columns.

    Raises:
        SourceError: The file is missing or is not a corpus.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError("corpus", path, "file not found; build it with `warning train corpus`")
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "text", "lang", *LABELS, "split") if c not in frame.columns]
    if missing:
        raise SourceError("corpus", path, f"not a corpus: missing column(s) {missing}")
    return frame
