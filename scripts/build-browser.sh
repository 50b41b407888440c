#!/usr/bin/env bash
# Build the browser module into www/pkg (wasm-bindgen --target web, TypeScript declarations,
# wasm-opt from npm binaryen) with a package.json that makes it publishable to npm as is.
set -euo pipefail
cd "$(dirname "$0")/.."
out=www/pkg
target=target/browser
cargo build --quiet --release --target wasm32-unknown-unknown --no-default-features --features browser --target-dir "$target"
rm -rf "$out"
wasm-bindgen --target web --typescript --out-dir "$out" --out-name keyward \
  "$target/wasm32-unknown-unknown/release/keyward.wasm"
# wasm-opt for size (docs/DECISIONS.md, "Browser module size"):
# - `--zero-filled-memory`: the module defines its memory (it imports none), so memory starts zeroed;
# - `--low-memory-unused`: rustc links the stack first, so the first KiB is only ever reached by a
#   stack a whole MiB deep;
# - `-ocimfs=50`: a function with one caller is inlined only up to 50 bytes. Bigger ones stay
#   apart, where gzip and brotli find their repeats: 1 053 bytes less gzip for 1.7 KiB more raw.
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -Oz --zero-filled-memory --low-memory-unused --one-caller-inline-max-function-size=50 \
    --strip-debug --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/keyward_bg.wasm" -o "$out/keyward_bg.wasm"
fi
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
cat > "$out/package.json" <<JSON
{
  "name": "@keyward/browser",
  "version": "$version",
  "description": "keyward's token masking and form validation for the browser: the same Rust rules as the server.",
  "license": "Apache-2.0",
  "type": "module",
  "main": "keyward.js",
  "module": "keyward.js",
  "types": "keyward.d.ts",
  "files": ["keyward.js", "keyward.d.ts", "keyward_bg.wasm", "keyward_bg.wasm.d.ts"],
  "sideEffects": false
}
JSON
raw=$(wc -c < "$out/keyward_bg.wasm"); gz=$(gzip -9 -c "$out/keyward_bg.wasm" | wc -c)
echo "browser wasm: $raw bytes raw, $gz bytes gzip -> $out"
# The size budget (issue #28, docs/DECISIONS.md "Browser module size"): 40 KiB gzip. The build
# fails past it, so no change grows the module unnoticed.
budget=40960
if [ "$gz" -gt "$budget" ]; then
  echo "browser wasm: $gz bytes gzip is over its budget of $budget bytes (issue #28):" \
    "find what grew it (twiggy top/dominators, docs/DECISIONS.md) before raising the budget" >&2
  exit 1
fi
