"""Fixtures of the scan tests."""

from __future__ import annotations

import pytest

KEY = "test-key-0123456789abcdef"
# Settings that change a scan; each test starts without them (WARNING_SCAN_WORKERS stays as
# tests/conftest.py sets it: one process).
SCAN_SETTINGS = ("WARNING_PSEUDONYM_KEY", "WARNING_SCAN_CHUNK_ROWS", "WARNING_SCAN_MAX_CHARS",
                 "WARNING_SCAN_CHUNK_DELAY", "WARNING_TIMEZONE", "WARNING_SCAN_BATCH")


@pytest.fixture
def scan_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No scan settings from the environment, and the test pseudonym key."""
    for name in SCAN_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WARNING_PSEUDONYM_KEY", KEY)
    return monkeypatch
