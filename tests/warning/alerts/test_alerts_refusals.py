"""The alerts refuse what they cannot use (files, labels, settings), naming the problem."""

import pandas as pd
import pytest
from fixtures.alert_feeds import alert_config as _config
from fixtures.alert_feeds import scored_feed as _scored
from fixtures.alert_feeds import surge as _surge

from warning.alerts import AlertConfig, AlertError, find_alerts
from warning.cli import main


def test_alerts_refuse_files_they_cannot_use(tmp_path, capsys) -> None:
    with pytest.raises(AlertError, match="not found"):
        find_alerts(tmp_path / "missing.parquet")
    plain = tmp_path / "plain.csv"
    plain.write_text("text\nhello\n", encoding="utf-8")
    with pytest.raises(AlertError, match="not a scanned file"):
        find_alerts(plain, _config())
    untimed = tmp_path / "untimed.parquet"
    frame = pd.read_parquet(_scored(tmp_path / "s.parquet", days=2))
    frame.assign(posted_at=None).to_parquet(untimed)
    with pytest.raises(AlertError, match="--time-col"):
        find_alerts(untimed, _config())
    code = main(["alerts", str(plain), "-o", str(tmp_path / "a.json")])
    assert code == 2 and "not a scanned file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown time zone"):
        _config(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="windows"):
        _config(windows=("month",))


def test_alerts_on_a_file_without_posts_say_so_not_that_times_are_missing(tmp_path,
                                                                          capsys) -> None:
    # a scan that rejected every record writes a file of no rows: the alerts blamed its
    # times and asked for another scan with --time-col
    empty = tmp_path / "empty.parquet"
    pd.read_parquet(_scored(tmp_path / "s.parquet", days=1)).iloc[:0].to_parquet(empty)
    with pytest.raises(AlertError, match="holds no posts") as caught:
        find_alerts(empty, _config())
    assert "--time-col" not in str(caught.value)
    code = main(["alerts", str(empty), "-o", str(tmp_path / "a.json")])
    err = capsys.readouterr().err
    assert code == 2 and "holds no posts" in err and "--time-col" not in err
    assert not (tmp_path / "a.json").exists()


def test_alerts_refuse_a_label_the_file_has_no_scores_for(tmp_path, capsys) -> None:
    # extremism: a column of nulls (the model does not score it); threat: no column at all.
    # Asked for them, the alerts used to test nothing and blame the feed's length.
    path = _scored(tmp_path / "scored.parquet", hate_rate=_surge(20))
    with pytest.raises(AlertError, match=r"no post has a score for extremism .*leave out "
                                         r"--label extremism"):
        find_alerts(path, _config(labels=("hate", "extremism")))
    pd.read_parquet(path).drop(columns="score_threat").to_parquet(tmp_path / "dropped.parquet")
    code = main(["alerts", str(tmp_path / "dropped.parquet"), "-o", str(tmp_path / "a.json"),
                 "--label", "threat"])
    assert code == 2 and "no post has a score for threat" in capsys.readouterr().err
    assert find_alerts(path, _config(labels=("hate",))).alerts  # a scored label still works


def test_alerts_config_from_settings(monkeypatch) -> None:
    monkeypatch.setenv("WARNING_ALERT_WINDOWS", "week")
    monkeypatch.setenv("WARNING_ALERT_FDR", "0.1")
    monkeypatch.setenv("WARNING_ALERT_MIN_COUNT", "3")
    config = AlertConfig.from_settings(baseline=6)
    assert (config.windows, config.fdr, config.min_count, config.baseline) == (("week",), 0.1,
                                                                              3, 6)
    monkeypatch.setenv("WARNING_ALERT_FDR", "2")
    with pytest.raises(ValueError, match="WARNING_ALERT_FDR"):
        AlertConfig.from_settings()


@pytest.mark.parametrize("name", ["WARNING_ALERT_RATIO", "WARNING_ALERT_FDR",
                                  "WARNING_CAMPAIGN_SIMILARITY"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_alerts_settings_refuse_numbers_that_are_not_finite(monkeypatch, name, value) -> None:
    # WARNING_ALERT_RATIO=nan (or inf) was accepted, and alerts.json then held NaN (or
    # Infinity), which is not JSON; the others were refused without naming the setting
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be a finite number, got '{value}'"):
        AlertConfig.from_settings()


def test_alerts_refuse_a_baseline_beyond_a_year_of_windows(tmp_path, monkeypatch,
                                                           capsys) -> None:
    # a baseline of 2**63 windows or more failed with an OverflowError traceback; 10**12 was
    # taken and asked for 10**12 earlier days of posts
    monkeypatch.setenv("WARNING_ALERT_BASELINE", str(10**12))
    with pytest.raises(ValueError, match=r"WARNING_ALERT_BASELINE must be at most 365, got "):
        AlertConfig.from_settings()
    monkeypatch.delenv("WARNING_ALERT_BASELINE")
    with pytest.raises(ValueError, match=r"baseline \(--baseline\) must be at most 365"):
        _config(baseline=366)
    assert _config(baseline=365).baseline == 365
    path = _scored(tmp_path / "scored.parquet", days=2)
    code = main(["alerts", str(path), "-o", str(tmp_path / "a.json"), "--baseline",
                 str(2**63)])
    err = capsys.readouterr().err
    assert code == 2 and "--baseline" in err and "at most 365" in err
    assert "Traceback" not in err and not (tmp_path / "a.json").exists()
