"""``warning scan --engine ray`` writes what the local engine writes (on a local Ray, 2 CPUs)."""

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from warning.scanning.scanner import ScanError, ScanOptions, scan, scan_paths

REPO = Path(__file__).resolve().parents[3]
BASELINE = REPO / "models" / "baseline"


@pytest.fixture(autouse=True)
def _settings(scan_env):
    """See ``scan_env`` (conftest.py); no Ray address, and a time zone of our users."""
    scan_env.delenv("RAY_ADDRESS", raising=False)
    scan_env.setenv("WARNING_TIMEZONE", "Asia/Bishkek")


def _feed_with_bad_rows(tmp_path: Path) -> Path:
    """The example feed, plus rows every reject reason of a CSV can come from."""
    body = (REPO / "examples" / "feed.csv").read_bytes()
    body += ("90001,2025-10-20T10:00:00+06:00,osh_bazar,aibek_88,\n"           # empty text
             "90002,2025-10-20T10:00:00+06:00,osh_bazar,aibek_88,a,b\n"         # field count
             "90003,not a date,osh_bazar,aibek_88,Бүгүн базар жабык\n"          # no time
             "90004,2025-10-20T10:00:00+06:00,osh_bazar,aibek_88," + "x" * 400 + "\n"
             ).encode("utf-8")
    path = tmp_path / "feed.csv"
    path.write_bytes(body)
    return path


@pytest.mark.slow
def test_scan_ray_engine_writes_what_the_local_engine_writes(tmp_path, local_ray) -> None:
    feed = _feed_with_bad_rows(tmp_path)
    common = {"chunk_rows": 150, "max_chars": 300}  # several chunks, and one text too long
    local = scan(feed, tmp_path / "local.parquet", ScanOptions(**common), model_path=BASELINE)
    remote = scan(feed, tmp_path / "ray.parquet",
                  ScanOptions(engine="ray", ray_actors=2, **common), model_path=BASELINE)
    a, b = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "ray.parquet")
    assert a.num_rows == 601 and a.schema == b.schema  # 604 records, 3 rejected
    assert a.equals(b)  # every column and value, pseudonyms included, in the same order
    assert a.schema.metadata == b.schema.metadata
    rejects = [scan_paths(tmp_path / n)["rejects"].read_text() for n in ("local.parquet",
                                                                        "ray.parquet")]
    assert rejects[0] == rejects[1] and rejects[0].count("\n") == 4  # header and 3 rejects
    assert "empty text" in rejects[0] and "text too long" in rejects[0]
    assert (local.rows_read, local.rejected, local.flagged, local.risk, local.times_missing) == \
        (remote.rows_read, remote.rejected, remote.flagged, remote.risk, remote.times_missing)
    assert remote.chunks == local.chunks == 5 and ray_is_still_up(local_ray)

    # a local scan stopped after two chunks is finished by the Ray engine: the same output
    from warning.scanning.scanner import ChunkScorer

    process = ChunkScorer.process
    calls = []

    def stop_at_the_third(self, rows):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return process(self, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChunkScorer, "process", stop_at_the_third)
        with pytest.raises(RuntimeError, match="power cut"):
            scan(feed, tmp_path / "resumed.parquet", ScanOptions(**common), model_path=BASELINE)
    resumed = scan(feed, tmp_path / "resumed.parquet",
                   ScanOptions(engine="ray", resume=True, **common), model_path=BASELINE)
    assert resumed.resumed_at_chunk == 2
    assert pq.read_table(tmp_path / "resumed.parquet").equals(a)


def ray_is_still_up(ray) -> bool:
    """The scan joined the test's Ray and left it running (it did not start it)."""
    return ray.is_initialized()


def test_scan_ray_engine_needs_the_scale_extra(tmp_path, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    feed = tmp_path / "feed.csv"
    feed.write_text("id,text\n1,hello there\n", encoding="utf-8")
    with pytest.raises(ScanError, match=r"pip install -e '\.\[scale\]'"):
        scan(feed, tmp_path / "out.parquet", ScanOptions(engine="ray"), model_path=BASELINE)


def test_scan_options_check_the_engine() -> None:
    with pytest.raises(ValueError, match="engine"):
        ScanOptions(engine="spark")
    with pytest.raises(ValueError, match="ray_actors"):
        ScanOptions(engine="ray", ray_actors=0)


@pytest.mark.ray
@pytest.mark.slow
def test_scan_on_a_two_node_ray_cluster_equals_the_local_scan(tmp_path, monkeypatch) -> None:
    """A real cluster: `ray start --head` and a second `ray start --address` node, one CPU
    each, on free ports, files in a temporary folder; both nodes are stopped, pass or fail."""
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"the 'scale' extra is not installed ({exc})")
    from warning.scanning.ray_cluster import LocalCluster

    feed = _feed_with_bad_rows(tmp_path)
    common = {"chunk_rows": 150, "max_chars": 300}
    scan(feed, tmp_path / "local.parquet", ScanOptions(**common), model_path=BASELINE)
    cluster = LocalCluster(nodes=2, cpus_per_node=1)
    # the scan runs as a user runs it: `warning scan` in a process of its own (a driver that
    # has not started another Ray before, which Ray's per-process state would carry over)
    command = [sys.executable, "-c", "import sys; from warning.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "scan", str(feed), "-o",
               str(tmp_path / "cluster.parquet"), "--engine", "ray", "--max-chars", "300"]
    env = {**os.environ, "WARNING_SCAN_CHUNK_ROWS": "150"}
    try:
        cluster.start()
        env.update(cluster.driver_env)
        result = subprocess.run([*command, "--ray-address", cluster.address, "--model",
                                 str(BASELINE)], env=env, capture_output=True, text=True,
                                timeout=600, check=False)
    finally:
        cluster.stop()
    assert not cluster.survivors() and not cluster.temp_dir.exists()  # both nodes are gone
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"ray: joined {cluster.address} with 2 CPU(s)" in result.stderr + result.stdout
    assert "on 2 actor(s)" in result.stderr + result.stdout
    a, b = pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "cluster.parquet")
    assert a.num_rows == 601 and a.equals(b) and a.schema.metadata == b.schema.metadata
