// `make bench`, third part: a consumer Worker's verify through the service binding against the
// same question over HTTP. One Miniflare instance runs keyward as deployed (the verify-only Worker,
// build-verify/index.js, in front of the full Worker; their KV seeded with
// 10 000 valid tokens as bench/run.mjs seeds it) and a consumer Worker (bench/consumer/worker.js)
// with two routes that differ only in how they ask keyward:
//   /binding  env.KEYWARD.verify(token, {scopes}), the `KeywardVerifier` entrypoint;
//   /http     POST /v1/verify through a plain service binding to keyward's default entrypoint:
//             keyward's HTTP handler, without the network (no DNS, TLS or hop between data
//             centres, which a fetch to keyward's URL would add on Cloudflare).
// Every token is first verified through both routes, and every answer must be VALID for the same
// token id. Then the same wrk load (bench/verify.lua, one connection per thread, all valid tokens,
// Zipfian and hot-set popularity as bench/run.mjs) drives the two routes, after an unrecorded
// warm-up of each, in alternating pairs — binding then HTTP, then HTTP then binding, … (BENCH_PAIRS,
// 4) — so that the machine's noise and any drift fall on both.
// Prints req/s, p50 and p99 of every run, the binding / HTTP ratio of each pair and of the pairs'
// means; writes bench/results/binding.{txt,json}. See BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Miniflare } from "miniflare";
import { keywardWorkers, seedTokens, settle, wrk } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const TOKENS = 10_000;
// Pairs of runs per popularity (each pair one binding run and one HTTP run, the order alternating:
// binding first in odd pairs, HTTP first in even ones).
const PAIRS = Number(process.env.BENCH_PAIRS ?? 4);
const WARMUP_SECONDS = Math.min(SECONDS, 5);
// see bench/verify.lua; BENCH_POPULARITY=zipf runs a subset
const POPULARITY = process.env.BENCH_POPULARITY?.split(",").map((s) => s.trim()) ?? ["zipf", "hot"];
const OUT = "bench/results";
const DIR = `${OUT}/binding`;
const VARIANTS = ["binding", "http"];
function start() {
  return new Miniflare({
    host: "127.0.0.1",
    port: 0,
    kvPersist: `${DIR}/kv`,
    durableObjectsPersist: false,
    workers: [
      // The first Worker is the one on the port: wrk calls the consumer.
      {
        name: "consumer",
        modules: true,
        scriptPath: "bench/consumer/worker.js",
        compatibilityDate: "2025-09-01",
        serviceBindings: {
          KEYWARD: { name: "keyward-verify", entrypoint: "KeywardVerifier" },
          KEYWARD_HTTP: "keyward-verify",
        },
        // Where a deployment would send the HTTP call; through the binding only the path counts.
        bindings: { KEYWARD_URL: "https://keyward.example/v1/verify" },
      },
      // keyward as deployed: the verify-only Worker (whose KeywardVerifier the consumer binds, as
      // README says) and the full Worker behind it (bench/lib.mjs).
      ...keywardWorkers(),
    ],
  });
}

/**
 * Every token through both routes (16 tokens at a time; per token one route then the other,
 * which one first alternating). Throws unless every answer is 200 VALID with the same token id.
 * Answers the pass's rate in requests per second: keyward's cold path for the first call of each
 * token (a KV read and a last_used write), its cache for the second.
 */
async function checkAll(base, tokens) {
  const started = performance.now();
  const wrong = [];
  let next = 0;
  const ask = async (variant, token) => {
    const r = await fetch(`${base}${variant}`, {
      method: "POST",
      body: JSON.stringify({ token, scopes: ["billing"] }),
    });
    const text = await r.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: r.status, body, text };
  };
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < tokens.length) {
        const i = next++;
        const order = i % 2 ? [...VARIANTS].reverse() : VARIANTS;
        const a = {};
        for (const variant of order) a[variant] = await ask(variant, tokens[i]);
        const ok =
          VARIANTS.every((v) => a[v].status === 200 && a[v].body?.code === "VALID" && a[v].body?.token_id) &&
          a.binding.body.token_id === a.http.body.token_id;
        if (!ok) wrong.push({ token: i, binding: a.binding.text, http: a.http.text });
      }
    }),
  );
  if (wrong.length) {
    throw new Error(
      `${wrong.length} of ${tokens.length} tokens not VALID through both routes, e.g. ${JSON.stringify(wrong.slice(0, 3))}`,
    );
  }
  return (2 * tokens.length) / ((performance.now() - started) / 1000);
}

const begun = performance.now();
const loadBefore = loadavg();
rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const mf = start();
const base = String(await mf.ready);
const tokens = await seedTokens(await mf.getKVNamespace("TOKENS", "keyward"), TOKENS);
const bodies = `${DIR}/valid.txt`;
writeFileSync(bodies, tokens.map((token) => JSON.stringify({ token, scopes: ["billing"] })).join("\n") + "\n");
console.error(`binding: seeded ${TOKENS} tokens; checking each through both routes`);
const checkRps = await checkAll(base, tokens);
console.error(`binding: all ${TOKENS} tokens VALID through both routes (${checkRps.toFixed(0)} req/s)`);

