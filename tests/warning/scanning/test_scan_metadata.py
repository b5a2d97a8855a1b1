"""A scan's summary that cannot be used (edited, cut, replaced) is named with its problem, and
``warning alerts`` and ``warning report`` go on without it, as without a summary, saying so."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.alert_feeds import alert_config, scored_feed, surge

from warning.alerts import find_alerts
from warning.cli import main
from warning.report import build_report
from warning.scanning import ScanMetadataError, read_scan_metadata, scan_paths
from warning.scanning.scoring import METADATA_KEY

DEEP = 100_000
#: A summary that cannot be used, and what the error says about it.
BROKEN = {
    "huge integer": (b'{"rows_read": ' + b"7" * 4_400 + b"}", "a number too long: 4,400 digits"),
    "deep nesting": (b'{"columns": ' + b"[" * DEEP + b"]" * DEEP + b"}", "nested deeper than"),
    "broken JSON": (b'{"columns": {"text": "message", ', "not valid JSON"),
    "a list": (b"[1, 2, 3]", "holds a list, not a JSON object"),
    "a string": (b'"done"', "holds a string, not a JSON object"),
    "bad bytes": (b'{"model": "\xff\xfe"}', "not valid UTF-8"),
    "columns a number": (b'{"columns": 5}', "'columns' is a number, not an object"),
    "authors a number": (b'{"columns": {"authors": 5}}', "author columns are not a list"),
    "text column a list": (b'{"columns": {"text": ["a"]}}', "the text column is a list"),
    "rows_rejected a string": (b'{"rows_rejected": "many"}', "'rows_rejected' is not a count"),
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    return scored_feed(folder / "scored.parquet", days=14, hate_rate=surge(12))


@pytest.mark.parametrize("case", list(BROKEN))
def test_scan_metadata_names_the_summary_and_its_problem(tmp_path, case) -> None:
    content, problem = BROKEN[case]
    scored = tmp_path / "scored.csv"
    scored.write_text("posted_at,flagged,targets\n", encoding="utf-8")
    summary = scan_paths(scored)["summary"]
    summary.write_bytes(content)
    with pytest.raises(ScanMetadataError) as caught:
        read_scan_metadata(scored)
    assert str(summary) in str(caught.value) and problem in str(caught.value)


def test_scan_metadata_passes_over_parquet_metadata_it_cannot_use(tmp_path) -> None:
    path = tmp_path / "scored.parquet"
    for value in (b"[" * DEEP + b"]" * DEEP, b"9" * 5_000, b"[1]", b'{"mapping": 3}'):
        table = pa.table({"posted_at": ["2024-04-01T10:00:00Z"]})
        pq.write_table(table.replace_schema_metadata({METADATA_KEY: value}), path)
        assert read_scan_metadata(path) is None  # no summary beside it either
        scan_paths(path)["summary"].write_text(json.dumps({"columns": {"text": "t"},
                                                           "model": "m@1"}), encoding="utf-8")
        assert read_scan_metadata(path) == {"mapping": {"text": "t"}, "model": "m@1"}
        scan_paths(path)["summary"].unlink()


@pytest.mark.parametrize("case", ["huge integer", "deep nesting", "broken JSON", "a list",
                                  "authors a number"])
def test_alerts_command_goes_on_without_a_summary_it_cannot_use(scored, case, tmp_path,
                                                                capsys) -> None:
    summary = scan_paths(scored)["summary"]
    expected = find_alerts(scored, alert_config()).to_dict()["alerts"]
    assert expected  # the planted surge
    summary.write_bytes(BROKEN[case][0])
    try:
        report = find_alerts(scored, alert_config())
        code = main(["alerts", str(scored), "-o", str(tmp_path / "a.json"), "--window", "day",
                     "--timezone", "UTC"])
    finally:
        summary.unlink()
    assert report.to_dict()["alerts"] == expected
    assert any(str(summary) in note and "ignored" in note for note in report.notes)
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert f"alerts: warning: scan summary {summary}" in err and BROKEN[case][1] in err
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))["alerts"] == expected


@pytest.mark.parametrize("case", ["deep nesting", "a string", "rows_rejected a string"])
def test_report_goes_on_without_a_summary_it_cannot_use(scored, case, tmp_path,
                                                        capsys) -> None:
    summary = scan_paths(scored)["summary"]
    summary.write_bytes(BROKEN[case][0])
    said: list[str] = []
    try:
        html, alerts = build_report(scored, alert_config(), explain=False, log=said.append,
                                    lang="ru")
        code = main(["report", str(scored), "-o", str(tmp_path / "r.html"), "--no-explain"])
    finally:
        summary.unlink()
    assert alerts is not None and alerts.alerts
    assert any(str(summary) in line and "without it" in line for line in said)
    assert "файл не учтён" in html  # the alerts' note, in the report's language
    err = capsys.readouterr().err
    assert code == 0 and (tmp_path / "r.html").is_file() and "Traceback" not in err
    assert f"report: warning: scan summary {summary}" in err
