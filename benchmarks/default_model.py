"""Choose the shipped default: transformer alone or stacked with the baseline, decided on dev.

Usage:
    python benchmarks/default_model.py --transformer DIR [--baseline models/baseline]
        [--reference models/baseline] [--specialist DIR ...] [--logits-cache DIR]
        [--name NAME] [--version VERSION] [--corpus corpus/corpus.parquet]
        [--save models/default] [--out FILE.md]

Loads the trained transformer and the baseline, stacks them on the calib split
(``training.ensemble``), and scores every variant once (each member's logits are computed once
and shared by the variants):

- ``baseline``: the baseline alone;
- ``transformer``: the transformer alone, with its per-language calibration;
- ``transformer, global calibration``: the same without the per-language part;
- ``ensemble``: transformer + baseline stacked, per language where calib allows;
- ``ensemble, global only``: the same stack and calibration without the per-language parts;
- ``ensemble, transformer fallback``: the baseline joins only in the languages and labels
  whose calib rows fit their own stack; everywhere else the transformer alone decides;
- with ``--specialist FOLDER`` (language specialists: baselines trained on some languages
  only, ``languages`` in their settings), ``ensemble + specialists`` and ``ensemble +
  specialists, transformer fallback``: the same two stacks where each specialist also votes
  in its own languages' stacks; and ``ensemble + specialists, thresholds from collected
  posts``, the first of them with each label's thresholds fitted on collected calib posts only
  where they hold enough positives (``EnsembleConfig.thresholds_from``), and the same with
  the transformer alone deciding Uzbek labels that have no stack of their own
  (``EnsembleConfig.zero_shot_languages``: no Uzbek post is labelled, so dev can only check
  that clean Uzbek rows stay quiet; ``zero_shot.py`` measures the reach).

Dev decides: the variant that meets the most of the issue's required targets on dev (each
language's macro-F1 above the baseline's, at least 85% of hateful and of non-hateful cases on
each functional suite, at most 2% of clean ky/kk/uz rows flagged, and on each real labelled
source's dev rows, all of them kept, a ``hate`` F1 at least the baseline's, and in each
language of ``neutral_mentions.py`` (ru, ky, kk) at most 5% of its neutral group-mention
sentences flagged ``hate``: a model that alerts on every mention of a group is worse than the
recall it buys), ties broken by the mean macro-F1 over languages. The test split is then read once
per variant for the table written to ``--out``. The chosen model is saved to ``--save`` (its
card is then written by ``warning eval``).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import logging
import platform
import shlex
import sys
from pathlib import Path

import numpy as np

from training.corpus import load_corpus
from training.ensemble import EnsembleConfig, fit_ensemble
from training.eval_run import DEFAULT_SUITES
from training.evaluate import evaluate_corpus, run_suite

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_models import compare
from neutral_mentions import sentences as neutral_sentences

from warning import Classifier
from warning.labels import LABELS
from warning.settings import precision

HERE = Path(__file__).resolve().parent


def logits_store(cache: Path, model: Classifier, folder: Path) -> Path:
    """The ``memoise`` store of one model folder in ``cache``: named by the model, a digest of
    every file in the folder (their paths and bytes) and the arithmetic. A run retrained into
    the same folder under the same version gets a new store, never the old run's logits."""
    digest = hashlib.sha1()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"{model.name}-{digest.hexdigest()[:12]}-{precision()}.npz"


def memoise(model: Classifier, store: Path | None = None) -> None:
    """Cache ``raw_logits`` per text on this instance (the variants share the members), and in
    ``store`` (an ``.npz`` keyed by the texts' SHA-1) when given, so a rerun scores nothing
    twice. The store's name should name the model and the arithmetic (``WARNING_PRECISION``)."""
    original = model.raw_logits
    memo: dict[str, np.ndarray] = {}
    if store and store.is_file():
        with np.load(store) as saved:
            memo.update(zip(saved["keys"].tolist(), saved["logits"], strict=True))
        logging.info("%s: %d texts' logits read from %s", model.name, len(memo), store)

    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def raw_logits(texts, langs=None, normalized=False):  # the members ignore langs
        # normalising is idempotent, so a text's logits are the same either way
        texts = [texts] if isinstance(texts, str) else list(texts)
        todo = list(dict.fromkeys(t for t in texts if key(t) not in memo))
        if todo:
            for text, row in zip(todo, original(todo, normalized=normalized), strict=True):
                memo[key(text)] = row
            if store:
                tmp = store.with_suffix(".tmp.npz")
                np.savez(tmp, keys=np.array(list(memo)), logits=np.stack(list(memo.values())))
                tmp.replace(store)
        if not texts:
            return original(texts, normalized=normalized)
        return np.stack([memo[key(t)] for t in texts])

    model.raw_logits = raw_logits  # type: ignore[method-assign]


