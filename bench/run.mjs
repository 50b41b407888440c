// `make bench`: the same load (wrk, 16 connections on 16 threads, fixed duration, loopback only,
// latency timed per request by bench/verify.lua) against Workers in workerd, each started the
// same way through Miniflare and reading the same seeded KV: keyward as deployed (the verify-only
// Worker in front, the full Worker behind it; POST /v1/verify), the same with usage counting off,
// the same with an isolate cache of one entry (every verification a KV read: "all-miss"), a
// plain-JS verify, a JS constant, a workers-rs constant (the wasm floor).
// Two mixes (all valid; 90 % valid / 10 % junk), each under three token popularities (Zipfian
// over all 10 000, as real traffic; uniform over all, the worst case for any cache; a hot set of
// 100, what one busy isolate mostly sees: all hits). Prints req/s, p50, p99, the ratios and
// the wasm sizes; writes bench/results/latest.{txt,json}. See BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";
import { keywardFrontAlone, keywardWorkers, seedTokens, settle, wrk as wrkRun } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const TOKENS = 10_000;
const OUT = "bench/results";
const KV_DIR = `${OUT}/kv`;

const ALL_WORKERS = [
  // keyward as deployed: the verify-only Worker answers, the full Worker behind it (bench/lib.mjs).
  { name: "keyward", front: true },
  // The same Worker with usage counting off: keyward/keyward-no-usage is what counting costs.
  { name: "keyward-no-usage", front: true, vars: { USAGE_COUNTING: "off" } },
  // Every verification a miss of the isolate's cache (it keeps one entry): one KV read each, as
  // js-verify does on every request. Run over all tokens, uniformly, valid only ("all-miss").
  {
    name: "keyward-all-miss",
    front: true,
    vars: { VERIFY_CACHE_MAX: "1", VERIFY_MISS_CACHE_MAX: "1" },
    runs: ["uniform/valid"],
  },
  // Experiments only (BENCH_WORKERS=keyward-alone,…): the verify-only Worker alone in its
  // Miniflare, without the full Worker behind it (its usage reports then find no authority).
  { name: "keyward-alone", alone: true, experiment: true },
  { name: "js-verify", script: "bench/js-verify/worker.js" },
  { name: "js-const", script: "bench/js-const/worker.js" },
  { name: "wasm-const", script: "bench/wasm-const/build/index.js", wasm: true },
];
// BENCH_WORKERS=keyward,js-verify runs a subset (for experiments; the ratios need all four).
const ONLY = process.env.BENCH_WORKERS?.split(",").map((s) => s.trim());
const WORKERS = ONLY ? ALL_WORKERS.filter((w) => ONLY.includes(w.name)) : ALL_WORKERS.filter((w) => !w.experiment);

// Every junk request of the mixed runs comes from one client, wrk; on Cloudflare misses come from
// many clients, each counted apart. With wrangler.toml's 300 a minute the mixed runs would
// measure 429s after the first 300; a limit no run reaches keeps the limiter's cost (every miss
// is still counted) and measures the answers. tests/e2e/limits.test.mjs tests the limit itself.
const MISS_LIMIT = { simple: { limit: 1_000_000_000, period: 60 } };

function options(w) {
  const shared = { kvPersist: KV_DIR, host: "127.0.0.1", port: 0 };
  // keyward gets every binding it reads (its usage counts go to the org authorities; the bench's
  // org has none: they are dropped there, as a deleted token's would be); the others none.
  if (w.front) return { ...shared, workers: keywardWorkers({ vars: w.vars, missLimit: MISS_LIMIT }) };
  if (w.alone) return { ...shared, ...keywardFrontAlone({ vars: w.vars, missLimit: MISS_LIMIT }) };
  return {
    ...shared,
    bindings: { TOKEN_PREFIX: "kw" },
    modules: true,
    scriptPath: w.script,
    modulesRules: w.wasm ? [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }] : undefined,
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
  };
}

