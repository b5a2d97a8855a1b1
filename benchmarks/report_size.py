"""Size of the HTML report (``warning report``) for a 10,000-post feed, in English and Russian.

The report must stay under 5 MB for a feed of 10,000 posts (issue 17): it holds the charts'
counts per channel x group x day, the alerts and campaigns with their evidence, and the most
severe posts of the file and of every channel, group and label (for the page's filters).

The feeds are synthetic CSV files whose posts join one to three posts drawn from
``examples/make_feed.py`` (ru, ky, en; its planted hateful posts included), spread over 120
days (the longest span charted per day, so the most chart data), with 500 authors and 20, 50 or
200 channels; each is scanned with the baseline model (``models/baseline``), then reported with
the words of the 20 most severe posts explained. Usage::

    python benchmarks/report_size.py         # writes benchmarks/results/report_size.md
    python benchmarks/report_size.py --out /tmp/size.md --posts 2000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import os
import platform
import random
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIMIT_MB = 5.0


def _example_posts() -> list[dict[str, str]]:
    spec = importlib.util.spec_from_file_location("make_feed", REPO / "examples" / "make_feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_posts()


def write_feed(path: Path, rows: int, channels: int, days: int = 120, seed: int = 0) -> Path:
    """A CSV of ``rows`` posts drawn from the example feed's, over ``days`` days."""
    posts = _example_posts()
    rng = random.Random(seed)
    start = dt.datetime(2025, 6, 2)
    span = days * 86400
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "date", "channel", "author", "text"])
        for i in range(rows):
            # one to three example posts joined: texts mostly distinct (a worst case for the
            # page, which shows a text posted again only once) and of varied length
            text = " ".join(posts[rng.randrange(len(posts))]["text"]
                            for _ in range(rng.randint(1, 3)))
            moment = start + dt.timedelta(seconds=int(i * span / rows))
            writer.writerow([i + 1, moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             f"channel_{rng.randrange(channels)}", f"user{rng.randrange(500)}",
                             text])
    return path


def measure(rows: int, channels: int, folder: Path, classifier) -> dict[str, object]:
    from warning.report import write_report
    from warning.scanning.scanner import ScanOptions, scan

    feed = write_feed(folder / f"feed_{channels}.csv", rows, channels)
    scored = folder / f"scored_{channels}.parquet"
    scan(feed, scored, ScanOptions(), classifier=classifier)
    out: dict[str, object] = {"posts": rows, "channels": channels}
    for lang in ("en", "ru"):
        began = time.perf_counter()
        page = write_report(scored, folder / f"report_{channels}_{lang}.html",
                            classifier=classifier, lang=lang)
        out[f"seconds_{lang}"] = time.perf_counter() - began
        out[f"mb_{lang}"] = page.stat().st_size / 1e6
        html = page.read_text(encoding="utf-8")
        out[f"posts_kept_{lang}"] = html.count('<article class="post"')
        out[f"alerts_{lang}"] = html.count('<tr id="alert-')
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--channels", type=int, nargs="+", default=[20, 50, 200])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "report_size.md")
    args = parser.parse_args()
    os.environ.setdefault("WARNING_PSEUDONYM_KEY", "benchmark-key-0123456789abcdef")
    os.environ.setdefault("WARNING_TIMEZONE", "Asia/Bishkek")
    from warning.classifier import Classifier

    classifier = Classifier.load(REPO / "models" / "baseline")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for channels in args.channels:
            result = measure(args.posts, channels, Path(tmp), classifier)
            rows.append(result)
            print(result, flush=True)
    lines = [
        "# Size of the HTML report",
        "",
        "Command: `python benchmarks/report_size.py`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {platform.node() or 'unknown'}, {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}  ",
        f"Model: `{classifier.name}` (scan and explanations)  ",
        "Feeds: synthetic CSV, each post one to three posts of `examples/make_feed.py` joined "
        "(seed 0; texts mostly distinct, a worst case for the page), spread evenly "
        "over 120 days (charted per day), 500 authors, channels drawn at random.",
        "",
        f"The limit is {LIMIT_MB:g} MB for a 10,000-post feed. The page holds the charts' counts "
        "per channel x group x day, the alerts and campaigns with their evidence, and the 20 most "
        "severe posts of the file and of each channel, group and label (so that a filter still "
        "shows posts); seconds include finding the alerts and explaining 20 posts.",
        "",
        "| posts | channels | MB (en) | MB (ru) | posts in the page | alerts | seconds (en) "
        "| seconds (ru) | under the limit |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        under = max(r["mb_en"], r["mb_ru"]) < LIMIT_MB
        lines.append(f"| {r['posts']:,} | {r['channels']} | {r['mb_en']:.2f} | {r['mb_ru']:.2f} "
                     f"| {r['posts_kept_en']} | {r['alerts_en']} | {r['seconds_en']:.1f} "
                     f"| {r['seconds_ru']:.1f} | {'yes' if under else 'NO'} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
