"""A JSON Lines file's columns are limited (every column is written for every row): a line
with thousands of keys is scored but adds no columns, keys beyond the first 256 are left out,
and the notes (kept in the summary) say so."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from warning.scanning.feeds import ColumnOverrides, open_feed
from warning.scanning.feeds.jsonl_reader import MAX_FIELDS
from warning.scanning.scanner import ScanOptions, scan


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py)."""


def _post(i: int, **extra: object) -> dict[str, object]:
    return {"id": str(i), "date": "2024-05-01 10:00", "text": f"post {i}", **extra}


def _write(path: Path, posts: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return path


def _wide(i: int, n: int = 3000) -> dict[str, object]:
    return _post(i, **{f"k{j}": j for j in range(n)})


def test_feeds_jsonl_a_line_with_thousands_of_keys_adds_no_columns(tmp_path) -> None:
    posts = [_post(i) for i in range(30)]
    posts[5] = _wide(5)
    feed = open_feed(_write(tmp_path / "posts.jsonl", posts))
    assert feed.columns == ["id", "date", "text"]
    rows = list(feed.rows())
    assert len(rows) == 30 and all(r.error is None for r in rows)
    assert rows[5].values == {"id": "5", "date": "2024-05-01 10:00", "text": "post 5"}
    (note,) = [n for n in feed.notes if n.startswith("columns:")]
    assert f"1 line(s) with more than {MAX_FIELDS} fields: line 6 (3,003 fields)" in note
    assert "read and scored" in note and "left out of the output" in note


def test_feeds_jsonl_keys_beyond_the_limit_are_left_out_but_a_named_one_is_kept(
        tmp_path) -> None:
    posts = [_post(i, **{f"only{i}": i}) for i in range(400)]
    posts[350]["when"] = "2024-05-02 10:00"  # first seen after the limit, named by a flag
    path = _write(tmp_path / "posts.jsonl", posts)
    feed = open_feed(path)
    assert len(feed.columns) == MAX_FIELDS
    assert feed.columns[:4] == ["id", "date", "text", "only0"] and "only300" not in feed.columns
    (note,) = [n for n in feed.notes if n.startswith("columns:")]
    lines = 400 - (MAX_FIELDS - 3)  # only253 to only399, and "when" in one of those lines
    assert f"the first {MAX_FIELDS} are the columns, and {lines + 1} field(s) under other " \
        f"keys in {lines} line(s) are left out of the output (first: only253, " in note
    named = open_feed(path, columns=ColumnOverrides(time="when"))
    assert named.mapping.time == "when" and named.columns[-1] == "when"
    assert len(named.columns) == MAX_FIELDS + 1


def test_feeds_jsonl_where_every_line_is_wide_takes_the_first_keys(tmp_path) -> None:
    feed = open_feed(_write(tmp_path / "posts.jsonl", [_wide(i, n=400) for i in range(3)]))
    assert feed.columns == ["id", "date", "text"] + [f"k{j}" for j in range(MAX_FIELDS - 3)]
    assert any(f"every line has more than {MAX_FIELDS} fields" in n for n in feed.notes)
    assert [r.values["text"] for r in feed.rows()] == ["post 0", "post 1", "post 2"]


def test_scan_of_a_jsonl_line_with_thousands_of_keys_stays_narrow(tmp_path,
                                                                  tiny_model) -> None:
    posts = [_post(i) for i in range(200)]
    plain = _write(tmp_path / "plain.jsonl", posts)
    posts[57] = _wide(57)
    wide = _write(tmp_path / "wide.jsonl", posts)
    summaries = {name: scan(path, tmp_path / f"{name}.parquet", ScanOptions(),
                            classifier=tiny_model)
                 for name, path in (("plain", plain), ("wide", wide))}
    assert summaries["wide"].rows_scored == 200 and summaries["wide"].rows_rejected == 0
    assert any("line 58 (3,003 fields)" in n for n in summaries["wide"].notes)
    assert pq.read_schema(tmp_path / "wide.parquet").names == \
        pq.read_schema(tmp_path / "plain.parquet").names
