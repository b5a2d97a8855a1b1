"""The report in a real browser (headless chromium, offline): it renders, draws its plots, runs
no script but its own, and logs no error."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from warning.report import write_report
from warning.scanning.scanner import ScanOptions, scan

KEY = "test-key-0123456789abcdef"
sys.path.insert(0, str(Path(__file__).parent))  # test_report's feed


def _dump_dom(chromium: str, page: Path, tmp_path: Path) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and what the browser logged."""
    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


@pytest.mark.slow
def test_report_renders_in_chromium_with_plots_and_no_errors(tmp_path, chromium, tiny_model,
                                                             tiny_model_dir, monkeypatch) -> None:
    from test_report import _surge_feed  # a feed with a surge and hostile posts

    monkeypatch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    scored = tmp_path / "scored.parquet"
    scan(_surge_feed(tmp_path / "feed.csv"), scored, ScanOptions(), classifier=tiny_model)
    page = write_report(scored, tmp_path / "report.html", model_path=tiny_model_dir)
    dom, log = _dump_dom(chromium, page, tmp_path)

    status = re.search(r'<div id="page-status"[^>]*>', dom)
    assert status, "the page's script did not run"
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', status.group()))
    assert attributes["data-ready"] == "true"
    assert attributes["data-errors"] == "0", dom[status.end():status.end() + 2000]
    charts = int(attributes["data-charts"])
    assert charts >= 3 and attributes["data-charts-drawn"] == str(charts)
    assert dom.count("<polyline") >= 3 and 'class="alert-band"' in dom
    assert re.search(r'<tr id="alert-1">', dom) and "<mark class=\"m-" in dom
    # the hostile posts are shown as text, and none of them became an element or ran
    assert not re.search(r'<(img|svg)[^>]*(id="pwned"|onload)', dom)
    assert "<title>Early-warning report</title>" in dom
    assert "&lt;script&gt;document.title=" in dom
    assert "Uncaught" not in log and ":CONSOLE(" not in log, log[-2000:]
