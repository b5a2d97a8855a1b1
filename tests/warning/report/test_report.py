"""``warning report``: the page's content, escaping, weak languages, and its command."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from warning.cli import main
from warning.i18n import Lang
from warning.report import build_report, default_report_path, write_report
from warning.report.data import ReportError, collect
from warning.report.model_facts import ModelFacts
from warning.report.render import highlight, markdown_blocks
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


def _payload(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html,
                      re.S)
    return json.loads(block.group(1))


def test_report_shows_every_section_with_chart_data_and_alerts(scored, tiny_model_dir) -> None:
    html, alerts = build_report(scored, model_path=tiny_model_dir, lang="en")
    assert alerts is not None and alerts.alerts
    assert alerts.alerts[0].window_start >= "2025-10-06"
    assert any(a.channel == "b" for a in alerts.alerts)
    for section in ("summary", "trends", "groups", "alerts", "campaigns", "posts", "languages",
                    "model"):
        assert f'<section id="{section}">' in html
    assert 'id="alert-1"' in html and 'data-channel="b"' in html
    assert "posts scored" in html and "baseline@test" in html
    assert "<mark class=\"m-offensive\"" in html  # the explanation's words, highlighted
    assert "flagged extremism" not in html and '<th class="num">extremism</th>' not in html
    # the filters list the channels, groups and labels
    assert '<option value="b">b</option>' in html and '<option value="uzbek">uzbek</option>' in html
    assert '<option value="threat">threat</option>' in html
    # the charts' data: every (channel, group) cell per day, and the alerts' windows
    data = _payload(html)
    assert data["labels"] == ["offensive", "hate", "threat"] and data["step"] == 1
    cells = {(c["c"], c["t"]): c["d"] for c in data["cells"]}
    assert {("(all)", "(all)"), ("b", "(all)"), ("a", "(all)"), ("b", "uzbek")} <= set(cells)
    assert sum(row[1] for row in cells[("(all)", "(all)")]) == 255
    assert sum(row[1] for row in cells[("a", "(all)")]) + \
        sum(row[1] for row in cells[("b", "(all)")]) == 255
    assert len(data["alerts"]) == len(alerts.alerts) and data["alerts"][0]["text"]


def test_report_isolates_a_channel_name_with_a_bidi_override(tmp_path, tiny_model,
                                                              tiny_model_dir) -> None:
    """A channel named with U+202E (right-to-left override) sits inside <bdi> (or between
    U+2068 and U+2069 in plain sentences), so it cannot reverse the rest of a post's head
    line, an alert's row or a campaign's channels."""
    name = "b\u202eevil"
    feed = _surge_feed(tmp_path / "feed.csv")
    feed.write_text(feed.read_text(encoding="utf-8").replace(",b,user", f",{name},user"),
                    encoding="utf-8")
    scan(feed, tmp_path / "scored.parquet", ScanOptions(), classifier=tiny_model)
    html, alerts = build_report(tmp_path / "scored.parquet", model_path=tiny_model_dir,
                                lang="en")
    assert alerts is not None and any(a.channel == name for a in alerts.alerts)
    body = html.split('<script type="application/json"', 1)[0]
    assert f" · channel <bdi>{name}</bdi> · " in body  # a post's head line
    assert f"<td><bdi>{name}</bdi></td>" in body  # an alert's row
    assert f"in channel \u2068{name}\u2069" in body  # the first alert, in words
    rest = body.replace(f"<bdi>{name}</bdi>", "").replace(f"\u2068{name}\u2069", "")
    rest = rest.replace(f'"{name}"', "").replace(f">{name}</option>", "")  # attributes
    assert name not in rest
    texts = [a["text"] for a in _payload(html)["alerts"] if name in a["text"]]
    assert texts and all(f"\u2068{name}\u2069" in t for t in texts)  # the charts' tooltips


def test_report_escapes_hostile_posts_and_loads_nothing(scored, tiny_model_dir) -> None:
    html, _ = build_report(scored, model_path=tiny_model_dir)
    # the page's two scripts: its data (not run) and its own code (hashed), at the end
    assert html.count("<script") == 2
    body = html.split('<script type="application/json"', 1)[0]
    assert "<img" not in body and "<svg onload" not in body
    assert "&lt;img id=&#34;pwned&#34;" in body and "&lt;svg onload=alert(1)&gt;" in body
    data = html.split('<script type="application/json"', 1)[1].split("</script>", 1)[0]
    assert "<" not in data.split(">", 1)[1]  # tojson escapes < and >, so no text ends it
    assert not re.search(r'(src|href)="(?:https?:)?//', html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src &#39;none&#39;" in csp and "script-src &#39;sha256-" in csp


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
    html, _ = build_report(tmp_path / "s.parquet", model_path=folder, lang="en")
    assert '<tr class="weak"><td>ky</td>' in html
    assert "<strong>Kyrgyz</strong> is measured on <code>our</code> suite only." in html
    russian, _ = build_report(tmp_path / "s.parquet", model_path=folder, lang="ru")
    assert "модель отправляет каждый пост на этом языке на проверку (слабый язык)" in russian
    assert "ky_suite.csv: найдено 80% случаев ненависти" in russian
    assert facts.weakness("tr", Lang("ru")) == ["macro-F1 0,55 на тестовой выборке (ниже 0,7)"]
    assert "<strong>Kyrgyz</strong>" in russian and "написана на английском" in russian


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


def _scanned(path: Path, posts: list[tuple[str, str, float]]) -> Path:
    """A scanned file written directly: ``(channel, text, offensive score)`` per post, one a
    day in this order (flagged offensive above 0.5)."""
    import pandas as pd

    rows = []
    for n, (channel, text, score) in enumerate(posts):
        flagged = ["offensive"] if score > 0.5 else []
        rows.append({"id": f"p{n}", "channel": channel, "author": f"user{n}", "text": text,
                     "line": n + 2, "posted_at": f"2025-09-{1 + n:02d}T10:00:00Z",
                     "score_offensive": score, "score_hate": 0.1, "score_threat": 0.1,
                     "flagged": flagged, "lang": "ru", "targets": [],
                     "risk": "low" if flagged else "none", "review": False, "model": "m@1"})
    pd.DataFrame(rows).to_parquet(path)
    return path


def _article(html: str, text: str) -> str:
    """The one post of the most severe whose text is ``text`` (its whole <article>)."""
    found = [a for a in re.findall(r"<article .*?</article>", html, re.S)
             if f'<div class="text">{text}</div>' in a]
    assert len(found) == 1, found
    return found[0]


REPEATED = "gnat ih vseh idioty"
CAMPAIGN = [("a", REPEATED, 0.9), ("b", REPEATED, 0.9), ("b", REPEATED, 0.9),
            ("c", "ty tupoi idiot", 0.8), ("<i>d</i>\u202e", REPEATED, 0.9), ("c", "pogoda", 0.1)]


def test_report_shows_a_repeated_text_once_with_every_channel(tmp_path) -> None:
    """A text posted in channels a (once), b (twice) and d (once) is one post (the first: the
    copies score the same) that names every channel with its count: the channel filter
    matches it for each (b's only flagged posts are copies: it showed none), and names stay
    escaped and isolated."""
    scored = _scanned(tmp_path / "s.parquet", CAMPAIGN)
    hostile = "<i>d</i>\u202e"
    html, _ = build_report(scored, explain=False, lang="en")
    post = _article(html, REPEATED)
    channels = re.search(r"data-channels='([^']*)'", post).group(1)
    assert json.loads(channels) == ["a", "b", hostile]
    head = post.split('<div class="text">', 1)[0]
    assert " · channel <bdi>a</bdi> · 2025-09-01T10:00:00Z · line 2, id <bdi>p0</bdi> · " in head
    assert ('<strong class="copies">posted 4 times in 3 channels</strong>: <bdi>b</bdi> (2), '
            '<bdi>a</bdi> (1), <bdi>&lt;i&gt;d&lt;/i&gt;\u202e</bdi> (1) (one of them is shown)'
            in head)
    assert "<i>" not in html.split('<script type="application/json"', 1)[0]
    once = _article(html, "ty tupoi idiot")
    assert json.loads(re.search(r"data-channels='([^']*)'", once).group(1)) == ["c"]
    assert "posted" not in once and 'class="copies"' not in once
    russian = _article(build_report(scored, explain=False, lang="ru")[0], REPEATED)
    assert "опубликован 4 раза в 3 каналах</strong>: <bdi>b</bdi> (2)" in russian
    # in one channel only: the count, and the channel once (in the head)
    scored = _scanned(tmp_path / "one.parquet", [("b", REPEATED, 0.9)] * 3)
    post = _article(build_report(scored, explain=False, lang="en")[0], REPEATED)
    assert "posted 3 times in 1 channel</strong> (one of them is shown)" in post
    assert post.count("<bdi>b</bdi>") == 1


def test_report_counts_every_copy_of_a_text_it_dropped_and_kept_again(tmp_path) -> None:
    # with one post kept per heap, the text of line 2 is dropped for the more severe post of
    # line 3, then kept again as line 4's copy (the only flagged post of channel b): its count
    # and channels are those of the whole file, and the copy shown is line 4 with its own
    # place, channel and score (line 2 scored lower: shown with line 2's place, the post
    # mixed two copies)
    from warning.alerts import AlertConfig

    scored = _scanned(tmp_path / "s.parquet", [
        ("a", REPEATED, 0.6), ("a", "ty tupoi idiot", 0.95), ("b", REPEATED, 0.7),
        ("c", REPEATED, 0.7), ("c", REPEATED, 0.7)])
    data, _ = collect(scored, AlertConfig.from_settings(), top=1)
    (post,) = [p for p in data.severe if p.text == REPEATED]
    assert (post.line, post.id, post.channel, post.scores["offensive"]) == (4, "p2", "b", 0.7)
    assert post.posted_at == "2025-09-03T10:00:00Z"
    assert post.copies == 3 and post.channels == {"a": 1, "b": 1, "c": 2}
    assert len(data.severe) == 2


def test_report_on_a_scan_with_posts_without_a_time(tmp_path, tiny_model) -> None:
    # the scan keeps a post whose time it did not understand (the alerts skip it): the report
    # leaves it out of the period and the charts, and says so, instead of failing
    def feed(name: str, untimed: Callable[[int], bool]) -> Path:
        lines = ["id,date,channel,author,message"]
        for n in range(30):
            date = "" if untimed(n) else f"2025-09-{1 + n:02d}T10:00:00+06:00"
            lines.append(f"{n},{date},a,user{n % 4},{'idiot' if n % 3 else 'the market'}")
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    scan(feed("some.csv", lambda n: n % 10 == 3), tmp_path / "some.parquet", ScanOptions(),
         classifier=tiny_model)
    html, _ = build_report(tmp_path / "some.parquet", explain=False)
    assert "3 posts have no time" in html and "2025-09-30" in html
    cells = {(c["c"], c["t"]): c["d"] for c in _payload(html)["cells"]}
    assert sum(row[1] for row in cells[("(all)", "(all)")]) == 27
    # no post with a time at all: still a report, without a period or charts
    scan(feed("none.csv", lambda n: True), tmp_path / "none.scored.csv", ScanOptions(),
         classifier=tiny_model)
    html, alerts = build_report(tmp_path / "none.scored.csv", explain=False)
    assert alerts is None and "30 posts have no time" in html and "no post has a time" in html
    assert _payload(html)["cells"] == []


def test_report_on_a_scan_without_posts_says_the_file_holds_none(tmp_path, tiny_model) -> None:
    # every record rejected (empty texts): the alerts' section asked for a scan with
    # --time-col, as if the posts had no time
    feed = tmp_path / "feed.csv"
    feed.write_text("id,date,message\n1,2025-09-01T10:00:00+06:00,\n2,2025-09-02,  \n",
                    encoding="utf-8")
    scan(feed, tmp_path / "s.parquet", ScanOptions(), classifier=tiny_model)
    html, alerts = build_report(tmp_path / "s.parquet", explain=False)
    assert alerts is None and "holds no posts" in html and "--time-col" not in html


def test_report_command_writes_beside_the_scan_and_names_bad_input(scored, tiny_model_dir,
                                                                   tmp_path, capsys) -> None:
    assert main(["report", str(scored), "--model", str(tiny_model_dir), "--no-explain",
                 "--lang", "ru"]) == 0
    path = default_report_path(scored)
    assert path.name == "scored.report.html" and path.is_file()
    assert "Отчёт раннего предупреждения" in path.read_text(encoding="utf-8")
    assert "report:" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.parquet")]) == 2
    assert "not found" in capsys.readouterr().err
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReportError, match="not a scanned file"):
        write_report(plain, tmp_path / "r.html")


def test_report_refuses_to_show_no_severe_posts(scored, tmp_path, capsys) -> None:
    # --top 0 (or below) left the list empty and the page said "No post was flagged."
    with pytest.raises(ReportError, match="at least 1, got 0"):
        build_report(scored, top=0, explain=False)
    assert main(["report", str(scored), "-o", str(tmp_path / "r.html"), "--top", "-5",
                 "--no-explain"]) == 2
    assert "--top" in capsys.readouterr().err and not (tmp_path / "r.html").exists()
    html, _ = build_report(scored, top=1, explain=False)
    assert "No post was flagged." not in html


def test_scan_command_with_report(tmp_path, tiny_model_dir, capsys) -> None:
    feed = _surge_feed(tmp_path / "feed.csv")
    out = tmp_path / "scored.parquet"
    assert main(["scan", str(feed), "-o", str(out), "--model", str(tiny_model_dir), "-q",
                 "--report"]) == 0
    assert (tmp_path / "scored.report.html").is_file()
    assert "report:" in capsys.readouterr().out


def test_highlight_marks_whole_words_and_keeps_the_rest_as_text() -> None:
    explanation = {"hate": [("vermin,", 2.0), ("are", 0.1)], "offensive": [("vermin", 1.0)]}
    parts = highlight("They <are> vermin, VERMIN!", explanation)
    assert "".join(p.text for p in parts) == "They <are> vermin, VERMIN!"
    assert [(p.text, p.label, p.weight) for p in parts if p.label] == [
        ("vermin", "hate", 2.0), ("VERMIN", "hate", 2.0)]


def test_report_card_markdown_becomes_pieces_not_markup() -> None:
    blocks = markdown_blocks(["- **Kyrgyz** <b>x</b> `code`", "- two", "A paragraph."])
    assert blocks == [
        {"kind": "ul", "items": [[("strong", "Kyrgyz"), ("text", " <b>x</b> "),
                                  ("code", "code")], [("text", "two")]]},
        {"kind": "p", "items": [[("text", "A paragraph.")]]}]


def test_report_in_russian_translates_headings_alerts_and_numbers(scored,
                                                                   tiny_model_dir) -> None:
    html, alerts = build_report(scored, model_path=tiny_model_dir, lang="ru")
    assert '<html lang="ru">' in html and "<title>Отчёт раннего предупреждения</title>" in html
    for heading in ("1. Сводка", "2. Отмеченные посты во времени", "4. Оповещения",
                    "5. Скоординированные публикации", "6. Самые серьёзные посты",
                    "7. По языкам", "8. Модель"):
        assert heading in html
    assert alerts.alerts[0].describe("ru", isolate=True) in html.replace("&#34;", '"')
    assert "постов оценено" in html and "255" in html
    # no English heading or explanation is left
    for english in ("Summary</h2>", "Flagged posts over time", "posts scored", "Each cell (a",
                    "The first alert:", "Words that drove the scores:"):
        assert english not in html
    data = _payload(html)
    assert data["lang"] == "ru" and data["words"]["day"] == "день"
    assert data["names"]["offensive"] == "оскорбление"


def test_report_language_comes_from_the_setting(scored, tiny_model_dir, monkeypatch) -> None:
    monkeypatch.setenv("WARNING_REPORT_LANG", "ru")
    html, _ = build_report(scored, model_path=tiny_model_dir, explain=False)
    assert "Отчёт раннего предупреждения" in html
    monkeypatch.setenv("WARNING_REPORT_LANG", "fr")
    with pytest.raises(ValueError, match="WARNING_REPORT_LANG"):
        build_report(scored, model_path=tiny_model_dir, explain=False)
    monkeypatch.delenv("WARNING_REPORT_LANG")
    assert "Early-warning report" in build_report(scored, model_path=tiny_model_dir,
                                                  explain=False)[0]
