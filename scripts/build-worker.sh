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
worker-build --release
# worker-build always runs wasm-opt with `--debuginfo`, which keeps the names section (~150 KB raw
# for keyward) for readable stack traces. Nothing on the request path may panic, so ship the
# module without it: a second wasm-opt pass with no optimisation, the same feature set as
# worker-build's, only drops the names. KEEP_WASM_NAMES=1 keeps them for a debugging build.
if [ "${KEEP_WASM_NAMES:-0}" != 1 ] && [ -n "${WASM_OPT_BIN:-}" ]; then
  features=()
  for f in mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling; do
    features+=("--enable-$f")
  done
  for wasm in build/*.wasm; do
    "$WASM_OPT_BIN" "${features[@]}" --strip-debug --strip-producers "$wasm" -o "$wasm"
  done
fi
