"""Alert statistics on synthetic scored feeds with known surges; no model involved."""

import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fixtures.alert_feeds import MODEL, START
from fixtures.alert_feeds import alert_config as _config
from fixtures.alert_feeds import scored_feed as _scored
from fixtures.alert_feeds import surge as _surge

from warning.alerts import ALL, AlertConfig, find_alerts
from warning.cli import main


def test_alerts_find_a_known_surge_with_its_cell_figures_and_evidence(tmp_path) -> None:
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20))
    report = find_alerts(path, _config())
    assert report.alerts, "the surge was missed"
    # both questions see it: the share of the group's posts flagged, and the group's flagged
    # posts against all the feed's posts
    assert {(a.target, a.label) for a in report.alerts[:2]} == {("uzbek", "hate")}
    assert {a.question for a in report.alerts[:2]} == {"share", "count"}
    count = next(a for a in report.alerts if a.question == "count")
    assert count.volume == 120 and count.baseline_volume == 480 and count.rate_ratio > 4
    top = next(a for a in report.alerts if a.question == "share")
    assert (top.window, top.window_start, top.window_end) == ("day", "2024-04-21", "2024-04-22")
    assert (top.channel, top.target, top.label) == (ALL, "uzbek", "hate")
    assert top.q_value <= 0.05 and top.p_value <= top.q_value
    assert top.rate > 0.3 and top.baseline_rate < 0.1 and top.rate_ratio > 4
    assert top.ratio >= 2 and top.acled_rule
    assert top.model == MODEL and top.volume == pytest.approx(30, abs=15)
    assert top.baseline_volume > 3 * top.volume
    hate = [a for a in report.alerts if a.label == "hate"]
    assert {(a.window_start, a.target) for a in hate} <= {("2024-04-21", "uzbek"),
                                                          ("2024-04-21", ALL)}
    # evidence: the cell's flagged posts, most probable first, with their texts
    assert 1 <= len(top.evidence) <= 5
    scores = [e["score"] for e in top.evidence]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.6
    frame = pd.read_parquet(path).set_index("id")
    for post in top.evidence:
        row = frame.loc[post["id"]]
        assert "hate" in list(row["flagged"]) and list(row["targets"]) == ["uzbek"]
        assert row["posted_at"].startswith("2024-04-21") and post["text"] == f"post {post['id']}"
        assert post["line"] == row["line"]


def test_alerts_volume_rise_at_a_constant_rate_is_no_alert(tmp_path) -> None:
    path = _scored(tmp_path / "scored.parquet", volume=lambda d, ch: 400 if d >= 20 else 100)
    frame = pd.read_parquet(path)
    day = frame["posted_at"].str[:10]
    hate = frame["flagged"].map(lambda f: "hate" in f)
    per_day = hate.groupby(day).sum()
    # the ACLED count rule alone would fire: four times the posts, so about four times the count
    assert per_day["2024-04-21"] >= 2 * per_day.loc["2024-04-17":"2024-04-20"].mean()
    report = find_alerts(path, _config(windows=("day", "week")))
    assert report.alerts == []
    assert report.cells_tested > 100


def test_alerts_many_cells_of_noise_give_no_false_alarm_and_keep_the_surge(tmp_path) -> None:
    channels = tuple(f"ch{i}" for i in range(12))
    noise = _scored(tmp_path / "noise.parquet", days=30, channels=channels,
                    volume=lambda d, ch: 40 + 5 * (d % 7), seed=11)
    report = find_alerts(noise, _config(min_count=1))
    assert report.cells_tested > 2000
    assert report.alerts == []
    planted = _scored(tmp_path / "planted.parquet", days=30, channels=channels,
                      volume=lambda d, ch: (120 if ch == "ch7" else 40) + 5 * (d % 7), seed=11,
                      hate_rate=_surge(25, channel="ch7", target="women", rate=0.9))
    report = find_alerts(planted, _config(min_count=1))
    cells = {(a.window_start, a.channel, a.target, a.label) for a in report.alerts}
    assert ("2024-04-26", "ch7", "women", "hate") in cells
    assert {(d, t, lab) for d, _, t, lab in cells} <= {("2024-04-26", "women", "hate"),
                                                      ("2024-04-26", ALL, "hate")}


