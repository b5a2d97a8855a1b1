"""Paths and settings read from the environment (prefix ``WARNING_``).

Settings are read when asked for, never at import time, so tests and notebooks can change the
environment between calls.
"""

from __future__ import annotations

import functools
import math
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


PRECISIONS = ("auto", "float32", "bfloat16", "int8")

# CPU flags of native bfloat16 arithmetic (AVX512-BF16, AMX); without them bf16 is emulated and
# slower than float32.
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU advertises native bfloat16 arithmetic (``avx512_bf16`` or ``amx_bf16``
    among the flags of ``/proc/cpuinfo``); ``False`` where that file cannot be read. Read once
    per process (``precision()`` asks on every scoring call)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def precision() -> str:
    """Arithmetic of the transformer on the CPU, ``float32``, ``bfloat16`` or ``int8``, from
    ``WARNING_PRECISION``:

    - ``auto`` (default): ``bfloat16`` on a CPU with native bf16 (AVX512-BF16 or AMX), about
      twice as fast there, else ``float32``. Probabilities differ from float32 by at most about
      0.01 and 99.97% of flag decisions are the same (``benchmarks/results/speed.md``).
    - ``float32``: exact float32 everywhere (the same scores on every machine).
    - ``bfloat16``: always bf16 (slow on CPUs without native support).
    - ``int8``: the encoder's linear layers with int8 weights and dynamically quantised
      activations (torch's dynamic quantisation, fbgemm/oneDNN kernels), for CPUs without
      native bf16; its effect on every label's AUC and flag decision is measured in
      ``benchmarks/results/precision.md``.

    Raises:
        ValueError: The variable holds another value.
    """
    value = os.environ.get("WARNING_PRECISION", "auto").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise ValueError(f"WARNING_PRECISION must be one of {PRECISIONS}, got {value!r}")
    if value == "auto":
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    return value


# ---- scanning feeds (warning scan) ---------------------------------------------------------------


def _int_setting(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {number}")
    return number


def _float_setting(name: str, default: float, low: float, high: float | None = None) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):  # nan passes every bound below; nan and inf are not JSON
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if number < low or (high is not None and number > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}, got {number}")
    return number


def scan_chunk_rows() -> int:
    """Input rows per chunk of ``warning scan``: ``WARNING_SCAN_CHUNK_ROWS`` (default 2000).

    A chunk is the unit of memory and of ``--resume``: each finished chunk is written to disk
    before the next is read.
    """
    return _int_setting("WARNING_SCAN_CHUNK_ROWS", 2000, 1)


def scan_workers() -> int | None:
    """Processes that score a local scan's chunks: ``WARNING_SCAN_WORKERS``, a number or
    ``auto`` (default, None here: one per core for a model that scores on one core, the
    baseline; one for a model with a transformer, whose torch threads use every core)."""
    value = os.environ.get("WARNING_SCAN_WORKERS", "").strip().lower()
    if value in ("", "auto"):
        return None
    return _int_setting("WARNING_SCAN_WORKERS", 1, 1)


def scan_batch_size() -> int:
    """Texts per call to the model inside a chunk: ``WARNING_SCAN_BATCH`` (default 2000, a
    whole default chunk: the model sorts a call's texts by length and batches them itself, so
    fewer, larger calls pad less; a call that fails is split in halves down to the post)."""
    return _int_setting("WARNING_SCAN_BATCH", 2000, 1)


def scan_max_chars() -> int:
    """Longest text ``warning scan`` scores: ``WARNING_SCAN_MAX_CHARS`` (default 20,000
    characters; longer posts go to the rejects file). Facebook allows 63,206 characters and
    Telegram 4,096, so raise it for long-form sources."""
    return _int_setting("WARNING_SCAN_MAX_CHARS", 20_000, 1)


def scan_chunk_delay() -> float:
    """Seconds to wait after each finished chunk: ``WARNING_SCAN_CHUNK_DELAY`` (default 0).

    For tests only: it makes an interrupted scan happen at a known point.
    """
    return _float_setting("WARNING_SCAN_CHUNK_DELAY", 0.0, 0.0)


#: Shortest pseudonymisation key accepted (characters).
MIN_PSEUDONYM_KEY = 16


