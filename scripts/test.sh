#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
# Tests that need the labelled data in WARNING_DATA_DIR (default ../shared/data) run when it is
# present; with CI=true its absence fails them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,serve,dev,scale"
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
