// `make soak`: mixed traffic at 32 connections against the built Worker in workerd (loopback
// only, bounded by SOAK_SECONDS, default 600), then an invariant checker: every secret ever
// handed out is verified (edge and strict) and compared with its token's final state — none may
// verify unless its token is live. Then 50 000 verifications at 32 connections with zero errors.
// Prints requests, errors (5xx) and the checker's verdict; exits non-zero on any violation.
import { OPERATOR, serve } from "../e2e/harness.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CONNECTIONS = 32;
const VERIFICATIONS = Number(process.env.SOAK_VERIFICATIONS ?? 50_000);

const { mf, base } = await serve();
const stats = { requests: 0, errors: 0, byStatus: {} };

async function call(method, path, { token, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  stats.requests++;
  stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
  if (r.status >= 500) {
    stats.errors++;
    console.error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
  }
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: r.status, body: json };
}

const pick = (a) => a[Math.floor(Math.random() * a.length)];
const junk = () => `kw_${Math.random().toString(36).slice(2).padEnd(30, "0").slice(0, 30)}000000`;

// Four orgs, each with an admin, two developers and their tokens.
const orgs = [];
const issued = []; // { secret, tokenId, org }
for (let i = 0; i < 4; i++) {
  const o = await call("POST", "/v1/orgs", {
    token: OPERATOR,
    body: {
      name: `Soak ${i}`,
      modules: ["billing", "users:read"],
      admin: { email: `admin${i}@soak.io`, name: "Admin" },
    },
  });
  const org = { admin: o.body.secret, id: o.body.org.id, members: [], tokens: [] };
  for (let d = 0; d < 2; d++) {
    const m = await call("POST", "/v1/members", {
      token: org.admin,
      body: { email: `dev${d}@soak${i}.io`, name: "Dev", role: "developer" },
    });
    org.members.push(m.body.id);
  }
  orgs.push(org);
}

async function create(org) {
  const personal = Math.random() < 0.5;
  const body = personal
    ? {
        label: `p${stats.requests}`,
        role: "developer",
        kind: "personal",
        owner_member_id: pick(org.members),
        scopes: ["billing"],
      }
    : { label: `o${stats.requests}`, role: "developer", kind: "org", scopes: ["billing"] };
  const r = await call("POST", "/v1/tokens", { token: org.admin, body });
  if (r.status === 201) {
    org.tokens.push({ id: r.body.token.id, label: r.body.token.label });
    issued.push({ secret: r.body.secret, tokenId: r.body.token.id, org });
  }
}

const actions = [
  [
    30,
    async (org) => {
      const s = issued.length ? pick(issued).secret : junk();
      await call("POST", "/v1/verify", { body: { token: s, scopes: ["billing"] } });
    },
  ],
  [8, async () => call("POST", "/v1/verify", { body: { token: junk() } })],
  [6, create],
  [
    6,
    async (org) => {
      if (!org.tokens.length) return;
      const t = pick(org.tokens);
      const r = await call("POST", `/v1/tokens/${t.id}/rotate`, {
        token: org.admin,
        body: { grace_seconds: pick([0, 30]) },
      });
      if (r.status === 200) issued.push({ secret: r.body.secret, tokenId: t.id, org });
    },
  ],
  [
    4,
    async (org) => {
      if (!org.tokens.length) return;
      const t = pick(org.tokens);
      await call("POST", `/v1/tokens/${t.id}/revoke`, { token: org.admin, body: { confirm_label: t.label } });
    },
  ],
  [
    3,
    async (org) => {
      if (!org.tokens.length) return;
      const t = pick(org.tokens);
      const r = await call("DELETE", `/v1/tokens/${t.id}`, { token: org.admin, body: { confirm_label: t.label } });
      if (r.status === 204) org.tokens = org.tokens.filter((x) => x.id !== t.id);
    },
  ],
  [
    2,
    async (org) => {
      const m = pick(org.members);
      await call("PATCH", `/v1/members/${m}`, { token: org.admin, body: { status: pick(["deactivated", "active"]) } });
    },
  ],
  [2, async (org) => call("GET", "/v1/tokens", { token: org.admin })],
];
const total = actions.reduce((n, [w]) => n + w, 0);
function action() {
  let x = Math.random() * total;
  for (const [w, f] of actions) {
    if ((x -= w) < 0) return f;
  }
  return actions[0][1];
}

const started = Date.now();
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() - started < SECONDS * 1000) await action()(pick(orgs));
  }),
);
const mixed = { ...stats, byStatus: { ...stats.byStatus } };

// The checker: every secret ever handed out against its token's final state.
let checked = 0;
const violations = [];
for (const s of issued) {
  const t = await call("GET", `/v1/tokens/${s.tokenId}`, { token: s.org.admin });
  const live = t.status === 200 && t.body.status === "active";
  for (const consistency of ["edge", "strict"]) {
    const v = await call("POST", "/v1/verify", { body: { token: s.secret, consistency } });
    checked++;
    if (v.body?.valid && !live)
      violations.push(`${consistency}: a secret of ${s.tokenId} verifies; its token is ${t.body?.status ?? "gone"}`);
  }
}

// 50 000 verifications at 32 connections.
const before = stats.errors;
let done = 0;
const secrets = issued.map((s) => s.secret);
await Promise.all(
  Array.from({ length: CONNECTIONS }, async () => {
    while (done < VERIFICATIONS) {
      done++;
      await call("POST", "/v1/verify", { body: { token: secrets.length ? pick(secrets) : junk() } });
    }
  }),
);
await mf.dispose();

console.log(`soak: ${SECONDS} s of mixed traffic at ${CONNECTIONS} connections`);
console.log(`  requests ${mixed.requests}, 5xx ${mixed.errors}, by status ${JSON.stringify(mixed.byStatus)}`);
console.log(`  secrets handed out ${issued.length}, verifications checked ${checked}, violations ${violations.length}`);
for (const v of violations.slice(0, 20)) console.log(`    ${v}`);
console.log(`verifications: ${VERIFICATIONS} at ${CONNECTIONS} connections, 5xx ${stats.errors - before}`);
const ok = mixed.errors === 0 && violations.length === 0 && stats.errors === before;
console.log(ok ? "soak: PASS" : "soak: FAIL");
process.exit(ok ? 0 : 1);
