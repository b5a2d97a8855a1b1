"""The example feed: regenerated exactly by its script, and its planted surge is what the
shipped model's alerts put first."""

import csv
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FEED = REPO / "examples" / "feed.csv"


def _make_feed():
    spec = importlib.util.spec_from_file_location("make_feed", REPO / "examples" / "make_feed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_feed_is_what_make_feed_writes(tmp_path) -> None:
    make_feed = _make_feed()
    make_feed.write_feed(tmp_path / "feed.csv")
    assert (tmp_path / "feed.csv").read_bytes() == FEED.read_bytes()
    with open(FEED, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert 400 <= len(rows) <= 800 and set(rows[0]) == {"id", "date", "channel", "author",
                                                        "text"}
    assert len({r["channel"] for r in rows}) == 5
    assert rows[0]["date"] < "2025-09-02" and rows[-1]["date"] > "2025-10-26"
    text = " ".join(r["text"] for r in rows)
    assert all(letter in text for letter in "ңөү")  # Kyrgyz in Cyrillic
    from warning.text.lang import detect_language

    langs = {detect_language(r["text"]) for r in rows[:200]}
    assert {"ru", "ky", "en"} <= langs


@pytest.mark.slow
def test_example_feed_planted_surge_is_the_top_alert_of_the_shipped_model(
        tmp_path, base_model_dir, monkeypatch) -> None:
    from warning import Classifier
    from warning.alerts import AlertConfig, find_alerts
    from warning.models.classifier import default_model_path
    from warning.scanning.scanner import ScanOptions, scan

    monkeypatch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")  # as the demo runs it
    for name in ("WARNING_ALERT_MIN_COUNT", "WARNING_ALERT_FDR", "WARNING_ALERT_WINDOWS",
                 "WARNING_ALERT_BASELINE", "WARNING_ALERT_MEASURE"):
        monkeypatch.delenv(name, raising=False)
    assert default_model_path().name == "default"
    planted = _make_feed().PLANTED
    model = Classifier.load()
    scored = tmp_path / "scored.parquet"
    summary = scan(FEED, scored, ScanOptions(authors="drop"), classifier=model)
    assert summary.rows_scored == summary.rows_read
    report = find_alerts(scored, AlertConfig.from_settings())
    top = report.alerts[0]
    assert planted["start"] <= top.window_start < planted["end"], top
    assert top.window_end <= planted["end"] or top.window == "week"
    assert top.channel == planted["channel"] and top.label in ("hate", "threat"), top
    # the top alert is the planted surge: its cell is the planted channel, either for the
    # planted target or for all targets; then its evidence is the planted posts
    assert top.target in (planted["target"], "(all)"), top
    feed = _make_feed()
    surge = [s.rstrip(".!") for sentences in feed.SURGE.values() for s in sentences]
    evidence = [post["text"] for post in top.evidence]
    assert evidence and all(any(s.lower() in text.lower() for s in surge)
                            for text in evidence), evidence
    # and the planted target's own alert is among the first five
    assert any(a.target == planted["target"] and a.channel in (planted["channel"], "(all)")
               and planted["start"] <= a.window_start < planted["end"]
               for a in report.alerts[:5]), report.alerts[:5]
