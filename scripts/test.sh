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
# ---- issue 11: the dashboard's browser test (chromium + chromedriver) and promtool (alert rules) ----
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
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
bash scripts/services.sh start "$DATA" "${MUTT_TEST_PG_PORT:-55433}" "${MUTT_TEST_REDIS_PORT:-56380}"
if [ "${MUTT_KEEP_SERVICES:-0}" != 1 ]; then
  trap 'bash scripts/services.sh stop "$DATA"' EXIT
fi
# shellcheck disable=SC1091
source "$DATA/services.env"
export MUTT_TEST_SERVICES_ENV="$DATA/services.env"
export INGEST_API_KEYS='test-ingest-key-1,test-ingest-key-2'
export DJANGO_SECRET_KEY='test-only-secret-key-not-for-production-use-0123456789'
# --- issue 14 (alert lifecycle) ---
# Tests that send one condition many times count every send; the folding tests
# turn folding on through the runtime setting an operator would use.
export FOLD_WINDOW_SECONDS="${FOLD_WINDOW_SECONDS:-0}"
# --- end issue 14 ---
.venv/bin/python -m pytest "$@"
