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


PRECISIONS = ("auto", "float32", "bfloat16")

# CPU flags of native bfloat16 arithmetic (AVX512-BF16, AMX); without them bf16 is emulated and
# slower than float32.
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU advertises native bfloat16 arithmetic (``avx512_bf16`` or ``amx_bf16``
    among the flags of ``/proc/cpuinfo``); ``False`` where that file cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def precision() -> str:
    """Arithmetic of the transformer on the CPU, ``float32`` or ``bfloat16``, from
    ``WARNING_PRECISION``:

    - ``auto`` (default): ``bfloat16`` on a CPU with native bf16 (AVX512-BF16 or AMX), about
      twice as fast there, else ``float32``. Probabilities differ from float32 by at most about
      0.01 and 99.97% of flag decisions are the same (``benchmarks/results/speed.md``).
    - ``float32``: exact float32 everywhere (the same scores on every machine).
    - ``bfloat16``: always bf16 (slow on CPUs without native support).

    Raises:
        ValueError: The variable holds another value.
    """
    value = os.environ.get("WARNING_PRECISION", "auto").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise ValueError(f"WARNING_PRECISION must be one of {PRECISIONS}, got {value!r}")
    if value == "auto":
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    return value
