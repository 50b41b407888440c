# keyward: the two commands of the README are `make dev` and `make test`.
SHELL := /bin/bash
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
WRANGLER := node_modules/.bin/wrangler
# The JS tooling runs on the Node 22 that npm installs (the `node` package in package.json): Node 20
# left support on 2026-04-30 and current wrangler needs Node >= 22.12. The machine's own Node (20 is
# enough) only bootstraps `npm ci`.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: soak fuzz mutants setup dev test lint lint-js lint-openapi test-client test-native test-wasm build e2e schema fuzz-api browser bench clean

## Install what is missing (idempotent): rust target, worker-build, wasm-bindgen CLI, npm packages, Chromium.
setup:
	@bash scripts/setup.sh

## Build both Workers and serve the admin page and API on http://127.0.0.1:8787 (KV and Durable
## Objects on disk in .wrangler/): keyward-verify in front, as deployed, keyward behind its ADMIN binding.
dev: setup
	@bash scripts/dev-vars.sh
	$(WRANGLER) dev --local --ip 127.0.0.1 --port 8787 -c wrangler.verify.toml -c wrangler.toml

## Every check and test suite.
test: setup lint test-client test-native test-wasm build deploy-check e2e schema browser

lint: lint-openapi lint-js
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --no-default-features --features server -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --no-default-features --features browser -- -D warnings

## The JavaScript (page, tests, benchmarks, the Worker's shim, JS client, examples) as prettier
## formats it (pinned in package.json), like rustfmt for the Rust; `node_modules/.bin/prettier
## --write www tests bench shim clients examples` fixes it.
lint-js:
	node_modules/.bin/prettier --check www tests bench shim clients examples

## The OpenAPI document against Redocly's recommended ruleset: no warning passes.
lint-openapi:
	@out=$$(REDOCLY_TELEMETRY=off node_modules/.bin/redocly lint openapi/openapi.json --extends recommended --format stylish 2>&1); \
	  echo "$$out" | grep -v '[║╔╚]'; \
	  if echo "$$out" | grep -qE '^ +[0-9]+:[0-9]+ +(warning|error)'; then echo "openapi/openapi.json: fix the problems above"; exit 1; fi

## The JS client @keyward/client (clients/js) in Node and in workerd, its types against the OpenAPI
## document, then tsc over its types and over the example API (examples/hono-api). No Rust build.
test-client:
	node --test --test-reporter=spec 'clients/js/test/*.test.mjs'
	node_modules/.bin/tsc -p clients/js
	node_modules/.bin/tsc -p examples/hono-api

## Domain, store and service natively (unit, integration and doc tests).
test-native:
	cargo test

## The browser module's exports in headless Chromium (tests/web.rs) and in node (tests/web_node.rs).
test-wasm:
	CHROMEDRIVER=$${CHROMEDRIVER:-/usr/bin/chromedriver} cargo test --target wasm32-unknown-unknown \
	  --no-default-features --features browser --test web --test web_node

## The browser module (www/pkg), the Worker (build/), the verify-only Worker (build-verify/) and
## the fault-injection test build (build-faults/, e2e only, never deployed).
build:
	bash scripts/build.sh
	bash scripts/build-worker.sh . build-verify --no-default-features --features server
	bash scripts/build-worker.sh . build-faults --features faults

## Deploy both Workers to a Cloudflare account (scripts/deploy.sh): the KV namespace, its id in both
## configs, the operator secret, keyward (with its Durable Object migration), then keyward-verify.
## Idempotent. Needs `wrangler login` or CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
.PHONY: deploy deploy-check
deploy: setup
	bash scripts/deploy.sh

## `make deploy` without an account: the deploy script against a stand-in wrangler, then
## `wrangler deploy --dry-run` of each Worker with its bundle and bindings checked.
deploy-check:
	node --test --test-reporter=spec 'tests/deploy/*.test.mjs'
	bash scripts/deploy.sh --dry-run

## The API against the built Workers in workerd (Miniflare).
e2e:
	node --test --test-reporter=spec 'tests/e2e/*.test.mjs'

## schemathesis against the built Worker: every check, a fixed seed, a bounded number of examples
## (tests/schema/run.mjs). `make fuzz-api` is the long run.
schema:
	node tests/schema/run.mjs 30

fuzz-api: setup build
	SCHEMA_SEED=$${SCHEMA_SEED:-$$RANDOM} node tests/schema/run.mjs 1000

## The admin page in Debian's Chromium (playwright-core); screenshots in test-results/screenshots/.
browser:
	node --test --test-reporter=spec 'tests/browser/*.test.mjs'

## Soak (never part of `make test`): SOAK_SECONDS (600) of mixed traffic at 32 connections on
## loopback, then the invariant checker and 50 000 verifications. See docs/ASSURANCE.md.
soak: setup build
	node tests/soak/run.mjs

## Coverage-guided fuzzing (never part of `make test`): FUZZ_SECONDS per target (600). Installs
## nightly and cargo-fuzz. See docs/ASSURANCE.md.
fuzz:
	bash scripts/fuzz.sh

## Mutation testing (never part of `make test`, about an hour): cargo-mutants over src/domain and
## src/service against the native tests; the share caught and the survivors (docs/ASSURANCE.md).
mutants:
	bash scripts/mutants.sh

## Benchmarks (never part of `make test`): the native domain verify step, then keyward as deployed
## (the verify-only Worker in front of the full one) against a plain-JS verify and the JS and wasm
## floors in workerd (all-hit, Zipfian, uniform and all-miss loads), then cold starts (median of 10
## fresh starts per Worker), then strict against edge verify and admin calls before and after the
## org authority, then a consumer Worker's verify through the service binding against the same
## over HTTP. BENCH_SECONDS per run (10).
bench: setup build
	@bash scripts/setup.sh --bench
	cargo bench --bench verify
	bash scripts/build-worker.sh bench/wasm-const
	node bench/run.mjs
	node bench/cold.mjs
	node bench/authority.mjs
	node bench/binding.mjs

clean:
	rm -rf build build-verify target .wrangler
