#!/usr/bin/env bash
# `make bench`: every benchmark under bench/ (each prints its own figures).
set -euo pipefail
cd "$(dirname "$0")/.."
for script in bench/rule_engine.py bench/classify.py bench/ingest.py bench/pipeline.py bench/forward.py bench/storage.py bench/archive.py; do
  [ -f "$script" ] || continue
  echo "== $script"
  .venv/bin/python "$script" "$@"
done
