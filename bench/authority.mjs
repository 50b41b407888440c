// `make bench`, second part: what the org authority costs and buys.
//   1. verify: edge (one KV read, isolate cache) against strict (a Durable Object round trip),
//      and a credit-limited token (metered by its authority: a read, a decision and a write of
//      its meter per verification) against a plain one, on the current build;
//   2. an admin read (GET /v1/me) and an admin write (PATCH /v1/tokens/{id}) before the org
//      authority (records in KV; BENCH_BEFORE, a git revision, built into bench/results/before)
//      and after it (the current build).
// The current build runs as deployed: the verify-only Worker in front (strict verifications go
// from it to the org authority), the full Worker behind it (admin calls pass through the front).
// Same method as bench/run.mjs: Miniflare, wrk with one connection per thread, latency timed by
// bench/verify.lua, loopback only. Prints req/s, p50 and p99 and the ratios; writes
// bench/results/authority.{txt,json}. See BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { apiCall, keywardBindings, keywardWorkers, wrk } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 8;
const TOKENS = 100;
// The last commit whose records lived in KV (before "The org authority").
const BEFORE = process.env.BENCH_BEFORE ?? "63a8f37";
const OUT = "bench/results";
const OPERATOR = "bench-operator";

function buildBefore() {
  const src = `${OUT}/before-src`;
  const out = `${OUT}/before`;
  if (existsSync(`${out}/index.js`)) return `${out}/index.js`;
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(src)) {
    // bench/run.mjs empties bench/results, and with it a worktree made by an earlier run: forget it.
    execFileSync("git", ["worktree", "prune"], { stdio: "inherit" });
    execFileSync("git", ["worktree", "add", "--detach", src, BEFORE], { stdio: "inherit" });
  }
  execFileSync("bash", ["scripts/build-worker.sh", src, `${process.cwd()}/${out}`], { stdio: "inherit" });
  return `${out}/index.js`;
}

function start(script, withAuthority) {
  const shared = { kvPersist: false, durableObjectsPersist: false, host: "127.0.0.1", port: 0 };
  // The current build as deployed: the verify-only Worker in front, the full Worker behind it
  // (bench/lib.mjs), every binding each reads. Admin calls pass through the front, as deployed.
  if (withAuthority)
    return new Miniflare({ ...shared, workers: keywardWorkers({ vars: { OPERATOR_SECRET: OPERATOR } }) });
  // The build from before the org authority: one Worker, no Durable Object classes.
  return new Miniflare({
    ...shared,
    bindings: keywardBindings({ vars: { OPERATOR_SECRET: OPERATOR } }).bindings,
    modules: true,
    scriptPath: script,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
  });
}

const call = apiCall;

/** `TOKENS` more org tokens of `org`, each with a billion credits (every verification VALID). */
async function seedCredited(base, admin) {
  const secrets = [];
  for (let i = 0; i < TOKENS; i++) {
    const t = await call(base, "POST", "/v1/tokens", admin, {
      label: `c${i}`,
      role: "developer",
      kind: "org",
      scopes: ["billing"],
      credits: { remaining: 1_000_000_000 },
    });
    secrets.push(t.secret);
  }
  return secrets;
}

/** An org with `TOKENS` org tokens; returns { admin, secrets, tokenId }. */
async function seed(base) {
  const org = await call(base, "POST", "/v1/orgs", OPERATOR, {
    name: "Bench",
    modules: ["billing", "users:read"],
    admin: { email: "a@bench.io", name: "A" },
  });
  const secrets = [];
  let tokenId;
  for (let i = 0; i < TOKENS; i++) {
    const t = await call(base, "POST", "/v1/tokens", org.secret, {
      label: `t${i}`,
      role: "developer",
      kind: "org",
      scopes: ["billing"],
    });
    secrets.push(t.secret);
    tokenId ??= t.token.id;
  }
  return { admin: org.secret, secrets, tokenId };
}

function bodies(name, lines) {
  const path = `${OUT}/${name}.txt`;
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const load = (url, args) => wrk(url, args, { seconds: SECONDS, connections: CONNECTIONS });

async function measure(script, withAuthority) {
  const mf = start(script, withAuthority);
  const base = String(await mf.ready);
  const { admin, secrets, tokenId } = await seed(base);
  const verify = new URL("/v1/verify", base).toString();
  const r = {};
  if (withAuthority) {
    const edge = bodies(
      "edge",
      secrets.map((token) => JSON.stringify({ token, scopes: ["billing"] })),
    );
    const strict = bodies(
      "strict",
      secrets.map((token) => JSON.stringify({ token, scopes: ["billing"], consistency: "strict" })),
    );
    const credited = bodies(
      "credited",
      (await seedCredited(base, admin)).map((token) => JSON.stringify({ token, scopes: ["billing"] })),
    );
    r["verify edge"] = await load(verify, [edge, "-", "0", "uniform"]);
    r["verify strict"] = await load(verify, [strict, "-", "0", "uniform"]);
    r["verify credited"] = await load(verify, [credited, "-", "0", "uniform"]);
  }
  const none = bodies("none", [""]);
  const patches = bodies(
    "patches",
    Array.from({ length: 1000 }, (_, i) => JSON.stringify({ description: `bench ${i}` })),
  );
  r["GET /v1/me"] = await load(new URL("/v1/me", base).toString(), [none, "-", "0", "uniform", "GET", "/v1/me", admin]);
  r["PATCH token"] = await load(new URL(`/v1/tokens/${tokenId}`, base).toString(), [
    patches,
    "-",
    "0",
    "uniform",
    "PATCH",
    `/v1/tokens/${tokenId}`,
    admin,
  ]);
  await mf.dispose();
  return r;
}

mkdirSync(OUT, { recursive: true });
const before = await measure(buildBefore(), false);
console.error("before: done");
const after = await measure(null, true);
console.error("after: done");

const f = (x) =>
  `${x.rps.toFixed(0).padStart(7)} ${x.p50.toFixed(2).padStart(9)} ${x.p99.toFixed(2).padStart(9)} ${String(x.non2xx).padStart(8)}`;
const ratio = (a, b) =>
  `${(a.rps / b.rps).toFixed(2).padStart(6)} ${(a.p50 / b.p50).toFixed(2).padStart(9)} ${(a.p99 / b.p99).toFixed(2).padStart(9)}`;
const lines = [];
lines.push(
  `keyward authority bench — ${new Date().toISOString()} — ${SECONDS}s per run, ${CONNECTIONS} connections, ${TOKENS} tokens, before = ${BEFORE}`,
);
lines.push("");
lines.push("build    call              req/s    p50 ms    p99 ms  non-2xx");
for (const [build, r] of [
  ["before", before],
  ["after", after],
]) {
  for (const [call, x] of Object.entries(r)) lines.push(`${build.padEnd(8)} ${call.padEnd(15)} ${f(x)}`);
}
lines.push("");
lines.push("ratio                          req/s       p50       p99");
lines.push(`strict / edge verify          ${ratio(after["verify strict"], after["verify edge"])}`);
lines.push(`credited / plain verify       ${ratio(after["verify credited"], after["verify edge"])}`);
lines.push(`GET /v1/me    after / before  ${ratio(after["GET /v1/me"], before["GET /v1/me"])}`);
lines.push(`PATCH token   after / before  ${ratio(after["PATCH token"], before["PATCH token"])}`);
console.log(lines.join("\n"));
writeFileSync(
  `${OUT}/authority.json`,
  JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, before, after }, null, 2),
);
writeFileSync(`${OUT}/authority.txt`, lines.join("\n") + "\n");
