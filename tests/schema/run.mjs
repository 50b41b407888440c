// Schema-driven API testing: schemathesis (pinned in tests/schema/requirements.txt, installed
// into .venv by scripts/setup.sh) against the built Worker in workerd, with credentials made
// for the run. `node tests/schema/run.mjs [examples per operation]`; `make test` runs a bounded,
// seeded run, `make fuzz-api` a long one.
import { spawn } from "node:child_process";
import { Miniflare } from "miniflare";
import { DURABLE_OBJECTS, OPERATOR, ratelimits } from "../e2e/harness.mjs";

const EXAMPLES = process.argv[2] ?? "20";
const SEED = process.env.SCHEMA_SEED ?? "20261126";

const mf = new Miniflare({
  modules: true,
  scriptPath: "build/index.js",
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2025-09-01",
  kvNamespaces: ["TOKENS"],
  kvPersist: false,
  durableObjects: DURABLE_OBJECTS,
  durableObjectsPersist: false,
  ratelimits: ratelimits(),
  bindings: { OPERATOR_SECRET: OPERATOR, TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "" },
  host: "127.0.0.1",
  port: 0,
});
const base = String(await mf.ready).replace(/\/$/, "");
let code = 1;
try {
  const args = [
    "--config-file", "tests/schema/schemathesis.toml",
    "run", `${base}/v1/openapi.json`, "--url", base,
    "--checks", "all",
    "--max-examples", EXAMPLES,
    "--seed", SEED,
    "--no-color",
  ];
  const env = { ...process.env, SCHEMATHESIS_HOOKS: "tests/schema/hooks.py", KEYWARD_BASE: base, KEYWARD_OPERATOR: OPERATOR };
  code = await new Promise((resolve) => {
    const child = spawn(".venv/bin/schemathesis", args, { stdio: "inherit", env });
    child.on("close", (c) => resolve(c ?? 1));
  });
} finally {
  await mf.dispose();
}
process.exit(code);