def _quick_feed(path, seed, days=30, channels=1, volume=40, extra=None):
    """A no-change feed, fast: ``volume`` posts a day per channel, one in four mentioning each
    of three groups or none; hate 5%, offensive 10%, threat 1% everywhere. ``extra`` rows
    (dicts with day, channel, target, hate) are added as they are."""
    rng = np.random.default_rng(seed)
    n = days * channels * volume
    day = np.repeat(np.arange(days), channels * volume)
    channel = np.tile(np.repeat(np.arange(channels), volume), days)
    groups = np.array(["uzbek", "kyrgyz", "women", ""])
    target = groups[rng.integers(0, 4, n)]
    flags = {"offensive": rng.random(n) < 0.10, "hate": rng.random(n) < 0.05,
             "threat": rng.random(n) < 0.01}
    frame = pd.DataFrame({"day": day, "channel": np.char.add("ch", channel.astype(str)),
                          "target": target, **flags})
    if extra:
        more = pd.DataFrame(extra).assign(offensive=False, threat=False)
        frame = pd.concat([frame, more], ignore_index=True)
    moment = pd.Timestamp(START) + pd.to_timedelta(frame["day"], unit="D") + \
        pd.Timedelta(hours=10)
    out = pd.DataFrame({
        "id": [f"p{i}" for i in range(len(frame))], "channel": frame["channel"],
        "line": np.arange(len(frame)) + 2,
        "posted_at": moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **{f"score_{n}": np.where(frame[n], 0.8, 0.05) for n in ("offensive", "hate", "threat")},
        "score_extremism": None,
        "flagged": [[n for n in ("offensive", "hate", "threat") if row[n]]
                    for row in frame[["offensive", "hate", "threat"]].to_dict("records")],
        "targets": [[t] if t else [] for t in frame["target"]], "model": MODEL})
    out.to_parquet(path)
    return path


def test_alerts_false_alarms_stay_rare_when_nothing_changes(tmp_path) -> None:
    """Small feeds (one channel, 40 posts a day) where no rate ever changes, at the default
    settings and with two labels and days only. Choosing cells by their window's count alone
    (the old rule) raised an alert in about 12% and 29% of such feeds; Benjamini-Hochberg at
    5% promises at most 5% when nothing changes (every alert is then false), with both
    questions in one correction and with each alone."""
    runs, alarmed, tested = 20, [], 0
    configs = (("default", AlertConfig(evidence=0)),
               ("hate+threat, days", AlertConfig(windows=("day",), evidence=0,
                                                 labels=("hate", "threat"))),
               # each question alone holds the rate too (the count question is new)
               ("count only", AlertConfig(evidence=0, questions=("count",))),
               ("share only", AlertConfig(evidence=0, questions=("share",))))
    for seed in range(runs):
        path = _quick_feed(tmp_path / f"null{seed}.parquet", seed=seed)
        for name, config in configs:
            report = find_alerts(path, config)
            tested += report.cells_tested
            if report.alerts:
                alarmed.append((seed, name))
    # at most 5% of the runs, for every configuration together and for each alone
    assert len(alarmed) <= 0.05 * len(configs) * runs, \
        f"false alarms in {len(alarmed)} of {len(configs) * runs} runs: {alarmed}"
    for name, _config_used in configs:
        assert sum(n == name for _, n in alarmed) <= 2, (name, alarmed)
    assert tested > 20 * runs


