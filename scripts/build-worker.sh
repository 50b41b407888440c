#!/usr/bin/env bash
# Build a Worker crate (default: keyward itself) into <crate>/build with worker-build, using only
# tools installed from the package registries (no downloads from elsewhere).
# Usage: scripts/build-worker.sh [crate-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "${1:-$root}"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
if [ -x "$root/node_modules/.bin/wasm-opt" ]; then
  export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
fi
exec worker-build --release
