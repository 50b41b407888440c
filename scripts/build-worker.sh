#!/usr/bin/env bash
# Build a Worker crate (default: keyward itself) with worker-build, using only tools installed
# from the package registries (no downloads from elsewhere).
# Usage: scripts/build-worker.sh [crate-dir [out-dir [cargo args...]]]
#   scripts/build-worker.sh                      keyward -> build/ (wrangler.toml)
#   scripts/build-worker.sh . build-verify --no-default-features --features server
#                                                the verify-only Worker (wrangler.verify.toml)
#   scripts/build-worker.sh bench/wasm-const     the bench's wasm floor
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "${1:-$root}"
out="${2:-build}"
shift $(($# < 2 ? $# : 2))
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
if [ -x "$root/node_modules/.bin/wasm-opt" ]; then
  export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
fi
if [ $# -gt 0 ]; then
  # Another feature set gets its own target dir, so the two builds do not evict each other.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/$out}"
fi
worker-build --release --out-dir "$out" "$@"
# keyward's own builds: worker-build's module becomes keyward.mjs (.mjs: Miniflare reads a .js
# import as CommonJS), and the entry is shim/index.js, which re-exports it and adds the
# `KeywardVerifier` entrypoint for service bindings.
if [ "$(pwd)" = "$root" ]; then
  mv "$out/index.js" "$out/keyward.mjs"
  cp "$root/shim/index.js" "$out/index.js"
fi
# worker-build always runs wasm-opt with `--debuginfo`, which keeps the names section (~150 KB raw
# for keyward) for readable stack traces. Nothing on the request path may panic, so ship the
# module without it: a second wasm-opt pass with no optimisation, the same feature set as
# worker-build's, only drops the names. KEEP_WASM_NAMES=1 keeps them for a debugging build.
if [ "${KEEP_WASM_NAMES:-0}" != 1 ] && [ -n "${WASM_OPT_BIN:-}" ]; then
  features=()
  for f in mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling; do
    features+=("--enable-$f")
  done
  for wasm in "$out"/*.wasm; do
    "$WASM_OPT_BIN" "${features[@]}" --strip-debug --strip-producers "$wasm" -o "$wasm"
  done
fi