const runs = [];
for (const popularity of POPULARITY) {
  // Warm-up under this popularity, both routes, not recorded. In two trial runs without it the
  // first timed run after the check pass was the slowest Zipfian run (the tokens the check pass
  // touched fall due for their once-a-minute last_used write together, among other things); the
  // warm-up puts that change of load on no timed run.
  for (const variant of VARIANTS) {
    await settle(`${base}http`);
    const r = await wrk(`${base}${variant}`, [bodies, "-", "0", popularity], {
      seconds: WARMUP_SECONDS,
      connections: CONNECTIONS,
    });
    console.error(`binding: ${popularity} warm-up ${variant}: ${r.rps.toFixed(0)} req/s (not recorded)`);
  }
  for (let pair = 1; pair <= PAIRS; pair++) {
    const order = pair % 2 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      if (!(await settle(`${base}http`))) console.error("binding: keyward still busy after 90 s, measuring anyway");
      const r = await wrk(`${base}${variant}`, [bodies, "-", "0", popularity], {
        seconds: SECONDS,
        connections: CONNECTIONS,
      });
      runs.push({ popularity, pair, variant, ...r });
      console.error(
        `binding: ${popularity} pair ${pair} ${variant}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms`,
      );
    }
  }
}
await mf.dispose();
const loadAfter = loadavg();
const elapsed = (performance.now() - begun) / 1000;

const find = (popularity, pair, variant) =>
  runs.find((r) => r.popularity === popularity && r.pair === pair && r.variant === variant);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratio = (b, h) => ({ rps: b.rps / h.rps, p50: b.p50 / h.p50, p99: b.p99 / h.p99 });
const summary = {};
for (const popularity of POPULARITY) {
  const of = (variant) => {
    const rs = runs.filter((r) => r.popularity === popularity && r.variant === variant);
    return { rps: mean(rs.map((r) => r.rps)), p50: mean(rs.map((r) => r.p50)), p99: mean(rs.map((r) => r.p99)) };
  };
  const binding = of("binding");
  const http = of("http");
  const pairs = [];
  for (let pair = 1; pair <= PAIRS; pair++)
    pairs.push(ratio(find(popularity, pair, "binding"), find(popularity, pair, "http")));
  summary[popularity] = { binding, http, ratio: ratio(binding, http), pairs };
}
const refused = runs.reduce((n, r) => n + r.non2xx, 0);
const socketErrors = runs.reduce((n, r) => n + r.socketErrors, 0);

const fmt = (x, width, digits = 2) => x.toFixed(digits).padStart(width);
const lines = [];
lines.push(
  `keyward binding bench — ${new Date().toISOString()} — ${SECONDS}s per run, ${CONNECTIONS} connections, ${TOKENS} tokens, ${PAIRS} pairs per popularity`,
);
lines.push(
  `node ${process.version}, ${execFileSync("nproc").toString().trim()} cores, load average ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after; ${elapsed.toFixed(0)} s in all`,
);
lines.push(`check: all ${TOKENS} tokens VALID through both routes, same token ids (${checkRps.toFixed(0)} req/s)`);
lines.push("");
lines.push("run (in order)       variant     req/s    p50 ms    p99 ms   busy  non-2xx  socket errors c/r/w/t");
for (const r of runs) {
  lines.push(
    `${`${r.popularity} pair ${r.pair}`.padEnd(20)} ${r.variant.padEnd(8)} ${fmt(r.rps, 8, 0)} ${fmt(r.p50, 9)} ${fmt(r.p99, 9)} ${fmt(r.busy, 6)} ${String(r.non2xx).padStart(8)} ${Object.values(r.socket).join("/").padStart(22)}`,
  );
}
lines.push("busy: requests × mean latency / connections / duration, ≈ 1 when the latency figures add up");
lines.push("");
lines.push("binding / HTTP       req/s       p50       p99");
for (const [popularity, s] of Object.entries(summary)) {
  s.pairs.forEach((x, i) =>
    lines.push(`${`${popularity} pair ${i + 1}`.padEnd(18)} ${fmt(x.rps, 7)} ${fmt(x.p50, 9)} ${fmt(x.p99, 9)}`),
  );
  lines.push(
    `${`${popularity} means`.padEnd(18)} ${fmt(s.ratio.rps, 7)} ${fmt(s.ratio.p50, 9)} ${fmt(s.ratio.p99, 9)}   (binding ${s.binding.rps.toFixed(0)} req/s, HTTP ${s.http.rps.toFixed(0)} req/s)`,
  );
}
if (socketErrors) {
  lines.push(
    `\n${socketErrors} socket errors (connect/read/write/timeout; wrk counts a request still unanswered after 2 s as a timeout)`,
  );
}
if (refused) lines.push(`\nWARNING: ${refused} answers were not VALID (non-2xx): these runs measured errors too`);
console.log(lines.join("\n"));
writeFileSync(
  `${OUT}/binding.json`,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      seconds: SECONDS,
      connections: CONNECTIONS,
      tokens: TOKENS,
      pairs: PAIRS,
      load: { before: loadBefore, after: loadAfter },
      elapsed_s: elapsed,
      check_rps: checkRps,
      runs,
      summary,
    },
    null,
    2,
  ),
);
writeFileSync(`${OUT}/binding.txt`, lines.join("\n") + "\n");
if (refused) process.exitCode = 1;
