// Shared by the benchmark scripts: wrk runs timed by bench/verify.lua.
import { spawn } from "node:child_process";

// Run a command without blocking node, which must keep draining workerd's output meanwhile.
export function run(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} failed (${code}): ${err || out}`));
    });
  });
}

/**
 * One wrk run against `url` with bench/verify.lua and its `scriptArgs` (see there), one
 * connection per thread. Returns { rps, p50, p99 (ms), non2xx, busy } where `busy` is the
 * Little's-law check of the script's own timing (≈ 1 when the figures add up).
 */
export async function wrk(url, scriptArgs, { seconds, connections }) {
  const args = [
    `-t${connections}`,
    `-c${connections}`,
    `-d${seconds}s`,
    "-s",
    "bench/verify.lua",
    url,
    "--",
    ...scriptArgs,
  ];
  const out = await run("wrk", args, (seconds + 30) * 1000);
  const field = (name) => Number(out.match(new RegExp(`KW_LATENCY .*\\b${name}=([\\d.]+)`))?.[1]);
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/);
  const r = {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    p50: field("p50_us") / 1000,
    p99: field("p99_us") / 1000,
    non2xx: errors ? Number(errors[1]) : 0,
    // Little's law check: mean latency × requests / connections should be the run's duration.
    busy: (field("mean_us") * field("n")) / connections / field("duration_us"),
  };
  if (!(r.busy > 0.9 && r.busy < 1.1)) console.error(`latency figures do not add up (busy ${r.busy.toFixed(2)})`);
  return r;
}
