"""A throwaway Ray cluster on this machine: a head and more nodes started with ``ray start``.

For the test and the benchmark of ``warning scan --ray-address`` against a real cluster (not
the in-process Ray of ``ray.init()``): every node is its own ``ray start`` with its own CPUs,
on free ports, with its files in a temporary folder; :meth:`LocalCluster.stop` ends exactly the
processes of this cluster (found by that folder, or by the head's port, in their command
line), never another Ray on the same machine, which ``ray stop`` would end too.

Example:
    >>> with LocalCluster(nodes=2, cpus_per_node=1) as cluster:     # doctest: +SKIP
    ...     os.environ.update(cluster.driver_env)
    ...     scan("feed.csv", "out.parquet",
    ...          ScanOptions(engine="ray", ray_address=cluster.address))
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["LocalCluster"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_executable() -> str:
    found = Path(sys.executable).with_name("ray")
    if found.is_file():
        return str(found)
    on_path = shutil.which("ray")
    if on_path is None:
        raise FileNotFoundError("the `ray` command is not installed: pip install -e '.[scale]'")
    return on_path


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not yet reaped, counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "\nState:\tZ" not in status


class LocalCluster:
    """``nodes`` Ray nodes on this machine (the first is the head), ``cpus_per_node`` each.

    Args:
        nodes: Nodes to start, head included.
        cpus_per_node: CPUs each node offers to Ray.
        timeout: Seconds to wait for every node to join.
    """

    def __init__(self, nodes: int = 2, cpus_per_node: int = 1, timeout: float = 120.0) -> None:
        if nodes < 1 or cpus_per_node < 1:
            raise ValueError("a cluster needs at least one node with one CPU")
        self.nodes, self.cpus_per_node, self.timeout = nodes, cpus_per_node, timeout
        # short: Ray's socket paths under it must stay below the 107-byte limit
        self.temp_dir = Path(tempfile.mkdtemp(prefix="wray", dir="/tmp"))
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Ray 2.5x turns token authentication on for new clusters, and a driver reads its
        # mode once per process (at the first import of ray); this throwaway cluster listens on
        # 127.0.0.1 only and runs without it, and a driver joins with :attr:`driver_env`
        self.driver_env = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
        self._env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **self.driver_env}
        self._env.pop("RAY_ADDRESS", None)
        self._stopped: set[int] = set()

    def _ports(self) -> list[str]:
        """Every port a node would otherwise take from a fixed default, chosen free (workers
        take theirs from Ray's range, skipping ports in use; a fixed range of ours could
        hold one of the ports chosen here)."""
        return ["--dashboard-port", str(_free_port()), "--node-manager-port", str(_free_port()),
                "--object-manager-port", str(_free_port()),
                "--dashboard-agent-listen-port", str(_free_port()),
                "--dashboard-agent-grpc-port", str(_free_port()),
                "--metrics-export-port", str(_free_port()),
                "--runtime-env-agent-port", str(_free_port())]

    def _run(self, args: list[str]) -> None:
        result = subprocess.run([_ray_executable(), "start", *args], env=self._env,
                                capture_output=True, text=True, timeout=self.timeout,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"`ray start {' '.join(args[:2])}` failed "
                               f"({result.returncode}): {result.stderr[-2000:]}")

    def start(self) -> LocalCluster:
        """Start the head, then the other nodes, and wait until all have joined."""
        common = ["--num-cpus", str(self.cpus_per_node), "--disable-usage-stats",
                  "--node-ip-address", "127.0.0.1"]
        try:
            self._run(["--head", "--port", str(self.port), "--temp-dir", str(self.temp_dir),
                       "--include-dashboard", "false", *common, *self._ports()])
            for _ in range(self.nodes - 1):
                self._run(["--address", self.address, *common, *self._ports()])
            self._wait()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self) -> None:
        """Until the cluster shows every node's CPUs (asked in a child process, so this one
        stays free to join the cluster itself)."""
        probe = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR', "
                 "include_dashboard=False); print(int(ray.cluster_resources().get('CPU', 0)))")
        wanted = self.nodes * self.cpus_per_node
        deadline = time.monotonic() + self.timeout
        seen = ""
        while time.monotonic() < deadline:
            result = subprocess.run([sys.executable, "-c", probe, self.address], env=self._env,
                                    capture_output=True, text=True, timeout=self.timeout,
                                    check=False)
            seen = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
            if seen.isdigit() and int(seen) >= wanted:
                return
            time.sleep(1.0)
        raise RuntimeError(f"the cluster at {self.address} did not reach {wanted} CPUs in "
                           f"{self.timeout:.0f} s (last seen: {seen or 'nothing'})")

    def pids(self) -> list[int]:
        """The processes of this cluster: those whose command line names its folder or its
        head's address, and all their descendants (Ray's agents rename their command line),
        read from ``/proc``."""
        head = re.compile(rf"127\.0\.0\.1:{self.port}(?!\d)")
        found: set[int] = set()
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    "utf-8", "replace")
                stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            except OSError:  # ended meanwhile, or not ours to read
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            if str(self.temp_dir) in line or head.search(line):
                found.add(int(entry.name))
        while True:
            children = {pid for pid, parent in parents.items() if parent in found} - found
            if not children:
                return sorted(found)
            found |= children

    def stop(self) -> None:
        """End this cluster's processes (SIGTERM, then SIGKILL after 10 s) and its folder.

        Each round lists the processes once, before any ends (an ended parent's children
        would no longer be found as its descendants); a process the cluster started while
        the first round was stopping it (a worker, an agent restarting) is found and ended by
        the next round, until none is left or 60 s have passed.
        """
        deadline = time.monotonic() + 60
        while True:
            pids = [pid for pid in {*self.pids(), *self._stopped} if _alive(pid)]
            if not pids or time.monotonic() > deadline:
                break
            self._end(pids)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _end(self, pids: list[int]) -> None:
        self._stopped.update(pids)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        grace = time.monotonic() + 10
        while pids and time.monotonic() < grace:
            time.sleep(0.2)
            pids = [pid for pid in pids if _alive(pid)]
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        settle = time.monotonic() + 5  # a killed process leaves the table a moment later
        while pids and time.monotonic() < settle:
            time.sleep(0.1)
            pids = [pid for pid in pids if _alive(pid)]

    def survivors(self) -> list[int]:
        """Processes :meth:`stop` ended that still run, and any new one of this cluster."""
        return sorted({pid for pid in self._stopped if _alive(pid)} | set(self.pids()))

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
