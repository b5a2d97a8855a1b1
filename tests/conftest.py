"""Shared fixtures.

Tests marked ``data`` need the labelled datasets (``WARNING_DATA_DIR``, default
``../shared/data``). They run whenever the folder is there; under CI (``CI=true``) a missing
folder fails them instead of skipping, so the real-data tests can never silently vanish.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from warning.settings import data_dir

sys.path.insert(0, str(Path(__file__).parent))  # for tests/fixtures/source_files.py

# Exact float32 arithmetic unless a test asks for another: the same scores on every machine.
# (The default, ``auto``, picks bfloat16 on CPUs with native support; tests of that set it.)
os.environ.setdefault("WARNING_PRECISION", "float32")
# Scans in one process unless a test asks for workers: many tests patch or count calls in this
# process. tests/warning/scanning/test_pool_engine.py scans with worker processes (and auto).
os.environ.setdefault("WARNING_SCAN_WORKERS", "1")


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
def fixture_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny hand-written files in the format of every registered source, in a temporary
    folder laid out like WARNING_DATA_DIR."""
    from fixtures.source_files import SOURCE_FILES

    root = tmp_path_factory.mktemp("data")
    for name, text in SOURCE_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    """The converted base encoder (converted once per cache); skip when its packages are
    absent, fail under CI."""
    try:
        import transformers  # noqa: F401

        from warning.models.encoder import EncoderUnavailable
        from warning.models.encoder import base_model_dir as convert
    except ImportError as exc:
        message = f"the train extra is not installed ({exc})"
        if _under_ci():
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    try:
        return convert()
    except EncoderUnavailable as exc:
        if _under_ci():
            pytest.fail(f"CI=true and the base model is unavailable: {exc}")
        pytest.skip(str(exc))


