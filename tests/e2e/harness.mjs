// Shared harness: the built Worker (build/index.js) in workerd through Miniflare, with an
// in-memory KV, captured runtime output, and helpers that speak the HTTP API.
import { Log, LogLevel, Miniflare } from "miniflare";
import assert from "node:assert/strict";

export const OPERATOR = "e2e-operator-secret-0123456789";
export const ORIGIN = "https://admin.example";

/** The Email Service binding, as wrangler.toml declares it (Miniflare simulates it). */
export const EMAIL = { send_email: [{ name: "EMAIL" }] };
export const NOTIFY_FROM = "notifications@keyward.example";
export const PUBLIC_URL = "https://keyward.example";

/** Miniflare's own log (the simulated Email Service reports each message there), kept in `out`. */
class Captured extends Log {
  constructor(out) {
    super(LogLevel.INFO);
    this.out = out;
  }
  log(message) {
    this.out.push(`${message}\n`);
  }
}

/** The Durable Object namespaces, as wrangler.toml declares them: the org authority and the registry of imported keys. */
export const DURABLE_OBJECTS = {
  ORGS: { className: "OrgAuthority", useSQLite: true },
  CLAIMS: { className: "KeyClaims", useSQLite: true },
  REGISTRY: { className: "OrgRegistry", useSQLite: true },
};

/**
 * The rate limits of wrangler.toml, raised so that suites which verify thousands of junk tokens
 * from one address test what they are about; tests/e2e/limits.test.mjs runs with low ones.
 */
export function ratelimits({ misses = 1_000_000, auth = 1_000_000, strict = 1_000_000, revocations = 1_000_000 } = {}) {
  return {
    VERIFY_MISS_LIMIT: { simple: { limit: misses, period: 60 } },
    ADMIN_AUTH_LIMIT: { simple: { limit: auth, period: 60 } },
    STRICT_VERIFY_LIMIT: { simple: { limit: strict, period: 60 } },
    REVOKE_REPORT_LIMIT: { simple: { limit: revocations, period: 60 } },
  };
}

/**
 * Start a Worker; `bindings` override the defaults, `scriptPath` picks another build (the
 * `faults` build for fault injection), `workers` adds Workers beside it (Miniflare worker options;
 * keyward is then the first, named "keyward", for their service bindings), `persist` a directory
 * to keep the Durable Objects' and KV's storage in (`<persist>/do`, `<persist>/kv`) instead of
 * memory. Returns { mf, api, logs, kv, secrets }.
 */
export async function start(
  bindings = {},
  { scriptPath = "build/index.js", limits = ratelimits(), workers = [], persist } = {},
) {
  const out = [];
  const keyward = {
    modules: true,
    scriptPath,
    durableObjects: DURABLE_OBJECTS,
    ratelimits: limits,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
    email: EMAIL,
    bindings: {
      OPERATOR_SECRET: OPERATOR,
      TOKEN_PREFIX: "kw",
      ALLOWED_ORIGINS: ORIGIN,
      NOTIFY_FROM,
      PUBLIC_URL,
      ...bindings,
    },
  };
  const shared = {
    durableObjectsPersist: persist ? `${persist}/do` : false,
    kvPersist: persist ? `${persist}/kv` : false,
    log: new Captured(out),
    structuredWorkerdLogs: true,
    handleStructuredLogs({ level, message }) {
      out.push(`${level}: ${message}\n`);
    },
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => out.push(String(d)));
      stderr.on("data", (d) => out.push(String(d)));
    },
  };
  const mf = new Miniflare(
    workers.length ? { ...shared, workers: [{ name: "keyward", ...keyward }, ...workers] } : { ...shared, ...keyward },
  );
  await mf.ready;
  const secrets = new Set();
  /** Call the API: returns { status, headers, body, text }; remembers every secret it sees. */
  async function api(method, path, { token, body, raw, headers = {} } = {}) {
    const h = { ...headers };
    if (token !== undefined) h.authorization = `Bearer ${token}`;
    let payload = raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      h["content-type"] = "application/json";
    }
    const res = await mf.dispatchFetch(`http://localhost${path}`, { method, headers: h, body: payload });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    if (json && typeof json.secret === "string") secrets.add(json.secret);
    return { status: res.status, headers: res.headers, body: json, text };
  }
  const kv = await mf.getKVNamespace("TOKENS");
  return { mf, api, logs: () => out.join(""), kv, secrets };
}

/**
 * The built Worker on a loopback port, as `wrangler dev` runs it (Durable Objects, KV, the rate
 * limits raised): for tools that speak HTTP to it (schemathesis, the soak). Returns { mf, base }.
 */
export async function serve(scriptPath = "build/index.js") {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["TOKENS"],
    kvPersist: false,
    durableObjects: DURABLE_OBJECTS,
    durableObjectsPersist: false,
    ratelimits: ratelimits(),
    email: EMAIL,
    bindings: { OPERATOR_SECRET: OPERATOR, TOKEN_PREFIX: "kw", ALLOWED_ORIGINS: "", NOTIFY_FROM, PUBLIC_URL },
    host: "127.0.0.1",
    port: 0,
  });
  return { mf, base: String(await mf.ready).replace(/\/$/, "") };
}

/** Everything in KV: keys, values and metadata, as one string. */
export async function dumpKv(kv) {
  let cursor;
  const parts = [];
  do {
    const page = await kv.list({ cursor });
    for (const k of page.keys) {
      parts.push(k.name, JSON.stringify(k.metadata ?? null), (await kv.get(k.name)) ?? "");
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return parts.join("\n");
}

/** Create an org as the operator; returns { org, member, secret, token }. */
export async function createOrg(api, name, modules = ["billing", "users:read"]) {
  const r = await api("POST", "/v1/orgs", {
    token: OPERATOR,
    body: { name, modules, admin: { email: `admin@${name.toLowerCase()}.io`, name: `${name} Admin` } },
  });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

/**
 * A verify answer's text with its `checked_at` instant blanked, for byte-for-byte comparisons
 * of answers given moments apart (a second may tick between them). Checks the instant first.
 */
export function unclocked(text) {
  return text.replace(/"checked_at":"([^"]*)"/, (_, at) => {
    assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, text);
    return '"checked_at":"…"';
  });
}

/** Wait `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait (up to `ms`) until `pred()` holds; answers whether it did. */
export async function until(pred, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

/**
 * A developer of the org, added by `adminSecret`, with a personal token that may change keyward;
 * returns { member, token: { secret, token } } as the API answered them.
 */
export async function developer(api, adminSecret, email) {
  const member = await api("POST", "/v1/members", {
    token: adminSecret,
    body: { email, name: "D", role: "developer" },
  });
  assert.equal(member.status, 201, member.text);
  const token = await api("POST", "/v1/tokens", {
    token: adminSecret,
    body: {
      label: "d",
      role: "developer",
      kind: "personal",
      owner_member_id: member.body.id,
      scopes: ["keyward:manage"],
    },
  });
  assert.equal(token.status, 201, token.text);
  return { member: member.body, token: token.body };
}

/** Assert an RFC 9457 problem with `status` and `code`. */
export function assertProblem(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "application/problem+json", r.text);
  assert.equal(r.body.code, code, r.text);
  assert.equal(r.body.status, status);
  for (const f of ["type", "title", "detail"]) assert.equal(typeof r.body[f], "string", f);
}

export const PNG_1x1 =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
