// Shared by the benchmark scripts: seeded tokens, wrk runs timed by bench/verify.lua, and the
// wait for a quiet Worker between runs.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(n, width) {
  let s = "";
  for (let i = 0; i < width; i++) {
    s = ALPHABET[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/** A fresh token in keyward's format (prefix `kw`, 30 random characters, CRC-32 check). */
export function makeToken() {
  const bytes = randomBytes(64);
  let body = "";
  for (const b of bytes) if (b < 248 && body.length < 30) body += ALPHABET[b % 62];
  const signed = `kw_${body}`;
  return signed + base62(crc32(signed) >>> 0, 6);
}

/**
 * Write `count` active org-less personal tokens (developer, scopes billing and users:read, 30
 * days to live) straight into the `TOKENS` KV namespace `kv`, as verify entries in DESIGN.md's
 * format under `v:<sha256>`; answers their secrets, in the order written. Their org has no
 * authority, so the usage counts keyward reports for them are dropped there.
 */
export async function seedTokens(kv, count) {
  const now = Date.now();
  const valid = [];
  for (let i = 0; i < count; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, count - i) }, (_, j) => {
        const token = makeToken();
        valid.push(token);
        const entry = {
          token_id: `tok_${base62(i + j, 20)}`,
          org_id: "org_bench0000000000000",
          kind: "personal",
          owner_member_id: "mem_bench0000000000000",
          role: "developer",
          scopes: ["billing", "users:read"],
          state: "active",
          owner_active: true,
          expires_at: now + 30 * 86_400_000,
        };
        return kv.put(`v:${createHash("sha256").update(token).digest("hex")}`, JSON.stringify(entry));
      }),
    );
  }
  return valid;
}

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
 * connection per thread. Returns { rps, p50, p99 (ms), non2xx, socket: {connect, read, write,
 * timeout}, socketErrors (their sum), busy } where `busy` is the Little's-law check of the
 * script's own timing (≈ 1 when the figures add up).
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
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const r = {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    p50: field("p50_us") / 1000,
    p99: field("p99_us") / 1000,
    non2xx: errors ? Number(errors[1]) : 0,
    // wrk counts these apart from non-2xx answers; a timeout is an answer slower than 2 s
    socket: Object.fromEntries(
      ["connect", "read", "write", "timeout"].map((k, i) => [k, Number(socket?.[i + 1] ?? 0)]),
    ),
    socketErrors: socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
    // Little's law check: mean latency × requests / connections should be the run's duration.
    busy: (field("mean_us") * field("n")) / connections / field("duration_us"),
  };
  if (!(r.busy > 0.9 && r.busy < 1.1)) console.error(`latency figures do not add up (busy ${r.busy.toFixed(2)})`);
  return r;
}