def without_languages(model: Classifier) -> Classifier:
    """A copy calibrated (and stacked) globally only."""
    config = copy.deepcopy(model.config)
    config.by_language = {}
    if model.config.kind == "ensemble":
        from warning.models.ensemble import EnsembleClassifier, Stack

        return EnsembleClassifier(config, model.members, Stack(model.stack.weights))
    twin = copy.copy(model)
    type(model).__init__(twin, config, model.tokenizer, model.encoder, model.head)
    twin.raw_logits = model.raw_logits  # type: ignore[method-assign]
    return twin


def mean_macro(report: dict) -> float:
    values = list(report["macro_f1_by_language"].values())
    return float(np.mean(values)) if values else float("nan")


def _f1(block: dict) -> float:
    """A metrics block's F1 (a bootstrapped entry or a bare figure; 0 without positives)."""
    entry = block.get("f1", 0.0)
    return float(entry["value"] if isinstance(entry, dict) else entry)


def targets_met(report: dict, baseline: dict) -> tuple[int, int]:
    """(targets met, targets) of the issue's required ones measurable on this split."""
    checks = [report["macro_f1_by_language"].get(lang, 0.0) > value
              for lang, value in baseline["macro_f1_by_language"].items()]
    for suite in report["functional"].values():
        checks += [suite["hateful"]["accuracy"] >= SUITE_MIN,
                   suite["non_hateful"]["accuracy"] >= SUITE_MIN]
    hate = report.get("by_source", {}).get("hate", {})
    reference = baseline.get("by_source", {}).get("hate", {})
    checks += [_f1(hate[source]) >= _f1(reference[source])
               for source in REAL_SOURCES if source in hate and source in reference]
    checks += [block["any_label_flag_rate"] <= 0.02
               for block in report["clean_languages"].values()]
    return sum(checks), len(checks)


#: Share of each functional suite's hateful and non-hateful cases a variant must get right.
SUITE_MIN = 0.85

#: The real labelled sources (issue 16): every one of their dev rows is kept in the decision,
#: and a variant must match the baseline's `hate` F1 on each.
REAL_SOURCES = ("ky_youtube_hate", "kk_hate_speech", "tr_hate_tweets", "ru_ethnohate")

#: Resamples of the bootstrap-threshold variant (``EnsembleConfig.threshold_bootstrap``).
THRESHOLD_BOOTSTRAP = 200

#: The most neutral group-mention sentences a variant may flag as hate, per language.
NEUTRAL_MAX = 0.05


def neutral_hate_rates(model: Classifier) -> dict[str, float]:
    """Share of the neutral group-mention sentences flagged ``hate``, per language."""
    hate = LABELS.index("hate")
    return {lang: float(model.predict(texts)[:, hate].mean())
            for lang, texts in neutral_sentences().items()}