def test_alerts_a_new_target_group_or_channel_is_compared_with_its_parent(tmp_path) -> None:
    uyghur = [{"day": 25, "channel": "ch0", "target": "uyghur", "hate": i < 15}
              for i in range(20)]
    newch = [{"day": 26, "channel": "new", "target": "", "hate": i < 12} for i in range(30)]
    path = _quick_feed(tmp_path / "new.parquet", seed=3, volume=200, channels=2,
                       extra=uyghur + newch)
    report = find_alerts(path, _config())
    share = [a for a in report.alerts if a.question == "share"]
    cells = {(a.window_start, a.channel, a.target, a.label): a for a in share}
    group = cells[("2024-04-26", ALL, "uyghur", "hate")]
    assert (group.baseline, group.baseline_channel, group.baseline_target) == ("parent", ALL,
                                                                              ALL)
    assert group.count == 15 and group.volume == 20 and group.baseline_volume == 4 * 400
    assert group.baseline_rate == pytest.approx(0.05, abs=0.01) and group.q_value <= 0.05
    assert cells[("2024-04-26", "ch0", "uyghur", "hate")].baseline_target == ALL
    channel = cells[("2024-04-27", "new", ALL, "hate")]
    assert (channel.baseline, channel.baseline_channel) == ("parent", ALL)
    own = [a for a in share if a.baseline == "own"]
    # the count question: 15 hateful posts about a group never mentioned before, against the
    # channel's volume (its own count history is none)
    counted = {(a.channel, a.target, a.label) for a in report.alerts if a.question == "count"}
    assert {("ch0", "uyghur", "hate"), (ALL, "uyghur", "hate")} <= counted
    assert {(a.window_start, a.target) for a in own} <= {("2024-04-26", ALL),
                                                         ("2024-04-27", ALL)}
    assert "new cell" in "\n".join(report.lines())
    report.write(tmp_path / "a.csv")
    table = pd.read_csv(tmp_path / "a.csv", dtype=str)
    shares = table[table["question"] == "share"]
    assert set(shares["baseline"]) == ({"own", "parent"} if own else {"parent"})
    # a new group flagged at the usual rate raises nothing
    calm = [{"day": 25, "channel": "ch0", "target": "uyghur", "hate": i < 2}
            for i in range(40)]
    path = _quick_feed(tmp_path / "calm.parquet", seed=3, volume=200, channels=2, extra=calm)
    assert not [a for a in find_alerts(path, _config()).alerts if a.target == "uyghur"]


def test_alerts_a_channel_named_like_an_aggregate_cell_stays_its_own_cell(tmp_path) -> None:
    """Channels really named ``(all)`` and ``(none)`` do not merge with all channels (their
    posts counted twice there) or with the posts without a channel: they are written with
    one more pair of parentheses."""
    extra = [{"day": 26, "channel": name, "target": "", "hate": i < 20 and name is not None}
             for name in ("(all)", "(none)", None) for i in range(30)]
    path = _quick_feed(tmp_path / "named.parquet", seed=3, volume=200, channels=2,
                       extra=extra)
    report = find_alerts(path, _config())
    cells = {a.channel: a for a in report.alerts if (a.window_start, a.target, a.label,
                                                     a.question) ==
             ("2024-04-27", ALL, "hate", "share")}
    assert cells[ALL].volume == 2 * 200 + 3 * 30  # each post once
    assert (cells["((all))"].volume, cells["((all))"].count) == (30, 20)
    assert (cells["((none))"].volume, cells["((none))"].count) == (30, 20)
    assert "(none)" not in cells  # the 30 posts without a channel: none flagged
    assert {p["id"] for p in cells["((all))"].evidence} <= {f"p{i}" for i in
                                                            range(12000, 12030)}


def test_alerts_min_count_is_the_noise_floor(tmp_path) -> None:
    path = _scored(tmp_path / "scored.parquet", volume=lambda d, ch: 30,
                   hate_rate=lambda d, ch, t: 0.5 if (d == 20 and t == "women") else 0.0)
    assert find_alerts(path, _config(min_count=2)).alerts
    high = find_alerts(path, _config(min_count=10))
    assert high.alerts == []


def test_alerts_say_when_the_feed_is_too_short_to_test(tmp_path) -> None:
    report = find_alerts(_scored(tmp_path / "short.parquet", days=4), _config())
    assert report.cells_tested == 0 and report.alerts == []
    assert any("needs 4 earlier days" in n for n in report.notes)


def test_alerts_expected_count_measure_finds_the_surge_too(tmp_path) -> None:
    # every post adds its probability, so nearly every cell is tested under this measure:
    # more tests than with flagged counts, so a surge needs to be a little clearer
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20, rate=0.6))
    report = find_alerts(path, _config(measure="expected"))
    top = report.alerts[0]
    assert (top.window_start, top.target, top.label, top.measure) == ("2024-04-21", "uzbek",
                                                                      "hate", "expected")
    assert not float(top.count).is_integer()


