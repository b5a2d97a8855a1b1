#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
# Tests that need the labelled data in WARNING_DATA_DIR (default ../shared/data) run when it is
# present; with CI=true its absence fails them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,serve,dev,scale,docs"
.venv/bin/ruff check .
# the documentation site, strict: a broken link, a missing page or a docstring that does not
# parse fails here (tests/test_docs.py then opens the built site in Chromium)
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
.venv/bin/python -m pytest "$@"
