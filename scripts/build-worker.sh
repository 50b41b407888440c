#!/usr/bin/env bash
# Build the Worker (build/index.js + wasm) with worker-build, using only tools installed from
# the package registries (no downloads from elsewhere). Called by wrangler's [build] and `make`.
set -euo pipefail
cd "$(dirname "$0")/.."
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
if [ -x node_modules/.bin/wasm-opt ]; then
  export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
fi
exec worker-build --release
