"""The report in a real browser (headless chromium, offline): it renders, draws its plots, runs
no script but its own, logs no error, and its filters change what is shown, in English and in
Russian."""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from warning.report import write_report
from warning.scanning.scanner import ScanOptions, scan

KEY = "test-key-0123456789abcdef"
sys.path.insert(0, str(Path(__file__).parent))  # test_report's feed


def _dump_dom(chromium: str, url: str, tmp_path: Path) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and what the browser logged."""
    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


def _status(dom: str) -> dict[str, str]:
    status = re.search(r'<div id="page-status"[^>]*>', dom)
    assert status, "the page's script did not run"
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', status.group()))
    assert attributes["data-ready"] == "true"
    assert attributes["data-errors"] == "0", dom[status.end():status.end() + 2000]
    return attributes


def _visible(dom: str, tag: str, marker: str) -> list[str]:
    """The opening tags of the elements ``<tag ... marker ...>`` that are not hidden."""
    return [m for m in re.findall(rf"<{tag}\b[^>]*>", dom) if marker in m and
            " hidden" not in m]


def _channels(tag: str) -> list[str]:
    """The channels of a post's opening tag (its ``data-channels``, a JSON list)."""
    found = re.search(r'data-channels="([^"]*)"', tag)
    assert found, tag
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def scored(tmp_path_factory, _tiny_model_session):
    from test_report import _surge_feed  # a feed with a surge and hostile posts

    folder = tmp_path_factory.mktemp("browser")
    path = folder / "scored.parquet"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")
        patch.setenv("WARNING_PSEUDONYM_KEY", KEY)
        scan(_surge_feed(folder / "feed.csv"), path, ScanOptions(),
             classifier=_tiny_model_session)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_report_renders_in_chromium_with_plots_and_no_errors(tmp_path, chromium, scored,
                                                             tiny_model_dir, monkeypatch,
                                                             lang) -> None:
    monkeypatch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")
    page = write_report(scored, tmp_path / "report.html", model_path=tiny_model_dir,
                        lang=lang)
    dom, log = _dump_dom(chromium, page.as_uri(), tmp_path)
    attributes = _status(dom)
    charts = int(attributes["data-charts"])
    assert charts >= 3 and attributes["data-charts-drawn"] == str(charts)
    assert dom.count("<polyline") >= 3 and 'class="alert-band"' in dom
    assert re.search(r'<tr id="alert-1"', dom) and "<mark class=\"m-" in dom
    # the hostile posts are shown as text, and none of them became an element or ran
    assert not re.search(r'<(img|svg)[^>]*(id="pwned"|onload)', dom)
    assert "&lt;script&gt;document.title=" in dom
    title = {"en": "Early-warning report", "ru": "Отчёт раннего предупреждения"}[lang]
    assert f"<title>{title}</title>" in dom
    # the charts' own words are in the page's language
    words = {"en": ("Share of posts flagged, per day and label", "Posts per day"),
             "ru": ("Доля отмеченных постов за день, по меткам", "Постов за день")}[lang]
    assert all(w in dom for w in words)
    assert "Uncaught" not in log and ":CONSOLE(" not in log, log[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_report_filters_change_charts_alerts_and_posts_in_chromium(tmp_path, chromium, scored,
                                                                   tiny_model_dir, monkeypatch,
                                                                   lang) -> None:
    monkeypatch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")
    page = write_report(scored, tmp_path / "report.html", model_path=tiny_model_dir,
                        lang=lang, explain=False)
    everything = _status(_dump_dom(chromium, page.as_uri(), tmp_path)[0])
    total_alerts = int(everything["data-alerts-shown"])
    assert total_alerts >= 2 and 1 <= int(everything["data-posts-shown"]) <= 20

    # channel a had no surge: its alerts and posts are others than the whole feed's
    dom, _ = _dump_dom(chromium, page.as_uri() + "#channel=a", tmp_path)
    only_a = _status(dom)
    assert only_a["data-filter"] == "a||"
    assert int(only_a["data-alerts-shown"]) < total_alerts
    rows = _visible(dom, "tr", "data-channel=")
    assert len(rows) == int(only_a["data-alerts-shown"])
    assert all('data-channel="a"' in r for r in rows)
    posts = _visible(dom, "article", 'class="post"')
    assert len(posts) == int(only_a["data-posts-shown"])
    assert all("a" in _channels(p) for p in posts)
    if not posts:  # nothing flagged in channel a: said, not left blank
        assert re.search(r'<p class="note filter-empty" id="posts-empty">', dom)
    assert int(everything["data-posts-shown"]) > len(posts)

    # channel b, the group uzbek, the label offensive: the surge's cell
    dom, _ = _dump_dom(chromium, page.as_uri() + "#channel=b&group=uzbek&label=offensive",
                       tmp_path)
    cell = _status(dom)
    assert cell["data-filter"] == "b|uzbek|offensive"
    rows = _visible(dom, "tr", "data-channel=")
    assert rows and all('data-channel="b" data-target="uzbek" data-label="offensive"' in r
                        for r in rows)
    posts = _visible(dom, "article", 'class="post"')
    assert posts and all("b" in _channels(p) and "uzbek" in p and "offensive" in p
                         for p in posts)
    # one label: one line per chart, and the filter's selects show the choice
    charts = re.findall(r'<svg class="chart".*?</svg>', dom, re.S)
    lines = [c for c in charts if "<polyline" in c]
    assert lines and all(c.count('stroke="#b45309"') == c.count("<polyline") for c in lines)
    assert re.search(r'<select id="filter-channel"', dom)
    group = {"en": "uzbek", "ru": "узбеки"}[lang]
    assert group in dom

    # a channel with nothing: the page says so instead of showing stale rows
    dom, _ = _dump_dom(chromium, page.as_uri() + "#channel=a&group=uzbek&label=threat",
                       tmp_path)
    none = _status(dom)
    if none["data-alerts-shown"] == "0":
        assert re.search(r'<p class="note filter-empty" id="alerts-empty">', dom)


@pytest.mark.slow
def test_report_channel_filter_matches_whole_channel_names_in_campaigns(tmp_path,
                                                                        chromium) -> None:
    # a campaign in "Batken News" and "Osh Today" is not one of channel "News" (names with
    # spaces used to be split into words, so "News" showed it)
    import pandas as pd

    rows = []
    for n, (channel, text) in enumerate([("Batken News", "gnat ih vseh idioty"),
                                         ("Osh Today", "gnat ih vseh idioty"),
                                         ("Batken News", "gnat ih vseh idioty"),
                                         ("News", "ty tupoi idiot"), ("News", "pogoda")]):
        flagged = ["offensive"] if "idio" in text else []
        rows.append({"id": str(n), "channel": channel, "author": f"user{n}", "text": text,
                     "line": n + 2, "posted_at": f"2025-09-0{1 + n}T10:00:00Z",
                     "score_offensive": 0.9 if flagged else 0.1, "score_hate": 0.1,
                     "score_threat": 0.1, "flagged": flagged, "lang": "ru", "targets": [],
                     "risk": "low" if flagged else "none", "review": False, "model": "m@1"})
    scored = tmp_path / "scored.parquet"
    pd.DataFrame(rows).to_parquet(scored)
    page = write_report(scored, tmp_path / "report.html", explain=False, lang="en")
    for channel, campaigns in (("", "1"), ("News", "0"), ("Batken%20News", "1"),
                               ("Osh%20Today", "1")):
        status = _status(_dump_dom(chromium, f"{page.as_uri()}#channel={channel}",
                                   tmp_path)[0])
        assert status["data-campaigns-shown"] == campaigns, (channel, status)


@pytest.mark.slow
def test_report_channel_filter_finds_a_repeated_text_in_each_of_its_channels(tmp_path,
                                                                           chromium) -> None:
    # the text is shown once, as the post of channel a; channel b's only flagged posts are
    # copies of it, and the filter showed no post for b
    from test_report import CAMPAIGN, _scanned

    page = write_report(_scanned(tmp_path / "s.parquet", CAMPAIGN), tmp_path / "report.html",
                        explain=False, lang="en")
    for channel, shown in (("", 2), ("b", 1), ("a", 1), ("c", 1),
                           ("%3Ci%3Ed%3C%2Fi%3E%E2%80%AE", 1)):
        dom, _ = _dump_dom(chromium, f"{page.as_uri()}#channel={channel}", tmp_path)
        status = _status(dom)
        assert status["data-posts-shown"] == str(shown), (channel, status)
        posts = _visible(dom, "article", 'class="post"')
        assert len(posts) == shown
        if channel in ("a", "b"):
            assert _channels(posts[0]) == ["a", "b", "<i>d</i>\u202e"]
