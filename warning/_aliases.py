"""Old module paths that keep working after the move into subpackages by concern.

Until the layout move, every module lived directly in ``warning/`` (``warning.lang``,
``warning.scanner``, ...). Users' code and notebooks import those names, so each old path is an
alias of its new module: ``import warning.lang`` gives the very module object
``warning.text.lang`` (the same classes and functions, so ``isinstance`` checks and
``monkeypatch`` on either name agree). Old subpackage paths work too
(``warning.feeds.columns`` is ``warning.scanning.feeds.columns``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: old module path -> new module path
ALIASES: dict[str, str] = {
    "warning.normalize": "warning.text.normalize",
    "warning.lang": "warning.text.lang",
    "warning.targets": "warning.text.targets",
    "warning.classifier": "warning.models.classifier",
    "warning.baseline": "warning.models.baseline",
    "warning.transformer": "warning.models.transformer",
    "warning.ensemble": "warning.models.ensemble",
    "warning.encoder": "warning.models.encoder",
    "warning.calibration": "warning.models.calibration",
    "warning.explain": "warning.models.explain",
    "warning.feeds": "warning.scanning.feeds",
    "warning.scanner": "warning.scanning.scanner",
    "warning.scan_ray": "warning.scanning.ray_engine",
    "warning.progress": "warning.scanning.progress",
    "warning.surge": "warning.alerts.stats",
    "warning.feedback_cli": "warning.feedback.cli",
}


def new_name(fullname: str) -> str | None:
    """The module an old path stands for, or None when ``fullname`` is not an old path."""
    for old, new in ALIASES.items():
        if fullname == old or fullname.startswith(old + "."):
            return new + fullname[len(old):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        # the target module was executed when it was imported under its own name
        return None


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        target_name = new_name(fullname)
        if target_name is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


def install() -> None:
    """Put the alias finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