def pseudonym_key() -> bytes | None:
    """Secret key for pseudonymising authors: ``WARNING_PSEUDONYM_KEY`` (no default).

    Authors are replaced by ``HMAC-SHA256(key, author)``; the same key gives the same
    pseudonym in every scan, so keep it secret and keep it the same across scans you compare.
    None when unset: ``warning scan`` then refuses to read author columns unless told to keep
    or drop them (a fixed built-in key would be no protection at all).

    Raises:
        ValueError: The key is shorter than 16 characters.
    """
    value = os.environ.get("WARNING_PSEUDONYM_KEY", "")
    if not value:
        return None
    if len(value) < MIN_PSEUDONYM_KEY:
        raise ValueError(f"WARNING_PSEUDONYM_KEY must be at least {MIN_PSEUDONYM_KEY} "
                         f"characters (it is {len(value)}); make one with: python -c "
                         f"\"import secrets; print(secrets.token_hex(32))\"")
    return value.encode("utf-8")


def timezone_name() -> str:
    """Time zone of times written without one, and of alert days and weeks:
    ``WARNING_TIMEZONE`` (default ``UTC``; for Kyrgyzstan, ``Asia/Bishkek``).

    Raises:
        ValueError: The name is not a known IANA time zone.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = os.environ.get("WARNING_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"WARNING_TIMEZONE: unknown time zone {value!r} (use an IANA name "
                         f"such as Asia/Bishkek or UTC)") from None
    return value


# ---- early-warning alerts (warning alerts) -----------------------------------------------------

ALERT_WINDOWS = ("day", "week")
ALERT_MEASURES = ("flagged", "expected")
#: The most past windows a window can be compared with: a year of days (seven of weeks).
ALERT_BASELINE_MAX = 365


def alert_windows() -> tuple[str, ...]:
    """Window lengths tested by ``warning alerts``: ``WARNING_ALERT_WINDOWS``, comma-separated
    among ``day`` and ``week`` (default ``day,week``)."""
    value = os.environ.get("WARNING_ALERT_WINDOWS", "").strip() or "day,week"
    names = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    bad = [n for n in names if n not in ALERT_WINDOWS]
    if bad or not names:
        raise ValueError(f"WARNING_ALERT_WINDOWS must list some of {ALERT_WINDOWS}, got "
                         f"{value!r}")
    return names


def alert_baseline_windows() -> int:
    """Past windows a window is compared with: ``WARNING_ALERT_BASELINE`` (default 4, as in
    ACLED's rule; at most ``ALERT_BASELINE_MAX``, 365)."""
    return _int_setting("WARNING_ALERT_BASELINE", 4, 1, ALERT_BASELINE_MAX)


def alert_min_count() -> int:
    """The noise floor of alerts: ``WARNING_ALERT_MIN_COUNT`` (default 5). A cell is tested
    when its window and baseline together hold this many flagged posts (or expected count),
    and reported when its window alone does (see :mod:`warning.alerts`)."""
    return _int_setting("WARNING_ALERT_MIN_COUNT", 5, 1)


def alert_fdr() -> float:
    """False discovery rate held across all cells tested (Benjamini-Hochberg):
    ``WARNING_ALERT_FDR`` (default 0.05)."""
    return _float_setting("WARNING_ALERT_FDR", 0.05, 1e-9, 1.0)


def alert_ratio() -> float:
    """The ACLED multiple: a window whose count reaches this many times the mean of its
    baseline windows is reported as meeting ACLED's rule: ``WARNING_ALERT_RATIO`` (default 2)."""
    return _float_setting("WARNING_ALERT_RATIO", 2.0, 1.0)


def alert_evidence() -> int:
    """Evidence posts listed per alert: ``WARNING_ALERT_EVIDENCE`` (default 5)."""
    return _int_setting("WARNING_ALERT_EVIDENCE", 5, 0)


def alert_measure() -> str:
    """What is counted per cell: ``WARNING_ALERT_MEASURE``, ``flagged`` (posts over the
    label's threshold, default) or ``expected`` (the sum of calibrated probabilities)."""
    value = os.environ.get("WARNING_ALERT_MEASURE", "").strip().lower() or "flagged"
    if value not in ALERT_MEASURES:
        raise ValueError(f"WARNING_ALERT_MEASURE must be one of {ALERT_MEASURES}, got {value!r}")
    return value


ALERT_QUESTIONS = ("share", "count")


def alert_questions() -> tuple[str, ...]:
    """The questions ``warning alerts`` asks of every cell: ``WARNING_ALERT_QUESTIONS``,
    comma-separated among ``share`` (is a larger share of the cell's posts flagged?) and
    ``count`` (are there many more flagged posts about this group than usual, against the
    channel's or the feed's volume?); default both (see :mod:`warning.alerts`)."""
    value = os.environ.get("WARNING_ALERT_QUESTIONS", "").strip() or "share,count"
    names = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    bad = [n for n in names if n not in ALERT_QUESTIONS]
    if bad or not names:
        raise ValueError(f"WARNING_ALERT_QUESTIONS must list some of {ALERT_QUESTIONS}, got "
                         f"{value!r}")
    return names


def campaign_authors() -> int:
    """Fewest distinct (pseudonymised) authors of near-identical flagged posts in one window
    that make a campaign: ``WARNING_CAMPAIGN_AUTHORS`` (default 3)."""
    return _int_setting("WARNING_CAMPAIGN_AUTHORS", 3, 2)


def campaign_channels() -> int:
    """Fewest channels carrying near-identical flagged posts in one window that make a
    campaign (whatever the number of authors): ``WARNING_CAMPAIGN_CHANNELS`` (default 2)."""
    return _int_setting("WARNING_CAMPAIGN_CHANNELS", 2, 2)


def campaign_similarity() -> float:
    """Jaccard similarity of two posts' character 5-gram sets from which they count as the
    same text with small edits: ``WARNING_CAMPAIGN_SIMILARITY`` (default 0.6: one word changed
    in a twelve-word post still joins)."""
    return _float_setting("WARNING_CAMPAIGN_SIMILARITY", 0.6, 0.1, 1.0)


# ---- the report (warning report) -------------------------------------------------------------

REPORT_LANGUAGES = ("en", "ru")


def report_language() -> str:
    """Language of ``warning report`` and of alerts in plain words: ``WARNING_REPORT_LANG``,
    ``en`` (default) or ``ru``."""
    value = os.environ.get("WARNING_REPORT_LANG", "").strip().lower() or "en"
    if value not in REPORT_LANGUAGES:
        raise ValueError(f"WARNING_REPORT_LANG must be one of {REPORT_LANGUAGES}, got "
                         f"{value!r}")
    return value


# ---- reviewed feedback (warning feedback, POST /v1/feedback) -----------------------------------


def feedback_db() -> str | None:
    """The database of the moderators' reviewed feedback: ``WARNING_FEEDBACK_DB`` (no default),
    a SQLite file path (``~`` expanded) or a URL: ``sqlite:////path/feedback.db``, or
    ``postgresql+psycopg://user@host/db`` for API replicas on several machines.

    None when unset: the API then answers ``/v1/feedback`` with 404 (``feedback-disabled``),
    the ``warning feedback`` commands ask for ``--db``. Keep the file (or the database server's
    disk) on encrypted storage: it holds posts.
    """
    return feedback_location(os.environ.get("WARNING_FEEDBACK_DB", ""))


def feedback_location(value: str) -> str | None:
    """A feedback database as written in a setting, read the same way by the server and the
    CLI: spaces stripped, ``~`` expanded in a path; a URL is kept as it is; empty is None.

    Example:
        >>> feedback_location(" postgresql+psycopg://mod@db/feedback ")
        'postgresql+psycopg://mod@db/feedback'
    """
    value = value.strip()
    if not value:
        return None
    return value if "://" in value else str(Path(value).expanduser())


def feedback_retention_days() -> int:
    """Days a feedback item is kept after it was submitted: ``WARNING_FEEDBACK_RETENTION_DAYS``
    (default 180). Older items, reviewed or not, are deleted when the store is opened, on every
    write, before every read and by ``warning feedback purge``."""
    return _int_setting("WARNING_FEEDBACK_RETENTION_DAYS", 180, 1)


def feedback_extremism() -> bool:
    """Whether corrections may carry the experimental ``extremism`` label:
    ``WARNING_FEEDBACK_EXTREMISM=1`` (default off). The label is a legal charge in the region
    (DESIGN.md, "Labels"), so a store of posts marked for it is collected only on purpose."""
    return os.environ.get("WARNING_FEEDBACK_EXTREMISM", "").strip().lower() in ("1", "true",
                                                                               "yes")