// Wait until the Worker and its KV are quiet: keyward writes last_used off the response path
// (wait_until), and under Miniflare those writes queue in the KV simulator, on the same two cores,
// long after the requests that caused them were answered. A run started on top of that backlog
// measures the previous run's writes. A quiet Worker answers a KV miss (a well-formed token that
// was never issued) in a few ms; wait for five in a row, at most 90 s. Answers whether it got them.
export async function settle(url) {
  const deadline = performance.now() + 90_000;
  let quiet = 0;
  while (quiet < 5 && performance.now() < deadline) {
    const started = performance.now();
    const r = await fetch(url, { method: "POST", body: JSON.stringify({ token: makeToken(), scopes: ["billing"] }) });
    await r.arrayBuffer();
    const ms = performance.now() - started;
    quiet = ms < 15 ? quiet + 1 : 0;
    if (quiet === 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return quiet >= 5;
}

/** The rate limits of wrangler.toml. */
export const RATELIMITS = {
  VERIFY_MISS_LIMIT: { simple: { limit: 300, period: 60 } },
  ADMIN_AUTH_LIMIT: { simple: { limit: 60, period: 60 } },
  STRICT_VERIFY_LIMIT: { simple: { limit: 600, period: 60 } },
  REVOKE_REPORT_LIMIT: { simple: { limit: 30, period: 60 } },
};

/**
 * Every binding keyward's full Worker reads, as wrangler.toml declares them, so a run measures
 * keyward as deployed and not its handling of a missing binding. `registry: false` for a build
 * from before the registry (`OrgRegistry`) and the key claims (`KeyClaims`) existed.
 */
export function keywardBindings({ registry = true, vars = {} } = {}) {
  return {
    durableObjects: {
      ORGS: { className: "OrgAuthority", useSQLite: true },
      ...(registry
        ? {
            CLAIMS: { className: "KeyClaims", useSQLite: true },
            REGISTRY: { className: "OrgRegistry", useSQLite: true },
          }
        : {}),
    },
    ratelimits: RATELIMITS,
    email: { send_email: [{ name: "EMAIL" }] },
    bindings: {
      OPERATOR_SECRET: "bench",
      TOKEN_PREFIX: "kw",
      ALLOWED_ORIGINS: "",
      NOTIFY_FROM: "notifications@keyward.example",
      PUBLIC_URL: "https://keyward.example",
      ...vars,
    },
  };
}

const WASM_MODULES = [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }];

/**
 * keyward as deployed, as Miniflare `workers`: the verify-only Worker in front
 * (`build-verify/index.js`, wrangler.verify.toml: it answers `/v1/verify` and passes every other
 * route to the full Worker through `ADMIN`; strict and metered verifications go to the org
 * authorities, a class of the full Worker) and the full Worker behind it (`build/index.js`, every
 * binding it reads). The front comes first, so it is the Worker on Miniflare's port. `vars` go to
 * both. Both read the same `TOKENS` namespace.
 */
export function keywardWorkers({ vars = {}, missLimit = RATELIMITS.VERIFY_MISS_LIMIT } = {}) {
  const full = keywardBindings({ vars });
  return [
    {
      name: "keyward-verify",
      modules: true,
      scriptPath: "build-verify/index.js",
      modulesRules: WASM_MODULES,
      compatibilityDate: "2025-09-01",
      kvNamespaces: ["TOKENS"],
      serviceBindings: { ADMIN: "keyward" },
      durableObjects: { ORGS: { className: "OrgAuthority", scriptName: "keyward", useSQLite: true } },
      ratelimits: {
        VERIFY_MISS_LIMIT: missLimit,
        STRICT_VERIFY_LIMIT: RATELIMITS.STRICT_VERIFY_LIMIT,
      },
      bindings: { TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "", LEGACY_KEY_FORMATS: "", ...vars },
    },
    {
      name: "keyward",
      modules: true,
      scriptPath: "build/index.js",
      modulesRules: WASM_MODULES,
      compatibilityDate: "2025-09-01",
      kvNamespaces: ["TOKENS"],
      ...full,
    },
  ];
}

/**
 * The verify-only Worker alone, with the bindings its edge path reads (KV and the miss limiter):
 * what a fresh isolate of the Worker on the verify path loads and runs for its first answer.
 */
export function keywardFrontAlone({ vars = {}, missLimit = RATELIMITS.VERIFY_MISS_LIMIT } = {}) {
  return {
    modules: true,
    scriptPath: "build-verify/index.js",
    modulesRules: WASM_MODULES,
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
    ratelimits: { VERIFY_MISS_LIMIT: missLimit },
    bindings: { TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "", LEGACY_KEY_FORMATS: "", ...vars },
  };
}

/** One JSON call to keyward's API at `base` with a Bearer `token`; throws on a non-2xx answer. */
export async function apiCall(base, method, path, token, body) {
  const r = await fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * A DevTools protocol session on one inspector target (`webSocketDebuggerUrl`), with V8's
 * sampling profiler enabled at 100 µs: `{ send(method, params), close() }`.
 */
export async function profilerSession(webSocketDebuggerUrl) {
  const ws = new WebSocket(webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  return { send, close: () => ws.close() };
}

/** A V8 CPU profile's self time by function (JS and wasm alike): `{ total, rows }`, µs, most first. */
export function selfTime(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((nodeId, i) => {
    const n = byId.get(nodeId);
    const name = `${n.callFrame.functionName || "(anonymous)"}  ${n.callFrame.url ? n.callFrame.url.split("/").pop() : ""}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return { total, rows: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}
