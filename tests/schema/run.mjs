// Schema-driven API testing: schemathesis (pinned in tests/schema/requirements.txt, installed
// into .venv by scripts/setup.sh) against the built Worker in workerd, with credentials made
// for the run. `node tests/schema/run.mjs [examples per operation]`; `make test` runs a bounded,
// seeded run, `make fuzz-api` a long one.
import { spawn } from "node:child_process";
import { OPERATOR, serve } from "../e2e/harness.mjs";

const EXAMPLES = process.argv[2] ?? "20";
const SEED = process.env.SCHEMA_SEED ?? "20261126";

const { mf, base } = await serve();
let code = 1;
try {
  const args = [
    "--config-file",
    "tests/schema/schemathesis.toml",
    "run",
    `${base}/v1/openapi.json`,
    "--url",
    base,
    "--checks",
    "all",
    "--max-examples",
    EXAMPLES,
    "--seed",
    SEED,
    "--no-color",
  ];
  const env = {
    ...process.env,
    SCHEMATHESIS_HOOKS: "tests/schema/hooks.py",
    KEYWARD_BASE: base,
    KEYWARD_OPERATOR: OPERATOR,
  };
  code = await new Promise((resolve) => {
    const child = spawn(".venv/bin/schemathesis", args, { stdio: "inherit", env });
    child.on("close", (c) => resolve(c ?? 1));
  });
} finally {
  await mf.dispose();
}
process.exit(code);
