// `make bench`, cold starts: how long a fresh isolate takes to its first answer. For each Worker,
// BENCH_COLD_STARTS (10) fresh starts, interleaved (one start of each Worker per round, so the
// machine's drift falls on all alike). A start is a new Miniflare (a new workerd process, the
// script loaded and its top level run: for a wasm Worker, the module compiled and instantiated),
// then one `POST /v1/verify` of a seeded token, timed to the end of its body. Printed per Worker:
// the medians of "ready" (process start to the script loaded), "first" (the first answer, the
// isolate's first run of its handler) and their sum, and the ratios to the wasm floor.
//   keyward-verify  the Worker on the verify path (build-verify/index.js), with the bindings its
//                   edge path reads (KV, the miss limiter)
//   keyward-full    the full Worker (build/index.js), for comparison: what the split saves
//   js-verify, js-const, wasm-const   as in bench/run.mjs
// Writes bench/results/cold.{txt,json}. See BENCHMARKS.md.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { keywardBindings, keywardFrontAlone, seedTokens } from "./lib.mjs";

const STARTS = Number(process.env.BENCH_COLD_STARTS ?? 10);
const OUT = "bench/results";
const KV_DIR = `${OUT}/cold-kv`;
const WASM = [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }];
const plain = (scriptPath, wasm) => ({
  modules: true,
  scriptPath,
  modulesRules: wasm ? WASM : undefined,
  compatibilityDate: "2025-09-01",
  kvNamespaces: ["TOKENS"],
  bindings: { TOKEN_PREFIX: "kw" },
});
const WORKERS = {
  "keyward-verify": keywardFrontAlone(),
  "keyward-full": {
    ...plain("build/index.js", true),
    ...keywardBindings(),
  },
  "js-verify": plain("bench/js-verify/worker.js", false),
  "js-const": plain("bench/js-const/worker.js", false),
  "wasm-const": plain("bench/wasm-const/build/index.js", true),
};

rmSync(KV_DIR, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const seeder = new Miniflare({ ...plain("bench/js-const/worker.js", false), kvPersist: KV_DIR });
await seeder.ready;
const [token] = await seedTokens(await seeder.getKVNamespace("TOKENS"), 1);
await seeder.dispose();
const body = JSON.stringify({ token, scopes: ["billing"] });

async function coldStart(options) {
  const t0 = performance.now();
  const mf = new Miniflare({ ...options, kvPersist: KV_DIR, host: "127.0.0.1", port: 0 });
  const url = new URL("/v1/verify", await mf.ready);
  const t1 = performance.now();
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const answer = await res.text();
  const t2 = performance.now();
  await mf.dispose();
  if (!res.ok) throw new Error(`first answer ${res.status}: ${answer}`);
  return { ready: t1 - t0, first: t2 - t1, answer };
}

const samples = Object.fromEntries(Object.keys(WORKERS).map((n) => [n, []]));
for (let round = 0; round < STARTS; round++) {
  for (const [name, options] of Object.entries(WORKERS)) {
    const s = await coldStart(options);
    if (name.startsWith("keyward") && !s.answer.includes('"VALID"')) throw new Error(`${name}: ${s.answer}`);
    samples[name].push(s);
  }
  console.error(`cold starts: round ${round + 1} of ${STARTS}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const result = Object.fromEntries(
  Object.entries(samples).map(([n, xs]) => [
    n,
    {
      ready: median(xs.map((x) => x.ready)),
      first: median(xs.map((x) => x.first)),
      total: median(xs.map((x) => x.ready + x.first)),
    },
  ]),
);
const floor = result["wasm-const"];
const lines = [];
lines.push(
  `keyward cold starts — ${new Date().toISOString()} — median of ${STARTS} fresh starts per Worker, interleaved`,
);
lines.push("");
lines.push("worker            ready ms   first ms   total ms   first/floor   total/floor");
for (const [n, r] of Object.entries(result)) {
  lines.push(
    `${n.padEnd(16)} ${r.ready.toFixed(1).padStart(9)} ${r.first.toFixed(1).padStart(10)} ${r.total.toFixed(1).padStart(10)} ${(r.first / floor.first).toFixed(2).padStart(13)} ${(r.total / floor.total).toFixed(2).padStart(13)}`,
  );
}
const k = result["keyward-verify"];
lines.push("");
lines.push(
  `keyward-verify / wasm floor, start to first answer: ${(k.total / floor.total).toFixed(2)} ${k.total / floor.total <= 1.3 ? "ok" : "MISS"} (target <= 1.3)`,
);
console.log(lines.join("\n"));
writeFileSync(
  `${OUT}/cold.json`,
  JSON.stringify({ at: new Date().toISOString(), starts: STARTS, samples, result }, null, 2),
);
writeFileSync(`${OUT}/cold.txt`, lines.join("\n") + "\n");
