"""Compare models side by side from their evaluation reports (``warning eval`` output).

Usage:
    python benchmarks/compare_models.py NAME=MODEL/eval/report.json ... --out FILE.md [--note TEXT]

Writes one Markdown table per figure the transformer issue sets targets on: macro-F1 per
language, F1 and ROC-AUC per language and label, the functional suites (hateful and non-hateful
accuracy), and false-positive rates on the clean-only languages. Reports must come from the same
corpus file to be comparable; the script checks that they were made on the same split and rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
from pathlib import Path


def _value(block: dict, metric: str) -> float | None:
    entry = block.get(metric)
    return entry.get("value") if isinstance(entry, dict) else entry


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def compare(reports: dict[str, dict]) -> str:
    names = list(reports)
    first = next(iter(reports.values()))
    for name, report in reports.items():
        if (report["split"], report["rows"]) != (first["split"], first["rows"]):
            raise SystemExit(f"{name}: made on {report['rows']} {report['split']} rows, not "
                             f"{first['rows']} {first['split']} rows: not comparable")
    header = "| | " + " | ".join(names) + " |\n|---|" + "---|" * len(names)
    out = ["## Macro-F1 per language (labels with positives there)", "", header]
    langs = sorted({lang for r in reports.values() for lang in r["macro_f1_by_language"]})
    for lang in langs:
        out.append(f"| {lang} | " + " | ".join(
            _fmt(r["macro_f1_by_language"].get(lang)) for r in reports.values()) + " |")
    out += ["", "## F1 / ROC-AUC per language and label", "", header]
    cells = sorted({(label, lang) for r in reports.values()
                    for label, blocks in r["by_language"].items()
                    for lang, b in blocks.items() if b.get("positives")})
    for label, lang in cells:
        row = []
        for r in reports.values():
            b = r["by_language"].get(label, {}).get(lang)
            row.append("" if not b else f"{_fmt(_value(b, 'f1'))} / {_fmt(_value(b, 'roc_auc'))}")
        out.append(f"| {label} {lang} | " + " | ".join(row) + " |")
    out += ["", "## Functional suites: accuracy on hateful / non-hateful cases", "", header]
    suites = sorted({s for r in reports.values() for s in r.get("functional", {})})
    for suite in suites:
        row = []
        for r in reports.values():
            res = r.get("functional", {}).get(suite)
            row.append("" if not res else f"{_fmt(res['hateful']['accuracy'], True)} / "
                       f"{_fmt(res['non_hateful']['accuracy'], True)}")
        out.append(f"| {suite} | " + " | ".join(row) + " |")
    out += ["", "## Clean-only languages: posts flagged for any label (false positives)", "",
            header]
    clean = sorted({lang for r in reports.values() for lang in r.get("clean_languages", {})})
    for lang in clean:
        out.append(f"| {lang} | " + " | ".join(
            _fmt(r["clean_languages"].get(lang, {}).get("any_label_flag_rate"), True)
            for r in reports.values()) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="NAME=path/to/report.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--title", default="Model comparison")
    parser.add_argument("--note", default="", help="a paragraph printed under the title")
    args = parser.parse_args()
    reports = {}
    for item in args.reports:
        name, _, path = item.partition("=")
        reports[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    first = next(iter(reports.values()))
    text = "\n".join([
        f"# {args.title}", "",
        f"Command: `python benchmarks/compare_models.py {' '.join(args.reports)} --out "
        f"{args.out}`  ",
        f"Date: {dt.date.today()}  ",
        f"Machine: {platform.node()}, {platform.machine()}, 2 cores, Python "
        f"{platform.python_version()}  ",
        f"Split: {first['split']} ({first['rows']:,} rows)", "", args.note, "",
        compare(reports), ""])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
