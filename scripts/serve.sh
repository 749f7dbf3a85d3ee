#!/usr/bin/env bash
# Start the ingest (granian) or web (gunicorn) server in the foreground: one
# command for `make run` (Procfile), systemd (deploy/systemd) and Kubernetes.
#
#   scripts/serve.sh ingest|web
#
# HTTPS when MUTT_TLS_CERT and MUTT_TLS_KEY name a certificate (chain) and
# its key (PKCS#8 PEM, as `openssl genpkey` writes); plain HTTP otherwise.
# Bind address and sizing: MUTT_INGEST_HOST/PORT/WORKERS/THREADS,
# MUTT_WEB_HOST/PORT/WORKERS/THREADS (the reference documents' INGESTOR_PORT /
# SERVER_PORT_INGESTOR and WEB_UI_PORT / SERVER_PORT_WEBUI are read when ours are unset).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# The virtualenv next to the code (.venv in a checkout, /opt/mutt/venv when
# installed by deploy/install.sh), else the python on PATH (containers).
py=${MUTT_PYTHON:-}
for candidate in "$here/.venv/bin/python" "$here/../venv/bin/python"; do
  [ -z "$py" ] && [ -x "$candidate" ] && py=$candidate
done
py=${py:-python3}

tls=()
if [ -n "${MUTT_TLS_CERT:-}" ] || [ -n "${MUTT_TLS_KEY:-}" ]; then
  for f in "${MUTT_TLS_CERT:-}" "${MUTT_TLS_KEY:-}"; do
    [ -r "$f" ] || { echo "serve: MUTT_TLS_CERT and MUTT_TLS_KEY must both name readable files ('$f')" >&2; exit 2; }
  done
fi

case "${1:?ingest|web}" in
  ingest)
    [ -n "${MUTT_TLS_CERT:-}" ] && tls=(--ssl-certificate "$MUTT_TLS_CERT" --ssl-keyfile "$MUTT_TLS_KEY" --ssl-protocol-min tls1.2)
    exec "$py" -m granian --interface wsgi ingest.wsgi:application \
      --host "${MUTT_INGEST_HOST:-127.0.0.1}" --port "${MUTT_INGEST_PORT:-${INGESTOR_PORT:-${SERVER_PORT_INGESTOR:-8080}}}" \
      --workers "${MUTT_INGEST_WORKERS:-2}" --blocking-threads "${MUTT_INGEST_THREADS:-16}" --no-ws "${tls[@]}"
    ;;
  web)
    [ -n "${MUTT_TLS_CERT:-}" ] && tls=(--certfile "$MUTT_TLS_CERT" --keyfile "$MUTT_TLS_KEY")
    exec env MUTT_SERVICE_NAME=web "$py" -m gunicorn mutt_project.wsgi:application \
      --bind "${MUTT_WEB_HOST:-127.0.0.1}:${MUTT_WEB_PORT:-${WEB_UI_PORT:-${SERVER_PORT_WEBUI:-8090}}}" \
      --workers "${MUTT_WEB_WORKERS:-2}" --threads "${MUTT_WEB_THREADS:-4}" "${tls[@]}"
    ;;
  *) echo "usage: $0 ingest|web" >&2; exit 2 ;;
esac
