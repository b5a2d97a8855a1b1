"""Coordinated posting: near-identical flagged posts from several authors or channels."""

import json

import pandas as pd
import pytest

from warning.alerts import AlertConfig, find_alerts
from warning.alerts.campaigns import CampaignConfig, FlaggedPost, find_campaigns, text_key
from warning.cli import main

HATE = "узбеки должны убраться из нашего города, хватит это терпеть"


def _post(i, text=HATE, author=None, channel="osh", day="2025-10-14", week="2025-10-13",
          flagged=("hate",)):
    return FlaggedPost(f"p{i}", i + 2, f"{day}T1{i % 10}:00:00Z", day, week, channel,
                       (author if author is not None else f"a{i}",), text, ("uzbek",), flagged)


@pytest.mark.parametrize(("posts", "expected"), [
    # three accounts, one channel: a campaign
    ([_post(0), _post(1), _post(2)], [(3, 3, 1)]),
    # two accounts in one channel: not enough
    ([_post(0), _post(1)], []),
    # one account, two channels: a campaign (the channels' threshold)
    ([_post(0, author="x"), _post(1, author="x", channel="bishkek")], [(2, 1, 2)]),
    # one account repeating itself in one channel: not coordination
    ([_post(i, author="x") for i in range(6)], []),
    # small edits (case, punctuation, a word added or changed) still join
    ([_post(0), _post(1, HATE.upper() + "!!!"), _post(2, HATE.replace("хватит", "хватит уже")),
      _post(3, HATE.replace("города", "района"))], [(4, 4, 1)]),
    # another text does not join; the same text in another week is another window
    ([_post(0), _post(1), _post(2, "цены на хлеб опять выросли, куда смотрит мэрия"),
      _post(3, week="2025-10-20", day="2025-10-21"), _post(4, week="2025-10-20",
                                                            day="2025-10-22")], []),
])
def test_campaigns_need_several_authors_or_channels(posts, expected) -> None:
    found = find_campaigns(posts, "week", "2025-10-20", CampaignConfig())
    assert [(c.posts, c.authors, c.channels) for c in found] == expected


def test_campaigns_carry_their_evidence_and_rank_by_size() -> None:
    other = "киргизы вон из Оша, вам здесь не рады, убирайтесь"
    posts = [_post(i) for i in range(4)] + [_post(10 + i, other, channel=c)
                                            for i, c in enumerate(["osh", "jalal"])]
    found = find_campaigns(posts, "week", "2025-10-20")
    assert [c.id for c in found] == ["c1", "c2"] and found[0].posts == 4
    first = found[0].to_dict()
    assert "members" not in first
    assert first["post_ids"] == ["p0", "p1", "p2", "p3"] and first["lines"] == [2, 3, 4, 5]
    assert first["text"] == HATE and first["labels"] == ["hate"]
    assert first["targets"] == ["uzbek"] and first["channel_names"] == ["osh"]
    assert first["first_at"] == "2025-10-14T10:00:00Z" < first["last_at"]
    assert found[1].channel_names == ["jalal", "osh"]
    assert text_key("  Вон, ИЗ города!! ") == "вон из города"


def test_campaigns_config_is_checked(monkeypatch) -> None:
    with pytest.raises(ValueError, match="at least 2 authors"):
        CampaignConfig(authors=1)
    monkeypatch.setenv("WARNING_CAMPAIGN_AUTHORS", "4")
    monkeypatch.setenv("WARNING_CAMPAIGN_SIMILARITY", "0.9")
    assert CampaignConfig.from_settings() == CampaignConfig(4, 2, 0.9)
    monkeypatch.setenv("WARNING_CAMPAIGN_SIMILARITY", "2")
    with pytest.raises(ValueError, match="WARNING_CAMPAIGN_SIMILARITY"):
        CampaignConfig.from_settings()


def _feed(path, text=True):
    """Six weeks of one channel; on one day a flagged text pasted by four accounts and a
    harmless one pasted by twenty."""
    rows = []
    for day in range(42):
        for i in range(10):
            rows.append({"day": day, "text": f"день {day}, заметка {i}: {'ах ' * (i + day % 7)}",
                         "flagged": [], "author": f"u{i}"})
        if day == 37:
            rows += [{"day": day, "text": HATE + ("!" * k), "flagged": ["hate"],
                      "author": f"bot{k}"} for k in range(4)]
            rows += [{"day": day, "text": "всех с праздником, мира и добра!", "flagged": [],
                      "author": f"fan{k}"} for k in range(20)]
    frame = pd.DataFrame(rows)
    frame["posted_at"] = (pd.Timestamp("2025-09-01T10:00:00Z")
                          + pd.to_timedelta(frame["day"], unit="D")).dt.strftime(
                              "%Y-%m-%dT%H:%M:%SZ")
    frame = frame.drop(columns="day")
    frame["id"] = [f"p{i}" for i in range(len(frame))]
    frame["line"] = range(2, len(frame) + 2)
    frame["channel"] = "osh"
    frame["targets"] = [["uzbek"] if f else [] for f in frame["flagged"]]
    frame["score_hate"] = [0.9 if f else 0.01 for f in frame["flagged"]]
    frame["model"] = "m@1"
    if not text:
        frame = frame.drop(columns="text")
    frame.to_parquet(path)
    return path


def test_campaigns_in_the_alerts_outputs(tmp_path, capsys) -> None:
    path = _feed(tmp_path / "scored.parquet")
    report = find_alerts(path, AlertConfig(timezone="UTC", evidence=2))
    assert [(c.posts, c.authors, c.text) for c in report.campaigns] == [(4, 4, HATE)]
    assert main(["alerts", str(path), "-o", str(tmp_path / "a.json"), "-o",
                 str(tmp_path / "a.csv"), "--timezone", "UTC"]) == 0
    out = capsys.readouterr().out
    assert "1 campaign(s)" in out and "a.campaigns.csv" in out
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert data["campaigns"][0]["post_ids"] == report.campaigns[0].post_ids
    table = pd.read_csv(tmp_path / "a.campaigns.csv", dtype=str)
    assert list(table.columns[:8]) == ["id", "window", "window_start", "window_end", "text",
                                       "posts", "authors", "channels"]
    assert table.loc[0, "text"] == HATE and table.loc[0, "post_ids"].count(";") == 3
    # without texts, nothing can be compared: said, not guessed
    bare = find_alerts(_feed(tmp_path / "bare.parquet", text=False), AlertConfig(timezone="UTC"))
    assert bare.campaigns == [] and any("--no-text" in n for n in bare.notes)
