#!/usr/bin/env bash
# Build everything the Worker serves: the browser module (www/pkg) and the Worker (build/).
# wrangler's [build] runs this, so `wrangler dev` and `wrangler deploy` always ship both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-browser.sh
bash scripts/build-worker.sh
