"""The scan builds its output as columns, in batches, with chunks written by a second thread:
on a hostile little feed, every scored row equals the record the one-post path gives for it
(the row's values, its pseudonymised author, its time, ``Classifier.score`` of its text alone),
every other row is in the rejects file, and the three output formats hold the same rows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from fixtures.outputs import read_back

from warning import settings
from warning.labels import LABELS
from warning.scanning.feeds import open_feed
from warning.scanning.feeds.dates import format_utc, parse_time
from warning.scanning.scanner import ScanOptions, scan, scan_paths
from warning.scanning.scoring import pseudonymise
from warning.text.normalize import normalize

ROWS = [
    "id;date;user;message",
    '1;2025-02-01 10:00;a;"привет, как дела"',
    "2;2025-02-01;b;you stupid idiot",
    '3;bad date;c;"text with ""quotes"" and, comma"',
    "4;2025-02-02T10:00:00+06:00;d;",
    "5;2025-02-02;e;   ",
    "id;date;user;message",
    '6;2025-02-03;f;"a stray quote here',
    "7;2025-02-03;g;кыргыздар жана өзбектер келди",
    "8;2025-02-03;h;too;many;fields",
    "date;id;message;user",
    "2025-02-04;9;Бүгүн жыйын болобу?;i",
    '2025-02-04;10;"multi\nline\npost сен акмаксың";j',
    '2025-02-04;11;=HYPERLINK("x") you idiot;k',
    "2025-02-05;12;\x00nul kill them all;l",
    "",
    "2025-02-05;13;" + "очень длинный текст " * 10 + ";m",
    "1714552200;14;Qishloqda suv yo'q, o'zbeklar;n",
    "01.05.2024 14:30;15;Yarın İstanbul'a gidiyorum, Suriyeliler;o",
    "2025-02-06;16;you stupid idiot;a",
    "2025-02-06;17;‮ ​ ;p",
]


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def _expected(source, model) -> tuple[list[dict], set[int]]:
    """Each readable post's record as the one-post path builds it, and every record's line."""
    key = settings.pseudonym_key()
    assert key is not None
    feed = open_feed(source, None, None, None, None)
    assert feed.mapping.time == "date"
    records, lines = [], set()
    for row in feed.rows():
        lines.add(row.line)
        text = (row.values or {}).get("message")
        if row.error or not isinstance(text, str) or len(text) > 150 or not normalize(text):
            continue
        post = model.score([text])[0]
        if post.error:
            continue
        values = row.values or {}
        record = {"id": values["id"], "date": values["date"],
                  "user": pseudonymise(values["user"], key), "message": text,
                  "line": row.line,
                  "posted_at": format_utc(parse_time(values[feed.mapping.time], ZoneInfo("UTC")))}
        record.update({f"score_{n}": post.scores[n] for n in LABELS})
        record.update(flagged=post.flagged, lang=post.lang, targets=post.targets,
                      risk=post.risk, review=post.review, model=post.model)
        records.append(record)
    return records, lines


@pytest.mark.parametrize(("chunk_rows", "batch_size"), [(4, 3), (2000, 2000), (1, 1)])
def test_scan_columns_equal_the_one_post_records_on_a_hostile_feed(tmp_path, tiny_model,
                                                                   chunk_rows,
                                                                   batch_size) -> None:
    source = tmp_path / "hostile.csv"
    source.write_bytes("\n".join(ROWS).encode() + b"\n2025-02-06;18;bad \xff bytes;q\n")
    expected, lines = _expected(source, tiny_model)
    assert len(expected) >= 10 and {r["risk"] for r in expected} >= {"none", "low"}
    outputs = {}
    for fmt in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"scored.{fmt}"
        summary = scan(source, out, ScanOptions(chunk_rows=chunk_rows, batch_size=batch_size,
                                                max_chars=150), classifier=tiny_model)
        assert summary.rows_scored == len(expected)
        assert summary.rows_read == len(lines) + summary.lines_unreadable
        outputs[fmt] = read_back(out)
        rejects = scan_paths(out)["rejects"].read_text(encoding="utf-8").splitlines()[1:]
        rejected = {int(line.split(",", 1)[0]) for line in rejects}
        assert rejected | {r["line"] for r in expected} == lines
        assert not rejected & {r["line"] for r in expected}
    table = pq.read_table(tmp_path / "scored.parquet").to_pylist()
    assert table == expected
    assert outputs["csv"] == outputs["parquet"] == outputs["jsonl"]
