#!/usr/bin/env bash
# Set everything up and run the main job on the example posts.
# (Until the classifier lands this tags each post with its language and the identity groups
# it mentions; see README.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train"
.venv/bin/warning tag --input examples/posts.txt
