#!/usr/bin/env bash
# Set everything up and run the main job: score the example posts with the shipped model
# (one JSON object per post, in order). The scanner will take over this role.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh model
.venv/bin/warning score < examples/posts.txt
