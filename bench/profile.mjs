// A CPU profile of keyward's verify path under load (not part of `make bench`): the Worker on the
// verify path with its wasm names kept (built here into bench/results/front-names with
// KEEP_WASM_NAMES=1), alone in Miniflare with the inspector on, the seeded tokens of bench/run.mjs
// (run it first), then wrk for BENCH_SECONDS (5) with V8's sampling profiler on, through the
// DevTools protocol. Prints the functions with the most self time, JS and wasm alike.
//   BENCH_POPULARITY=hot node bench/profile.mjs
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { keywardFrontAlone, profilerSession, selfTime, wrk } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const POPULARITY = process.env.BENCH_POPULARITY ?? "hot";
const OUT = "bench/results";
const BUILD = `${OUT}/front-names`;
const PORT = 9339;
if (!existsSync(`${OUT}/valid.txt`)) throw new Error("run bench/run.mjs first: it seeds the tokens");
execFileSync("bash", ["scripts/build-worker.sh", ".", BUILD, "--no-default-features", "--features", "server"], {
  stdio: "inherit",
  env: { ...process.env, KEEP_WASM_NAMES: "1", CARGO_TARGET_DIR: "target/build-verify" },
});
const front = keywardFrontAlone({ missLimit: { simple: { limit: 1_000_000_000, period: 60 } } });
const mf = new Miniflare({
  ...front,
  scriptPath: `${BUILD}/index.js`,
  kvPersist: `${OUT}/kv`,
  host: "127.0.0.1",
  port: 0,
  inspectorPort: PORT,
});
const url = new URL("/v1/verify", await mf.ready).toString();
const targets = await (await fetch(`http://127.0.0.1:${PORT}/json/list`)).json();
const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
const session = await profilerSession(target.webSocketDebuggerUrl);
// warm: every request path compiled before the profile
await wrk(url, [`${OUT}/valid.txt`, `${OUT}/junk.txt`, "0", POPULARITY], { seconds: 3, connections: 16 });
await session.send("Profiler.start");
const load = await wrk(url, [`${OUT}/valid.txt`, `${OUT}/junk.txt`, "0", POPULARITY], {
  seconds: SECONDS,
  connections: 16,
});
const { result } = await session.send("Profiler.stop");
session.close();
await mf.dispose();
const profile = result.profile;
writeFileSync(`${OUT}/verify.cpuprofile`, JSON.stringify(profile));
const { total, rows } = selfTime(profile);
console.log(
  `${load.rps.toFixed(0)} req/s over ${SECONDS}s (${POPULARITY}); self time by function, of ${(total / 1000).toFixed(0)} ms sampled:`,
);
for (const [name, us] of rows.slice(0, 40)) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${name.slice(0, 140)}`);
}
