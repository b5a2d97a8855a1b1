"""The local engine on worker processes (``--workers``): the same output files as one process,
``auto`` picks them for a baseline only, a worker that dies stops the scan with a clear error
and ``--resume`` continues it, and workers end with a killed scan."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from warning.scanning import pool_engine
from warning.scanning.pool_engine import PoolEngine, single_core_model, workers_for
from warning.scanning.ray_cluster import _alive
from warning.scanning.scanner import ScanError, ScanOptions, scan, scan_paths

REPO = Path(__file__).resolve().parents[3]
_TEXTS = ["you stupid idiot", "the market opens at nine", "they are vermin parasites",
          "we will kill and burn them", "Өзбектер кетсин", "погода сегодня хорошая",
          "Suriyeliler defolsun", "кыргыздар жана өзбектер келди"]


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py); the number of workers is each test's own."""
    scan_env.delenv("WARNING_SCAN_WORKERS", raising=False)


def _feed(path: Path, n: int = 137) -> Path:
    """``n`` posts with authors, plus rows the scan must reject."""
    lines = ["id,date,author,channel,message"]
    lines += [f"{i},0{1 + i % 3}.05.2024 1{i % 10}:00,user{i % 4},ch{i % 2},"
              f"{_TEXTS[i % len(_TEXTS)]} {i}" for i in range(n)]
    lines += ["900,01.05.2024 10:00,user1,ch0,", "901,01.05.2024 10:00,user1,ch0,too,many",
              "902,01.05.2024 10:00,user1,ch0," + "x" * 300]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _files(out: Path) -> dict[str, bytes]:
    paths = scan_paths(out)
    return {name: paths[name].read_bytes() for name in ("output", "rejects")}


@pytest.mark.parametrize(("fmt", "threads"), [("csv", 1), ("parquet", 1), ("csv", 2)])
def test_workers_write_the_same_files_as_one_process(tmp_path, tiny_model, fmt, threads,
                                                     monkeypatch) -> None:
    """Forked workers, and (when this process runs other threads, as a notebook does) workers
    started by a fork server, which receive the model by pickle."""
    monkeypatch.setattr("warning.scanning.pool_engine.threading.active_count", lambda: threads)
    source = _feed(tmp_path / "feed.csv")
    options = {"chunk_rows": 10, "batch_size": 4, "max_chars": 200}
    one = scan(source, tmp_path / f"one.{fmt}", ScanOptions(workers=1, **options),
               classifier=tiny_model)
    notes: list[str] = []
    three = scan(source, tmp_path / f"three.{fmt}", ScanOptions(workers=3, **options),
                 classifier=tiny_model, log=notes.append)
    how = "forked" if threads == 1 else "started by a fork server"
    assert f"scoring with 3 worker processes ({how})" in notes
    assert _files(tmp_path / f"one.{fmt}") == _files(tmp_path / f"three.{fmt}")
    left, right = one.to_dict(), three.to_dict()
    for name in ("seconds", "output", "rejects"):
        left.pop(name, None)
        right.pop(name, None)
    assert left == right and one.rows_scored == 137 and one.rows_rejected == 3