def test_alerts_weeks_start_on_monday_and_days_follow_the_timezone(tmp_path) -> None:
    path = _scored(tmp_path / "scored.parquet", days=42, hate_rate=_surge(38, rate=0.7),
                   hour=20)
    week = find_alerts(path, _config(windows=("week",)))
    top = week.alerts[0]
    assert (top.window, top.window_start, top.window_end) == ("week", "2024-05-06",
                                                              "2024-05-13")
    assert datetime.fromisoformat(top.window_start).weekday() == 0
    assert (top.target, top.label) == ("uzbek", "hate")
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20), hour=20)
    utc = find_alerts(path, _config()).alerts[0]
    bishkek = find_alerts(path, _config(timezone="Asia/Bishkek")).alerts[0]
    assert utc.window_start == "2024-04-21" and bishkek.window_start == "2024-04-22"


def test_alerts_read_a_csv_scan_and_leave_texts_out_when_the_scan_did(tmp_path) -> None:
    parquet = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20), text=False)
    csv_path = _scored(tmp_path / "scored.csv", hate_rate=_surge(20), text=False, fmt="csv")
    a = find_alerts(parquet, _config())
    b = find_alerts(csv_path, _config())
    assert [x.to_dict() for x in a.alerts] == [x.to_dict() for x in b.alerts]
    assert a.alerts and all("text" not in e for e in a.alerts[0].evidence)
    assert any("channel column: channel (detected" in n for n in a.notes)


def test_alerts_outputs_json_and_csv(tmp_path) -> None:
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20))
    report = find_alerts(path, _config())
    report.write(tmp_path / "alerts.json")
    report.write(tmp_path / "alerts.csv")
    data = json.loads((tmp_path / "alerts.json").read_text())
    assert data["model"] == MODEL and data["settings"]["fdr"] == 0.05
    assert data["alerts"][0]["evidence"][0]["id"] == report.alerts[0].evidence[0]["id"]
    table = pd.read_csv(tmp_path / "alerts.csv", dtype=str)
    assert list(table.columns[:6]) == ["window", "window_start", "window_end", "channel",
                                       "target", "label"]
    assert table["evidence_ids"][0].split(";") == [e["id"] for e in report.alerts[0].evidence]
    assert len(table) == len(report.alerts)


