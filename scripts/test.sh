#!/usr/bin/env bash
# `make test`: PostgreSQL + Redis on their own ports and data dir (never the
# ones `make run` uses), then pytest. Extra arguments go to pytest.
# MUTT_TEST_PG_PORT / MUTT_TEST_REDIS_PORT / MUTT_TEST_DATA move the servers;
# MUTT_KEEP_SERVICES=1 leaves them running afterwards (faster re-runs).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${MUTT_TEST_DATA:-.run/test}
# docker-compose validates docker-compose.yml in a test (no Docker engine needed).
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "test: installing docker-compose with apt-get (compose file validation)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
# --- issue 8: lint (ruff check + format check) and mypy on the pure modules, before any test ---
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
# --- end issue 8 ---
# Security lint: bandit at medium severity and above on the product code (findings justified inline with nosec).
.venv/bin/bandit --quiet --recursive alerts ingest forwarding remediation mutt_project scripts \
  --exclude '*/migrations/*' --severity-level medium 2>/dev/null || {
  .venv/bin/bandit --recursive alerts ingest forwarding remediation mutt_project scripts \
    --exclude '*/migrations/*' --severity-level medium
  exit 1
}
# ---- issue 11: the dashboard's browser test (chromium + chromedriver) and promtool (alert rules) ----
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# Redis through Sentinel: tests/ha starts a master, a replica and a Sentinel.
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: installing ${missing[*]} with apt-get (browser test, alert rule validation)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# ---- end issue 11 ----
# --- production runtime (issue 12): systemd-analyze verifies deploy/systemd ---
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "test: installing systemd with apt-get (unit file validation)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
# kubectl kustomize renders deploy/k8s (Debian's kubectl; any kubectl on PATH will do).
if ! command -v kubectl >/dev/null 2>&1; then
  echo "test: installing kubernetes-client with apt-get (Kubernetes manifest validation)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
# --- end production runtime ---
# --- native receivers: real senders (logger, rsyslog omfwd plain and TLS, syslog-ng, net-snmp) ---
missing=()
command -v logger >/dev/null 2>&1 || missing+=(bsdutils)
command -v rsyslogd >/dev/null 2>&1 || missing+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || [ -n "$(find /usr/lib -name lmnsd_gtls.so 2>/dev/null | head -1)" ] \
  || missing+=(rsyslog-gnutls)
command -v snmptrap >/dev/null 2>&1 || missing+=(snmp)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Debian's syslog-ng and rsyslog conflict (both provide system-log-daemon): syslog-ng-core is
# unpacked into .run/tools instead of installed, with the libraries it needs installed.
sng=.run/tools/syslog-ng/usr/sbin/syslog-ng
if ! command -v syslog-ng >/dev/null 2>&1 && [ ! -x "$sng" ]; then
  missing+=(libivykis0 libnet1 libpcre3 libjson-c5 libwrap0)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: installing ${missing[*]} with apt-get (receiver tests with real senders)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v syslog-ng >/dev/null 2>&1 && [ ! -x "$sng" ]; then
  echo "test: unpacking syslog-ng-core into .run/tools/syslog-ng (it conflicts with rsyslog as a package)" >&2
  tmp=$(mktemp -d) && chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -qq syslog-ng-core >/dev/null 2>&1) && mkdir -p .run/tools/syslog-ng \
    && dpkg-deb -x "$tmp"/syslog-ng-core_*.deb .run/tools/syslog-ng
  rm -rf "$tmp"
fi
# --- end native receivers ---
# One PostgreSQL and one Redis per pytest-xdist worker (tests/worker_services.py): outage tests stop
# and restart their own servers without touching another worker's. Worker N listens on the base
# ports + N. MUTT_TEST_WORKERS=1 runs one process (the quickest start for a single test file).
WORKERS=${MUTT_TEST_WORKERS:-3}
PG_BASE=${MUTT_TEST_PG_PORT:-15433}
REDIS_BASE=${MUTT_TEST_REDIS_PORT:-16380}
started_at=$(date +%s)
# The first start installs the packages when they are missing; the others then start side by side.
bash scripts/services.sh start "$DATA/gw0" "$PG_BASE" "$REDIS_BASE"
pids=()
for i in $(seq 1 $((WORKERS - 1))); do
  bash scripts/services.sh start "$DATA/gw$i" $((PG_BASE + i)) $((REDIS_BASE + i)) & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
stop_all() { for i in $(seq 0 $((WORKERS - 1))); do bash scripts/services.sh stop "$DATA/gw$i" 2>/dev/null; done; }
if [ "${MUTT_KEEP_SERVICES:-0}" != 1 ]; then
  trap stop_all EXIT
fi
# shellcheck disable=SC1091
source "$DATA/gw0/services.env"
export MUTT_TEST_SERVICES_DIR="$DATA"
export MUTT_TEST_SERVICES_ENV="$DATA/gw0/services.env"
export INGEST_API_KEYS='test-ingest-key-1,test-ingest-key-2'
export DJANGO_SECRET_KEY='test-only-secret-key-not-for-production-use-0123456789'
# Tests that send one condition many times count every send; the folding tests
# turn folding on through the runtime setting an operator would use.
export FOLD_WINDOW_SECONDS="${FOLD_WINDOW_SECONDS:-0}"
# Coverage: measured on every run (pytest-cov, with pytest-xdist's -n), printed per file and in
# total; the gate (MUTT_COVERAGE_MIN, percent) applies to a run of the whole suite only (no test
# paths given), so a focused run never fails on it. MUTT_COVERAGE=0 turns it off.
cov=(--cov --cov-report=term:skip-covered)
if [ $# -eq 0 ] || [ "${MUTT_COVERAGE_GATE:-0}" = 1 ]; then
  cov+=(--cov-fail-under="${MUTT_COVERAGE_MIN:-84}")  # the whole suite measured 84.5 %
fi
[ "${MUTT_COVERAGE:-1}" = 0 ] && cov=()
xdist=()
[ "$WORKERS" -gt 1 ] && xdist=(-n "$WORKERS" --dist loadgroup)
pytest_started=$(date +%s)
status=0
# --durations=10: the timing report (the ten slowest tests), then pytest's own total.
.venv/bin/python -m pytest "${xdist[@]}" "${cov[@]}" --durations=10 "$@" || status=$?
now=$(date +%s)
echo "test: timing: services $((pytest_started - started_at)) s, pytest $((now - pytest_started)) s on $WORKERS worker(s)"
exit $status
