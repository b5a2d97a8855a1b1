"""Paths and settings read from the environment (prefix ``WARNING_``).

Settings are read when asked for, never at import time, so tests and notebooks can change the
environment between calls.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The checkout this package was installed from (editable installs) or its parent folder."""
    return _REPO_ROOT


def data_dir() -> Path:
    """Folder with the labelled public datasets: ``WARNING_DATA_DIR``, default ``../shared/data``.

    The default is resolved against the repository root, so it works from any working directory.
    """
    value = os.environ.get("WARNING_DATA_DIR")
    if value:
        return Path(value).expanduser()
    return (_REPO_ROOT.parent / "shared" / "data").resolve()


def cache_dir() -> Path:
    """Folder for converted base models and embedding caches: ``WARNING_CACHE_DIR``."""
    value = os.environ.get("WARNING_CACHE_DIR")
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "early-warning"


PRECISIONS = ("float32", "bfloat16")


def precision() -> str:
    """Arithmetic of the transformer on the CPU: ``WARNING_PRECISION``, ``float32`` (default,
    the scores the model was calibrated with) or ``bfloat16`` (faster on CPUs with native bf16,
    such as AVX512-BF16 or AMX; probabilities move by up to about 0.01, see
    ``benchmarks/results/speed.md``).

    Raises:
        ValueError: The variable holds another value.
    """
    value = os.environ.get("WARNING_PRECISION", "float32").strip().lower() or "float32"
    if value not in PRECISIONS:
        raise ValueError(f"WARNING_PRECISION must be one of {PRECISIONS}, got {value!r}")
    return value
