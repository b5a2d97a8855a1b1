#!/usr/bin/env bash
# Set everything up and run the main job: scan the example feed (examples/feed.csv: invented
# posts in Russian, Kyrgyz and English, with a planted surge) with the shipped model, and write
# the HTML report and the alerts to runs/demo/. With WARNING_REPORT_LANG=ru the report and the
# alerts in plain words are in Russian.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh model
out=runs/demo
mkdir -p "$out"
# The feed has an author column, and authors are pseudonymised with a secret key. The demo
# makes a key of its own, once, in runs/demo/; for your own feeds set WARNING_PSEUDONYM_KEY to
# your organisation's key (README, "Privacy").
if [ -z "${WARNING_PSEUDONYM_KEY:-}" ]; then
  if [ ! -s "$out/pseudonym.key" ]; then
    (umask 077 && .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" \
      > "$out/pseudonym.key")
    echo "demo: made a pseudonymisation key for the demo: $out/pseudonym.key"
  fi
  WARNING_PSEUDONYM_KEY="$(cat "$out/pseudonym.key")"
  export WARNING_PSEUDONYM_KEY
fi
# days and weeks of the alerts, and times written without a zone, in Kyrgyzstan's time
export WARNING_TIMEZONE="${WARNING_TIMEZONE:-Asia/Bishkek}"
.venv/bin/warning scan examples/feed.csv -o "$out/scored.parquet" --force \
  --report "$out/report.html"
.venv/bin/warning alerts "$out/scored.parquet" -o "$out/alerts.json" -o "$out/alerts.csv"
.venv/bin/python - "$out" <<'PY'
import json, sys
from pathlib import Path

from warning.alerts import Alert
from warning.settings import report_language

out = Path(sys.argv[1])
found = json.loads((out / "alerts.json").read_text("utf-8"))
alerts = [Alert(**a) for a in found["alerts"]]
print()
print(f"demo: {len(alerts)} alert(s) and {len(found['campaigns'])} campaign(s). The first "
      f"alerts, in plain words ({report_language()}):")
for rank, alert in enumerate(alerts[:3], start=1):
    print(f"  {rank}. {alert.describe()}")
print(f"Open the report in a browser ({report_language()}; WARNING_REPORT_LANG=ru for "
      f"Russian): {out / 'report.html'}")
print(f"The alerts: {out / 'alerts.json'} and {out / 'alerts.csv'} (campaigns: "
      f"{out / 'alerts.campaigns.csv'}); the scored posts: "
      f"{out / 'scored.parquet'} (rows not scored: {out / 'scored.rejects.csv'})")
PY