async function seed() {
  // Only what this script writes: bench/authority.mjs keeps its build of an old commit here.
  rmSync(KV_DIR, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const mf = new Miniflare(options({ script: "bench/js-const/worker.js" }));
  await mf.ready;
  const valid = await seedTokens(await mf.getKVNamespace("TOKENS"), TOKENS);
  await mf.dispose();
  const body = (token) => JSON.stringify({ token, scopes: ["billing"] });
  writeFileSync(`${OUT}/valid.txt`, valid.map(body).join("\n") + "\n");
  // junk: half wrong checksums of seeded tokens, half not a token at all
  const junk = valid
    .slice(0, 1000)
    .map((t, i) =>
      body(i % 2 ? `${t.slice(0, -1)}${t.endsWith("A") ? "B" : "A"}` : `junk-${randomBytes(12).toString("base64url")}`),
    );
  writeFileSync(`${OUT}/junk.txt`, junk.join("\n") + "\n");
  return valid;
}

const MIXES = { valid: 0, mixed: 10 }; // % junk
// see bench/verify.lua; BENCH_POPULARITY=hot runs a subset (for experiments, like BENCH_WORKERS)
const POPULARITY = process.env.BENCH_POPULARITY?.split(",").map((s) => s.trim()) ?? ["zipf", "uniform", "hot"];

async function wrk(url, junkPercent, popularity) {
  return wrkRun(url, [`${OUT}/valid.txt`, `${OUT}/junk.txt`, String(junkPercent), popularity], {
    seconds: SECONDS,
    connections: CONNECTIONS,
  });
}

async function onePass(url, tokens) {
  const started = performance.now();
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const r = await fetch(url, { method: "POST", body: JSON.stringify({ token, scopes: ["billing"] }) });
        if (!r.ok) failures++;
        await r.arrayBuffer();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { rps: tokens.length / seconds, failures };
}

function size(path) {
  try {
    return { raw: statSync(path).size, gzip: gzipSync(readFileSync(path), { level: 9 }).length };
  } catch {
    return null;
  }
}

const valid = await seed();
const results = {};
for (const w of WORKERS) {
  const mf = new Miniflare(options(w));
  const url = new URL("/v1/verify", await mf.ready).toString();
  // sanity: keyward and js-verify agree on a seeded token before any timing
  const probe = await (
    await fetch(url, { method: "POST", body: JSON.stringify({ token: valid[0], scopes: ["billing"] }) })
  ).json();
  if (w.name.endsWith("verify") || w.name.startsWith("keyward")) {
    if (probe.code !== "VALID") throw new Error(`${w.name} does not verify a seeded token: ${JSON.stringify(probe)}`);
  }
  // Warm-up, the same for every Worker: each seeded token once (16 at a time). For keyward this
  // is its cold path: a KV read and a last_used write per token. Its rate is reported, not judged.
  const r = { cold: await onePass(url, valid) };
  for (const popularity of POPULARITY) {
    for (const [mix, junk] of Object.entries(MIXES)) {
      if (w.runs && !w.runs.includes(`${popularity}/${mix}`)) continue;
      if (!(await settle(url))) console.error(`${w.name}: still busy after 90 s, measuring anyway`);
      r[`${popularity}/${mix}`] = await wrk(url, junk, popularity);
    }
  }
  results[w.name] = r;
  await mf.dispose();
  console.error(`${w.name}: done`);
}

const sizes = {
  "verify-only worker (the front)": size("build-verify/index_bg.wasm"),
  "full worker (behind it)": size("build/index_bg.wasm"),
  browser: size("www/pkg/keyward_bg.wasm"),
  wasm_const: size("bench/wasm-const/build/index_bg.wasm"),
};
const kb = (n) => (n / 1024).toFixed(1);
const lines = [];
lines.push(
  `keyward bench — ${new Date().toISOString()} — ${SECONDS}s per run, ${CONNECTIONS} connections, ${TOKENS} tokens`,
);
lines.push(
  `node ${process.version}, ${execFileSync("nproc").toString().trim()} cores, ${execFileSync("uname", ["-m"]).toString().trim()}`,
);
lines.push("");
const RUNS = POPULARITY.flatMap((p) => Object.keys(MIXES).map((m) => `${p}/${m}`));
lines.push("worker       run              req/s     p50 ms    p99 ms   non-2xx");
for (const [name, r] of Object.entries(results)) {
  for (const run of RUNS) {
    const x = r[run];
    if (!x) continue;
    lines.push(
      `${name.padEnd(12)} ${run.padEnd(15)} ${x.rps.toFixed(0).padStart(7)} ${x.p50.toFixed(2).padStart(10)} ${x.p99.toFixed(2).padStart(9)} ${String(x.non2xx).padStart(9)}`,
    );
  }
}
lines.push("");
lines.push(
  `warm-up pass (every token once, node fetch client, 16 at a time), req/s: ${Object.entries(results)
    .map(([n, r]) => `${n} ${r.cold.rps.toFixed(0)}`)
    .join(", ")}`,
);
lines.push("");
const mark = (ok) => (ok ? "ok  " : "MISS");
const ratios = ["keyward", "js-verify", "wasm-const"].every((n) => results[n]);
if (ratios) lines.push("run              keyward/js-verify req/s   keyward/wasm-const req/s   keyward/wasm-const p99");
if (ratios) lines.push("                 (zipf, uniform: >= 1.5)   (hot: >= 0.9)              (p99 <= 1.5)");
for (const run of ratios ? RUNS : []) {
  const k = results.keyward[run];
  const js = k.rps / results["js-verify"][run].rps;
  const floor = k.rps / results["wasm-const"][run].rps;
  const p99 = k.p99 / results["wasm-const"][run].p99;
  lines.push(
    `${run.padEnd(16)} ${js.toFixed(2).padStart(6)} ${run.startsWith("hot") ? "    " : mark(js >= 1.5)}              ${floor.toFixed(2).padStart(6)} ${run.startsWith("hot") ? mark(floor >= 0.9) : "    "}               ${p99.toFixed(2).padStart(6)} ${mark(p99 <= 1.5)}`,
  );
}
if (results["keyward-all-miss"]?.["uniform/valid"] && results["js-verify"]?.["uniform/valid"]) {
  const miss = results["keyward-all-miss"]["uniform/valid"];
  const js = results["js-verify"]["uniform/valid"];
  lines.push("");
  lines.push("all-miss (every verification a KV read; uniform over all tokens, valid)");
  lines.push(
    `keyward-all-miss / js-verify req/s ${(miss.rps / js.rps).toFixed(2)} ${mark(miss.rps / js.rps >= 1.2)} (target >= 1.2), p50 ${(miss.p50 / js.p50).toFixed(2)}, p99 ${(miss.p99 / js.p99).toFixed(2)}`,
  );
}
if (results.keyward?.["hot/valid"] && results["wasm-const"]?.["hot/valid"]) {
  const hot = ["hot/valid", "hot/mixed"].map((run) => results.keyward[run].rps / results["wasm-const"][run].rps);
  lines.push(
    `all-hit (hot set): keyward / wasm-const req/s ${hot.map((x) => `${x.toFixed(2)} ${mark(x >= 0.9)}`).join(", ")} (target >= 0.9)`,
  );
}
if (results.keyward && results["keyward-no-usage"]) {
  lines.push("");
  lines.push("run              usage counting on/off req/s   p99 on/off");
  for (const run of RUNS) {
    const on = results.keyward[run];
    const off = results["keyward-no-usage"][run];
    lines.push(
      `${run.padEnd(16)} ${(on.rps / off.rps).toFixed(2).padStart(6)}                    ${(on.p99 / off.p99).toFixed(2).padStart(6)}`,
    );
  }
}
lines.push("");
for (const [name, s] of Object.entries(sizes)) {
  if (s) lines.push(`${name} wasm: ${kb(s.raw)} KiB raw, ${kb(s.gzip)} KiB gzip`);
}
console.log(lines.join("\n"));
writeFileSync(
  `${OUT}/latest.json`,
  JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, results, sizes }, null, 2),
);
writeFileSync(`${OUT}/latest.txt`, lines.join("\n") + "\n");