def _missing(message: str) -> None:
    """Skip a test whose prerequisite is missing; fail it under CI, where it must run."""
    if _under_ci():
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless browser for the report's browser test (Debian's ``chromium``, installed by
    ``scripts/setup.sh``); skip when absent, fail under CI."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    _missing("chromium is not installed (bash scripts/setup.sh installs it with apt-get, or: "
             "apt-get install chromium)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def chromedriver(chromium: str) -> str:
    """Debian's ``chromium-driver`` and Selenium, for the console's browser tests (nothing is
    downloaded: Selenium is given this driver); skip when absent, fail under CI."""
    import shutil

    try:
        import selenium  # noqa: F401
    except ImportError as exc:
        _missing(f"the dev extra is not installed ({exc}): pip install -e '.[dev]'")
    path = shutil.which("chromedriver")
    if path is None:
        _missing("chromium-driver is not installed (bash scripts/setup.sh installs it with "
                 "apt-get, or: apt-get install chromium-driver)")
    return str(path)


@pytest.fixture
def local_ray():
    """A Ray on this machine with 2 CPUs, shut down after the test; skip when the 'scale'
    extra is absent, fail under CI."""
    try:
        import ray
    except ImportError as exc:
        _missing(f"the 'scale' extra is not installed ({exc}): pip install -e '.[scale]'")
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of its own (Debian's ``postgresql``, installed by
    ``scripts/setup.sh``) in a temporary folder on a free port, for the whole session; skip
    when absent, fail under CI."""
    from fixtures.services import PostgresServer, find_postgres_bin

    bindir = find_postgres_bin()
    if bindir is None:
        _missing("PostgreSQL's server programs (initdb, pg_ctl) are not installed (bash "
                 "scripts/setup.sh installs them with apt-get, or: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        _missing(f"the 'db' extra is not installed ({exc}): pip install -e '.[db]'")
    server = PostgresServer(bindir)  # type: ignore[arg-type]
    try:
        server.start()
    except Exception:
        log = server.log.read_text(errors="replace") if server.log.exists() else ""
        server.stop()
        pytest.fail(f"PostgreSQL did not start: {log[-2000:]}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """The URL of a new, empty PostgreSQL database for this test."""
    import re
    import secrets

    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    return postgres_server.create_database(f"t_{name}_{secrets.token_hex(3)}")


@pytest.fixture(scope="session")
def nginx_binary():
    """Debian's nginx (installed by ``scripts/setup.sh``); skip when absent, fail under CI."""
    from fixtures.services import find_nginx

    binary = find_nginx()
    if binary is None:
        _missing("nginx is not installed (bash scripts/setup.sh installs it with apt-get, or: "
                 "apt-get install nginx)")
    return binary


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "real_data_dir" in names:
            item.add_marker(pytest.mark.data)
        if "base_model_dir" in names:
            item.add_marker(pytest.mark.base_model)
        if "chromium" in names or "chromedriver" in names:
            item.add_marker(pytest.mark.browser)
        if "local_ray" in names:
            item.add_marker(pytest.mark.ray)
        if "postgres_server" in names:
            item.add_marker(pytest.mark.postgres)
        if "nginx_binary" in names:
            item.add_marker(pytest.mark.nginx)


# ---- a tiny corpus and a tiny baseline, built once per session ---------------------------------

_OFFENSIVE = ["идиот", "тупой", "дурак", "idiot", "stupid", "moron", "aptal", "salak"]
_HATE = ["vermin", "parasites", "subhuman", "animals"]
_THREAT = ["kill", "burn", "shoot", "hang"]
_NEUTRAL = ("погода сегодня хорошая бугун кун ачык the market opens at nine bugün hava güzel "
            "спасибо за новости шайлоо болот election results city bus water school price "
            "жаңы мектеп ачылды концерт в парке").split()


def _tiny_corpus_frame():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    rows = []
    langs = ["ru", "en", "tr", "ky"]
    for i in range(900):
        lang = langs[i % 4]
        words = list(rng.choice(_NEUTRAL, size=rng.integers(5, 10)))
        off = hate = threat = 0.0
        kind = i % 5
        if kind == 1 and lang != "ky":
            words.insert(int(rng.integers(0, len(words))), str(rng.choice(_OFFENSIVE)))
            off = 1.0
        elif kind == 2 and lang == "en":
            words.insert(int(rng.integers(0, len(words))), str(rng.choice(_HATE)))
            off, hate = 1.0, 1.0
        elif kind == 3 and lang == "en":
            words.insert(int(rng.integers(0, len(words))), str(rng.choice(_THREAT)))
            threat = 1.0
        text = " ".join(words) + f" #{i}"
        split = ("train", "train", "train", "dev", "calib", "test")[(i // 4) % 6]
        rows.append({
            "id": f"{i:016x}", "text": text, "text_norm": text, "lang": lang,
            "offensive": off if lang != "ky" else 0.0,
            "hate": hate if lang == "en" else (np.nan if lang in ("ru", "tr") else 0.0),
            "threat": threat if lang == "en" else (np.nan if lang in ("ru", "tr") else 0.0),
            "extremism": np.nan, "source": f"fixture_{lang}", "licence": "permissive",
            "capped": lang == "ky", "group": f"{i:016x}", "split": split, "orig_split": "",
            "n_copies": 1,
        })
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def tiny_corpus():
    """900 synthetic rows in ru/en/tr/ky with keyword-driven labels and all four splits."""
    return _tiny_corpus_frame()


@pytest.fixture(scope="session")
def _tiny_model_session(tiny_corpus):
    from training.baseline import BaselineConfig, fit_baseline

    config = BaselineConfig(char_features=2**12, word_features=2**10, c_grid=(4.0,),
                            min_positives=10, capped_rows_per_language=100, version="test")
    return fit_baseline(tiny_corpus, config)


@pytest.fixture
def tiny_model(_tiny_model_session):
    """A small baseline fitted on the tiny corpus (a deep copy per test)."""
    import copy

    return copy.deepcopy(_tiny_model_session)


@pytest.fixture
def tiny_model_dir(tiny_model, tmp_path):
    """The tiny baseline saved to a folder."""
    return tiny_model.save(tmp_path / "tiny_model")
