// End-to-end: the example API (examples/hono-api/src/index.ts), bundled by esbuild as wrangler
// would bundle it, runs in workerd beside keyward. Its routes under /binding/ verify tokens over
// the service binding to keyward's KeywardVerifier entrypoint, those under /http/ over HTTP
// (Miniflare routes the example's fetches to keyward). Both answer 401 without a token or with an
// invalid one, 403 without the scope, 200 with a valid token; with keyward unreachable, 503.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createOrg, ratelimits, start, until } from "./harness.mjs";

let w, api, offline, tokens;

/** A token of the org with `scopes`: { id, secret }. */
async function token(admin, label, scopes, extra = {}) {
  const r = await w.api("POST", "/v1/tokens", {
    token: admin,
    body: { label, role: "developer", kind: "org", scopes, ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.token.id, secret: r.body.secret };
}

before(async () => {
  const script = execFileSync(
    "node_modules/.bin/esbuild",
    [
      "examples/hono-api/src/index.ts",
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--main-fields=module,main",
      "--log-level=warning",
    ],
    { encoding: "utf8" },
  );
  const example = { modules: true, script, compatibilityDate: "2025-09-01" };
  // As examples/hono-api/wrangler.toml declares it: the entrypoint of the Worker on the verify path.
  const binding = { KEYWARD: { name: "keyward-verify", entrypoint: "KeywardVerifier" } };
  w = await start(
    {},
    {
      workers: [
        // As examples/hono-api/wrangler.toml declares it; its HTTP requests go to keyward.
        {
          name: "hono-api",
          ...example,
          serviceBindings: binding,
          bindings: { KEYWARD_URL: "http://keyward.internal" },
          outboundService: "keyward",
        },
        // The same app with keyward's URL on a port nobody listens on.
        {
          name: "hono-api-offline",
          ...example,
          serviceBindings: binding,
          bindings: { KEYWARD_URL: "http://127.0.0.1:9" },
        },
        // keyward's verify-only Worker, as wrangler.verify.toml declares it.
        {
          name: "keyward-verify",
          modules: true,
          scriptPath: "build-verify/index.js",
          modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
          compatibilityDate: "2025-09-01",
          kvNamespaces: { TOKENS: "TOKENS" },
          bindings: { TOKEN_PREFIX: "kw" },
          durableObjects: { ORGS: { className: "OrgAuthority", scriptName: "keyward", useSQLite: true } },
          ratelimits: ratelimits(),
        },
      ],
    },
  );
  api = await w.mf.getWorker("hono-api");
  offline = await w.mf.getWorker("hono-api-offline");

  const org = await createOrg(w.api, "Example");
  tokens = {
    billing: await token(org.secret, "billing", ["billing"]),
    users: await token(org.secret, "users", ["users:read"]),
    revoked: await token(org.secret, "gone", ["billing"]),
  };
  for (const via of ["binding", "http"]) {
    tokens[`limited-${via}`] = await token(org.secret, `limited ${via}`, ["billing"], {
      ratelimit: { limit: 1, period_s: 600 },
    });
    tokens[`broke-${via}`] = await token(org.secret, `broke ${via}`, ["billing"], { credits: { remaining: 1 } });
  }
  const rv = await w.api("POST", `/v1/tokens/${tokens.revoked.id}/revoke`, {
    token: org.secret,
    body: { confirm_label: "gone" },
  });
  assert.equal(rv.status, 200, rv.text);
  // Wait until keyward's edge verdicts say so (the verify projection is written after each change).
  const code = async (t) => (await w.api("POST", "/v1/verify", { body: { token: t } })).body.code;
  assert.ok(await until(async () => (await code(tokens.billing.secret)) === "VALID"));
  assert.ok(await until(async () => (await code(tokens.users.secret)) === "VALID"));
  assert.ok(await until(async () => (await code(tokens.revoked.secret)) === "REVOKED"));
});
after(async () => {
  await w?.mf.dispose();
});

/** GET `path` from `worker` with `secret` as the Bearer token: { status, headers, body, text }. */
async function get(worker, path, secret) {
  const headers = secret === undefined ? {} : { authorization: `Bearer ${secret}` };
  const res = await worker.fetch(`http://api.example${path}`, { headers });
  const text = await res.text();
  if (secret) assert.ok(!text.includes(secret), "the answer quotes the token");
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

/** A refusal: status, challenge, problem+json with `code`. */
function assertRefused(r, status, challenge, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("www-authenticate"), challenge);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(r.body.code, code);
  assert.equal(r.body.status, status);
}

for (const via of ["binding", "http"]) {
  describe(`the example API over ${via === "binding" ? "the service binding" : "HTTP"}`, () => {
    test("200 with a valid token: the route reads its verdict", async () => {
      const r = await get(api, `/${via}/whoami`, tokens.billing.secret);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.id, tokens.billing.id);
      assert.deepEqual(r.body.scopes, ["billing"]);
      assert.match(r.body.org_id, /^org_/);
      const inv = await get(api, `/${via}/invoices`, tokens.billing.secret);
      assert.equal(inv.status, 200, inv.text);
      assert.deepEqual(inv.body, { org_id: r.body.org_id, invoices: [] });
      assert.equal((await get(api, `/${via}/whoami`, tokens.users.secret)).status, 200);
    });

    test("401 without a token, with a malformed one, with a revoked one", async () => {
      assertRefused(await get(api, `/${via}/whoami`), 401, "Bearer", "UNAUTHENTICATED");
      const malformed = tokens.billing.secret.slice(0, -1) + (tokens.billing.secret.endsWith("a") ? "b" : "a");
      assertRefused(await get(api, `/${via}/whoami`, malformed), 401, 'Bearer error="invalid_token"', "MALFORMED");
      const unknown = "kw_" + "0".repeat(30);
      const { checksum } = await import("@keyward/client");
      const notFound = `${unknown}${checksum(unknown)}`;
      assertRefused(await get(api, `/${via}/whoami`, notFound), 401, 'Bearer error="invalid_token"', "NOT_FOUND");
      const revoked = await get(api, `/${via}/invoices`, tokens.revoked.secret);
      assertRefused(revoked, 401, 'Bearer error="invalid_token"', "REVOKED");
    });

    test("403 insufficient_scope without the billing scope", async () => {
      const r = await get(api, `/${via}/invoices`, tokens.users.secret);
      assertRefused(r, 403, 'Bearer error="insufficient_scope", scope="billing"', "INSUFFICIENT_SCOPE");
    });

    test("429 over the token's own rate limit, 402 out of credits", async () => {
      const limited = tokens[`limited-${via}`].secret;
      assert.equal((await get(api, `/${via}/whoami`, limited)).status, 200);
      const over = await get(api, `/${via}/whoami`, limited);
      assertRefused(over, 429, null, "RATE_LIMITED");
      const wait = Number(over.headers.get("retry-after"));
      assert.ok(wait > 0 && wait <= 620, `Retry-After ${wait}`);
      const broke = tokens[`broke-${via}`].secret;
      assert.equal((await get(api, `/${via}/whoami`, broke)).status, 200);
      assertRefused(await get(api, `/${via}/whoami`, broke), 402, null, "USAGE_EXCEEDED");
    });
  });
}

describe("keyward unreachable", () => {
  test("a network failure is 503, never a pass", async () => {
    for (const path of ["/http/whoami", "/http/invoices"]) {
      const r = await get(offline, path, tokens.billing.secret);
      assertRefused(r, 503, null, "UNAVAILABLE");
    }
    // The same Worker over its binding still answers: only the network is down.
    assert.equal((await get(offline, "/binding/whoami", tokens.billing.secret)).status, 200);
  });
});
