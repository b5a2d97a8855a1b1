"""``warning report``: the page's content, escaping, weak languages, and its command."""

import json
import re
import shutil
from pathlib import Path

import pytest

from warning.cli import main
from warning.report import build_report, default_report_path, write_report
from warning.report.charts import Band, Series, line_chart
from warning.report.data import ReportError, collect
from warning.report.model_facts import ModelFacts
from warning.report.render import highlight
from warning.scanning.scanner import ScanOptions, scan

KEY = "test-key-0123456789abcdef"
HOSTILE = ('<script>document.title="pwned"</script> you stupid idiot',
           '<img id="pwned" src="http://example.invalid/x.png" onerror="alert(1)"> idiot moron',
           '"><svg onload=alert(1)> you stupid idiot')


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    for name in ("WARNING_SCAN_CHUNK_ROWS", "WARNING_ALERT_MIN_COUNT", "WARNING_ALERT_WINDOWS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("WARNING_TIMEZONE", "Asia/Bishkek")


def _surge_feed(path: Path) -> Path:
    """Six weeks of posts in two channels; in the last week, channel b fills with insults."""
    lines = ["id,date,channel,author,message"]
    n = 0
    for day in range(42):
        for k in range(6):
            n += 1
            channel = "ab"[k % 2]
            text = "the market opens at nine" if k % 3 else "погода сегодня хорошая"
            if k == 4:
                text = "uzbek traders at the market today"
            if day >= 35 and channel == "b":
                text = "those uzbeks are stupid idiot morons"
            elif k == 5 and day % 9 == 0:
                text = "idiot"
            date = f"2025-09-{1 + day:02d}" if day < 30 else f"2025-10-{day - 29:02d}"
            lines.append(f"{n},{date}T1{k}:00:00+06:00,{channel},user{k},{text}")
    for i, text in enumerate(HOSTILE):
        quoted = text.replace('"', '""')
        lines.append(f'{900 + i},2025-10-12T10:00:00+06:00,b,user9,"{quoted}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def scored(tmp_path, tiny_model, tiny_model_dir):
    out = tmp_path / "scored.parquet"
    scan(_surge_feed(tmp_path / "feed.csv"), out, ScanOptions(), classifier=tiny_model)
    return out


def test_report_shows_every_section_with_plots_and_alerts(scored, tiny_model_dir) -> None:
    html, alerts = build_report(scored, model_path=tiny_model_dir)
    assert alerts is not None and alerts.alerts
    assert alerts.alerts[0].window_start >= "2025-10-06"
    assert any(a.channel == "b" for a in alerts.alerts)
    for section in ("summary", "trends", "groups", "alerts", "posts", "languages", "model"):
        assert f'<section id="{section}">' in html
    assert html.count('<svg class="chart"') == 3 and "<polyline" in html
    assert "Posts that mention uzbek" in html
    assert 'class="alert-band"' in html and 'id="alert-1"' in html
    assert "posts scored" in html and "baseline@test" in html
    assert "<mark class=\"m-offensive\"" in html  # the explanation's words, highlighted
    assert "flagged extremism" not in html and '<th class="num">extremism</th>' not in html


def test_report_escapes_hostile_posts_and_loads_nothing(scored, tiny_model_dir) -> None:
    html, _ = build_report(scored, model_path=tiny_model_dir)
    body = html.split("</script>", 1)[1]  # after the page's own script
    assert "<script" not in body and "<img" not in body and "<svg onload" not in body
    assert "&lt;img id=&quot;pwned&quot;" in body and "&lt;svg onload=alert(1)&gt;" in body
    assert not re.search(r'(src|href)="(?:https?:)?//', html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src &#x27;none&#x27;" in csp and "script-src &#x27;sha256-" in csp


def test_report_marks_the_languages_the_model_is_weak_in(tmp_path, tiny_model_dir,
                                                        tiny_model) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "eval").mkdir()
    (folder / "eval" / "report.json").write_text(json.dumps({
        "split": "test", "rows": 100, "overall": {},
        "macro_f1_by_language": {"en": 0.9, "tr": 0.55},
        "by_language": {"offensive": {"en": {}, "tr": {}}},
        "clean_languages": {"kk": {"n": 50, "any_label_flag_rate": 0.02}},
        "functional": {"ky_suite.csv": {"cases": 10, "hateful": {"accuracy": 0.8},
                                        "non_hateful": {"accuracy": 0.7}}}}))
    (folder / "README.md").write_text("# Card\n\n## Limitations and ethical considerations\n\n"
                                    "- **Kyrgyz** is measured on `our` suite only.\n")
    config = json.loads((folder / "config.json").read_text())
    config["weak_languages"] = ["ky", "kk"]
    (folder / "config.json").write_text(json.dumps(config))
    facts = ModelFacts.from_folder(folder)
    assert facts.weakness("en") == []
    assert any("macro-F1 0.55" in r for r in facts.weakness("tr"))
    assert any("clean text only" in r for r in facts.weakness("kk"))
    ky = facts.weakness("ky")
    assert any("weak language" in r for r in ky) and any("ky_suite.csv: 80%" in r for r in ky)
    assert facts.weakness("uz") == ["not evaluated"]
    feed = tmp_path / "feed.csv"
    feed.write_text("id,date,text\n1,2025-09-01T10:00:00Z,Бүгүн күн ачык\n"
                    "2,2025-09-01T11:00:00Z,you stupid idiot\n", encoding="utf-8")
    scan(feed, tmp_path / "s.parquet", ScanOptions(), classifier=tiny_model)
    html, _ = build_report(tmp_path / "s.parquet", model_path=folder)
    assert '<tr class="weak"><td>ky</td>' in html
    assert "<strong>Kyrgyz</strong> is measured on <code>our</code> suite only." in html


def test_report_reads_csv_scans_without_text_and_counts_copies(tmp_path, tiny_model) -> None:
    feed = _surge_feed(tmp_path / "feed.csv")
    scan(feed, tmp_path / "s.csv", ScanOptions(keep_text=False), classifier=tiny_model)
    html, _ = build_report(tmp_path / "s.csv", explain=False)
    assert "The scan did not keep the text" in html and "you stupid idiot" not in html
    scan(feed, tmp_path / "t.jsonl", ScanOptions(), classifier=tiny_model)
    from warning.alerts import AlertConfig

    data, _ = collect(tmp_path / "t.jsonl", AlertConfig.from_settings(), top=5)
    assert data.posts == 255 and len(data.severe) <= 5
    assert any(p.copies > 0 for p in data.severe)  # the same insult, posted many times
    assert len({p.text for p in data.severe}) == len(data.severe)


def test_report_command_writes_beside_the_scan_and_names_bad_input(scored, tiny_model_dir,
                                                                   tmp_path, capsys) -> None:
    assert main(["report", str(scored), "--model", str(tiny_model_dir), "--no-explain"]) == 0
    path = default_report_path(scored)
    assert path.name == "scored.report.html" and path.is_file()
    assert "report:" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.parquet")]) == 2
    assert "not found" in capsys.readouterr().err
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReportError, match="not a scanned file"):
        write_report(plain, tmp_path / "r.html")


def test_scan_command_with_report(tmp_path, tiny_model_dir, capsys) -> None:
    feed = _surge_feed(tmp_path / "feed.csv")
    out = tmp_path / "scored.parquet"
    assert main(["scan", str(feed), "-o", str(out), "--model", str(tiny_model_dir), "-q",
                 "--report"]) == 0
    assert (tmp_path / "scored.report.html").is_file()
    assert "report:" in capsys.readouterr().out


def test_highlight_marks_whole_words_and_escapes_the_rest() -> None:
    explanation = {"hate": [("vermin,", 2.0), ("are", 0.1)], "offensive": [("vermin", 1.0)]}
    out = highlight("They <are> vermin, VERMIN!", explanation)
    assert out.count('<mark class="m-hate" title="hate +2.00">') == 2
    assert "&lt;are&gt;" in out and "<mark class=\"m-hate\" title=\"hate +0.10\">" not in out


def test_line_chart_escapes_names_and_breaks_at_missing_values() -> None:
    from datetime import date, timedelta

    days = [date(2025, 9, 1) + timedelta(days=i) for i in range(5)]
    svg = line_chart(days, [Series("<b>", [0.1, None, 0.2, 0.3, 0.0], "#000")], "t<i>",
                     bands=[Band(days[2], days[4], "#f00", "alert <x>")])
    assert "&lt;b&gt;" in svg and "t&lt;i&gt;" in svg and "alert &lt;x&gt;" in svg
    assert svg.count("<polyline") == 2 and "<b>" not in svg