def evaluate(models: dict[str, Classifier], corpus, split: str, n_boot: int) -> dict[str, dict]:
    out = {}
    for name, model in models.items():
        logging.info("%s: scoring %s", name, split)
        report = evaluate_corpus(model, corpus, split, n_boot=n_boot)
        report["functional"] = {Path(s).name: run_suite(model, Path(s)) for s in DEFAULT_SUITES}
        out[name] = report
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transformer", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, default=Path("models/baseline"),
                        help="the baseline stacked with the transformer")
    parser.add_argument("--reference", type=Path, default=Path("models/baseline"),
                        help="the baseline whose macro-F1 the targets compare with (the shipped "
                             "one); scored as its own row when it differs from --baseline")
    parser.add_argument("--specialist", type=Path, action="append", default=[],
                        metavar="FOLDER", help="a language specialist (repeatable)")
    parser.add_argument("--name", help="the stacked variants' name (default: the stacker's)")
    parser.add_argument("--version", help="their version (default: today's date)")
    parser.add_argument("--logits-cache", type=Path, default=None,
                        help="folder keeping each member's logits between runs")
    parser.add_argument("--corpus", type=Path, default=Path("corpus/corpus.parquet"))
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--reports", type=Path, default=Path("/tmp/default_model_reports"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "default_model.md")
    parser.add_argument("--bootstrap", type=int, default=0)
    parser.add_argument("--max-clean-flagged", type=float, default=None, metavar="SHARE",
                        help="also stack a variant with this false-alarm budget where a "
                             "label's positives are our own sentences (EnsembleConfig)")
    parser.add_argument("--skip-test", action="store_true",
                        help="decide on dev and save without reading test (the card reads it)")
    parser.add_argument("--reproduce", action="append", default=[], metavar="COMMAND",
                        help="commands that made the members (shown in the saved model's card)")
    parser.add_argument("--dev-rows", type=int, default=8000,
                        help="dev rows sampled for the decision (0 = all)")
    parser.add_argument("--calib-rows", type=int, default=8000,
                        help="calib rows the stack is fitted on (0 = all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    corpus = load_corpus(args.corpus)
    dev_rows = corpus[corpus["split"] == "dev"]
    if args.dev_rows and len(dev_rows) > args.dev_rows:
        # the real sources' dev rows are few (87 Kyrgyz comments): all of them are kept
        real = dev_rows["source"].str.split(";").map(lambda ss: bool(set(ss) & set(REAL_SOURCES)))
        keep = dev_rows[~real].sample(max(args.dev_rows - int(real.sum()), 0), random_state=0)
        drop = dev_rows.index.difference(keep.index.union(dev_rows[real].index))
        corpus = corpus.drop(index=drop)
    transformer, baseline = Classifier.load(args.transformer), Classifier.load(args.baseline)
    specialists = {}
    for folder in args.specialist:
        model = Classifier.load(folder)
        langs = (model.config.training or {}).get("languages")
        if not langs:
            parser.error(f"--specialist {folder}: not a language specialist (no languages)")
        specialists["baseline_" + "_".join(langs)] = (model, folder)
    tag = precision()
    for model, path in ((transformer, args.transformer), (baseline, args.baseline),
                        *specialists.values()):
        memoise(model, logits_store(args.logits_cache, model, path) if args.logits_cache
                else None)
    named = {k: v for k, v in (("name", args.name), ("version", args.version)) if v}
    reference = baseline
    if args.reference.resolve() != args.baseline.resolve():
        reference = Classifier.load(args.reference)
    ensemble = fit_ensemble({"transformer": transformer, "baseline": baseline}, corpus,
                            EnsembleConfig(**named, calib_rows=args.calib_rows))
    fallback = fit_ensemble({"transformer": transformer, "baseline": baseline}, corpus,
                            EnsembleConfig(**named, calib_rows=args.calib_rows,
                                           global_members=("transformer",)))
    models = {"baseline": reference, **({"baseline member": baseline}
                                        if reference is not baseline else {}),
              "transformer": transformer,
              "transformer, global calibration": without_languages(transformer),
              "ensemble": ensemble, "ensemble, global only": without_languages(ensemble),
              "ensemble, transformer fallback": fallback}
    if specialists:
        voters = {"transformer": transformer, "baseline": baseline,
                  **{name: model for name, (model, _) in specialists.items()}}
        models["ensemble + specialists"] = fit_ensemble(
            voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows))
        models["ensemble + specialists, transformer fallback"] = fit_ensemble(
            voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows,
                                           global_members=("transformer",)))
        models["ensemble + specialists, bootstrap thresholds"] = fit_ensemble(
            voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows,
                                           threshold_bootstrap=THRESHOLD_BOOTSTRAP))
        models["ensemble + specialists, bootstrap thresholds, no weak labels in calib"] = \
            fit_ensemble(voters, corpus, EnsembleConfig(
                **named, calib_rows=args.calib_rows, threshold_bootstrap=THRESHOLD_BOOTSTRAP,
                weak_labels=False))
        models["ensemble + specialists, thresholds from collected posts"] = fit_ensemble(
            voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows,
                                           thresholds_from="collected"))
        if args.max_clean_flagged is not None:
            models[f"ensemble + specialists, thresholds from collected posts, at most "
                   f"{args.max_clean_flagged:.0%} of clean posts flagged"] = fit_ensemble(
                voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows,
                                               thresholds_from="collected",
                                               max_clean_flagged=args.max_clean_flagged))
        models["ensemble + specialists, thresholds from collected posts, transformer alone "
               "in uz"] = fit_ensemble(
            voters, corpus, EnsembleConfig(**named, calib_rows=args.calib_rows,
                                           thresholds_from="collected",
                                           zero_shot_languages=("uz",)))
    dev = evaluate(models, corpus, "dev", n_boot=0)
    score = {name: mean_macro(r) for name, r in dev.items()}
    neutral = {name: neutral_hate_rates(model) for name, model in models.items()}

    def required(name: str, report: dict, reference: dict) -> tuple[int, int]:
        # the neutral-mention targets count as required ones: a model that alerts on
        # every mention of a group is worse than the recall it buys
        met, total = targets_met(report, reference)
        return (met + sum(rate <= NEUTRAL_MAX for rate in neutral[name].values()),
                total + len(neutral[name]))

    met = {name: required(name, r, dev["baseline"]) for name, r in dev.items()}
    candidates = [n for n in models if not n.startswith("baseline")]
    chosen = max(candidates, key=lambda n: (met[n][0], score[n]))
    test = {} if args.skip_test else evaluate(models, corpus, "test", n_boot=args.bootstrap)
    args.reports.mkdir(parents=True, exist_ok=True)
    for split, reports in (("dev", dev), ("test", test)):
        for name, report in reports.items():
            report.pop("curves", None)
            path = args.reports / f"{split}-{name.replace(', ', '-').replace(' ', '_')}.json"
            path.write_text(json.dumps(report, default=float, indent=1))
    stack = {label: dict(zip(e["members"], e["coef"], strict=True))
             for label, e in ensemble.stack.weights.items()}
    lines = [
        "# The shipped default: transformer alone or stacked with the baseline",
        "",
        f"Command: `python benchmarks/default_model.py --transformer {args.transformer} "
        f"--baseline {args.baseline} --reference {args.reference} --corpus {args.corpus} "
        + "".join(f"--specialist {folder} " for _, folder in specialists.values()) +
        f"--dev-rows {args.dev_rows}{' --skip-test' if args.skip_test else ''} "
        f"--calib-rows {args.calib_rows}"
        + (f" --max-clean-flagged {args.max_clean_flagged}"
           if args.max_clean_flagged is not None else "")
        + "".join(f" --{k} {v}" for k, v in named.items()) + "`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, Python "
        f"{platform.python_version()}  ",
        f"Arithmetic: {tag} (`WARNING_PRECISION`).  ",
        f"Transformer: `{transformer.name}`; baseline member: `{baseline.name}` "
        f"({args.baseline}); the targets compare with `{reference.name}` ({args.reference}) "
        f"as `baseline`; ensemble stacked on "
        f"{ensemble.config.training['calib_rows']:,} calib rows, global weights {stack}; "
        f"per-language stacks for {sorted(ensemble.stack.by_language) or 'no language'}, "
        f"per-language calibration for {sorted(ensemble.config.by_language) or 'none'}.",
        "",
        "## Decision on dev",
        "",
        "| variant | required targets met | neutral mentions flagged hate (" +
        " / ".join(neutral["baseline"]) + ") | mean macro-F1 over languages | " + " | ".join(
            f"{s} hateful / non-hateful" for s in dev["baseline"]["functional"]) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(dev["baseline"]["functional"]),
    ]
    for name, report in dev.items():
        suites = " | ".join(f"{r['hateful']['accuracy']:.1%} / {r['non_hateful']['accuracy']:.1%}"
                            for r in report["functional"].values())
        rates = " / ".join(f"{rate:.0%}" for rate in neutral[name].values())
        lines.append(f"| {name} | {met[name][0]} of {met[name][1]} | {rates} | "
                     f"{score[name]:.3f} | {suites} |")
    test_met = {name: required(name, r, test["baseline"]) for name, r in test.items()}
    on_test = ("On test, required targets met: " + ", ".join(
        f"{n} {a} of {b}" for n, (a, b) in test_met.items() if not n.startswith("baseline"))
        + ".") if test else ("Test not read here (`--skip-test`): the chosen model's card "
                             "(`warning eval`) reads it once.")
    lines += ["", f"Chosen: **{chosen}** (the most required targets met on dev, the "
              f"neutral-mention ones, at most {NEUTRAL_MAX:.0%} flagged hate per language, "
              "included; then the higher mean macro-F1). " + on_test, "",
              "# Dev split", "", compare(dev), ""]
    if test:
        lines += ["# Test split", "", compare(test), ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    if args.save:
        model = models[chosen]
        if model.config.kind == "ensemble":
            # the same model as `warning train ensemble` with these arguments (seeded sampling)
            extra = "".join(f"--member {name}={folder} " for name, (_, folder)
                            in specialists.items() if name in model.members)
            settings = EnsembleConfig(**model.config.training["ensemble"])
            equivalent = (f"warning train ensemble --member transformer={args.transformer} "
                          f"--member baseline={args.baseline} {extra}--corpus {args.corpus} "
                          f"--out {args.save} " + shlex.join(settings.flags()))
            model.config.training["commands"] = [*args.reproduce, equivalent]
        model.save(args.save)
        print(f"saved {model.name} to {args.save}")


if __name__ == "__main__":
    main()
