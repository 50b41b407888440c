# keyward: the two commands of the README are `make dev` and `make test`.
SHELL := /bin/bash
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
WRANGLER := node_modules/.bin/wrangler

.PHONY: setup dev test check lint test-native build e2e clean

## Install what is missing (idempotent): rust target, worker-build, wasm-bindgen CLI, npm packages, Chromium.
setup:
	@bash scripts/setup.sh

## Build the Worker and serve the admin page and API on http://127.0.0.1:8787 (KV on disk in .wrangler/).
dev: setup
	@bash scripts/dev-vars.sh
	$(WRANGLER) dev --local --ip 127.0.0.1 --port 8787

## Every check and test suite.
test: setup lint test-native build e2e

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -- -D warnings

test-native:
	cargo test

build:
	bash scripts/build-worker.sh

e2e:
	node --test --test-reporter=spec tests/e2e/

clean:
	rm -rf build target .wrangler
