#!/usr/bin/env bash
# Install everything keyward's build and tests need, from the package registries only.
# Idempotent: each step checks first and skips what is already there.
# `--bench` also installs what `make bench` needs (wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

WORKER_BUILD_VERSION=0.8.7
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for comp in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$comp"; then
    say "rust component $comp"
    rustup component add "$comp"
  fi
done

# `worker-build --version` prints the bare version.
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install "worker-build@$WORKER_BUILD_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: one of its locked dependencies is no longer on the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm packages (package-lock.json)"
  npm ci --no-audit --no-fund
fi

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "chromium and chromedriver from Debian"
  apt_install chromium chromium-driver
fi

# schemathesis (schema-driven API testing), pinned, in a virtualenv of the project's own.
want=$(cat tests/schema/requirements.txt)
if [ "$(.venv/bin/pip freeze 2>/dev/null | grep -i '^schemathesis==')" != "$want" ]; then
  say "python virtualenv .venv with $want"
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/schema/requirements.txt
fi

if [ "${1:-}" = "--bench" ] && ! command -v wrk >/dev/null; then
  say "wrk from Debian (benchmarks)"
  apt_install wrk
fi
say "set-up complete"
