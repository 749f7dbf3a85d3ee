#!/usr/bin/env bash
# Refresh the dashboard's vendored front-end assets from their npm packages
# (`npm pack`, no CDN at run time). Versions are the directory names.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
UPLOT=1.6.32
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "htmx.org@$HTMX" "uplot@$UPLOT" >/dev/null && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
mkdir -p "static/vendor/htmx-$HTMX" "static/vendor/uplot-$UPLOT"
cp "$tmp/htmx.org-$HTMX/package/dist/htmx.min.js" "$tmp/htmx.org-$HTMX/package/LICENSE" "static/vendor/htmx-$HTMX/"
cp "$tmp/uplot-$UPLOT/package/dist/uPlot.iife.min.js" "$tmp/uplot-$UPLOT/package/dist/uPlot.min.css" \
  "$tmp/uplot-$UPLOT/package/LICENSE" "static/vendor/uplot-$UPLOT/"
echo "vendored htmx $HTMX and uPlot $UPLOT into static/vendor/"
