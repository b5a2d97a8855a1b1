"""Shared fixtures.

Tests marked ``data`` need the labelled datasets (``WARNING_DATA_DIR``, default
``../shared/data``). They run whenever the folder is there; under CI (``CI=true``) a missing
folder fails them instead of skipping, so the real-data tests can never silently vanish.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from warning.settings import data_dir

FIXTURES = Path(__file__).parent / "fixtures"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real datasets folder; skip when absent, fail under CI."""
    path = data_dir()
    if not (path / "SOURCES.md").is_file():
        message = f"labelled data not found at {path} (set WARNING_DATA_DIR)"
        if _under_ci():
            pytest.fail(f"CI=true and {message}: real-data tests must not be skipped")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fixture_data_dir() -> Path:
    """Tiny hand-written files in the format of every registered source."""
    return FIXTURES / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.data)