def test_alerts_command(tmp_path, capsys) -> None:
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20))
    code = main(["alerts", str(path), "-o", str(tmp_path / "a.json"), "-o",
                 str(tmp_path / "a.csv"), "--window", "day", "--timezone", "UTC",
                 "--evidence", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "alert(s) among" in out and "uzbek" in out
    assert (tmp_path / "a.csv").is_file()
    assert len(json.loads((tmp_path / "a.json").read_text())["alerts"][0]["evidence"]) == 2


WORDS = ("цены хлеб рынок погода дождь автобус школа свадьба футбол концерт дорога ремонт "
         "мэрия новости сегодня завтра утром вечером город село урожай абрикосы базар мост "
         "больница врач учитель праздник гости соседи чай мясо бензин такси").split()
PLANTED = ["таджики опять понаехали в Баткен, гнать их всех отсюда",
           "хватит терпеть таджиков, пора браться за ножи и выгнать их",
           "таджики враги, сожжём их дома в эту пятницу"]


def _targeted_feed(path, weeks=7, planted_week=5):
    """The issue's scenario: three channels of everyday posts (a little offensive and hateful
    noise), Tajiks named about once a week, each time with hate; then, in one week of channel
    batken, eighteen hateful and threatening posts about Tajiks, three texts copied with small
    edits by six accounts. Also: a harmless text pasted by ten accounts in two channels, and
    one account repeating a flagged post in one channel (neither is a campaign)."""
    rng = np.random.default_rng(17)
    rows = []

    def add(day, channel, author, text, flagged, targets, hour=None):
        moment = START + timedelta(days=int(day), hours=int(hour if hour is not None else
                                                            rng.integers(8, 22)),
                                   minutes=int(rng.integers(0, 60)))
        rows.append({"id": f"p{len(rows)}", "line": len(rows) + 2, "channel": channel,
                     "author": author, "posted_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "text": text, "flagged": flagged, "targets": targets,
                     **{f"score_{n}": (0.9 if n in flagged else 0.05)
                        for n in ("offensive", "hate", "threat")},
                     "score_extremism": None, "model": MODEL})

    for day in range(7 * weeks):
        for channel in ("batken", "osh_news", "bishkek_chat"):
            for _ in range(15):
                flags = ["offensive"] if rng.random() < 0.08 else []
                if rng.random() < 0.03:
                    flags.append("hate")
                add(day, channel, f"u{rng.integers(0, 300)}",
                    " ".join(rng.choice(WORDS, size=int(rng.integers(6, 12)))), flags, [])
        if day % 7 == 3:  # Tajiks named once a week, with hate
            add(day, ["osh_news", "batken", "bishkek_chat"][day // 7 % 3], "u999",
                f"таджики опять во всём виноваты, неделя {day // 7}", ["hate"], ["tajik"])
    first = 7 * planted_week
    for k in range(18):
        words = PLANTED[k % 3].split()
        if k >= 3:  # small edits: one word dropped or repeated
            words = words[:-1] if k % 2 else [*words, words[-1]]
        add(first + k % 5, "batken", f"bot{k // 3}", " ".join(words), ["hate", "threat"],
            ["tajik"])
    for k in range(10):
        add(first + 2, ["osh_news", "bishkek_chat"][k % 2], f"fan{k}",
            "с праздником, дорогие земляки! мира и добра всем", [], [])
    for _ in range(5):
        add(first + 1, "osh_news", "angry1", "все вы тут идиоты и дебилы конченые",
            ["offensive"], [])
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_alerts_a_group_targeted_by_a_surge_of_hate_is_among_the_first_alerts(tmp_path) -> None:
    """The issue's scenario: every mention of the group was already hateful, so its share of
    hateful mentions cannot rise; the count question sees eighteen hateful posts where there
    was one, and the copies form a campaign."""
    path = _targeted_feed(tmp_path / "feed.parquet")
    report = find_alerts(path, AlertConfig(timezone="UTC"))
    week = "2024-05-06"
    first = report.alerts[:3]
    group = [a for a in first if (a.window, a.window_start, a.channel, a.target) ==
             ("week", week, "batken", "tajik")]
    assert group, [a.describe("en") for a in first]
    alert = group[0]
    assert alert.question == "count" and alert.label in ("hate", "threat")
    planted = pd.read_parquet(path).set_index("id")
    for post in alert.evidence:
        assert planted.at[post["id"], "author"].startswith("bot")
    assert len(alert.evidence) == 5
    # each text and its edits, from six accounts, is a campaign, linked to the alert
    assert len(report.campaigns) == 3, [c.to_dict() for c in report.campaigns]
    for campaign in report.campaigns:
        assert campaign.id in alert.campaigns
        assert (campaign.posts, campaign.authors, campaign.channels) == (6, 6, 1)
        assert campaign.window_start == week and campaign.labels == ["hate", "threat"]
        assert any(campaign.text[:25] == t[:25] for t in PLANTED)
        assert campaign.first_at < campaign.last_at
        assert {planted.at[i, "author"] for i in campaign.post_ids} == \
            {f"bot{k}" for k in range(6)}
    assert alert.campaign_posts == 18
    assert not [c for c in report.campaigns if "праздником" in c.text or "идиоты" in c.text]
    # the share question alone raises no hate alert for the group in that channel and week:
    # every mention was hateful before too
    share_only = find_alerts(path, AlertConfig(timezone="UTC", questions=("share",)))
    assert not [a for a in share_only.alerts if (a.window_start, a.channel, a.target,
                                                 a.label) == (week, "batken", "tajik", "hate")]
    assert [a for a in report.alerts if (a.window_start, a.channel, a.target, a.label,
                                         a.question) == (week, "batken", "tajik", "hate",
                                                         "count")]
