"""Our synthetic training sources: well-formed, and sharing no sentence or template with the
frozen functional suites, the fairness templates or the neutral-mention check they could leak
into."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from training import group_frames, mentions
from training.fairness import expand_templates, load_templates
from training.near_duplicates import near_duplicate_pairs
from training.sources import SOURCES, SYNTHETIC_DIR, read_source
from warning.text.normalize import fold

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SUITES = sorted((BENCHMARKS / "functional").glob("*_suite.csv"))
SYNTHETIC = [s for s in SOURCES.values() if s.synthetic and (SYNTHETIC_DIR / s.files[0]).is_file()]
EXPECTED = {"hateful": (1, 1, 0), "hateful_pair": (1, 1, 0), "threat_pair": (1, 1, 1),
            "hard_negative": (0, 0, 0), "negation": (0, 0, 0), "counter_speech": (0, 0, 0),
            "quoting": (0, 0, 0), "reclaimed": (0, 0, 0), "neutral_mention": (0, 0, 0),
            "profanity": (1, 0, 0), "insult": (1, 0, 0), "positive_mention": (0, 0, 0)}


def _held_out_sentences() -> list[str]:
    """What measures the model and must not be trained on: the functional suites, the
    fairness identity-swap templates and the neutral-mention benchmark's sentences."""
    cases = [t for suite in SUITES for t in pd.read_csv(suite, dtype=str)["test_case"]]
    for template_set in load_templates().values():
        cases += expand_templates(template_set)["text"].tolist()
    spec = importlib.util.spec_from_file_location("neutral_mentions",
                                                  BENCHMARKS / "neutral_mentions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases += [t for texts in module.sentences().values() for t in texts]
    return cases


def _words(text: str) -> list[str]:
    return [w for w in fold(text).replace(",", " ").replace(".", " ").split() if w]


@pytest.mark.parametrize("source", SYNTHETIC, ids=lambda s: s.name)
def test_synthetic_source_reads_with_consistent_labels(source) -> None:
    rows = read_source(source, Path("unused"))
    raw = pd.read_csv(SYNTHETIC_DIR / source.files[0], dtype=str, keep_default_na=False)
    assert len(rows) == len(raw) >= 200
    assert rows["extremism"].isna().all()
    for kind, labels in raw.groupby("kind")[["offensive", "hate", "threat"]]:
        values = {tuple(map(int, r)) for r in labels.to_numpy()}
        if kind == "threat":  # against a group (1,1,1) or an individual (1,0,1)
            assert values <= {(1, 1, 1), (1, 0, 1)}
        else:
            assert values == {EXPECTED[kind]}, kind


@pytest.mark.parametrize("source", SYNTHETIC, ids=lambda s: s.name)
def test_synthetic_source_shares_no_sentence_with_what_measures_the_model(source) -> None:
    synthetic = list(pd.read_csv(SYNTHETIC_DIR / source.files[0], dtype=str)["text"])
    cases = _held_out_sentences()
    assert len(cases) > 1000, "the functional suites or fairness templates are missing"
    # 1. no near-duplicate sentence (character 5-gram Jaccard >= 0.6)
    texts = [fold(t) for t in synthetic + cases]
    pairs = near_duplicate_pairs(texts, threshold=0.6)
    crossing = [(synthetic[i], cases[j - len(synthetic)]) for i, j in pairs
                if i < len(synthetic) <= j]
    assert not crossing, crossing[:3]
    # 2. no shared run of five words (a template with the group swapped would share one)
    suite_runs = {tuple(w[k : k + 5]) for c in cases for w in [_words(c)]
                  for k in range(len(w) - 4)}
    shared = [t for t in synthetic for w in [_words(t)] for k in range(len(w) - 4)
              if tuple(w[k : k + 5]) in suite_runs]
    assert not shared, shared[:3]


@pytest.mark.parametrize("lang", sorted(mentions.FILES))
def test_committed_mention_files_are_the_generators_output(lang) -> None:
    committed = (SYNTHETIC_DIR / mentions.FILES[lang]).read_text(encoding="utf-8")
    assert committed == mentions.render_csv(lang), "run: python -m training.mentions"


@pytest.mark.parametrize("lang", sorted(mentions.FILES))
def test_mentions_name_every_group_in_every_case_form(lang) -> None:
    from warning.text.targets import TARGET_GROUPS, find_targets

    rows = pd.DataFrame(mentions.mention_rows(lang))
    counts = rows["target_ident"].value_counts()
    assert set(counts.index) == set(TARGET_GROUPS) and counts.min() >= 35
    assert (rows[["offensive", "hate", "threat"]] == "0").all().all()
    assert not rows["text"].str.contains("{", regex=False).any()
    assert rows["text"].is_unique
    # the project's own target tagger finds the group in most sentences (it does not know
    # every name used here: "геи", "православные", "незрячие", "девушки" in Russian)
    found = [group in find_targets(text)
             for text, group in zip(rows["text"], rows["target_ident"], strict=True)]
    assert sum(found) / len(found) > 0.8


@pytest.mark.parametrize("lang", sorted(group_frames.FILES))
def test_committed_frame_files_are_the_generators_output(lang) -> None:
    committed = (SYNTHETIC_DIR / group_frames.FILES[lang]).read_text(encoding="utf-8")
    assert committed == group_frames.render_csv(lang), "run: python -m training.group_frames"


@pytest.mark.parametrize("lang", sorted(group_frames.FILES))
def test_every_frame_names_every_group_and_its_contrast_names_none(lang) -> None:
    from warning.text.targets import TARGET_GROUPS, find_targets

    rows = pd.DataFrame(group_frames.frame_rows(lang))
    assert not rows["text"].str.contains("{", regex=False).any() and rows["text"].is_unique
    hateful = rows[rows["hate"] == "1"]
    # every group in the frames meant for all groups, and as many hateful rows per group as
    # every other group has (up to its number of names): no group is the frames' favourite
    assert set(hateful["target_ident"]) == set(TARGET_GROUPS)
    per_name = hateful.groupby("target_ident").size() / pd.Series(
        {g: len(names) for g, names in group_frames.LANGS[lang][0].items()})
    assert per_name.max() - per_name.min() <= 3
    contrasts = rows[rows["hate"] == "0"]
    assert len(contrasts) >= 50 and (contrasts["target_ident"] == "").all()
    assert set(contrasts["kind"]) == {"hard_negative", "insult"}
    # the contrast sentences name no protected group (by the project's own tagger)
    assert not any(find_targets(text) for text in contrasts["text"])
    # each contrast shares its frame with hateful sentences: the pair differs in the target
    assert set(contrasts["template"]) <= set(hateful["template"])