def test_auto_picks_one_worker_per_core_for_a_baseline_only(tmp_path, tiny_model,
                                                             monkeypatch) -> None:
    monkeypatch.setattr("warning.scanning.scanner._cores", lambda: 2)
    notes: list[str] = []
    scan(_feed(tmp_path / "feed.csv", n=40), tmp_path / "out.csv", ScanOptions(chunk_rows=10),
         classifier=tiny_model, log=notes.append)
    assert any(n.startswith("scoring with 2 worker processes") for n in notes)
    monkeypatch.setenv("WARNING_SCAN_WORKERS", "1")
    notes.clear()
    scan(_feed(tmp_path / "feed.csv", n=40), tmp_path / "out.csv",
         ScanOptions(chunk_rows=10, force=True), classifier=tiny_model, log=notes.append)
    assert not any("worker processes" in n for n in notes)

    baseline = SimpleNamespace(config=SimpleNamespace(kind="baseline"), name="b")
    transformer = SimpleNamespace(config=SimpleNamespace(kind="transformer"), name="t@1")
    ensemble = SimpleNamespace(config=SimpleNamespace(kind="ensemble"), name="e@1",
                               members=[baseline, transformer])
    assert single_core_model(baseline) and not single_core_model(transformer)
    assert not single_core_model(ensemble)
    assert workers_for(baseline, None, 16) == 8 and workers_for(baseline, None, 1) == 1
    assert workers_for(transformer, None, 16) == 1 and workers_for(ensemble, 1, 16) == 1
    with pytest.raises(ScanError, match=r"e@1 runs a transformer.*--workers 1"):
        workers_for(ensemble, 2, 16)
    monkeypatch.setenv("WARNING_SCAN_WORKERS", "lots")
    with pytest.raises(ValueError, match="WARNING_SCAN_WORKERS must be a whole number"):
        scan(_feed(tmp_path / "feed.csv", n=5), tmp_path / "out2.csv", classifier=tiny_model)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        ScanOptions(workers=0)


class _DyingScorer:
    """Scores chunks until the third, then ends its worker process without a word."""

    def __init__(self, scorer) -> None:
        self.scorer = scorer
        self.model = scorer.model

    def process(self, rows):
        if any(row.line >= 30 for row in rows):
            os._exit(3)
        return self.scorer.process(rows)


def test_a_worker_that_dies_stops_the_scan_and_resume_finishes_it(tmp_path, tiny_model,
                                                                  monkeypatch) -> None:
    source = _feed(tmp_path / "feed.csv", n=80)
    real = PoolEngine.__init__

    def dying(self, feed, chunk_rows, scorer, workers):
        real(self, feed, chunk_rows, _DyingScorer(scorer), workers)

    monkeypatch.setattr(PoolEngine, "__init__", dying)
    out = tmp_path / "out.csv"
    with pytest.raises(ScanError, match=r"worker process stopped unexpectedly.*--resume"):
        scan(source, out, ScanOptions(workers=2, chunk_rows=5), classifier=tiny_model)
    assert not out.exists() and scan_paths(out)["partial"].is_dir()
    monkeypatch.setattr(PoolEngine, "__init__", real)
    resumed = scan(source, out, ScanOptions(workers=2, chunk_rows=5, resume=True),
                   classifier=tiny_model)
    assert resumed.resumed_at_chunk is not None and resumed.resumed_at_chunk >= 1
    scan(source, tmp_path / "full.csv", ScanOptions(workers=1, chunk_rows=5),
         classifier=tiny_model)
    assert _files(out) == _files(tmp_path / "full.csv")


_KILLED = textwrap.dedent("""
    import os, signal, sys
    from warning import Classifier
    from warning.scanning.feeds import open_feed
    from warning.scanning.pool_engine import PoolEngine
    from warning.scanning.scanner import ScanOptions
    from warning.scanning.scoring import ChunkScorer, _Layout

    feed = open_feed(sys.argv[1], None, None, None, None)
    options = ScanOptions(authors="drop")
    scorer = ChunkScorer(mapping=feed.mapping, layout=_Layout(feed, options),
                         model=Classifier.load(sys.argv[2]), options=options, key=None,
                         timezone="UTC", max_chars=1000, batch=10)
    engine = PoolEngine(feed, 5, scorer, 2)
    engine.start(0)
    print(" ".join(str(pid) for pid in engine._pool._processes), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_when_the_scan_is_killed(tmp_path, tiny_model_dir) -> None:
    source = _feed(tmp_path / "feed.csv", n=20)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO),
                                                       os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _KILLED, str(source), str(tiny_model_dir)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 20
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]  # reaped between two looks: gone
        time.sleep(0.1)
    assert not alive, f"worker processes {alive} outlived the killed scan"


def test_the_pool_needs_two_workers(tiny_model) -> None:
    with pytest.raises(ValueError, match="at least 2 workers"):
        PoolEngine(SimpleNamespace(progress_unit="rows"), 10,
                   SimpleNamespace(model=tiny_model), 1)
    assert pool_engine._SCORER is None
