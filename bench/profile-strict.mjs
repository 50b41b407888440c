// A CPU profile of strict verification under load (not part of `make bench`): keyward as
// deployed (bench/lib.mjs, `keywardWorkers`: the front, and the full Worker with the org
// authority behind it), both built here with their wasm names kept (bench/results/front-names,
// bench/results/full-names, KEEP_WASM_NAMES=1), the inspector on. One org with 100 org tokens,
// then wrk for BENCH_SECONDS (5) of `POST /v1/verify` with `consistency: "strict"` (uniform over
// the tokens, 8 connections, as bench/authority.mjs), with V8's sampling profiler on in every
// isolate through the DevTools protocol. Prints, per isolate, the functions with the most self
// time, JS and wasm alike.
//   node bench/profile-strict.mjs
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { apiCall, keywardWorkers, profilerSession, selfTime, wrk } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const OUT = "bench/results";
const PORT = 9340;
const TOKENS = 100;
const OPERATOR = "bench-operator";
mkdirSync(OUT, { recursive: true });

const build = (out, args, targetDir) =>
  execFileSync("bash", ["scripts/build-worker.sh", ".", out, ...args], {
    stdio: "inherit",
    env: { ...process.env, KEEP_WASM_NAMES: "1", ...(targetDir ? { CARGO_TARGET_DIR: targetDir } : {}) },
  });
build(`${OUT}/front-names`, ["--no-default-features", "--features", "server"], "target/build-verify");
build(`${OUT}/full-names`, [], null); // the full Worker: default features, `make build`'s target dir

const [front, full] = keywardWorkers({ vars: { OPERATOR_SECRET: OPERATOR } });
const mf = new Miniflare({
  workers: [
    { ...front, scriptPath: `${OUT}/front-names/index.js` },
    { ...full, scriptPath: `${OUT}/full-names/index.js` },
  ],
  kvPersist: false,
  durableObjectsPersist: false,
  host: "127.0.0.1",
  port: 0,
  inspectorPort: PORT,
});
const base = String(await mf.ready);

const call = (method, path, token, body) => apiCall(base, method, path, token, body);
const org = await call("POST", "/v1/orgs", OPERATOR, {
  name: "Bench",
  modules: ["billing"],
  admin: { email: "a@bench.io", name: "A" },
});
const lines = [];
for (let i = 0; i < TOKENS; i++) {
  const t = await call("POST", "/v1/tokens", org.secret, {
    label: `t${i}`,
    role: "developer",
    kind: "org",
    scopes: ["billing"],
  });
  lines.push(JSON.stringify({ token: t.secret, scopes: ["billing"], consistency: "strict" }));
}
const bodies = `${OUT}/strict-profile.txt`;
writeFileSync(bodies, lines.join("\n") + "\n");
const url = new URL("/v1/verify", base).toString();

// Every isolate the inspector shows, each with its own session.
const targets = (await (await fetch(`http://127.0.0.1:${PORT}/json/list`)).json()).filter(
  (t) => t.webSocketDebuggerUrl,
);
const sessions = await Promise.all(
  targets.map(async (t) => ({ name: t.title || t.id, ...(await profilerSession(t.webSocketDebuggerUrl)) })),
);
// Warm: every path compiled, the authority's records read once, before the profile.
await wrk(url, [bodies, "-", "0", "uniform"], { seconds: 3, connections: 8 });
await Promise.all(sessions.map((s) => s.send("Profiler.start")));
const load = await wrk(url, [bodies, "-", "0", "uniform"], { seconds: SECONDS, connections: 8 });
const profiles = await Promise.all(
  sessions.map(async (s) => ({ name: s.name, profile: (await s.send("Profiler.stop")).result.profile })),
);
for (const s of sessions) s.close();
await mf.dispose();

console.log(`strict verification: ${load.rps.toFixed(0)} req/s over ${SECONDS}s, p50 ${load.p50.toFixed(2)} ms`);
profiles.forEach(({ name, profile }, k) => {
  writeFileSync(`${OUT}/strict-${k}.cpuprofile`, JSON.stringify(profile));
  const { total, rows } = selfTime(profile);
  console.log(`\nisolate ${name}: self time by function, of ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [fname, us] of rows.slice(0, 25)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${fname.slice(0, 140)}`);
  }
});
