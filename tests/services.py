"""Real PostgreSQL and nginx servers for the tests, started in temporary folders on free
loopback ports and stopped afterwards (Debian's packages, installed by ``scripts/setup.sh``).

As root, PostgreSQL refuses to run, so its cluster belongs to the ``postgres`` user (made by
Debian's package) and its programs run as that user; nginx's master runs as the current user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["NginxServer", "PostgresServer", "Replica", "find_nginx", "find_postgres_bin",
           "free_port", "render_site", "self_signed_certificate"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s") \
                    from None
            time.sleep(0.05)


def find_postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (``initdb``, ``pg_ctl``), newest version
    first, or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def find_nginx() -> Path | None:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)
    return Path(found) if found else None


class PostgresServer:
    """A throw-away PostgreSQL cluster: ``start()``, ``create_database()``, ``stop()``.

    Trust authentication on loopback only (nothing else can reach it); ``fsync`` off, as the
    tests never crash the database server itself (they kill API replicas).
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ew-postgres-"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: the cluster belongs to the postgres user
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.log = self.root / "server.log"

    def _run(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([str(self.bindir / args[0]), *args[1:]], check=True, timeout=timeout,
                       user=self.user, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       cwd=self.root)

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E",
                  "UTF8", "--locale=C", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            pass  # already down; the folder goes anyway
        shutil.rmtree(self.root, ignore_errors=True)


class NginxServer:
    """nginx with one site file, in a temporary prefix, in the foreground (``daemon off``)."""

    def __init__(self, binary: Path, site: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="ew-nginx-"))
        os.chmod(self.root, 0o755)  # the worker processes (nobody, as root) read below it
        (self.root / "logs").mkdir()
        self.conf = self.root / "nginx.conf"
        self.conf.write_text(
            "worker_processes 1;\n"
            f"pid {self.root}/nginx.pid;\n"
            f"error_log {self.root}/logs/error.log info;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"  access_log {self.root}/logs/access.log;\n"
            f"  client_body_temp_path {self.root}/body;\n"
            f"  proxy_temp_path {self.root}/proxy;\n"
            f"  fastcgi_temp_path {self.root}/fastcgi;\n"
            f"  uwsgi_temp_path {self.root}/uwsgi;\n"
            f"  scgi_temp_path {self.root}/scgi;\n"
            f"  include {self.root}/site.conf;\n"
            "}\n", encoding="utf-8")
        (self.root / "site.conf").write_text(site, encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def error_log(self) -> str:
        path = self.root / "logs" / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start(self, port: int) -> NginxServer:
        check = subprocess.run([str(self.binary), "-t", "-p", str(self.root), "-e",
                                str(self.root / "logs" / "error.log"), "-c", str(self.conf)],
                               capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr.strip()}")
        self.process = subprocess.Popen(
            [str(self.binary), "-p", str(self.root), "-e", str(self.root / "logs" / "error.log"),
             "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


class Replica:
    """One API replica: ``warning serve`` in a subprocess on a free loopback port, with the
    environment given (keys, model, feedback database)."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str) -> None:
        import sys

        self.port = free_port()
        self.env = {**os.environ, **env}
        self.env.pop("WARNING_SETTINGS_FILE", None)
        self.log_path = log_dir / f"{name}.log"
        self.command = [str(Path(sys.executable).parent / "warning"), "serve", "--host",
                        "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 90.0) -> Replica:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"replica on port {self.port} exited: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica on port {self.port} not ready in {timeout} s")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as on a crash or an out-of-memory kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    key.chmod(0o644)  # read by nginx's master only, in a folder of the test's own
    return cert, key


def render_site(site: str, *, listen_port: int, replica_ports: list[int], cert: Path,
                key: Path, logs: Path, header_timeout: str | None = None) -> str:
    """``deploy/nginx/early-warning.conf`` for a test: its own port, the test's replicas,
    certificate and log paths (and a shorter header timeout); every replacement must match
    exactly what the shipped file says, so the test runs the file as shipped otherwise."""
    import re

    def replace(pattern: str, new: str, text: str, count: int = 1) -> str:
        found = len(re.findall(pattern, text, flags=re.M))
        if found != count:
            raise AssertionError(f"deploy/nginx/early-warning.conf: expected {count} match(es) "
                                 f"of {pattern!r}, found {found}")
        return re.sub(pattern, new, text, flags=re.M)

    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n"
                      for port in replica_ports)
    site = replace(r"^    server 127\.0\.0\.1:800\d max_fails=1 fail_timeout=10s;\n", "", site,
                   count=2)
    site = replace(r"^(    least_conn;\n)", r"\g<1>" + servers.replace("\\", "\\\\"), site)
    site = replace(r"listen 443 ssl;", f"listen 127.0.0.1:{listen_port} ssl;", site)
    site = replace(r"/etc/early-warning/tls/fullchain\.pem", str(cert), site)
    site = replace(r"/etc/early-warning/tls/privkey\.pem", str(key), site)
    site = replace(r"/var/log/nginx/early-warning\.access\.log", str(logs / "access.log"), site)
    if header_timeout is not None:
        site = replace(r"client_header_timeout 10s;", f"client_header_timeout {header_timeout};",
                       site)
    return site
