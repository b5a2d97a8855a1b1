"""The package layout (DESIGN.md, "Layout"): no import circles, one-way dependencies, old module
paths still importable, and no long file without a reason written at its top."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import grimp
import pytest
from scipy.sparse import lil_matrix
from scipy.sparse.csgraph import connected_components

from warning._aliases import ALIASES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("warning", "serve", "training", include_external_packages=False)


def test_layout_has_no_import_circles(graph: grimp.ImportGraph) -> None:
    modules = sorted(graph.modules)
    index = {name: i for i, name in enumerate(modules)}
    edges = lil_matrix((len(modules), len(modules)))
    for name in modules:
        for imported in graph.find_modules_directly_imported_by(name):
            edges[index[name], index[imported]] = 1
    _, component = connected_components(edges, directed=True, connection="strong")
    groups: dict[int, list[str]] = defaultdict(list)
    for name, label in zip(modules, component, strict=True):
        groups[label].append(name)
    circles = [group for group in groups.values() if len(group) > 1]
    assert circles == []


@pytest.mark.parametrize(("importer", "imported"), [("warning", "serve"), ("warning", "training"),
                                                    ("serve", "training")])
def test_layout_dependencies_point_one_way(graph: grimp.ImportGraph, importer: str,
                                           imported: str) -> None:
    assert not graph.chain_exists(importer, imported, as_packages=True)


def test_layout_routes_take_their_dependencies_from_deps(graph: grimp.ImportGraph) -> None:
    for route in graph.find_children("serve.routes"):
        assert "serve.app" not in graph.find_modules_directly_imported_by(route)


@pytest.mark.parametrize(("old", "new"), sorted(ALIASES.items()))
def test_layout_old_module_paths_are_the_new_modules(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_layout_old_paths_work_in_a_fresh_process() -> None:
    code = ("from warning.lang import detect_language; from warning.targets import find_targets; "
            "from warning.feeds.columns import show_names; import warning.scanning.feeds.columns "
            "as c; import warning.feeds.columns as d; assert c is d; "
            "from warning.scanner import ScanOptions; from warning.classifier import Classifier; "
            "import warning; assert warning.Classifier is Classifier; "
            "assert callable(warning.scan)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_layout_public_names_are_importable() -> None:
    import warning

    for name in warning.__all__:
        assert getattr(warning, name) is not None


MAX_LINES = 500
REASON = "Over 500 lines because"


def _python_files() -> list[Path]:
    folders = ["warning", "serve", "training", "tests", "benchmarks", "examples", "scripts",
               "deploy", "notebooks"]
    return sorted(p for folder in folders if (ROOT / folder).is_dir()
                  for p in (ROOT / folder).rglob("*.py"))


def test_layout_long_files_say_why_at_their_top() -> None:
    long_files = []
    for path in _python_files():
        lines = path.read_text("utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(REASON in line for line in lines[:30]):
            long_files.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert long_files == []


def test_layout_warning_folder_shows_the_concerns() -> None:
    entries = {p.name for p in (ROOT / "warning").iterdir() if not p.name.startswith("__")}
    assert {"text", "models", "scanning", "alerts", "report", "feedback"} <= entries
    modules = {name for name in entries if name.endswith(".py")}
    # safe_io: the guards of every file the concerns read and write (CSV cells, JSON depth,
    # owner-only files), used by scanning, alerts, feedback and the CLI alike
    assert modules <= {"_aliases.py", "cli.py", "labels.py", "safe_io.py", "settings.py"}
