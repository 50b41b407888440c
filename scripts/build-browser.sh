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
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
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
