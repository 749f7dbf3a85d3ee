#!/usr/bin/env bash
# Smoke check of a running `make run` stack: POST one event, then within two
# seconds expect its audit row (rule, handling, team) and the Moogsoft payload
# at the stand-in. Usage: bash scripts/smoke.sh   (reads .run/env)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source "${MUTT_RUN_DIR:-.run}/env"
now=$(date -u +%FT%T.%3NZ)
resp=$(curl -s -X POST "$MUTT_INGEST_URL" -H "X-API-Key: $INGEST_API_KEY" -H 'Content-Type: application/json' \
  -d "{\"timestamp\": \"$now\", \"hostname\": \"router-01\", \"message\": \"Interface Gi0/1 changed state to down\", \"syslog_severity\": 2}")
echo "ingest: $resp"
cid=$(echo "$resp" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["correlation_id"])')
for _ in $(seq 1 20); do
  row=$(psql "$DATABASE_URL" -tAc "SELECT rule_id, handling, team_assignment, forward_status FROM event_audit_log WHERE correlation_id = '$cid'")
  [ -n "$row" ] && [ "${row##*|}" = sent ] && break
  sleep 0.1
done
echo "audit row (rule_id|handling|team|forward_status): ${row:-MISSING}"
curl -s "${MOOG_SINK_URL}received?accepted=1" | .venv/bin/python -c "
import json, sys
hits = [r['body'] for r in json.load(sys.stdin) if isinstance(r['body'], dict) and r['body'].get('external_id') == '$cid']
print('moogsoft payload:', json.dumps(hits[0]) if hits else 'MISSING')
sys.exit(0 if hits else 1)"
[ "${row##*|}" = sent ]
