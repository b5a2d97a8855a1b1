"""deploy/: the systemd units parse (``systemd-analyze verify`` finds nothing to say, where
systemd is installed) and start what this checkout installs; the nginx site is run for real by
tests/serve/test_serve_proxy.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/early-warning/.venv/bin/warning"


def test_deploy_units_run_the_warning_command_of_the_install() -> None:
    assert {u.name for u in UNITS} == {"early-warning@.service",
                                        "early-warning-migrate.service"}
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        assert f"ExecStart={INSTALLED} " in text, unit.name
        assert "WARNING_SETTINGS_FILE=/etc/early-warning/settings.env" in text, unit.name
    replica = (ROOT / "deploy" / "systemd" / "early-warning@.service").read_text()
    assert "Requires=early-warning-migrate.service" in replica
    assert "--host 127.0.0.1 --port %i" in replica  # behind the proxy, never on all addresses


def test_deploy_units_pass_systemd_analyze(tmp_path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (no systemd on this machine)")
    warning = Path(sys.executable).parent / "warning"
    paths = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED, str(warning)), encoding="utf-8")
        paths.append(str(copy))
    result = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr
